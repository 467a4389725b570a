// Kernel tests start tapvm (a Node process that loads or opens the interpreter and attaches
// probes) several times per test; vitest's 5 s default is too tight when the machine is busy
// (seen on the -x/-T test). A hang still fails, after 30 s.
// TAPVM_SERVER=0: a test that runs bin/tapvm as a program (not `node bin/tapvm`) runs it
// directly instead of starting or using the warm server in /run/tapvm; test/kernel/server.spec.ts
// removes it and uses a private server.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { testTimeout: 30_000, env: { TAPVM_SERVER: '0' } } });
