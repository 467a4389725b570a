// loadObject: ELF -> loaded programs and maps via libbpf, returned as plain fds so the
// bpf_object (and libbpf's bookkeeping) can be dropped right away.
//
// Verifier output: every program is loaded with BPF_LOG_STATS into its own buffer, which
// costs the verifier nothing but yields "processed N insns". When the load fails, the
// failing program is verified once more on its own with BPF_LOG_LEVEL1 so the error
// carries the instruction trace that led to the rejection (the stats level only has the
// final error line).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common.h"

namespace tapvm {
namespace {

// Per-program stats log. Only a few lines are written on success; the size is generous
// because a truncated log fails the load with ENOSPC. malloc'ed pages that the kernel
// never writes are never touched, so this costs address space, not memory.
constexpr size_t kStatsLogSize = 1 << 20;
// Full log for the failing program; since Linux 6.4 the kernel keeps the tail when the
// log does not fit, which is the part that explains the rejection.
constexpr size_t kFullLogSize = 16 << 20;
constexpr size_t kTailLines = 40;
constexpr __u32 kLogLevel1 = 1, kLogStats = 4;

// libbpf warnings printed during the current loadObject call on this thread; used to
// explain failures that happen outside the verifier (bad ELF, relocations, map
// creation). thread_local because worker threads may load objects concurrently.
thread_local std::string* t_capture = nullptr;
bool g_debug = false;

int PrintFn(enum libbpf_print_level level, const char* fmt, va_list ap) {
  if (t_capture != nullptr && level == LIBBPF_WARN) {
    va_list cp;
    va_copy(cp, ap);
    char buf[1024];
    int n = vsnprintf(buf, sizeof(buf), fmt, cp);
    va_end(cp);
    if (n > 0) t_capture->append(buf, std::min<size_t>(n, sizeof(buf) - 1));
  }
  // Silent by default: libbpf's own stderr chatter would interleave with script output.
  if (g_debug) return vfprintf(stderr, fmt, ap);
  return 0;
}

struct FreeDeleter {
  void operator()(char* p) const { free(p); }
};
using LogBuf = std::unique_ptr<char, FreeDeleter>;

LogBuf NewLog(size_t size) {
  char* p = static_cast<char*>(malloc(size));
  if (p != nullptr) p[0] = '\0';
  return LogBuf(p);
}

// One open bpf_object plus what we must remember about it. libbpf renames a map to the
// kernel name of the fd given to bpf_map__reuse_fd, so the ELF names are recorded first.
struct Attempt {
  bpf_object* obj = nullptr;
  std::vector<std::pair<bpf_map*, std::string>> maps;
  std::vector<std::pair<bpf_program*, LogBuf>> logs;
  Attempt() = default;
  Attempt(const Attempt&) = delete;
  Attempt& operator=(const Attempt&) = delete;
  ~Attempt() {
    if (obj != nullptr) bpf_object__close(obj);
  }
};

using ReuseList = std::vector<std::pair<std::string, int>>;

// Opens `file` and applies reuseMaps. Returns 0, or an errno with *op naming the step.
int OpenObject(const std::string& file, const ReuseList& reuse, Attempt* a, std::string* op) {
  a->obj = bpf_object__open_file(file.c_str(), nullptr);
  if (a->obj == nullptr) {
    *op = "bpf_object__open_file";
    return errno;
  }
  // libbpf 1.1 has no uprobe.multi section definition: SEC("uprobe/multi") programs get
  // BPF_TRACE_UPROBE_MULTI (48, Linux 6.6) here so that they load for uprobe_multi links
  bpf_program* p;
  bpf_object__for_each_program(p, a->obj) {
    if (strcmp(bpf_program__section_name(p), "uprobe/multi") == 0)
      bpf_program__set_expected_attach_type(p, static_cast<enum bpf_attach_type>(kTraceUprobeMulti));
  }
  bpf_map* m;
  bpf_object__for_each_map(m, a->obj) a->maps.emplace_back(m, bpf_map__name(m));
  for (const auto& [name, fd] : reuse) {
    bpf_map* target = nullptr;
    for (auto& [map, orig] : a->maps) {
      if (orig == name) target = map;
    }
    *op = "bpf_map__reuse_fd(" + name + ")";
    if (target == nullptr) return ENOENT;
    int err = bpf_map__reuse_fd(target, fd);
    if (err < 0) return -err;
  }
  return 0;
}

// Attaches a log buffer of `size` bytes at `level` to `prog`.
int SetLog(Attempt* a, bpf_program* prog, __u32 level, size_t size) {
  LogBuf buf = NewLog(size);
  if (!buf) return ENOMEM;
  int err = bpf_program__set_log_buf(prog, buf.get(), size);
  if (err == 0) err = bpf_program__set_log_level(prog, level);
  if (err < 0) return -err;
  a->logs.emplace_back(prog, std::move(buf));
  return 0;
}

const char* LogOf(const Attempt& a, const bpf_program* prog) {
  for (const auto& [p, buf] : a.logs) {
    if (p == prog) return buf.get();
  }
  return nullptr;
}

// "processed N insns" from a BPF_LOG_STATS log, or -1.
long ParseProcessed(const char* log) {
  if (log == nullptr) return -1;
  const char* p = strstr(log, "processed ");
  if (p == nullptr) return -1;
  char* end;
  long n = strtol(p + strlen("processed "), &end, 10);
  if (end == p || strncmp(end, " insns", 6) != 0) return -1;
  return n;
}

std::string LastLines(const std::string& s, size_t n) {
  size_t end = s.size();
  while (end > 0 && s[end - 1] == '\n') end--;
  size_t pos = end;
  for (size_t lines = 0; pos > 0; pos--) {
    if (s[pos - 1] == '\n' && ++lines == n) break;
  }
  return s.substr(pos, end - pos);
}

// Name of the program libbpf reported as failing, from its "prog 'X': BPF program load
// failed" warning; empty when the failure was not a program load.
std::string FailedProgName(const std::string& warnings) {
  static const char kMark[] = "': BPF program load failed";
  size_t at = warnings.rfind(kMark);
  if (at == std::string::npos) return "";
  size_t start = warnings.rfind("prog '", at);
  if (start == std::string::npos) return "";
  start += strlen("prog '");
  return warnings.substr(start, at - start);
}

// Re-verifies only `progName` with the full log level and returns that log (the load is
// expected to fail again; maps it creates are freed with the object).
std::string FullVerifierLog(const std::string& file, const ReuseList& reuse,
                            const std::string& progName) {
  Attempt a;
  std::string op;
  if (OpenObject(file, reuse, &a, &op) != 0) return "";
  bpf_program* target = bpf_object__find_program_by_name(a.obj, progName.c_str());
  if (target == nullptr) return "";
  bpf_program* p;
  bpf_object__for_each_program(p, a.obj) {
    if (p != target) bpf_program__set_autoload(p, false);
  }
  if (SetLog(&a, target, kLogLevel1 | kLogStats, kFullLogSize) != 0) return "";
  bpf_object__load(a.obj);
  const char* log = LogOf(a, target);
  return log != nullptr ? log : "";
}

Napi::Value LoadObject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string file;
  if (!ArgString(info, 0, "file", &file)) return env.Undefined();
  ReuseList reuse;
  if (info[1].IsObject()) {
    Napi::Object r = info[1].As<Napi::Object>();
    Napi::Array keys = r.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      std::string name = keys.Get(i).ToString().Utf8Value();
      Napi::Value v = r.Get(name);
      if (!v.IsNumber()) {
        Napi::TypeError::New(env, "reuseMaps values must be fds").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      reuse.emplace_back(name, v.As<Napi::Number>().Int32Value());
    }
  } else if (!info[1].IsUndefined() && !info[1].IsNull()) {
    Napi::TypeError::New(env, "reuseMaps must be an object").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  // Optional third argument: the names of the programs to load (the rest are not verified;
  // the interpreter loads its rarely used entry programs when a script first needs them).
  std::vector<std::string> only;
  bool restrict = false;
  if (info.Length() > 2 && info[2].IsArray()) {
    Napi::Array names = info[2].As<Napi::Array>();
    restrict = true;
    for (uint32_t i = 0; i < names.Length(); i++) only.push_back(names.Get(i).ToString().Utf8Value());
  } else if (info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull()) {
    Napi::TypeError::New(env, "programs must be an array of names").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  std::string warnings;
  t_capture = &warnings;
  Attempt a;
  std::string op;
  int err = OpenObject(file, reuse, &a, &op);
  if (err == 0 && restrict) {
    bpf_program* p;
    bpf_object__for_each_program(p, a.obj) {
      bool want = std::find(only.begin(), only.end(), bpf_program__name(p)) != only.end();
      if (!want) bpf_program__set_autoload(p, false);
    }
  }
  if (err == 0) {
    bpf_program* p;
    bpf_object__for_each_program(p, a.obj) {
      if (!bpf_program__autoload(p)) continue;
      if ((err = SetLog(&a, p, kLogStats, kStatsLogSize)) != 0) {
        op = "bpf_program__set_log_buf";
        break;
      }
    }
  }
  if (err == 0) {
    int ret = bpf_object__load(a.obj);
    if (ret < 0) {
      err = -ret;
      op = "bpf_object__load";
    }
  }
  if (err != 0) {
    std::string detail;
    std::string prog = FailedProgName(warnings);
    if (!prog.empty()) {
      std::string log = FullVerifierLog(file, reuse, prog);
      if (log.empty()) {
        bpf_program* p = bpf_object__find_program_by_name(a.obj, prog.c_str());
        const char* stats = p != nullptr ? LogOf(a, p) : nullptr;
        if (stats != nullptr) log = stats;
      }
      detail = "\nverifier log of prog '" + prog + "' (last " + std::to_string(kTailLines) +
               " lines):\n" + LastLines(log, kTailLines);
    } else if (!warnings.empty()) {
      detail = "\n" + LastLines(warnings, kTailLines);  // lines already start "libbpf: "
    }
    t_capture = nullptr;
    return ThrowErrno(env, op, err, detail);
  }
  t_capture = nullptr;

  // Success: hand out dups, so closing the object leaves the kernel objects alive.
  std::vector<int> dups;
  auto fail = [&](const char* what) {
    int e = errno;
    for (int fd : dups) close(fd);
    return ThrowErrno(env, what, e);
  };
  Napi::Object progs = Napi::Object::New(env);
  Napi::Object maps = Napi::Object::New(env);
  Napi::Object insns = Napi::Object::New(env);
  bpf_program* p;
  bpf_object__for_each_program(p, a.obj) {
    int fd = bpf_program__fd(p);
    if (fd < 0) continue;  // autoload disabled
    int dup = DupFd(fd);
    if (dup < 0) return fail("dup");
    dups.push_back(dup);
    long n = ParseProcessed(LogOf(a, p));
    if (n < 0) {
      // No stats line (e.g. the log was rejected): the kernel keeps the same counter.
      struct bpf_prog_info pi;
      memset(&pi, 0, sizeof(pi));
      __u32 len = sizeof(pi);
      n = bpf_obj_get_info_by_fd(fd, &pi, &len) == 0 ? pi.verified_insns : 0;
    }
    progs.Set(bpf_program__name(p), Napi::Number::New(env, dup));
    insns.Set(bpf_program__name(p), Napi::Number::New(env, static_cast<double>(n)));
  }
  for (auto& [m, name] : a.maps) {
    int fd = bpf_map__fd(m);
    if (fd < 0) continue;  // not created (autocreate off)
    int dup = DupFd(fd);
    if (dup < 0) return fail("dup");
    dups.push_back(dup);
    maps.Set(name, Napi::Number::New(env, dup));
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("progs", progs);
  result.Set("maps", maps);
  result.Set("verifiedInsns", insns);
  return result;
}

}  // namespace

void InitObject(Napi::Env env, Napi::Object exports) {
  const char* dbg = getenv("TAPVM_LIBBPF_DEBUG");
  g_debug = dbg != nullptr && dbg[0] != '\0';
  libbpf_set_print(PrintFn);
  exports.Set("loadObject", Napi::Function::New(env, LoadObject, "loadObject"));
}

}  // namespace tapvm
