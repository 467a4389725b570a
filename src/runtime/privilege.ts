// Running a script needs CAP_BPF (maps, programs, pins) and CAP_PERFMON (tracepoint and perf
// attachments, bpf_probe_read): root has both. Checked before any bpf() call so that the
// failure is one sentence, not the first EPERM of whichever call came first.
import * as fs from 'fs';

const CAP_SYS_ADMIN = 21;
const CAP_PERFMON = 38;
const CAP_BPF = 39;

/** The effective capability set, from /proc/self/status (CapEff, hex). */
export function effectiveCaps(status = fs.readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt('0x' + m[1]) : 0n;
}

/** One sentence naming what is missing, or undefined when the process may run scripts. */
export function missingPrivilege(caps = effectiveCaps()): string | undefined {
  const has = (c: number) => (caps >> BigInt(c)) & 1n;
  // CAP_SYS_ADMIN still grants both on kernels that check it in their place
  if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return undefined;
  const missing = [has(CAP_BPF) ? '' : 'CAP_BPF', has(CAP_PERFMON) ? '' : 'CAP_PERFMON'].filter(Boolean).join(' and ');
  return `running a script needs root or the CAP_BPF and CAP_PERFMON capabilities, and this process lacks ${missing}`;
}
