// tapvm-client: bin/tapvm's fast path (docs/ARCHITECTURE.md "The warm server"). A Node process
// takes ~100 ms to start before running a line of ours, so a command is handed to a resident,
// pre-warmed worker instead: this program connects to the server's unix socket, sends its
// argv, environment, umask, nice value, working directory and fds 0/1/2 (SCM_RIGHTS), forwards
// the signals a user sends to the worker, and exits as the worker did. When no server answers
// in time it runs the command directly (`node bin/tapvm ...`, the path without a server) and,
// unless TAPVM_SERVER=0, starts a server in the background for the next command.
//
// Protocol (all integers little-endian, this host's):
//   server -> client  "TVMW" u32 worker-pid   a warm worker accepted the connection
//                     "TVMB"                  the manager: busy (no warm worker yet), run directly
//   client -> server  u32 length, then: u32 version=1, u32 fd mask (bits 0-2 stdio, 3 cwd),
//                     u32 umask, i32 nice, u32 argc, argv[1..] NUL-terminated, u32 envc,
//                     environ NUL-terminated; the fds of the mask ride on its first byte
//   server -> client  "TVMX" i32 exit-code i32 signal   the worker ended
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SELF_SUFFIX "/native/build/Release/tapvm-client"
// how long the server may take to answer (a warm worker's greeting, or the manager's busy)
// before we run directly
#define HELLO_TIMEOUT_MS 1000

static volatile pid_t worker;
static volatile sig_atomic_t continued;	// set by on_cont: on_tstp's raise() did stop us

static void die(const char *what) {
  fprintf(stderr, "tapvm: %s: %s\n", what, strerror(errno));
  exit(1);
}

// The command without a server: today's `node bin/tapvm ARGS`.
static void direct(const char *pkg, int argc, char **argv) {
  char script[PATH_MAX + 64];
  snprintf(script, sizeof script, "%s/bin/tapvm", pkg);
  char **av = calloc((size_t)argc + 2, sizeof *av);
  if (!av) die("out of memory");
  av[0] = "node";
  av[1] = script;
  for (int i = 1; i < argc; i++) av[i + 1] = argv[i];
  execvp("node", av);
  fprintf(stderr, "tapvm: cannot run node: %s\n", strerror(errno));
  exit(127);
}

// Starts `node dist/server/manager.js` detached (own session, stdio /dev/null), not waited for.
static void start_server(const char *pkg) {
  pid_t p = fork();
  if (p < 0) return;
  if (p == 0) {
    setsid();
    if (fork() == 0) {
      int null = open("/dev/null", O_RDWR);
      if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2) close(null);
      }
      char manager[PATH_MAX + 64];
      snprintf(manager, sizeof manager, "%s/dist/server/manager.js", pkg);
      execlp("node", "node", manager, (char *)NULL);
      _exit(127);
    }
    _exit(0);
  }
  while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {
  }
}

// FNV-1a 64: the same function as src/server/paths.ts serverKey()
static uint64_t fnv(uint64_t h, const char *s) {
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ULL;
  }
  return h;
}

