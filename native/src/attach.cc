// Attaching programs to perf events (tracepoints and sampling events) through BPF links.
// A BPF_PERF_EVENT link (rather than PERF_EVENT_IOC_SET_BPF) is what carries the
// bpf_cookie that the interpreter reads with bpf_get_attach_cookie() to tell probes apart.
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"

namespace tapvm {
namespace {

// The fds behind one Link object: (link fd, perf event fd) pairs.
struct LinkState {
  std::vector<std::pair<int, int>> fds;
  void CloseAll() {
    // Link first, so the program is detached before its event goes away.
    for (auto& [link, pfd] : fds) {
      if (link >= 0) close(link);
      if (pfd >= 0) close(pfd);
    }
    fds.clear();
  }
  ~LinkState() { CloseAll(); }
};

// Opens a perf event (pid -1: every task on `cpu`) and links `progFd` to it.
// Returns 0 or an errno, with *op naming the failing call; on success the pair is added.
int OpenAndLink(LinkState* st, struct perf_event_attr* attr, int cpu, int progFd,
                uint64_t cookie, const char** op, int pid = -1) {
  int pfd = static_cast<int>(
      syscall(__NR_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
  if (pfd < 0) {
    *op = "perf_event_open";
    return errno;
  }
  struct bpf_link_create_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.sz = sizeof(opts);
  opts.perf_event.bpf_cookie = cookie;
  int link = bpf_link_create(progFd, pfd, BPF_PERF_EVENT, &opts);
  if (link < 0) {
    int err = errno;
    close(pfd);
    *op = "bpf_link_create";
    return err;
  }
  st->fds.emplace_back(link, pfd);
  // Events are created enabled (attr.disabled = 0); this is for events a kernel may
  // leave disabled and is a no-op otherwise, as in libbpf's attach path.
  if (ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
    *op = "ioctl(PERF_EVENT_IOC_ENABLE)";
    return errno;
  }
  return 0;
}

void FinalizeLink(Napi::Env, LinkState* st) { delete st; }

// Detaching from a tracepoint waits for its grace period (~80 ms for the faultable syscall
// tracepoints), so closeAsync() closes on libuv's thread pool: several links detach in
// parallel and the event loop keeps running.
class CloseWorker : public Napi::AsyncWorker {
 public:
  CloseWorker(Napi::Env env, std::vector<std::pair<int, int>> fds)
      : Napi::AsyncWorker(env, "tapvm.closeLink"),
        fds_(std::move(fds)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  void Execute() override {
    for (auto& [link, pfd] : fds_) {
      if (link >= 0) close(link);
      if (pfd >= 0) close(pfd);
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  Napi::Promise Promise() { return deferred_.Promise(); }

 private:
  std::vector<std::pair<int, int>> fds_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value LinkCloseAsync(const Napi::CallbackInfo& info) {
  auto* st = static_cast<LinkState*>(info.Data());
  auto* w = new CloseWorker(info.Env(), std::move(st->fds));  // the worker owns the fds now
  st->fds.clear();
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// membarrier(MEMBARRIER_CMD_GLOBAL) is synchronize_rcu(): once it returns, every BPF program
// run that began before it has returned (they run inside rcu_read_lock), and every run that
// begins later sees the map writes made before it. On the thread pool, like closeAsync.
class QuiesceWorker : public Napi::AsyncWorker {
 public:
  explicit QuiesceWorker(Napi::Env env)
      : Napi::AsyncWorker(env, "tapvm.quiesce"), deferred_(Napi::Promise::Deferred::New(env)) {}
  void Execute() override {
    constexpr int kMembarrierCmdGlobal = 1;  // MEMBARRIER_CMD_GLOBAL
    ok_ = syscall(SYS_membarrier, kMembarrierCmdGlobal, 0, 0) == 0;
  }
  void OnOK() override { deferred_.Resolve(Napi::Boolean::New(Env(), ok_)); }
  Napi::Promise Promise() { return deferred_.Promise(); }

 private:
  bool ok_ = false;
  Napi::Promise::Deferred deferred_;
};

Napi::Value QuiesceAsync(const Napi::CallbackInfo& info) {
  auto* w = new QuiesceWorker(info.Env());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value LinkClose(const Napi::CallbackInfo& info) {
  static_cast<LinkState*>(info.Data())->CloseAll();  // idempotent: fds is emptied
  return info.Env().Undefined();
}

// Wraps `st` in { close() }. The state is owned by the close function (not the object),
// so a detached `link.close` reference stays valid; GC of both closes the fds.
Napi::Object MakeLink(Napi::Env env, LinkState* st) {
  Napi::Function closeFn = Napi::Function::New(env, LinkClose, "close", st);
  closeFn.AddFinalizer(FinalizeLink, st);
  Napi::Object link = Napi::Object::New(env);
  link.Set("close", closeFn);
  // closeAsync shares st: it must not outlive closeFn, which the link object keeps alive
  link.Set("closeAsync", Napi::Function::New(env, LinkCloseAsync, "closeAsync", st));
  return link;
}

// /sys/devices/system/cpu/online, e.g. "0-3,5,7-8".
bool OnlineCpus(std::vector<int>* cpus) {
  FILE* f = fopen("/sys/devices/system/cpu/online", "re");
  if (f == nullptr) return false;
  char buf[4096];
  bool ok = fgets(buf, sizeof(buf), f) != nullptr;
  fclose(f);
  if (!ok) return false;
  for (char* s = buf; *s != '\0' && *s != '\n';) {
    char* end;
    long a = strtol(s, &end, 10);
    if (end == s) break;
    long b = a;
    if (*end == '-') {
      s = end + 1;
      b = strtol(s, &end, 10);
      if (end == s) break;
    }
    for (long c = a; c <= b; c++) cpus->push_back(static_cast<int>(c));
    s = end;
    if (*s == ',') s++;
  }
  return !cpus->empty();
}

// attachTracepoint(progFd, tracepointId, cookie) -> Link
Napi::Value AttachTracepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd;
  uint32_t tpId;
  uint64_t cookie;
  if (!ArgFd(info, 0, &progFd) || !ArgU32(info, 1, "tracepointId", &tpId) ||
      !ArgU64(info, 2, "cookie", &cookie)) {
    return env.Undefined();
  }
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.config = tpId;
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  // One event on CPU 0 is enough: a tracepoint runs its attached BPF programs on
  // whichever CPU hits it, independent of the event's CPU.
  LinkState* st = new LinkState();
  const char* op = "";
  int err = OpenAndLink(st, &attr, 0, progFd, cookie, &op);
  if (err != 0) {
    delete st;
    return ThrowErrno(env, op, err);
  }
  return MakeLink(env, st);
}

// attachPerfEvent(progFd, type, config, period, freq, cookie) -> Link
Napi::Value AttachPerfEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd;
  uint32_t type;
  int64_t config, period;
  uint64_t cookie;
  if (!ArgFd(info, 0, &progFd) || !ArgU32(info, 1, "type", &type) ||
      !ArgInt(info, 2, "config", &config) || !ArgInt(info, 3, "period", &period) ||
      !ArgU64(info, 5, "cookie", &cookie)) {
    return env.Undefined();
  }
  bool freq = info[4].ToBoolean().Value();
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = type;
  attr.config = static_cast<uint64_t>(config);
  if (freq) {
    attr.freq = 1;
    attr.sample_freq = static_cast<uint64_t>(period);
  } else {
    attr.sample_period = static_cast<uint64_t>(period);
  }
  attr.wakeup_events = 1;

  std::vector<int> cpus;
  errno = 0;
  if (!OnlineCpus(&cpus)) {
    return ThrowErrno(env, "read /sys/devices/system/cpu/online", errno != 0 ? errno : EINVAL);
  }
  LinkState* st = new LinkState();
  for (int cpu : cpus) {
    const char* op = "";
    int err = OpenAndLink(st, &attr, cpu, progFd, cookie, &op);
    if (err != 0) {
      delete st;  // closes the CPUs already attached
      return ThrowErrno(env, op, err);
    }
  }
  return MakeLink(env, st);
}

// The uprobe PMU's type and the config bit that makes a uprobe a uretprobe, from sysfs
// (as libbpf's perf_event_open_probe reads them). Returns an errno or 0.
int UprobePmu(uint32_t* type, int* retBit) {
  FILE* f = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
  if (f == nullptr) return errno;
  int n = fscanf(f, "%u", type);
  fclose(f);
  if (n != 1) return EINVAL;
  f = fopen("/sys/bus/event_source/devices/uprobe/format/retprobe", "re");
  if (f == nullptr) return errno;
  n = fscanf(f, "config:%d", retBit);
  fclose(f);
  return n == 1 ? 0 : EINVAL;
}

// attachUprobe(progFd, {path, offset, pid, retprobe, cookie}) -> Link
// A uprobe perf event on the file offset of `path` (pid -1: every process that maps it),
// created per event, so one program can be linked at one address any number of times.
Napi::Value AttachUprobe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd;
  if (!ArgFd(info, 0, &progFd)) return env.Undefined();
  if (info.Length() < 2 || !info[1].IsObject()) {
    Napi::TypeError::New(env, "attachUprobe: options must be an object").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = info[1].As<Napi::Object>();
  Napi::Value path = o.Get("path"), offset = o.Get("offset"), pid = o.Get("pid"),
              cookie = o.Get("cookie");
  if (!path.IsString() || !offset.IsNumber() || !cookie.IsBigInt() ||
      !(pid.IsUndefined() || pid.IsNumber())) {
    Napi::TypeError::New(env, "attachUprobe: expected {path: string, offset: number, pid?: number, "
                              "retprobe?: boolean, cookie: bigint}")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string file = path.As<Napi::String>().Utf8Value();
  bool lossless;
  uint64_t ck = cookie.As<Napi::BigInt>().Uint64Value(&lossless);
  int target = pid.IsNumber() ? pid.As<Napi::Number>().Int32Value() : -1;
  bool ret = o.Get("retprobe").ToBoolean().Value();

  uint32_t type;
  int retBit;
  int err = UprobePmu(&type, &retBit);
  if (err != 0) return ThrowErrno(env, "read /sys/bus/event_source/devices/uprobe", err);
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = type;
  attr.config = ret ? (1ULL << retBit) : 0;
  attr.config1 = reinterpret_cast<uint64_t>(file.c_str());  // uprobe_path
  attr.config2 = static_cast<uint64_t>(offset.As<Napi::Number>().Int64Value());  // probe_offset
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  LinkState* st = new LinkState();
  const char* op = "";
  // a system-wide uprobe is one event on CPU 0 (it fires on every CPU); a pid-filtered one
  // follows its task on any CPU
  err = OpenAndLink(st, &attr, target < 0 ? 0 : -1, progFd, ck, &op, target);
  if (err != 0) {
    delete st;
    return ThrowErrno(env, op, err);
  }
  return MakeLink(env, st);
}

// BPF_LINK_CREATE's uprobe_multi member (Linux 6.6), laid out by hand: the kernel headers
// this builds against (6.1) do not have it.
struct LinkCreateUprobeMulti {
  uint32_t prog_fd;
  uint32_t target_fd;
  uint32_t attach_type;
  uint32_t flags;
  uint64_t path;
  uint64_t offsets;
  uint64_t ref_ctr_offsets;
  uint64_t cookies;
  uint32_t cnt;
  uint32_t multi_flags;  // BPF_F_UPROBE_MULTI_RETURN = 1
  uint32_t pid;
  uint8_t pad[64];  // zero: the rest of union bpf_attr
};

// attachUprobeMulti(progFd, {path, offsets, cookies, pid, retprobe}) -> Link
// One BPF_TRACE_UPROBE_MULTI link for many offsets of one file, each with its own cookie.
Napi::Value AttachUprobeMulti(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd;
  if (!ArgFd(info, 0, &progFd)) return env.Undefined();
  Napi::Object o = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object();
  Napi::Value path = o.IsEmpty() ? env.Undefined() : o.Get("path");
  Napi::Value offsets = o.IsEmpty() ? env.Undefined() : o.Get("offsets");
  Napi::Value cookies = o.IsEmpty() ? env.Undefined() : o.Get("cookies");
  Napi::Value pid = o.IsEmpty() ? env.Undefined() : o.Get("pid");
  if (!path.IsString() || !offsets.IsArray() || !cookies.IsArray() ||
      offsets.As<Napi::Array>().Length() != cookies.As<Napi::Array>().Length() ||
      offsets.As<Napi::Array>().Length() == 0 || !(pid.IsUndefined() || pid.IsNumber())) {
    Napi::TypeError::New(env, "attachUprobeMulti: expected {path: string, offsets: number[], cookies: bigint[] "
                              "(as many, at least one), pid?: number, retprobe?: boolean}")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string file = path.As<Napi::String>().Utf8Value();
  Napi::Array offs = offsets.As<Napi::Array>(), cks = cookies.As<Napi::Array>();
  std::vector<uint64_t> off(offs.Length()), ck(cks.Length());
  for (uint32_t i = 0; i < offs.Length(); i++) {
    Napi::Value v = offs.Get(i), c = cks.Get(i);
    if (!v.IsNumber() || !c.IsBigInt()) {
      Napi::TypeError::New(env, "attachUprobeMulti: offsets are numbers, cookies bigints").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    bool lossless;
    off[i] = static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
    ck[i] = c.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  LinkCreateUprobeMulti attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_fd = static_cast<uint32_t>(progFd);
  attr.attach_type = kTraceUprobeMulti;
  attr.path = reinterpret_cast<uint64_t>(file.c_str());
  attr.offsets = reinterpret_cast<uint64_t>(off.data());
  attr.cookies = reinterpret_cast<uint64_t>(ck.data());
  attr.cnt = static_cast<uint32_t>(off.size());
  attr.multi_flags = o.Get("retprobe").ToBoolean().Value() ? 1 : 0;
  attr.pid = pid.IsNumber() ? pid.As<Napi::Number>().Uint32Value() : 0;
  int link = static_cast<int>(syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr)));
  if (link < 0) return ThrowErrno(env, "bpf_link_create(uprobe_multi)", errno);
  LinkState* st = new LinkState();
  st->fds.emplace_back(link, -1);
  return MakeLink(env, st);
}

// BPF_RAW_TRACEPOINT_OPEN's attribute with the cookie (Linux 6.10), laid out by hand: the
// kernel headers this builds against (6.1) do not have it.
struct RawTracepointOpen {
  uint64_t name;
  uint32_t prog_fd;
  uint32_t pad0;
  uint64_t cookie;
  uint8_t pad[64];  // zero: the rest of union bpf_attr
};

// attachRawTracepoint(progFd, name, cookie) -> Link
// A raw tracepoint (the TP_PROTO arguments as u64 args[]); each open is its own link, so one
// program takes any number of them on one tracepoint.
Napi::Value AttachRawTracepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd;
  uint64_t cookie;
  if (!ArgFd(info, 0, &progFd)) return env.Undefined();
  if (info.Length() < 2 || !info[1].IsString()) {
    Napi::TypeError::New(env, "attachRawTracepoint: name must be a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!ArgU64(info, 2, "cookie", &cookie)) return env.Undefined();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  RawTracepointOpen attr;
  memset(&attr, 0, sizeof(attr));
  attr.name = reinterpret_cast<uint64_t>(name.c_str());
  attr.prog_fd = static_cast<uint32_t>(progFd);
  attr.cookie = cookie;
  int link = static_cast<int>(syscall(__NR_bpf, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr)));
  if (link < 0) return ThrowErrno(env, "bpf_raw_tracepoint_open", errno);
  LinkState* st = new LinkState();
  st->fds.emplace_back(link, -1);
  return MakeLink(env, st);
}

}  // namespace

void InitAttach(Napi::Env env, Napi::Object exports) {
  exports.Set("attachTracepoint", Napi::Function::New(env, AttachTracepoint, "attachTracepoint"));
  exports.Set("attachPerfEvent", Napi::Function::New(env, AttachPerfEvent, "attachPerfEvent"));
  exports.Set("attachUprobe", Napi::Function::New(env, AttachUprobe, "attachUprobe"));
  exports.Set("attachRawTracepoint", Napi::Function::New(env, AttachRawTracepoint, "attachRawTracepoint"));
  exports.Set("attachUprobeMulti", Napi::Function::New(env, AttachUprobeMulti, "attachUprobeMulti"));
  exports.Set("quiesce", Napi::Function::New(env, QuiesceAsync, "quiesce"));
}

}  // namespace tapvm
