import { describe, expect, it } from 'vitest';
import { P_EVENT, cidBytes, parseTimeKey, timeKey, timeRange, nameKey } from '../../formats/keys.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(63) + '0';

describe('event keys', () => {
  it('round-trip container, time and seq', () => {
    const k = timeKey(P_EVENT, cidBytes(A), 1_763_900_000_123_456, 42);
    expect(parseTimeKey(k)).toEqual({ container: A, time: 1_763_900_000_123_456, seq: 42 });
    expect(parseTimeKey(timeKey(P_EVENT, cidBytes(''), 5, 1)).container).toBe('');
  });

  it('sort by container, then time, then seq', () => {
    const keys = [
      timeKey(P_EVENT, cidBytes(B), 1, 1),
      timeKey(P_EVENT, cidBytes(A), 2 ** 40, 1),
      timeKey(P_EVENT, cidBytes(A), 2 ** 33, 9),
      timeKey(P_EVENT, cidBytes(A), 2 ** 33, 10),
    ];
    const sorted = [...keys].sort(Buffer.compare);
    expect(sorted.map((k) => parseTimeKey(k))).toEqual([
      { container: A, time: 2 ** 33, seq: 9 },
      { container: A, time: 2 ** 33, seq: 10 },
      { container: A, time: 2 ** 40, seq: 1 },
      { container: B, time: 1, seq: 1 },
    ]);
  });

  it('a time range covers exactly one container and interval', () => {
    const r = timeRange(P_EVENT, A, 100, 200);
    const inside = timeKey(P_EVENT, cidBytes(A), 150, 7);
    const before = timeKey(P_EVENT, cidBytes(A), 99, 2 ** 40);
    const other = timeKey(P_EVENT, cidBytes(B), 150, 1);
    const within = (k: Buffer): boolean => Buffer.compare(k, r.gte) >= 0 && Buffer.compare(k, r.lt) < 0;
    expect([within(inside), within(before), within(other)]).toEqual([true, false, false]);
  });

  it('rejects what is not a container ID', () => {
    expect(() => cidBytes('abc')).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => cidBytes('z'.repeat(64))).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('name keys separate a name from a longer name with the same prefix', () => {
    expect(Buffer.compare(nameKey('web', A), nameKey('web-2', A))).toBeLessThan(0);
  });
});
