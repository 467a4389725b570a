// Map syscalls through libbpf's thin bpf.h wrappers (one bpf() call each, no libbpf
// object state), so the JS side can own maps independently of any loaded ELF object.
#include <bpf/bpf.h>
#include <errno.h>

#include <cstring>
#include <vector>

#include "common.h"

namespace tapvm {

// Kernel map names are 16 bytes including the NUL.
static constexpr size_t kMaxMapName = 15;

// mapCreate(type, name, keySize, valueSize, maxEntries, flags, innerMapFd) -> fd
static Napi::Value MapCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t type, keySize, valueSize, maxEntries, flags;
  std::string name;
  int innerFd;
  if (!ArgU32(info, 0, "type", &type) || !ArgString(info, 1, "name", &name) ||
      !ArgU32(info, 2, "keySize", &keySize) || !ArgU32(info, 3, "valueSize", &valueSize) ||
      !ArgU32(info, 4, "maxEntries", &maxEntries) || !ArgU32(info, 5, "flags", &flags) ||
      !ArgFd(info, 6, &innerFd)) {
    return env.Undefined();
  }
  if (name.size() > kMaxMapName) name.resize(kMaxMapName);

  // LIBBPF_OPTS relies on C designated initializers, so fill the struct by hand.
  struct bpf_map_create_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.sz = sizeof(opts);
  opts.map_flags = flags;
  if (innerFd >= 0) opts.inner_map_fd = static_cast<uint32_t>(innerFd);

  int fd = bpf_map_create(static_cast<enum bpf_map_type>(type),
                          name.empty() ? nullptr : name.c_str(), keySize, valueSize,
                          maxEntries, &opts);
  if (fd < 0) return ThrowErrno(env, "bpf_map_create", errno);
  return Napi::Number::New(env, fd);
}

// mapLookup(fd, key, valueSize) -> Buffer | null. The value is read straight into the
// returned Buffer; for per-CPU maps the caller already sized it for every possible CPU.
static Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  Napi::Uint8Array key;
  uint32_t valueSize;
  if (!ArgFd(info, 0, &fd) || !ArgBuffer(info, 1, "key", &key) ||
      !ArgU32(info, 2, "valueSize", &valueSize)) {
    return env.Undefined();
  }
  Napi::Buffer<uint8_t> value = Napi::Buffer<uint8_t>::New(env, valueSize);
  if (bpf_map_lookup_elem(fd, key.Data(), value.Data()) != 0) {
    int err = errno;
    if (err == ENOENT) return env.Null();
    return ThrowErrno(env, "bpf_map_lookup_elem", err);
  }
  return value;
}

// mapLookupBatch(fd, keySize, valueSize, max) -> {keys, values, count}: up to `max` entries in
// one BPF_MAP_LOOKUP_BATCH from the start of the map (an array's in key order), keys and values
// back to back. One syscall where a lookup per element made 64 (the session slots' scan).
static Napi::Value MapLookupBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t keySize, valueSize, max;
  if (!ArgFd(info, 0, &fd) || !ArgU32(info, 1, "keySize", &keySize) ||
      !ArgU32(info, 2, "valueSize", &valueSize) || !ArgU32(info, 3, "max", &max)) {
    return env.Undefined();
  }
  if (max == 0 || keySize == 0 || valueSize == 0 || max > (1u << 20)) {
    Napi::RangeError::New(env, "mapLookupBatch: sizes and max must be 1 or more (max at most 2^20)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<uint8_t> keys = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(keySize) * max);
  Napi::Buffer<uint8_t> values = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(valueSize) * max);
  std::vector<uint8_t> out(keySize < 8 ? 8 : keySize);
  uint32_t count = max;
  // ENOENT: the map ended within `max` (count says how many came)
  if (bpf_map_lookup_batch(fd, nullptr, out.data(), keys.Data(), values.Data(), &count, nullptr) != 0 && errno != ENOENT) {
    return ThrowErrno(env, "bpf_map_lookup_batch", errno);
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("keys", keys);
  r.Set("values", values);
  r.Set("count", Napi::Number::New(env, count));
  return r;
}

// mapUpdate(fd, key, value, flags)
static Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  Napi::Uint8Array key, value;
  uint32_t flags;
  if (!ArgFd(info, 0, &fd) || !ArgBuffer(info, 1, "key", &key) ||
      !ArgBuffer(info, 2, "value", &value) || !ArgU32(info, 3, "flags", &flags)) {
    return env.Undefined();
  }
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), flags) != 0) {
    return ThrowErrno(env, "bpf_map_update_elem", errno);
  }
  return env.Undefined();
}

