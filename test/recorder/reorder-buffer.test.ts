import { describe, expect, it } from 'vitest';
import { ReorderBuffer, pooledSlabs } from '../../recorder/reorder-buffer.js';
import { encodeValue } from '../../formats/codec.js';
import type { DashEvent } from '../../formats/schema.js';

const CID = 'c'.repeat(64);

/** A tiny deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Drains the released events, copying each log line (the event is valid only during its call). */
function drainLines(buf: ReorderBuffer, out: DashEvent[]): void {
  buf.drain(CID, (ev) => out.push({ ...ev, line: Buffer.from((ev as { line: Uint8Array }).line) } as DashEvent));
}

/**
 * Pushes 20,000 log events whose times jitter backwards by up to `jitter`, releasing those at least
 * `lag` old after each push and draining the released ones every third push (released events
 * stay in their slab until drained), and checks what comes out against a plain sort. Lines vary in
 * size and carry their seq, so a slab reused while still holding an undrained event shows; now
 * and then a 200 kB line takes a slab of its own.
 */
function run(jitter: number, lag: number): void {
  const r = rng(7);
  const buf = new ReorderBuffer();
  const waiting: DashEvent[] = [];
  const out: DashEvent[] = [];
  const expected: DashEvent[] = [];
  let seq = 0;
  for (let step = 0; step < 20_000; step++) {
    const size = step % 7919 === 0 ? 200_000 : Math.floor(r() * 300);
    const ev = { kind: 'log', source: 'docker', container: CID, time: 1_000_000 + step - Math.floor(r() * jitter), seq: ++seq, stream: 'stdout', line: Buffer.from(`${seq}:${'x'.repeat(size)}`) } as DashEvent;
    buf.push(ev.time, ev.seq, encodeValue(ev));
    waiting.push(ev);
    const watermark = 1_000_000 + step - lag;
    waiting.sort((a, b) => a.time - b.time || a.seq - b.seq);
    while (waiting.length && waiting[0]!.time <= watermark) expected.push(waiting.shift()!);
    while (buf.waiting > 0 && buf.firstWaitingTime() <= watermark) buf.release();
    expect(buf.releasedTime).toBe(expected.at(-1)?.time ?? 0);
    if (step % 3 === 0) drainLines(buf, out);
    if (step % 5000 === 4999) {
      // Release and drain everything now and then (the buffer resets to empty).
      expected.push(...waiting.splice(0));
      while (buf.waiting > 0) buf.release();
      drainLines(buf, out);
    }
  }
  drainLines(buf, out);
  expect(buf.waiting).toBe(waiting.length);
  expect(out.length).toBe(expected.length);
  expect(out.map((e) => [e.time, e.seq])).toEqual(expected.map((e) => [e.time, e.seq]));
  // Compared after everything ran: an event handed out earlier must not change as slabs are reused.
  const lines = (evs: DashEvent[]): string[] => evs.map((e) => Buffer.from((e as { line: Uint8Array }).line).toString());
  expect(lines(out)).toEqual(lines(expected));
}

const logEvent = (time: number, seq: number, size: number): DashEvent =>
  ({ kind: 'log', source: 'docker', container: CID, time, seq, stream: 'stdout', line: Buffer.from(`${seq}:${'x'.repeat(size)}`) }) as DashEvent;

