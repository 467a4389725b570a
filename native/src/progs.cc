// fd-level object operations: pinning, BPF_OBJ_GET, close, program info/run-time stats and
// CPU counting. Separate from object.cc, which is about turning an ELF file into fds.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <unistd.h>

#include <cstring>

#include "common.h"

namespace tapvm {

// pin(fd, path)
static Napi::Value Pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  std::string path;
  if (!ArgFd(info, 0, &fd) || !ArgString(info, 1, "path", &path)) return env.Undefined();
  if (bpf_obj_pin(fd, path.c_str()) != 0) return ThrowErrno(env, "bpf_obj_pin", errno);
  return env.Undefined();
}

// objGet(path) -> fd
static Napi::Value ObjGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return env.Undefined();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return ThrowErrno(env, "bpf_obj_get", errno);
  return Napi::Number::New(env, fd);
}

// close(fd). EINTR is not retried: on Linux the fd is released even then.
static Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, &fd)) return env.Undefined();
  if (close(fd) != 0 && errno != EINTR) return ThrowErrno(env, "close", errno);
  return env.Undefined();
}

// progInfo(fd) -> ProgInfo. run_time_ns/run_cnt only move while stats are enabled
// (enableStats or the kernel.bpf_stats_enabled sysctl).
static Napi::Value ProgInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, &fd)) return env.Undefined();
  struct bpf_prog_info pi;
  memset(&pi, 0, sizeof(pi));
  __u32 len = sizeof(pi);
  if (bpf_obj_get_info_by_fd(fd, &pi, &len) != 0) {
    return ThrowErrno(env, "bpf_obj_get_info_by_fd", errno);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", Napi::String::New(env, pi.name, strnlen(pi.name, sizeof(pi.name))));
  // Doubles hold integers exactly up to 2^53 ns (~104 days of accumulated run time).
  o.Set("runTimeNs", Napi::Number::New(env, static_cast<double>(pi.run_time_ns)));
  o.Set("runCnt", Napi::Number::New(env, static_cast<double>(pi.run_cnt)));
  o.Set("verifiedInsns", Napi::Number::New(env, pi.verified_insns));
  o.Set("xlatedLen", Napi::Number::New(env, pi.xlated_prog_len));
  o.Set("jitedLen", Napi::Number::New(env, pi.jited_prog_len));
  // runs the kernel refused because a BPF program was already running on the CPU
  // (bpf_prog_active / the per-program recursion guard): tapvm's busy flag never sees them
  o.Set("recursionMisses", Napi::Number::New(env, static_cast<double>(pi.recursion_misses)));
  return o;
}

// enableStats() -> fd; run-time stats stay on until every such fd is closed.
static Napi::Value EnableStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) return ThrowErrno(env, "bpf_enable_stats", errno);
  return Napi::Number::New(env, fd);
}

static Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int n = libbpf_num_possible_cpus();
  if (n < 0) return ThrowErrno(env, "libbpf_num_possible_cpus", -n);
  return Napi::Number::New(env, n);
}

void InitProgs(Napi::Env env, Napi::Object exports) {
  exports.Set("pin", Napi::Function::New(env, Pin, "pin"));
  exports.Set("objGet", Napi::Function::New(env, ObjGet, "objGet"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("progInfo", Napi::Function::New(env, ProgInfo, "progInfo"));
  exports.Set("enableStats", Napi::Function::New(env, EnableStats, "enableStats"));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus, "numPossibleCpus"));
}

}  // namespace tapvm
