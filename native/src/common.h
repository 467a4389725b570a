// Shared helpers for the tapvm addon: error throwing in the "<op>: <strerror>" shape that
// src/native.ts documents, and argument conversion that throws TypeError instead of
// crashing on a wrong JS type.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace tapvm {

// BPF_TRACE_UPROBE_MULTI, newer than the kernel headers this builds against (6.1).
constexpr int kTraceUprobeMulti = 48;

// Text for an errno, including libbpf's private codes (>= 4000) that strerror() does not
// know about.
std::string ErrnoText(int err);

// Throws Error("<op>: <strerror(err)>" + suffix) with `errno` = err. `suffix` lets
// loadObject append the verifier log on following lines. Returns undefined so callers
// can `return ThrowErrno(...)`.
Napi::Value ThrowErrno(Napi::Env env, const std::string& op, int err,
                       const std::string& suffix = "");

// Argument readers: on a type mismatch they throw a TypeError and return false.
bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* out);
bool ArgFd(const Napi::CallbackInfo& info, size_t i, int* out);
bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t* out);
bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out);
bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name,
               Napi::Uint8Array* out);
bool ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out);

// fcntl(F_DUPFD_CLOEXEC) keeping the result >= 3 like libbpf does, so a dup never lands
// on stdin/stdout/stderr when those happen to be closed.
int DupFd(int fd);

// Module pieces, each registering its exports (keeps addon.cc a plain list).
void InitMaps(Napi::Env env, Napi::Object exports);
void InitObject(Napi::Env env, Napi::Object exports);
void InitProgs(Napi::Env env, Napi::Object exports);
void InitAttach(Napi::Env env, Napi::Object exports);
void InitRingBuf(Napi::Env env, Napi::Object exports);
// the warm worker's fd passing (src/server/worker.ts)
void InitServer(Napi::Env env, Napi::Object exports);

}  // namespace tapvm