describe('ReorderBuffer', () => {
  it('gives back events that arrived in reverse time order, across a slab whose early events were drained', () => {
    const buf = new ReorderBuffer();
    // 5 kB of early events, released and drained: dead bytes at the front of the slab.
    for (let i = 0; i < 50; i++) buf.push(i, i, encodeValue(logEvent(i, i, 90)));
    buf.push(10_000, 100, encodeValue(logEvent(10_000, 100, 90)));
    for (let i = 0; i < 50; i++) buf.release();
    const early: DashEvent[] = [];
    drainLines(buf, early);
    expect(early.map((e) => e.seq)).toEqual([...Array(50).keys()]);
    // ~10 kB waiting, each earlier than the one before: time order is the reverse of arrival order.
    const pushed = [logEvent(10_000, 100, 90)];
    for (let k = 1; k <= 110; k++) {
      const ev = logEvent(10_000 - k, 100 + k, 90);
      buf.push(ev.time, ev.seq, encodeValue(ev));
      pushed.push(ev);
    }
    while (buf.waiting > 0) buf.release();
    const evs: DashEvent[] = [];
    drainLines(buf, evs);
    const out = evs.map((e) => Buffer.from((e as { line: Uint8Array }).line).toString());
    expect(out).toEqual(pushed.reverse().map((e) => Buffer.from((e as { line: Uint8Array }).line).toString()));
  });

  it('gives back every event once, decoded, in (time, seq) order, with few events waiting', () => run(50, 60));
  it('does so with thousands of events waiting, far out of order', () => run(2500, 3000));

  it('holds no slab once drained empty, and buffers sharing the slab pool keep each other\'s bytes', () => {
    const r = rng(11);
    const bufs = [new ReorderBuffer(), new ReorderBuffer(), new ReorderBuffer()];
    const got: string[][] = bufs.map(() => []);
    const want: string[][] = bufs.map(() => []);
    const lines = (evs: DashEvent[]): string[] => evs.map((e) => Buffer.from((e as { line: Uint8Array }).line).toString());
    const drain = (i: number): void => {
      const evs: DashEvent[] = [];
      drainLines(bufs[i]!, evs);
      got[i]!.push(...lines(evs));
    };
    // Each buffer is drained empty in turn while the others hold undrained bytes: the slabs it
    // hands back are taken by the others, so a slab reused too early shows as a wrong line.
    for (let step = 0; step < 30_000; step++) {
      const i = step % 3;
      const ev = logEvent(step, step + 1, Math.floor(r() * 400));
      bufs[i]!.push(ev.time, ev.seq, encodeValue(ev));
      want[i]!.push(...lines([ev]));
      bufs[i]!.release();
      if (step % 1000 === 999) {
        const j = (step / 1000) % 3 | 0;
        drain(j);
        expect(bufs[j]!.holdsSlab).toBe(false);
      }
    }
    bufs.forEach((_, i) => drain(i));
    expect(got).toEqual(want);
    expect(bufs.map((b) => b.holdsSlab)).toEqual([false, false, false]);
    expect(pooledSlabs()).toBeGreaterThan(0);
  });

  it('takes an event older than the last released one, until a drain: it is released at once, in order', () => {
    const buf = new ReorderBuffer();
    const log = (time: number, seq: number): DashEvent => ({ kind: 'log', source: 'docker', container: CID, time, seq, stream: 'stdout', line: Buffer.from(`${seq}`) }) as DashEvent;
    for (const [t, q] of [[10, 1], [20, 2], [30, 3], [40, 4]] as const) buf.push(t, q, encodeValue(log(t, q)));
    buf.release();
    buf.release();
    buf.release();
    expect([buf.released, buf.waiting, buf.releasedTime]).toEqual([3, 1, 30]);
    buf.push(15, 5, encodeValue(log(15, 5)));
    expect([buf.released, buf.waiting, buf.releasedTime]).toEqual([4, 1, 30]);
    const out: DashEvent[] = [];
    drainLines(buf, out);
    expect(out.map((e) => e.seq)).toEqual([1, 5, 2, 3]);
    expect([buf.drainedTime, buf.drainedSeq]).toEqual([30, 3]);
    buf.push(35, 6, encodeValue(log(35, 6)));
    expect([buf.released, buf.waiting]).toEqual([0, 2]);
    expect(buf.endReleased).toBe(false);
    // One that ends the container, pushed among the released ones, is never handed out by release().
    buf.release();
    buf.push(33, 7, encodeValue(log(33, 7)), true);
    expect([buf.released, buf.endReleased]).toEqual([2, true]);
  });
});
