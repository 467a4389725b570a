// The tapvm server's socket work (src/server/): the manager's listening socket, which each warm
// worker gets at fork and accepts its one client on; the request on the connection carries the
// client's fds 0/1/2 and cwd as SCM_RIGHTS, which Node's streams cannot receive, and the worker
// then puts them in place of its own stdio and working directory with dup2/fchdir, before Node
// creates process.stdout & co.; the worker passes the connection to the manager too (so the
// manager can report a death by signal on it).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "common.h"

namespace tapvm {

static constexpr int kMaxFds = 8;
// argv + environment: far above ARG_MAX's usual 2 MB would be a bad request
static constexpr uint32_t kMaxRequest = 16u << 20;

static int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Waits until fd is readable; false on timeout.
static bool WaitReadable(int fd, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - NowMs();
    if (left <= 0) return false;
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, int(left));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

// serverRecvRequest(fd, timeoutMs) -> { data: Buffer, fds: number[] } | null
// One request: [u32 LE length][length bytes], the fds on its first bytes (close-on-exec here:
// the caller dup2s the ones it keeps). null when the peer closed, sent too little or was too slow.
static Napi::Value RecvRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t timeoutMs;
  if (!ArgFd(info, 0, &fd) || !ArgU32(info, 1, "timeoutMs", &timeoutMs)) return env.Undefined();
  int64_t deadline = NowMs() + timeoutMs;
  std::vector<int> fds;
  std::vector<uint8_t> buf;
  uint32_t want = 4;
  bool haveLen = false;
  auto fail = [&]() -> Napi::Value {
    for (int f : fds) close(f);
    return env.Null();
  };
  while (buf.size() < want) {
    if (!WaitReadable(fd, deadline)) return fail();
    uint8_t chunk[65536];
    size_t n = want - buf.size();
    if (n > sizeof(chunk)) n = sizeof(chunk);
    struct iovec iov = {chunk, n};
    union {
      struct cmsghdr align;
      char bytes[CMSG_SPACE(sizeof(int) * kMaxFds)];
    } ctl;
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.bytes;
    msg.msg_controllen = sizeof(ctl.bytes);
    ssize_t r = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return fail();
    }
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      int got[kMaxFds];
      memcpy(got, CMSG_DATA(c), k * sizeof(int));
      for (size_t i = 0; i < k; i++) fds.push_back(got[i]);
    }
    if (r == 0) return fail();
    buf.insert(buf.end(), chunk, chunk + r);
    if (!haveLen && buf.size() >= 4) {
      uint32_t len = buf[0] | (buf[1] << 8) | (buf[2] << 16) | (uint32_t(buf[3]) << 24);
      if (len > kMaxRequest) return fail();
      want = 4 + len;
      haveLen = true;
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("data", Napi::Buffer<uint8_t>::Copy(env, buf.data() + 4, buf.size() - 4));
  Napi::Array arr = Napi::Array::New(env, fds.size());
  for (size_t i = 0; i < fds.size(); i++) arr.Set(uint32_t(i), Napi::Number::New(env, fds[i]));
  out.Set("fds", arr);
  return out;
}

// serverSend(fd, buffer) -> boolean: the whole buffer, blocking (poll) on a non-blocking socket;
// false when the peer is gone. MSG_NOSIGNAL: no SIGPIPE.
static Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  Napi::Uint8Array data;
  if (!ArgFd(info, 0, &fd) || !ArgBuffer(info, 1, "data", &data)) return env.Undefined();
  size_t off = 0;
  while (off < data.ByteLength()) {
    ssize_t r = send(fd, data.Data() + off, data.ByteLength() - off, MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p = {fd, POLLOUT, 0};
        poll(&p, 1, 1000);
        continue;
      }
      return Napi::Boolean::New(env, false);
    }
    off += size_t(r);
  }
  return Napi::Boolean::New(env, true);
}

// dupFd(fd) -> a close-on-exec copy >= 3
static Napi::Value Dup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, &fd)) return env.Undefined();
  int r = DupFd(fd);
  if (r < 0) return ThrowErrno(env, "dup", errno);
  return Napi::Number::New(env, r);
}

// dup2(from, to): `to` is inherited by children (no close-on-exec), as stdio must be
static Napi::Value Dup2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int from, to;
  if (!ArgFd(info, 0, &from) || !ArgFd(info, 1, &to)) return env.Undefined();
  if (dup2(from, to) < 0) return ThrowErrno(env, "dup2", errno);
  return env.Undefined();
}

static Napi::Value Fchdir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, &fd)) return env.Undefined();
  if (fchdir(fd) < 0) return ThrowErrno(env, "fchdir", errno);
  return env.Undefined();
}

// flock(fd, take) -> boolean: takes (LOCK_EX, without waiting) or gives back (LOCK_UN) the
// flock(2) lock of fd's open file; false when another open file of it holds the lock. The
// runtime's host-wide lock (src/runtime/lock.ts).
static Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, &fd)) return env.Undefined();
  bool take = info.Length() > 1 && info[1].ToBoolean().Value();
  int r;
  do r = flock(fd, take ? LOCK_EX | LOCK_NB : LOCK_UN);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  if (r < 0) return ThrowErrno(env, "flock", errno);
  return Napi::Boolean::New(env, true);
}

// serverListen(path) -> fd: a listening unix stream socket at path (close-on-exec, blocking).
// The manager makes it once and hands it to every warm worker at fork; the worker accepts its
// one client itself (serverAccept), the manager only while no worker waits (the busy answer).
static Napi::Value Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return env.Undefined();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return ThrowErrno(env, "bind", ENAMETOOLONG);
  memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0 || listen(fd, 128) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "bind", err);
  }
  return Napi::Number::New(env, fd);
}

