// A worker's warm-up: every module a run needs is loaded and the front end (passes 1-3, pure:
// no BPF, nothing pinned or opened) runs over a few representative one-liners, so a client's
// command finds the tapsets read, the parser and compiler compiled by V8 with warm inline
// caches. Nothing here may touch process.stdout/stderr/stdin or console: Node picks their kind
// (tty, pipe, file) when they are first used, which must be after the client's fds are in place.
import * as fs from 'fs';
import * as path from 'path';
import { compileSource } from '../compile';
import { hostKernelFacts, withKernelFacts } from '../kernel/facts';
import { DEFAULT_TAPSET_DIR, loadTapsets } from '../parse/tapsets';
import { addon, BPF_MAP_TYPE } from '../native';
import { VM_SLOTS, livePreopenedSessions, preopenInterpreter, vmHash } from '../runtime/interpreter';
import { PassTimer } from '../cli/passes';
import { openLock } from '../runtime/lock';
import { realtimeOffset, warmRuntime } from '../runtime/generation';
import { PACKAGE_ROOT } from './paths';
import { decodeModule, encodeModule, isaHash } from '../module/module';

export const ONE_LINERS = [
  'probe begin { printf("hello %d %s\\n", 1, "x"); exit() }',
  'global c; probe syscall.* { c[execname(), pid()]++ } probe end { foreach ([e, p] in c- limit 5) printf("%s %d %d\\n", e, p, c[e, p]) }',
  'probe syscall.openat { if (pid() == 1) printf("%s(%d) %s = %s\\n", execname(), tid(), name, argstr) }',
  'global s; probe syscall.read.return { s <<< retval } probe timer.s(1) { print(@hist_log(s)); printf("%d %d\\n", @count(s), @avg(s)); exit() }',
  // several tracepoints: each looks its __bpf_trace_<event> up in BTF, a scan of every type's
  // name that V8 optimizes only after a few calls (one call left the command's at 6-10 ms; the
  // names of every other tracepoint are then put in the cache at once: indexPrefix below)
  'global n; probe kernel.trace("sched:sched_switch"), kernel.trace("sched:sched_wakeup") ?, kernel.trace("syscalls:sys_enter_close") ?, kernel.trace("syscalls:sys_exit_read") ? { n += @cast(task_current(), "task_struct")->real_parent->tgid } probe end { printf("%d\\n", n) }',
];

/**
 * Tells whether the tapset directory changed since the call that made it (a file created,
 * written, touched, removed or renamed): a worker re-reads the tapsets then. An inotify watch
 * (one poll() at the request) where the kernel gives one, else the file names and mtimes
 * compared (a readdir and a stat per file, ~0.5 ms). A symlinked tapset whose target is edited
 * elsewhere is not seen by the watch.
 */
export function tapsetWatch(): () => boolean {
  try {
    const fd = addon().watchDir(DEFAULT_TAPSET_DIR);
    return () => addon().fdReadable(fd);
  } catch {
    const stamp = tapsetStamp();
    return () => tapsetStamp() !== stamp;
  }
}

function tapsetStamp(): string {
  try {
    return fs
      .readdirSync(DEFAULT_TAPSET_DIR)
      .map((n) => `${n}:${fs.statSync(path.join(DEFAULT_TAPSET_DIR, n)).mtimeMs}`)
      .join('\n');
  } catch {
    return '';
  }
}

