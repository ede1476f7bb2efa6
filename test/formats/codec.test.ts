import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../formats/codec.js';
import { KINDS, KIND_BY_NUM, type DashEvent } from '../../formats/schema.js';
import { Packr } from 'msgpackr';

const C = 'c'.repeat(64);

describe('event codec', () => {
  it('round-trips every kind, dropping absent optional fields', () => {
    const events: DashEvent[] = [
      { kind: 'lifecycle', time: 1, seq: 1, container: C, source: 'docker', type: 'container', action: 'die', attributes: { exitCode: '3' } },
      { kind: 'exec', time: 2, seq: 2, container: C, source: 'ebpf', pid: 10, ppid: 1, uid: 0, exe: '/bin/sh', argv: ['sh', '-c', 'x'] },
      { kind: 'log', time: 3, seq: 3, container: C, source: 'docker', stream: 'stderr', line: Buffer.from([0xff, 0x00, 0x41]) },
      { kind: 'gap', time: 4, seq: 4, container: '', source: 'dashcam', reason: 'queue-overflow', lost: 7 },
    ];
    for (const ev of events) {
      const back = decodeValue(encodeValue(ev), ev.time, ev.seq, ev.container);
      expect(back).toEqual(ev);
    }
  });

  it('reads a record written with fewer fields (append-only schema)', () => {
    const old = new Packr({ useRecords: false }).pack([KINDS.exit.num, 1, 55]);
    expect(decodeValue(old, 9, 9, C)).toEqual({ kind: 'exit', source: 'ebpf', time: 9, seq: 9, container: C, pid: 55 });
  });

  it('refuses an unknown kind number with DECODE', () => {
    const bad = new Packr({ useRecords: false }).pack([250, 0]);
    expect(() => decodeValue(bad, 1, 1, C)).toThrow(expect.objectContaining({ code: 'DECODE' }));
    expect(() => decodeValue(Buffer.from([0xc1]), 1, 1, C)).toThrow(expect.objectContaining({ code: 'DECODE' }));
  });

  it('kind numbers are unique', () => {
    const nums = Object.values(KINDS).map((k) => k.num);
    expect(new Set(nums).size).toBe(nums.length);
    for (const n of nums) expect(KIND_BY_NUM[n]?.num).toBe(n);
  });
});
