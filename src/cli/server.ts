// `tapvm server status|start|stop`: the warm server that ./bin/tapvm's client hands commands to
// (src/server/manager.ts). stop ends every server in the run directory (other builds' too);
// start starts this build's and waits until a worker is warm.
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import { alive, infoPath, listServers, runDir, serverKey, socketPath, type ServerInfo } from '../server/paths';

const USAGE = 'usage: tapvm server status|start|stop\n';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function describe(s: ServerInfo, key: string): string {
  const up = Math.round((Date.now() - s.started) / 1000);
  return `tapvm server pid ${s.pid} (${s.key === key ? 'this build' : 'another build'} of ${s.pkg}): ${s.ready ? 'ready' : 'warming up'}, ${s.busy} running, ${s.served} served, up ${up}s\n`;
}

function removeFiles(s: ServerInfo) {
  fs.rmSync(socketPath(s.key), { force: true });
  fs.rmSync(infoPath(s.key), { force: true });
}

async function waitReady(key: string, ms: number): Promise<ServerInfo | undefined> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
    const s = listServers().find((x) => x.key === key && alive(x.pid));
    if (s?.ready) return s;
  }
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  const key = serverKey();
  const live: ServerInfo[] = [];
  for (const s of listServers()) {
    if (alive(s.pid)) live.push(s);
    else removeFiles(s); // a server that died (SIGKILL, reboot of /run is a tmpfs anyway)
  }
  switch (argv.length === 1 ? argv[0] : '') {
    case 'status':
      if (!live.length) process.stdout.write('no tapvm server running\n');
      for (const s of live) process.stdout.write(describe(s, key));
      return 0;
    case 'stop':
      if (!live.length) process.stdout.write('no tapvm server running\n');
      for (const s of live) {
        try {
          process.kill(s.pid, 'SIGTERM');
        } catch {
          // gone meanwhile
        }
        for (const end = Date.now() + 5000; alive(s.pid) && Date.now() < end; ) await sleep(20);
        if (alive(s.pid)) {
          process.stderr.write(`tapvm: server pid ${s.pid} did not stop\n`);
          return 1;
        }
        removeFiles(s);
        process.stdout.write(`stopped tapvm server pid ${s.pid}\n`);
      }
      return 0;
    case 'start': {
      if (!live.some((s) => s.key === key)) {
        fs.mkdirSync(runDir(), { recursive: true, mode: 0o700 });
        spawn(process.execPath, [path.join(__dirname, '..', 'server', 'manager.js')], { detached: true, stdio: 'ignore' }).unref();
      }
      const s = await waitReady(key, 60_000);
      if (!s) {
        process.stderr.write('tapvm: the server did not get ready within 60 s\n');
        return 1;
      }
      process.stdout.write(describe(s, key));
      return 0;
    }
    default:
      process.stderr.write(USAGE);
      return 1;
  }
}
