import { describe, expect, it } from 'vitest';
import { ResumeGate, emptyLogCursor } from '../../recorder/docker/log-follower.js';

describe('ResumeGate (log follow-on dedupe)', () => {
  it('records the rest of a burst that shares the last stored microsecond, once', () => {
    // Stored before the crash: two stdout lines stamped 100, then nothing more.
    const cursor = emptyLogCursor();
    cursor.stdout = { time: 100, count: 2 };
    const gate = new ResumeGate(cursor);
    // The engine serves again from 100: the two stored lines, then two more at 100, then 101.
    const admitted = [99, 100, 100, 100, 100, 101].map((t) => gate.admit('stdout', t));
    expect(admitted).toEqual([false, false, false, true, true, true]);
    expect(cursor.stdout).toEqual({ time: 101, count: 1 });
  });

  it('keeps the streams apart and counts lines at the new end', () => {
    const cursor = emptyLogCursor();
    cursor.stderr = { time: 50, count: 1 };
    const gate = new ResumeGate(cursor);
    expect(gate.admit('stdout', 40)).toBe(true);
    expect(gate.admit('stderr', 50)).toBe(false);
    expect(gate.admit('stderr', 50)).toBe(true);
    expect(gate.admit('stdout', 60)).toBe(true);
    expect(gate.admit('stdout', 60)).toBe(true);
    expect(cursor).toEqual({ stdout: { time: 60, count: 2 }, stderr: { time: 50, count: 2 } });
    // A follower after this one resumes from there.
    const next = new ResumeGate(cursor);
    expect([60, 60, 60].map((t) => next.admit('stdout', t))).toEqual([false, false, true]);
  });
});