// serverAccept(listenFd, watchFd) -> a connection fd (close-on-exec, non-blocking), or -1 when
// watchFd became readable or hung up first (the worker's IPC channel: the manager is gone or
// has something to say). Blocks the calling thread: a warm worker has nothing else to do, and
// a worker asleep in poll() takes its client at once, with no event loop turn in between. An
// accept that loses the race to another process (EAGAIN) waits again.
static Napi::Value Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int lfd, wfd;
  if (!ArgFd(info, 0, &lfd) || !ArgFd(info, 1, &wfd)) return env.Undefined();
  for (;;) {
    struct pollfd p[2] = {{lfd, POLLIN, 0}, {wfd, POLLIN, 0}};
    int r = poll(p, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ThrowErrno(env, "poll", errno);
    }
    if (p[1].revents) return Napi::Number::New(env, -1);
    if (!(p[0].revents & POLLIN)) {
      if (p[0].revents) return ThrowErrno(env, "accept", EBADF);
      continue;
    }
    int c = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c >= 0) return Napi::Number::New(env, c);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) continue;
    return ThrowErrno(env, "accept", errno);
  }
}

// serverSendFd(sock, fd) -> boolean: one fd as SCM_RIGHTS on a frame of length 0 (four zero
// bytes), which serverRecvRequest reads as { data: <empty>, fds: [fd] }.
static Napi::Value SendFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock, fd;
  if (!ArgFd(info, 0, &sock) || !ArgFd(info, 1, &fd)) return env.Undefined();
  uint32_t zero = 0;
  struct iovec iov = {&zero, sizeof(zero)};
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int))];
  } ctl;
  memset(&ctl, 0, sizeof(ctl));
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.bytes;
  msg.msg_controllen = sizeof(ctl.bytes);
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t r;
  do r = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return Napi::Boolean::New(env, r == ssize_t(sizeof(zero)));
}

// socketPair() -> [a, b]: a unix stream socket pair, both ends close-on-exec (a worker's end
// goes to it as an fd of fork's stdio, which clears the flag on the child's copy).
static Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return ThrowErrno(env, "socketpair", errno);
  Napi::Array arr = Napi::Array::New(env, 2);
  arr.Set(uint32_t(0), Napi::Number::New(env, sv[0]));
  arr.Set(uint32_t(1), Napi::Number::New(env, sv[1]));
  return arr;
}

// watchDir(path) -> fd: an inotify fd (non-blocking, close-on-exec) that becomes readable once
// any entry of the directory is created, written, touched, removed or renamed, or the directory
// itself is. A worker watches the tapset directory from before its warm-up on: at the request
// one poll() tells whether what it read is still current (fdReadable), instead of a readdir and
// a stat per file.
static Napi::Value WatchDir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return env.Undefined();
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, "inotify_init1", errno);
  uint32_t mask = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                  IN_DELETE_SELF | IN_MOVE_SELF;
  if (inotify_add_watch(fd, path.c_str(), mask) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "inotify_add_watch", err);
  }
  return Napi::Number::New(env, fd);
}

// fdReadable(fd) -> boolean: poll() with no wait
static Napi::Value FdReadable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, &fd)) return env.Undefined();
  struct pollfd p = {fd, POLLIN, 0};
  int r;
  do r = poll(&p, 1, 0);
  while (r < 0 && errno == EINTR);
  return Napi::Boolean::New(env, r > 0);
}

// schedIdle(tid, idle) -> boolean: puts one thread (0: the calling one) in SCHED_IDLE, or takes it
// out of SCHED_IDLE back to SCHED_OTHER (a thread in another policy, say under chrt, is left as
// it is). A warming worker runs SCHED_IDLE (src/server/manager.ts): nice 19 alone still let it
// hold a CPU for a whole slice (3-4 ms) while the command's worker waited, runnable, on the same
// CPU; an idle-policy task is preempted by any other task that wakes. False when not allowed:
// leaving SCHED_IDLE needs CAP_SYS_NICE (or an RLIMIT_NICE that allows nice 0).
static Napi::Value SchedIdle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t tid;
  if (!ArgU32(info, 0, "tid", &tid)) return env.Undefined();
  if (!info[1].IsBoolean()) {
    Napi::TypeError::New(env, "idle must be a boolean").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool idle = info[1].As<Napi::Boolean>().Value();
  struct sched_param p = {};
  if (!idle && sched_getscheduler(static_cast<pid_t>(tid)) != SCHED_IDLE) return Napi::Boolean::New(env, true);
  return Napi::Boolean::New(env, sched_setscheduler(static_cast<pid_t>(tid), idle ? SCHED_IDLE : SCHED_OTHER, &p) == 0);
}

void InitServer(Napi::Env env, Napi::Object exports) {
  exports.Set("watchDir", Napi::Function::New(env, WatchDir));
  exports.Set("fdReadable", Napi::Function::New(env, FdReadable));
  exports.Set("serverListen", Napi::Function::New(env, Listen));
  exports.Set("serverAccept", Napi::Function::New(env, Accept));
  exports.Set("serverSendFd", Napi::Function::New(env, SendFd));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
  exports.Set("serverRecvRequest", Napi::Function::New(env, RecvRequest));
  exports.Set("serverSend", Napi::Function::New(env, Send));
  exports.Set("dupFd", Napi::Function::New(env, Dup));
  exports.Set("dup2", Napi::Function::New(env, Dup2));
  exports.Set("fchdir", Napi::Function::New(env, Fchdir));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("schedIdle", Napi::Function::New(env, SchedIdle));
}

}  // namespace tapvm
