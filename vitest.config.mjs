// Kernel tests start tapvm (a Node process that loads or opens the interpreter and attaches
// probes) several times per test; vitest's 5 s default is too tight when the machine is busy
// (seen on the -x/-T test). A hang still fails, after 30 s.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { testTimeout: 30_000 } });
