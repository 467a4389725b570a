// The warm worker's side of the tapvm server (src/server/worker.ts): a client connection arrives
// as a unix stream socket; the request on it carries the client's fds 0/1/2 and cwd as
// SCM_RIGHTS, which Node's streams cannot receive, and the worker then puts them in place of its
// own stdio and working directory with dup2/fchdir, before Node creates process.stdout & co.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
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

void InitServer(Napi::Env env, Napi::Object exports) {
  exports.Set("serverRecvRequest", Napi::Function::New(env, RecvRequest));
  exports.Set("serverSend", Napi::Function::New(env, Send));
  exports.Set("dupFd", Napi::Function::New(env, Dup));
  exports.Set("dup2", Napi::Function::New(env, Dup2));
  exports.Set("fchdir", Napi::Function::New(env, Fchdir));
}

}  // namespace tapvm
