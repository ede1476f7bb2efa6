import { describe, expect, it } from 'vitest';
import { parseDuration, parseTimeArg } from '../../replay/time-arg.js';

const NOW = 1_763_900_000_000_000;
describe('time arguments', () => {
  it('accepts RFC 3339, relative durations and epoch seconds', () => {
    expect(parseTimeArg('2025-11-23T12:13:20Z', NOW)).toBe(NOW);
    expect(parseTimeArg('-10m', NOW)).toBe(NOW - 600e6);
    expect(parseTimeArg('-1h30m', NOW)).toBe(NOW - 5400e6);
    expect(parseTimeArg('1763900000', NOW)).toBe(NOW);
    expect(parseTimeArg('1763900000.5', NOW)).toBe(NOW + 500_000);
  });
  it('rejects garbage with BAD_ARGUMENT', () => {
    expect(() => parseTimeArg('soon', NOW)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => parseDuration('5x')).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(parseDuration('250ms')).toBe(250_000);
  });
});

describe('time arguments as people type them (TZ=Europe/Berlin, a fixed clock)', () => {
  // 2026-12-03T09:30:00Z is 10:30 in Berlin (CET, UTC+1).
  const CLOCK = Date.UTC(2026, 11, 3, 9, 30) * 1000;
  const at = (iso: string) => Date.parse(iso) * 1000;
  it('parses each form to the right instant', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'Europe/Berlin';
    try {
      expect(parseTimeArg('5m', CLOCK)).toBe(CLOCK - 300e6);
      expect(parseTimeArg('2h', CLOCK)).toBe(CLOCK - 7200e6);
      expect(parseTimeArg('+5m', CLOCK)).toBe(CLOCK + 300e6);
      expect(parseTimeArg('now', CLOCK)).toBe(CLOCK);
      expect(parseTimeArg('today', CLOCK)).toBe(at('2026-12-02T23:00:00Z'));
      expect(parseTimeArg('Yesterday', CLOCK)).toBe(at('2026-12-01T23:00:00Z'));
      expect(parseTimeArg('2026-12-03 10:04', CLOCK)).toBe(at('2026-12-03T09:04:00Z'));
      expect(parseTimeArg('10:04', CLOCK)).toBe(at('2026-12-03T09:04:00Z'));
      expect(parseTimeArg('10:04:30', CLOCK)).toBe(at('2026-12-03T09:04:30Z'));
      expect(parseTimeArg('2026-12-03T10:04:00Z', CLOCK)).toBe(at('2026-12-03T10:04:00Z'));
      expect(() => parseTimeArg('25:00', CLOCK)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});
