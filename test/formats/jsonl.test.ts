import { describe, expect, it } from 'vitest';
import { toJson } from '../../formats/jsonl.js';
import { parseRfc3339, toRfc3339 } from '../../formats/time.js';

const C = 'd'.repeat(64);

describe('JSON Lines contract', () => {
  it('has the envelope fields with microsecond RFC 3339 time', () => {
    const j = toJson({ kind: 'lifecycle', time: 1_763_900_000_123_456, seq: 5, container: C, source: 'docker', type: 'container', action: 'die', attributes: { exitCode: '3' } });
    expect(j).toEqual({ time: '2025-11-23T12:13:20.123456Z', kind: 'lifecycle', source: 'docker', container: C, seq: 5, type: 'container', action: 'die', attributes: { exitCode: '3' } });
  });

  it('keeps invalid UTF-8 log bytes exactly in lineBase64', () => {
    const bytes = new Uint8Array([0x61, 0xff, 0x62]);
    const j = toJson({ kind: 'log', time: 1, seq: 1, container: C, source: 'docker', stream: 'stdout', line: bytes });
    expect(j.line).toBe('a\ufffdb');
    expect(Buffer.from(j.lineBase64 as string, 'base64')).toEqual(Buffer.from(bytes));
    const ok = toJson({ kind: 'log', time: 1, seq: 1, container: C, source: 'docker', stream: 'stdout', line: Buffer.from('héllo') });
    expect(ok.lineBase64).toBeUndefined();
  });

  it('RFC 3339 round-trips microseconds and reads nanoseconds', () => {
    expect(parseRfc3339(toRfc3339(1_700_000_000_000_001))).toBe(1_700_000_000_000_001);
    expect(parseRfc3339('2023-11-14T22:13:20.123456789Z')).toBe(1_700_000_000_123_456);
    expect(parseRfc3339('2023-11-14T23:13:20.5+01:00')).toBe(1_700_000_000_500_000);
    expect(parseRfc3339('yesterday')).toBeUndefined();
  });
});
