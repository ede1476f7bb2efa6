/**
 * A `docker exec` is seen twice: the engine's exec_start (its command line, no pid) and the
 * kernel's exec (pid, argv). The state, and so `--at` and the TUI, list it once, whichever
 * arrives first.
 */
import { describe, expect, it } from 'vitest';
import { emptyState } from '../../formats/state.js';
import { applyEvent } from '../../formats/state-apply.js';
import type { DashEvent } from '../../formats/schema.js';

const C = 'cd'.repeat(32);
let seq = 0;
const T = 1_800_000_000_000_000;
const ev = (dt: number, e: Record<string, unknown>): DashEvent => ({ container: C, source: 'ebpf', time: T + dt, seq: ++seq, ...e }) as unknown as DashEvent;
const start = (dt: number, execID: string, cmd: string): DashEvent => ev(dt, { kind: 'lifecycle', source: 'docker', type: 'container', action: 'exec_start', attributes: { execID, actionDetail: cmd } });
const kexec = (dt: number, pid: number, argv: string[]): DashEvent => ev(dt, { kind: 'exec', pid, ppid: 1, uid: 0, exe: '/bin/sh', argv, procKey: `${pid}:7` });
const live = (s: ReturnType<typeof emptyState>): string[] => [...s.procs.values()].filter((p) => p.exit === undefined).map((p) => `${p.pid} ${p.argv.join(' ')}`);

describe('a docker exec in the state', () => {
  it('is one process when the engine tells first', () => {
    const s = emptyState(C);
    applyEvent(s, start(0, 'e1', 'sh -c cat /etc/shadow'));
    applyEvent(s, kexec(3000, 42, ['sh', '-c', 'cat /etc/shadow']));
    expect(live(s)).toEqual(['42 sh -c cat /etc/shadow']);
  });

  it('is one process when the kernel tells first', () => {
    const s = emptyState(C);
    applyEvent(s, kexec(0, 43, ['sh', '-c', 'id']));
    applyEvent(s, start(5000, 'e2', 'sh -c id'));
    expect(live(s)).toEqual(['43 sh -c id']);
  });

  it('keeps the engine\'s record when the kernel saw no such process (no kernel source)', () => {
    const s = emptyState(C);
    applyEvent(s, start(0, 'e3', 'ls /'));
    applyEvent(s, kexec(10_000_000, 44, ['ls', '/'])); // a later, unrelated ls
    expect(live(s)).toEqual(['0 ls /', '44 ls /']);
  });
});
