// The kernel's build configuration (.config) as stap reads it.
import * as fs from 'fs';
import * as zlib from 'zlib';

/** Parses .config text as stap does: every `CONFIG_X=value` line, the value kept verbatim. */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('CONFIG_')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

/** The running kernel's configuration: /proc/config.gz, else /boot/config-R, else the build tree's. */
export function readHostConfig(release: string): Map<string, string> {
  try {
    return parseKernelConfig(zlib.gunzipSync(fs.readFileSync('/proc/config.gz')).toString('latin1'));
  } catch {
    // not built with CONFIG_IKCONFIG_PROC
  }
  for (const path of [`/boot/config-${release}`, `/lib/modules/${release}/build/.config`]) {
    try {
      return parseKernelConfig(fs.readFileSync(path, 'latin1'));
    } catch {
      // try the next one
    }
  }
  return new Map();
}
