// module("M").function("F")[.call|.return] and module("M").statement(...): kernel functions of a
// loadable module. Like kernel.function they need kprobes or fentry to attach; before that,
// the module must exist on this host. A kernel built without loadable modules (no
// /proc/modules, as the test machine) has none, which stap reports as "no match" after failing
// to find the module's debuginfo: here it is that, with the reason in the same sentence.
import * as fs from 'fs';
import type { ProbeProvider, Mismatch } from './provider';
import { globRegExp, pointText } from './provider';
import { kernelFunctionUnavailable } from './kfunc';

/** The loaded modules' names, or undefined when the kernel has no module support. */
function loadedModules(): Set<string> | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/modules', 'utf8');
  } catch {
    return undefined;
  }
  return new Set(text.split('\n').map((l) => l.split(' ')[0]).filter(Boolean));
}

const SUB_POINTS = new Set(['function', 'statement']);

export const moduleProvider: ProbeProvider = {
  names: ['module'],
  resolve(point): Mismatch {
    const [mod, what] = point.components;
    if (!mod.arg || mod.arg.kind !== 'string') return { error: 'module needs a string "NAME"' };
    // stap: anything but .function/.statement after module("M") is a mismatch at that component
    if (!what || !SUB_POINTS.has(what.name)) return { error: 'probe point mismatch', resolving: true, loc: (what ?? mod).loc };
    const name = mod.arg.value;
    const modules = loadedModules();
    if (!modules)
      return { error: `no match for probe point ${pointText(point)}: this kernel was built without loadable module support (no /proc/modules), so it has no module ${JSON.stringify(name)}` };
    const re = globRegExp(name);
    if (![...modules].some((m) => re.test(m))) return { error: `no match for probe point ${pointText(point)}: no module ${JSON.stringify(name)} is loaded` };
    return { error: kernelFunctionUnavailable(pointText(point)) };
  },
  list: () => [],
};
