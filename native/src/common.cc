#include "common.h"

#include <bpf/libbpf.h>
#include <fcntl.h>

#include <cmath>

namespace tapvm {

std::string ErrnoText(int err) {
  char buf[256];
  // libbpf_strerror handles both plain errno values and LIBBPF_ERRNO__* codes.
  if (libbpf_strerror(err, buf, sizeof(buf)) != 0) {
    snprintf(buf, sizeof(buf), "Unknown error %d", err);
  }
  return buf;
}

Napi::Value ThrowErrno(Napi::Env env, const std::string& op, int err,
                       const std::string& suffix) {
  Napi::Error e = Napi::Error::New(env, op + ": " + ErrnoText(err) + suffix);
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

static bool TypeErr(const Napi::CallbackInfo& info, const char* name, const char* want) {
  Napi::TypeError::New(info.Env(), std::string(name) + " must be " + want)
      .ThrowAsJavaScriptException();
  return false;
}

bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* out) {
  if (!info[i].IsNumber()) return TypeErr(info, name, "a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::trunc(d)) return TypeErr(info, name, "an integer");
  *out = static_cast<int64_t>(d);
  return true;
}

bool ArgFd(const Napi::CallbackInfo& info, size_t i, int* out) {
  int64_t v;
  if (!ArgInt(info, i, "fd", &v)) return false;
  if (v < INT32_MIN || v > INT32_MAX) return TypeErr(info, "fd", "a 32-bit integer");
  *out = static_cast<int>(v);
  return true;
}

bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t* out) {
  int64_t v;
  if (!ArgInt(info, i, name, &v)) return false;
  if (v < 0 || v > UINT32_MAX) return TypeErr(info, name, "an unsigned 32-bit integer");
  *out = static_cast<uint32_t>(v);
  return true;
}

bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out) {
  if (!info[i].IsString()) return TypeErr(info, name, "a string");
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name,
               Napi::Uint8Array* out) {
  // Any Uint8Array works (a Buffer is one); TypedArray views keep their byteOffset.
  if (!info[i].IsTypedArray()) return TypeErr(info, name, "a Buffer");
  Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) return TypeErr(info, name, "a Buffer");
  *out = ta.As<Napi::Uint8Array>();
  return true;
}

bool ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out) {
  if (info[i].IsBigInt()) {
    bool lossless = true;
    // Negative BigInts wrap to their two's complement, which is what a u64 cookie means.
    *out = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) {
      int64_t s = info[i].As<Napi::BigInt>().Int64Value(&lossless);
      if (!lossless) return TypeErr(info, name, "a 64-bit bigint");
      *out = static_cast<uint64_t>(s);
    }
    return true;
  }
  int64_t v;
  if (info[i].IsNumber() && ArgInt(info, i, name, &v)) {
    *out = static_cast<uint64_t>(v);
    return true;
  }
  if (info.Env().IsExceptionPending()) return false;
  return TypeErr(info, name, "a bigint");
}

int DupFd(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 3); }

}  // namespace tapvm