export function warmUp(): void {
  // the modules of a run: the CLI (which imports the runtime) and the addon
  for (const m of ['stap', 'errors', 'swap', 'attach', 'run-module']) require(`../cli/${m}`);
  addon();
  // pure parts of a run's start that a worker would otherwise pay cold on every command:
  // the object hashes that name the pins, and `performance` (a lazily loaded builtin that the
  // session's realtime offset reads)
  for (const slot of VM_SLOTS) vmHash(slot);
  realtimeOffset();
  const { preprocessorFacts, stapProgram, prepareProgram } = require('../cli/stap') as typeof import('../cli/stap');
  // commander's set-up and parsing, cold, were 2-7 ms of every command (its functions compiled
  // on first use, cold inline caches): a throwaway program parses a command line with each kind
  // of option (a value, a flag, a counter, a repeated one, a negated one, arguments). No output:
  // the line is valid, and commander writes only for --help, -V or an error.
  stapProgram().parse(['node', 'tapvm', '-v', '-v', '-w', '-D', 'MAXACTION=1', '-I', '/', '-G', 'n=1', '--no-global-var-display', '-o', '/dev/null', '-e', 'probe begin {}', 'arg']);
  prepareProgram();
  let moduleWarm = false;
  for (const text of ONE_LINERS) {
    try {
      const c = withKernelFacts(hostKernelFacts(), () =>
        compileSource(text, '<input>', 3, undefined, { args: [], facts: preprocessorFacts(), warnings: [], tapsets: [DEFAULT_TAPSET_DIR] }),
      );
      // the run's pure paths too (user-space VM, output formatter, records): no BPF, no stdio
      if (c.result.image) warmRuntime(c.result.image);
      // a module file made and read back: msgpackr (and its native extension) loads in ~20 ms,
      // which a swap paid twice, in the `tapvm swap` command (encode) and in the session it
      // swaps (decode, and every control frame), and -m and `tapvm run` once
      if (c.result.image && !moduleWarm) {
        const bytes = encodeModule({ name: 'warm', isa: isaHash(), factsOrigin: 'host', facts: c.used, image: c.result.image });
        moduleWarm = decodeModule(bytes, 'the warm-up module').image.code.length > 0;
      }
    } catch {
      // a one-liner this kernel cannot compile (no such tracepoint) warms up less, no more
    }
  }
  // every tracepoint's probe function (__bpf_trace_<event>) in the BTF name cache: a command's
  // kernel.trace or syscall tracepoint then looks its own up without a scan (1.2-1.9 ms)
  try {
    hostKernelFacts().btf()?.indexPrefix('__bpf_trace_');
  } catch {
    // no BTF: protoArgs finds nothing either way
  }
  // the pins, as a run opens them (only opened: no slot claimed, nothing written; a run checks
  // they are still the pinned objects)
  try {
    if (preopenInterpreter()) livePreopenedSessions();
    // the host-wide lock's file, opened (not locked): src/runtime/lock.ts
    openLock();
    // a ring buffer reader, on a ring of one page of its own: the addon's and libbpf's set-up
    // (mmap, epoll, the uv_poll) ran cold on the command's time, 0.6 ms against 0.2 warm
    const ring = addon().mapCreate(BPF_MAP_TYPE.RINGBUF, 'tapvm_warm', 0, 0, 4096, 0, -1);
    try {
      addon().ringBuffer(ring, () => undefined, { pollMs: 100 }).close();
    } finally {
      addon().close(ring);
    }
  } catch {
    // bpffs or the pins unreadable: the command opens them itself, and says why
  }
  // the modules Node loads when process.stdout/stderr are first used (a pipe's net.Socket, a
  // terminal's tty.WriteStream), without using them; net is also used just below
  const net = require('net') as typeof import('net');
  require('tty');
  // what a run does on its first turns of the event loop, paid cold on the command's time
  // between "kernel probes armed" and its first output otherwise: libuv's threadpool (its 4
  // threads are created, and waited for, at the first queued work: the stop's quiesce() and
  // any async fs call) and a unix socket server's listen (the session's control socket; an
  // abstract address here, so nothing appears in the file system)
  fs.stat(PACKAGE_ROOT, () => undefined);
  // a run's first timer (the MAXSKIPPED check, timer probes): Node's timer lists, cold, were
  // ~1 ms between "kernel probes armed" and the first output
  clearInterval(setInterval(() => undefined, 1000));
  // -v's pass timer (process.cpuUsage, cold)
  new PassTimer();
  const warm = net.createServer();
  warm.on('error', () => undefined);
  warm.listen(`\0tapvm-warm-${process.pid}`);
  warm.close();
  // a pipe's net.Socket, written once: Node's pipe stdio, made at the first write to a pipe
  // stdout or stderr (a -v line, the first output), took 1.5 ms on its first use, ~0.2 after
  {
    const [x, y] = addon().socketPair();
    const s = new net.Socket({ fd: x, readable: false, writable: true });
    s.write('w\n');
    s.destroy();
    fs.closeSync(y);
  }
  // every tapset file parsed (each is parsed once per process, when a script may use it): a
  // command using vfs.*, netdev.* or thread_indent() paid its file's parse cold (2-10 ms). They
  // are parsed against the host's facts: a command with -r drops them (serve.ts).
  withKernelFacts(hostKernelFacts(), () => {
    for (const f of loadTapsets([DEFAULT_TAPSET_DIR], { facts: preprocessorFacts() }))
      try {
        void f.script;
      } catch {
        // a file with a syntax error: reported by the command that needs it
      }
  });
}
