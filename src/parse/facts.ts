// What the preprocessor's conditions (`%( kernel_v >= "5.0" %? ... %)`) are evaluated against.
//
// Everything comes from this one module; tests pass their own `Facts` (makeFacts) so they never
// depend on the host. The host's facts are read lazily and cached: the kernel configuration is
// only decompressed when a script actually tests a CONFIG_ option.
import * as os from 'os';
import { parseKernelConfig, readHostConfig } from '../kernel/config';

export { parseKernelConfig };

/** The stap release tapvm's language is compatible with: the value of `systemtap_v`. */
export const SYSTEMTAP_COMPAT_VERSION = '5.0';

/**
 * The value of `runtime`. stap answers "kernel", "dyninst" or "bpf" (--runtime=bpf); tapvm runs
 * scripts on eBPF with no kernel module and no embedded C, which is what tapsets and scripts
 * guard with `%( runtime == "bpf" %? ... %)`.
 */
export const TAPVM_RUNTIME = 'bpf';

/** The value of `systemtap_privilege`: tapvm needs root (CAP_BPF/CAP_PERFMON) like stapdev. */
export const TAPVM_PRIVILEGE = 'stapdev';

export interface Facts {
  /** `uname -r`, e.g. "6.8.0-45-generic" (kernel_vr). */
  kernelRelease: string;
  /** The architecture as stap names it: `uname -m` through normalizeMachine() (arch). */
  arch: string;
  /** Value of a kernel configuration option as written in .config ("y", "m", "\"str\"", "42"); "" if unset. */
  config(name: string): string;
  systemtapVersion: string;
  runtime: string;
  privilege: string;
  /** 1 with stap -g; tapvm has no guru mode. */
  guruMode: number;
}

/** stap's normalize_machine(): `uname -m` -> the kernel's ARCH/SUBARCH name. */
export function normalizeMachine(machine: string): string {
  if (machine === 'i486' || machine === 'i586' || machine === 'i686') return 'i386';
  if (machine === 'sun4u') return 'sparc64';
  if (machine.startsWith('arm')) return 'arm';
  if (machine === 'sa110') return 'arm';
  if (machine === 's390x') return 's390';
  if (machine === 'aarch64') return 'arm64';
  if (machine === 'riscv64') return 'riscv';
  if (machine.startsWith('ppc')) return 'powerpc';
  if (machine.startsWith('mips')) return 'mips';
  if (machine.startsWith('sh2') || machine.startsWith('sh3') || machine.startsWith('sh4')) return 'sh';
  return machine;
}

/** Node's process.arch -> `uname -m`, for the rare Node without os.machine(). */
function unameMachine(): string {
  const m = (os as { machine?: () => string }).machine;
  if (typeof m === 'function') return m();
  const map: Record<string, string> = {
    x64: 'x86_64',
    ia32: 'i686',
    arm64: 'aarch64',
    arm: 'armv7l',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
    mips: 'mips',
    mipsel: 'mips',
    loong64: 'loongarch64',
  };
  return map[process.arch] ?? process.arch;
}

export interface FactsInit {
  kernelRelease?: string;
  /** `uname -m`; normalized like stap's. */
  machine?: string;
  /** CONFIG_* values (a map, a record, or .config text). */
  config?: Map<string, string> | Record<string, string> | string;
  systemtapVersion?: string;
  runtime?: string;
  privilege?: string;
  guruMode?: number;
}

/** Facts from explicit values (tests); anything not given is tapvm's constant or empty. */
export function makeFacts(init: FactsInit = {}): Facts {
  const cfg = init.config;
  const map =
    cfg === undefined
      ? new Map<string, string>()
      : typeof cfg === 'string'
        ? parseKernelConfig(cfg)
        : cfg instanceof Map
          ? cfg
          : new Map(Object.entries(cfg));
  return {
    kernelRelease: init.kernelRelease ?? '',
    arch: normalizeMachine(init.machine ?? ''),
    config: (name) => map.get(name) ?? '',
    systemtapVersion: init.systemtapVersion ?? SYSTEMTAP_COMPAT_VERSION,
    runtime: init.runtime ?? TAPVM_RUNTIME,
    privilege: init.privilege ?? TAPVM_PRIVILEGE,
    guruMode: init.guruMode ?? 0,
  };
}

let host: Facts | undefined;

/** The facts of the machine tapvm runs on (cached; the kernel config is read on first use). */
export function hostFacts(): Facts {
  if (host) return host;
  const kernelRelease = os.release();
  let config: Map<string, string> | undefined;
  host = {
    kernelRelease,
    arch: normalizeMachine(unameMachine()),
    config: (name) => (config ??= readHostConfig(kernelRelease)).get(name) ?? '',
    systemtapVersion: SYSTEMTAP_COMPAT_VERSION,
    runtime: TAPVM_RUNTIME,
    privilege: TAPVM_PRIVILEGE,
    guruMode: 0,
  };
  return host;
}
