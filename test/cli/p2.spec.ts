// -p2 prints the resolved program in stap's printscript layout: "# globals" (vardecl::printsig:
// `name[max]:type [keys]`), "# functions" (called ones, by name, built-in ones with stap's tapset
// signatures; `unknown` for no value), then
// each derived probe with its derivation chain and "  # locals". Golden texts.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { compileSource } from '../../src/compile/index';
import { printResolved } from '../../src/cli/p2';

const p2 = (src: string) => printResolved(compileSource(src, 'p.stp', 2).resolved!);

describe('-p2', () => {
  it('prints globals, called functions and probes with their locals', () => {
    const src = `global count, names[10], s, unused
function add:long (a, b:string) { t = a + 1; return t + strlen(b) }
function greet(n) { printf("%s\\n", n) }
function never_called() { return 1 }
probe begin, end { x = 1; count++; s = "a"; greet(s); names[x, s] = add(x, "b") }`;
    expect(p2(src)).toBe(`# globals
count:long
names[10]:long [long, string]
s:string
# functions
add:long (a:long, b:string)
  # locals
  t:long
greet:unknown (n:string)
strlen:long (s:string)
# probes
begin /* <- begin,end */
  # locals
  x:long
end /* <- begin,end */
  # locals
  x:long
`);
  });

  it('prints the derivation chain through = and += aliases, with ? and arming conditions', () => {
    const src = `global st, w[4], armed
probe a1 = begin?, end if (1) { v = 1 }
probe a2 += a1 { u = "s" }
probe a2 if (armed == 0) { st <<< v; w[u] = 1 }
function f(x) { return x } function f(x, y) { return x + y }
probe timer.ms(100) { armed = f(1) + f(1, 2); println(@count(st)) }
probe never { n = 1 }`;
    expect(p2(src)).toBe(`# globals
st:stats
w[4]:long [string]
armed:long
# functions
f:long (x:long)
f:long (x:long, y:long)
# probes
begin? if ((armed) == (0)) /* <- a1 = begin?, end if (1) <- a2 += a1 <- a2 if ((armed) == (0)) */
  # locals
  v:long
  u:string
end if ((1) && ((armed) == (0))) /* <- a1 = begin?, end if (1) <- a2 += a1 <- a2 if ((armed) == (0)) */
  # locals
  v:long
  u:string
timer.ms(100) /* <- timer.ms(100) */
never /* <- never */
  # locals
  n:long
`);
  });

  it('lists the built-in functions reached, as stap lists its tapset functions, but not tapvm\'s __ helpers', () => {
    const src = `function f(s) { return kernel_string_n(strtol(s, 16), 4) . sprintf("%d", cpu_clock_ns(cpu())) }
probe syscall.getppid { x = f("10"); y = user_string(0, "e"); if (x =~ "a(b)") z = matched(1) . sprint(ngroups()); error(x . y . z . string_quoted(x) . sprint(strpos(x, y))) }`;
    const bin = path.join(__dirname, '../../bin/tapvm');
    const r = spawnSync(process.execPath, [bin, '-p2', '-e', src], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    // matched() and ngroups() are tapset/regex.stp's, over tapvm's __regex_* opcodes; stap's are
    // embedded C, listed without locals
    expect(r.stdout.split('# probes')[0]).toBe(`# functions
cpu:long ()
cpu_clock_ns:long (cpu:long)
error:unknown (msg:string)
f:string (s:string)
kernel_string_n:string (addr:long, n:long)
matched:string (n:long)
ngroups:long ()
string_quoted:string (str:string)
strpos:long (s1:string, s2:string)
strtol:long (str:string, base:long)
user_string:string (addr:long, err_msg:string)
`);
  }, 30_000);

  it('prints the canonical tracepoint and system call points from the command line', () => {
    const bin = path.join(__dirname, '../../bin/tapvm');
    const r = spawnSync(process.execPath, [bin, '-p2', '-e', 'probe myalias = syscall.getppid { who = pid() } probe myalias { y = who } probe kernel.trace("sched_switch")? { q = $prev_pid }'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`# functions
pid:long ()
# probes
syscall.getppid /* <- myalias = syscall.getppid <- myalias */
  # locals
  who:long
  y:long
kernel.trace("sched:sched_switch")? /* <- kernel.trace("sched_switch")? */
  # locals
  q:long
`);
    expect(r.status).toBe(0);
  }, 30_000);
});
