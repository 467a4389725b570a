// One clear sentence for failures that come from the host rather than the script.
export function friendlyError(err: unknown): string {
  const e = err as { message?: string; errno?: number; code?: string };
  const msg = e?.message ?? String(err);
  if (e?.errno === 1 || e?.errno === 13 || e?.code === 'EPERM' || e?.code === 'EACCES')
    return `tapvm needs root (or CAP_BPF and CAP_PERFMON) to load and attach BPF programs (${msg})`;
  if (/Cannot find module .*tapvm\.node/.test(msg)) return 'the native addon is not built: run npm install';
  if (e?.errno === 38 /* ENOSYS */) return `this kernel has no BPF support (${msg})`;
  return msg;
}