static uint64_t file_id(uint64_t h, const char *pkg, const char *rel) {
  char path[PATH_MAX + 64], buf[64];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", pkg, rel);
  if (stat(path, &st) == 0)
    snprintf(buf, sizeof buf, "\n%lld:%lld", (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec, (long long)st.st_size);
  else
    snprintf(buf, sizeof buf, "\n-");
  return fnv(h, buf);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Reads exactly n bytes; with a deadline (>= 0) on a non-blocking socket, else blocking.
// Returns n, or less on EOF, timeout or error.
static size_t read_full(int fd, void *buf, size_t n, int64_t deadline) {
  size_t got = 0;
  while (got < n) {
    if (deadline >= 0) {
      int64_t left = deadline - now_ms();
      if (left <= 0) break;
      struct pollfd p = {fd, POLLIN, 0};
      int r = poll(&p, 1, (int)left);
      if (r < 0 && errno != EINTR) break;
      if (r <= 0) continue;
    }
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  return got;
}

// Signals for the worker. A terminal's (si_code SI_KERNEL: Ctrl-C, Ctrl-\, Ctrl-Z, a resize)
// goes to its whole process group, as the terminal would have sent it to a direct run's
// foreground group (a -c command included); a kill(1)'s to the worker alone.
static void forward(int sig, siginfo_t *si, void *ctx) {
  (void)ctx;
  int saved = errno;
  pid_t w = worker;
  if (w > 0) kill(si && si->si_code == SI_KERNEL ? -w : w, sig);
  errno = saved;
}

// Installs `fn` for `sig` (SA_RESTART, no mask: on_tstp relies on SIGCONT not being masked).
static void handle(int sig, void (*fn)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = SA_RESTART;
  sigaction(sig, &sa, NULL);
}

// Takes `sig`'s default action here and now (stop, or death): default disposition, unblocked
// (a handler runs with its own signal blocked), raised. Async-signal-safe.
static void raise_default(int sig) {
  signal(sig, SIG_DFL);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  raise(sig);
}

// Ctrl-Z: a direct run stops with its foreground group. The worker's group is orphaned (its
// parent is in another session), where the kernel discards SIGTSTP, so it gets SIGSTOP; then
// this process stops itself, and SIGCONT (the shell's fg/bg) continues both. When this
// process's own group is orphaned too (no job-control shell above it), the kernel discards our
// SIGTSTP as it would a direct run's: raise() returns without a stop, so the worker goes on too.
static void on_tstp(int sig) {
  (void)sig;
  int saved = errno;
  continued = 0;
  if (worker > 0) kill(-worker, SIGSTOP);
  raise_default(SIGTSTP);
  // stopped and continued: on_cont (SIGCONT is not masked here) ran before raise() returned
  if (!continued && worker > 0) kill(-worker, SIGCONT);
  handle(SIGTSTP, on_tstp);
  errno = saved;
}

static void on_cont(int sig) {
  (void)sig;
  int saved = errno;
  continued = 1;
  if (worker > 0) kill(-worker, SIGCONT);
  errno = saved;
}

static void put_u32(char **p, uint32_t v) {
  memcpy(*p, &v, 4);
  *p += 4;
}

int main(int argc, char **argv) {
  char pkg[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", pkg, sizeof pkg - 1);
  if (n <= 0) die("cannot read /proc/self/exe");
  pkg[n] = 0;
  size_t sl = strlen(SELF_SUFFIX);
  if ((size_t)n <= sl || strcmp(pkg + n - sl, SELF_SUFFIX) != 0) {
    fprintf(stderr, "tapvm: %s is not in a tapvm package's native/build/Release\n", pkg);
    return 1;
  }
  pkg[n - sl] = 0;

  const char *mode = getenv("TAPVM_SERVER");
  if (mode && strcmp(mode, "0") == 0) direct(pkg, argc, argv);

  // the server of this package directory and build (src/server/paths.ts)
  uint64_t h = fnv(0xcbf29ce484222325ULL, pkg);
  h = file_id(h, pkg, "dist/cli/main.js");
  h = file_id(h, pkg, "dist/server/worker.js");
  h = file_id(h, pkg, "native/build/Release/tapvm.node");
  const char *dir = getenv("TAPVM_RUN_DIR");
  if (!dir || !*dir) dir = "/run/tapvm";
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if ((size_t)snprintf(addr.sun_path, sizeof addr.sun_path, "%s/server-%016llx.sock", dir, (unsigned long long)h) >= sizeof addr.sun_path)
    direct(pkg, argc, argv);

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) direct(pkg, argc, argv);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    // no server (or a dead one's socket file): start one for the next command
    if (errno == ENOENT || errno == ECONNREFUSED) start_server(pkg);
    close(fd);
    direct(pkg, argc, argv);
  }
  char hello[8];
  if (read_full(fd, hello, 8, now_ms() + HELLO_TIMEOUT_MS) < 4 || memcmp(hello, "TVMW", 4) != 0) {
    // busy, or too slow: run directly. Nothing was sent, so the worker cannot run it too.
    close(fd);
    direct(pkg, argc, argv);
  }
  uint32_t pid;
  memcpy(&pid, hello + 4, 4);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM};
  for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) sigaction(fwd[i], &sa, NULL);
  handle(SIGTSTP, on_tstp);
  handle(SIGCONT, on_cont);
  signal(SIGPIPE, SIG_IGN);
  worker = (pid_t)pid;

  // the request
  // length, version, mask, umask, nice, argc, envc
  size_t len = 28;
  for (int i = 1; i < argc; i++) len += strlen(argv[i]) + 1;
  uint32_t envc = 0;
  for (char **e = environ; *e; e++, envc++) len += strlen(*e) + 1;
  char *req = malloc(len);
  if (!req) die("out of memory");
  char *p = req;
  put_u32(&p, (uint32_t)(len - 4));
  put_u32(&p, 1);
  int fds[4], nfds = 0, flags[3];
  uint32_t mask = 0;
  for (int i = 0; i < 3; i++) {
    flags[i] = fcntl(i, F_GETFL);
    if (flags[i] >= 0) {
      mask |= 1u << i;
      fds[nfds++] = i;
    }
  }
  int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cwd >= 0) {
    mask |= 8;
    fds[nfds++] = cwd;
  }
  put_u32(&p, mask);
  mode_t um = umask(0);
  umask(um);
  put_u32(&p, (uint32_t)um);
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  put_u32(&p, (uint32_t)nice);
  put_u32(&p, (uint32_t)(argc - 1));
  for (int i = 1; i < argc; i++) {
    size_t l = strlen(argv[i]) + 1;
    memcpy(p, argv[i], l);
    p += l;
  }
  put_u32(&p, envc);
  for (char **e = environ; *e; e++) {
    size_t l = strlen(*e) + 1;
    memcpy(p, *e, l);
    p += l;
  }
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int) * 4)];
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct iovec iov = {req, len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.bytes;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
  size_t off = 0;
  while (off < len) {
    ssize_t r = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("cannot send the command to the tapvm server");
    off += (size_t)r;
    // the fds went with the first bytes
    msg.msg_control = NULL;
    msg.msg_controllen = 0;
    iov.iov_base = req + off;
    iov.iov_len = len - off;
  }
  if (cwd >= 0) close(cwd);

  char st[12];
  size_t got = read_full(fd, st, 12, -1);
  // Node puts pipes and sockets in non-blocking mode and restores them at exit only for the
  // fds it started with: the worker's were /dev/null, so the flags are put back here
  for (int i = 0; i < 3; i++)
    if (flags[i] >= 0 && fcntl(i, F_GETFL) != flags[i]) fcntl(i, F_SETFL, flags[i]);
  if (got < 12 || memcmp(st, "TVMX", 4) != 0) {
    fprintf(stderr, "tapvm: the server's worker (pid %u) ended without an exit status\n", pid);
    return 1;
  }
  int32_t code, sig;
  memcpy(&code, st + 4, 4);
  memcpy(&sig, st + 8, 4);
  if (sig > 0) {
    // die of the same signal, as a shell expects from a direct run
    raise_default(sig);
    return 128 + sig;
  }
  return code;
}
