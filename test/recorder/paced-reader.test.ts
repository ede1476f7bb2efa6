import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PassThrough } from 'node:stream';
import { PacedReader, Pacer } from '../../recorder/paced-reader.js';

describe('Pacer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pauses after a small read and resumes once the pause is over', () => {
    const p = new Pacer({ smallRead: 32 * 1024, ms: 2 });
    const resume = vi.fn();
    expect(p.pausesAfter(40_000, resume)).toBe(false); // a buffer that holds 40,000 bytes
    expect(p.pausesAfter(135, resume)).toBe(true);
    vi.advanceTimersByTime(1);
    expect(resume).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(resume).toHaveBeenCalledTimes(1);
    expect(p.pausesAfter(32 * 1024, resume)).toBe(false); // nearly full: read on at once
  });

  it('counts a read as large against what the buffer held at most, where that is below smallRead', () => {
    const p = new Pacer({ smallRead: 32 * 1024, ms: 2 });
    const resume = vi.fn();
    // A socket that holds 16 KiB: reads never reach 32 KiB, and a full one must not wait.
    expect(p.pausesAfter(100, resume)).toBe(false); // the first read sets the bar at itself
    expect(p.pausesAfter(16 * 1024, resume)).toBe(false);
    expect(p.pausesAfter(13 * 1024, resume)).toBe(false);
    expect(p.pausesAfter(11 * 1024, resume)).toBe(true);
  });
});

describe('PacedReader', () => {
  it('holds a stream still for the pause after a small read, then delivers what gathered', async () => {
    const s = new PassThrough();
    const got: number[] = [];
    s.on('data', (c: Buffer) => got.push(c.length));
    const r = new PacedReader(s, { smallRead: 1024, ms: 30 });
    s.write(Buffer.alloc(100)); // the largest read so far: no pause
    await new Promise((res) => setImmediate(res));
    expect(s.isPaused()).toBe(false);
    s.write(Buffer.alloc(10));
    await new Promise((res) => setImmediate(res));
    expect(got).toEqual([100, 10]);
    expect(s.isPaused()).toBe(true);
    s.write(Buffer.alloc(20));
    await new Promise((res) => setImmediate(res));
    expect(got).toEqual([100, 10]); // waiting out the pause
    await new Promise((res) => setTimeout(res, 60));
    expect(got).toEqual([100, 10, 20]);
    r.unpace();
    s.write(Buffer.alloc(5));
    s.write(Buffer.alloc(5));
    await new Promise((res) => setImmediate(res));
    expect(got).toEqual([100, 10, 20, 5, 5]);
    expect(r.lastData).toBeGreaterThan(0);
  });
});
