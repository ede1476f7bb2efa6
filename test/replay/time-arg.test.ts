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