// mapDelete(fd, key) -> whether the key existed
static Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  Napi::Uint8Array key;
  if (!ArgFd(info, 0, &fd) || !ArgBuffer(info, 1, "key", &key)) return env.Undefined();
  if (bpf_map_delete_elem(fd, key.Data()) != 0) {
    int err = errno;
    if (err == ENOENT) return Napi::Boolean::New(env, false);
    return ThrowErrno(env, "bpf_map_delete_elem", err);
  }
  return Napi::Boolean::New(env, true);
}

// mapNextKey(fd, key | null, keySize) -> Buffer | null (null after the last key)
static Napi::Value MapNextKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  Napi::Uint8Array key;
  uint32_t keySize;
  bool first = info[1].IsNull() || info[1].IsUndefined();
  if (!ArgFd(info, 0, &fd) || (!first && !ArgBuffer(info, 1, "key", &key)) ||
      !ArgU32(info, 2, "keySize", &keySize)) {
    return env.Undefined();
  }
  Napi::Buffer<uint8_t> next = Napi::Buffer<uint8_t>::New(env, keySize);
  if (bpf_map_get_next_key(fd, first ? nullptr : key.Data(), next.Data()) != 0) {
    int err = errno;
    if (err == ENOENT) return env.Null();
    return ThrowErrno(env, "bpf_map_get_next_key", err);
  }
  return next;
}

// mapInfo(fd) -> { id, type, keySize, valueSize, maxEntries }
static Napi::Value MapInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, &fd)) return env.Undefined();
  struct bpf_map_info mi;
  memset(&mi, 0, sizeof(mi));
  __u32 len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(fd, &mi, &len) != 0) {
    return ThrowErrno(env, "bpf_obj_get_info_by_fd", errno);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", Napi::Number::New(env, mi.id));
  o.Set("type", Napi::Number::New(env, mi.type));
  o.Set("keySize", Napi::Number::New(env, mi.key_size));
  o.Set("valueSize", Napi::Number::New(env, mi.value_size));
  o.Set("maxEntries", Napi::Number::New(env, mi.max_entries));
  return o;
}

// A map-in-map element reads back as the inner map's id; this turns it into an fd again, so a
// session can reuse the inner maps of its slot instead of replacing them (each replacement
// waits for an RCU grace period).
static Napi::Value MapFdById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "mapFdById: expected a map id").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = bpf_map_get_fd_by_id(info[0].As<Napi::Number>().Uint32Value());
  if (fd < 0) return ThrowErrno(env, "bpf_map_get_fd_by_id", errno);
  return Napi::Number::New(env, fd);
}

void InitMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapFdById", Napi::Function::New(env, MapFdById, "mapFdById"));
  exports.Set("mapCreate", Napi::Function::New(env, MapCreate, "mapCreate"));
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup, "mapLookup"));
  exports.Set("mapLookupBatch", Napi::Function::New(env, MapLookupBatch, "mapLookupBatch"));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate, "mapUpdate"));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete, "mapDelete"));
  exports.Set("mapNextKey", Napi::Function::New(env, MapNextKey, "mapNextKey"));
  exports.Set("mapInfo", Napi::Function::New(env, MapInfo, "mapInfo"));
}

}  // namespace tapvm
