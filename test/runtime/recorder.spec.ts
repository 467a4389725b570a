// The flight recorder's sinks (src/runtime/recorder.ts), with small sizes: pure code, no kernel.
import { describe, it, expect, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MemoryRecorder, RotatingFile, parseSizeOption } from '../../src/runtime/recorder';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-recorder-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const write = (w: NodeJS.WritableStream, s: string) => new Promise<void>((res) => w.write(Buffer.from(s), () => res()));

describe('MemoryRecorder', () => {
  it('keeps the newest bytes in whole lines, replays them, then follows', async () => {
    const m = new MemoryRecorder(20);
    for (let i = 0; i < 10; i++) await write(m, `line ${i}\n`);
    const got: string[] = [];
    const unsubscribe = m.subscribe((b) => got.push(b.toString()), true);
    expect(got).toEqual(['line 8\nline 9\n']);
    await write(m, 'more\n');
    expect(got[1]).toBe('more\n');
    unsubscribe();
    await write(m, 'unseen\n');
    expect(got).toHaveLength(2);
    // a subscriber without replay sees only what comes next
    const later: string[] = [];
    m.subscribe((b) => later.push(b.toString()), false);
    await write(m, 'x\n');
    expect(later).toEqual(['x\n']);
  });

  it('cuts a line longer than the buffer to its newest bytes', async () => {
    const m = new MemoryRecorder(8);
    await write(m, 'abcdefghijklmnop');
    let got = '';
    m.subscribe((b) => (got += b), true);
    expect(got).toBe('ijklmnop');
  });
});

describe('RotatingFile', () => {
  it('writes BASE.N of at most maxBytes in whole lines and keeps the newest `keep`', async () => {
    const base = path.join(tmp, 'out.log');
    const f = new RotatingFile(base, 16, 2);
    for (let i = 0; i < 10; i++) await write(f, `l${i}-abc\n`); // 7 bytes each: two per file
    await new Promise<void>((res) => f.end(res));
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('out.log')).sort()).toEqual(['out.log.3', 'out.log.4']);
    expect(fs.readFileSync(`${base}.3`, 'utf8')).toBe('l6-abc\nl7-abc\n');
    expect(fs.readFileSync(`${base}.4`, 'utf8')).toBe('l8-abc\nl9-abc\n');
  });

  it('splits only a line longer than a whole file; without a size it is one file', async () => {
    const base = path.join(tmp, 'long.log');
    const f = new RotatingFile(base, 4, 0);
    await write(f, 'abcdefghij\n');
    await new Promise<void>((res) => f.end(res));
    expect(['abcd', 'efgh', 'ij\n'].map((s, i) => fs.readFileSync(`${base}.${i}`, 'utf8') === s)).toEqual([true, true, true]);
    const one = new RotatingFile(path.join(tmp, 'one.log'), 0, 0);
    await write(one, 'a\nb\n');
    await new Promise<void>((res) => one.end(res));
    expect(fs.readFileSync(path.join(tmp, 'one.log'), 'utf8')).toBe('a\nb\n');
  });

  it('-S parses SIZE[,COUNT] in megabytes', () => {
    expect(parseSizeOption('1,2')).toEqual({ bytes: 1 << 20, count: 2 });
    expect(parseSizeOption('3')).toEqual({ bytes: 3 << 20, count: 0 });
    expect(() => parseSizeOption('0')).toThrow("invalid -S '0'");
  });
});
