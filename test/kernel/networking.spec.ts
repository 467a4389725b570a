// tapset/networking.stp on the kernel: netdev.transmit and netdev.receive over a loopback TCP
// connection the test makes itself (server and client in this process, so the packets are
// sent, and received on lo, in this process's context).
import { describe, it, expect } from 'vitest';
import * as net from 'net';
import { kernelTestsPossible, runTapvm } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

d('networking tapset', () => {
  it('netdev.transmit and netdev.receive see the loopback packets of a TCP connect, with sk_buff fields through BTF', async () => {
    const server = net.createServer((s) => s.end('hello'));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const run = runTapvm([
        '-e',
        `global tx, rx
         probe netdev.transmit { if (pid() == ${process.pid} && dev_name == "lo" && !tx) { tx = 1
           printf("tx %s %d %d %d\\n", dev_name, length > 0, protocol == 0x0008, truesize > 0) } }
         probe netdev.receive { if (pid() == ${process.pid} && dev_name == "lo" && !rx) { rx = 1
           printf("rx %s %d %d %d\\n", dev_name, length > 0, protocol == 0x0008, truesize > 0) } }
         probe netdev.transmit, netdev.receive { if (tx && rx) exit() }`,
      ]);
      await run.armed;
      const c = net.connect(port, '127.0.0.1');
      c.on('data', () => undefined);
      c.on('error', () => undefined);
      const r = await run.done;
      c.destroy();
      expect(r.stderr).toBe('');
      // IPv4 (ETH_P_IP 0x0800 in network order, read as a little-endian u16) on lo
      expect(r.stdout).toBe('tx lo 1 1 1\nrx lo 1 1 1\n');
    } finally {
      server.close();
    }
  }, 30_000);
});
