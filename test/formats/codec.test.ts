import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../formats/codec.js';
import { KINDS, KIND_BY_NUM, SOURCE_NUM, type DashEvent } from '../../formats/schema.js';
import { Packr } from 'msgpackr';
import { mixedEvents } from '../../bench/synthetic.js';

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

  describe('the fast writer writes what msgpackr writes', () => {
    // The format's own statement of an event value: msgpackr packing [kind, source, ...fields].
    const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, variableMapSize: true });
    const reference = (ev: DashEvent): Buffer => {
      const spec = KINDS[ev.kind];
      const rec = ev as unknown as Record<string, unknown>;
      let n = spec.fields.length;
      while (n > 0 && rec[spec.fields[n - 1]!] === undefined) n--;
      const arr: unknown[] = [spec.num, SOURCE_NUM[ev.source]];
      for (let i = 0; i < n; i++) arr.push(rec[spec.fields[i]!] ?? null);
      if (ev.kind === 'log' && n > 2 && ev.engineTime === ev.time) arr[4] = true;
      return packr.pack(arr);
    };
    const exec = (argv: unknown[], exe: unknown = '/bin/sh', pid: unknown = 10): DashEvent =>
      ({ kind: 'exec', time: 5, seq: 5, container: C, source: 'ebpf', pid, ppid: 1, uid: 0, exe, argv }) as DashEvent;
    const log = (line: Uint8Array, engineTime?: number): DashEvent => ({ kind: 'log', time: 7, seq: 7, container: C, source: 'docker', stream: 'stdout', line, engineTime }) as DashEvent;
    const numbers = [0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, 1.5, -0.25, -0, NaN, Infinity, 1.8e15];
    const strings = [0, 1, 31, 32, 255, 256, 65535, 65536].map((n) => 'a'.repeat(n)).concat(['é', 'ascii then ü', '\u{1f600}', '\x7f\x00']);
    const cases: DashEvent[] = [
      ...numbers.map((n) => exec(['x'], '/bin/sh', n)),
      ...strings.map((s) => exec([s], s)),
      exec([]), exec(Array.from({ length: 15 }, (_, i) => `a${i}`)), exec(Array.from({ length: 16 }, (_, i) => `a${i}`)),
      exec(Array.from({ length: 300 }, (_, i) => `arg${i}`)), exec(['a', undefined, 'b']), exec(['a', 7, null]),
      ...[0, 1, 255, 256, 65535, 65536, 70_000].map((n) => log(Buffer.alloc(n, 0x41))),
      log(new Uint8Array([1, 2, 3])), log(Buffer.from('x'), 7), log(Buffer.from('x'), 8),
      { kind: 'lifecycle', time: 1, seq: 1, container: C, source: 'docker', type: 'container', action: 'die', attributes: { exitCode: '3' } },
      { kind: 'gap', time: 4, seq: 4, container: '', source: 'dashcam', reason: 'queue-overflow', lost: 7 },
      { kind: 'exit', time: 4, seq: 4, container: C, source: 'nonesuch' as 'ebpf', pid: 3 },
    ];

    it('on every kind of the synthetic mix and on the edges of every type', () => {
      const events = [...(mixedEvents(20_000, 1_700_000_000_000_000) as DashEvent[]), ...cases];
      const kinds = new Set<string>();
      for (const ev of events) {
        kinds.add(ev.kind);
        expect(Buffer.from(encodeValue(ev)).equals(reference(ev)), JSON.stringify(ev).slice(0, 200)).toBe(true);
      }
      expect(kinds.size).toBeGreaterThanOrEqual(9);
    });

    it('never writes over a value it handed out (values are views of shared chunks)', () => {
      const events = [...mixedEvents(50_000, 1_700_000_000_000_000)] as DashEvent[];
      const values = events.map((ev) => encodeValue(ev));
      for (let i = 0; i < events.length; i++) expect(Buffer.from(values[i]!).equals(reference(events[i]!))).toBe(true);
      expect(new Set(values.map((v) => v.buffer)).size).toBeGreaterThan(2);
    });
  });
});
