// `tapvm --sessions`: the live sessions of this interpreter build, from the pinned `sessions`
// map (a slot whose owner is gone is not live, whatever the map still says). A session's id
// is its owner's pid (src/runtime/session.ts); during a swap it holds two slots.
import * as fs from 'fs';
import * as path from 'path';
import { addon } from '../native';
import { BPFFS, VM_SLOTS, vmHash } from './interpreter';
import { ownerAlive, sessionSlots } from './generation';

export interface LiveSession {
  slot: number;
  pid: number;
  active: boolean;
  target: number;
  command: string;
}

/** The live sessions of both interpreter objects (128- and 512-byte strings). */
export function liveSessions(): LiveSession[] {
  return VM_SLOTS.flatMap((slot) => liveSessionsOf(slot));
}

function liveSessionsOf(slot: number): LiveSession[] {
  const pin = path.join(BPFFS, 'tapvm', vmHash(slot), 'sessions');
  if (!fs.existsSync(pin)) return []; // never started on this host: nothing to open or load
  const a = addon();
  const fd = a.objGet(pin);
  try {
    const live: LiveSession[] = [];
    for (const { slot, s } of sessionSlots(fd)) {
      if (!s || !ownerAlive(s)) continue;
      const pid = Number(s.ownerPid);
      let command = '';
      try {
        command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(1).join(' ');
      } catch {
        /* it just exited */
      }
      live.push({ slot, pid, active: s.active !== 0, target: Number(s.target), command });
    }
    return live;
  } finally {
    a.close(fd);
  }
}

export function formatSessions(list: LiveSession[]): string {
  const rows = list.map((s) => `${String(s.slot).padEnd(5)} ${String(s.pid).padEnd(8)} ${(s.active ? 'running' : 'idle').padEnd(8)} ${String(s.target || '-').padEnd(8)} ${s.command}`);
  return ['SLOT  ID       STATE    TARGET   COMMAND', ...rows].join('\n') + '\n';
}
