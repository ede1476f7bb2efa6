/**
 * `dashcam replay` without a terminal: the window's events as text or JSON Lines. (The TUI is
 * opened by the CLI when stdout is a terminal and no --format is given.)
 */
import type { Writable } from 'node:stream';
import { JsonLinesWriter } from '../formats/jsonl-bytes.js';
import { toRfc3339, nowMicros } from '../formats/time.js';
import type { DashEvent } from '../formats/schema.js';
import type { KVReader } from '../formats/kv.js';
import { openStoreForReading } from './open-store.js';
import { openWindow, type Window } from './window.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeRaw } from '../formats/event-scan.js';
import type { ContainerRecord } from '../formats/records.js';
import { summarize } from './summary.js';
import { writeBytes, writeLines } from './write-lines.js';
import { resolveTarget } from './replay-target.js';
import { ProbeFolder, foldEvents, isFold, type FoldSummary } from './fold.js';

export interface ReplayOptions {
  store: string;
  container: string[];
  since?: string;
  until?: string;
  format: 'text' | 'json';
  /** Fold health-check probes in text output (default true; JSON Lines is never folded). */
  fold?: boolean;
  /** Replay an incident's container and pinned window. */
  incident?: string;
  /** After the window, keep writing new events as they are stored, like `tail -f`, until interrupted. */
  follow?: boolean;
  /** Also the containers in the story (replay/peers.ts). */
  withPeers?: boolean;
}

export function textLine(ev: DashEvent): string {
  const who = ev.container ? ev.container.slice(0, 12) : 'host';
  return `${toRfc3339(ev.time)}  ${who}  ${ev.source.padEnd(6)}  ${ev.kind.padEnd(9)}  ${summarize(ev)}`;
}

export function foldLine(f: FoldSummary): string {
  const who = f.container ? f.container.slice(0, 12) : 'host';
  return `${toRfc3339(f.time)}  ${who}  dashcam  fold       health-check probes: ${f.probes} run(s), ${f.events} events folded${f.failed ? `, ${f.failed} failed` : ''} (--no-fold shows them)`;
}

/**
 * The one line said on stderr when a window holds nothing, so that an empty answer is never
 * mistaken for a quiet container: the window asked for and when the containers were seen.
 */
export function emptyWindowNotice(records: ContainerRecord[], from: number | undefined, to: number | undefined): string {
  const seen = records.map((r) => `${r.name || r.id.slice(0, 12)} seen ${toRfc3339(r.firstSeen)}..${r.removed ? toRfc3339(r.lastSeen) : 'now'}`).join(', ');
  return `dashcam: no events between ${from === undefined ? 'the start' : toRfc3339(from)} and ${to === undefined ? 'now' : toRfc3339(to)}; container ${seen} [NO_EVENTS]\n`;
}

/**
 * `source`: an already open reader (a bundle, replay/bundle-kv.ts) used instead of the store.
 * `warn` hears the empty-window notice (stderr by default).
 */
export async function replayCommand(opts: ReplayOptions, out: Writable, source?: KVReader, warn: (line: string) => void = (l) => void process.stderr.write(l)): Promise<number> {
  const kv = source ?? (await openStoreForReading(opts.store)).kv;
  try {
    const target = await resolveTarget(kv, {
      container: opts.container, ...(opts.incident !== undefined ? { incident: opts.incident } : {}),
      ...(opts.since !== undefined ? { since: opts.since } : {}), ...(opts.until !== undefined ? { until: opts.until } : {}), withPeers: opts.withPeers === true,
    }, warn);
    const { from, to } = target;
    const win = await openWindow(kv, { containers: target.records.map((r) => r.id), from, to });
    // Only a follow remembers what it wrote (the last seconds of it, for the polls to skip).
    const follow = opts.follow === true && to === undefined && !source;
    const seen = follow ? new Seen() : undefined;
    const n = await writeWindow(opts, win, out, seen);
    if (n === 0 && !follow) warn(emptyWindowNotice(win.records, from, to));
    if (seen) await tail(kv, opts, win.records.map((r) => r.id), seen, out);
    return n;
  } finally {
    await kv.close();
  }
}

/** How far back `--follow` looks again for events stored late (a flush, an engine reconcile). */
const TAIL_OVERLAP_US = 5_000_000;
const TAIL_POLL_MS = 500;

/** The events already written that a `--follow` poll may meet again, so each is written once. */
class Seen {
  last = -Infinity;
  readonly #recent = new Map<string, number>();
  add(e: { container: string; time: number; seq: number }): void {
    if (e.time > this.last) this.last = e.time;
    this.#recent.set(`${e.container}/${e.time}/${e.seq}`, e.time);
    // Pruned when it has doubled since the last prune: amortised, however busy the seconds are.
    if (this.#recent.size > this.#pruneAt) {
      this.prune();
      this.#pruneAt = Math.max(50_000, this.#recent.size * 2);
    }
  }
  #pruneAt = 50_000;
  has(e: { container: string; time: number; seq: number }): boolean {
    return this.#recent.has(`${e.container}/${e.time}/${e.seq}`);
  }
  /** Forgets what is older than the overlap (a poll no longer reaches it). */
  prune(): void {
    for (const [k, t] of this.#recent) if (t < this.last - TAIL_OVERLAP_US) this.#recent.delete(k);
  }
}

async function writeWindow(opts: ReplayOptions, win: Window, out: Writable, seen: Seen | undefined): Promise<number> {
  let n = 0;
  if (opts.format === 'json') {
    const w = new JsonLinesWriter();
    for await (const chunk of win.raw) {
      n += chunk.length;
      for (const r of chunk) w.add(r);
      if (seen) for (const r of chunk) seen.add(r);
      await writeBytes(out, w.take());
    }
    return n;
  }
  if (opts.fold === false || seen) {
    for await (const chunk of win.events) {
      n += chunk.length;
      if (seen) for (const e of chunk) seen.add(e);
      await writeLines(out, chunk.map(textLine));
    }
    return n;
  }
  for await (const chunk of foldEvents(win.events, new ProbeFolder(win.records))) {
    n += chunk.length;
    await writeLines(out, chunk.map((x) => (isFold(x) ? foldLine(x) : textLine(x))));
  }
  return n;
}

/**
 * `replay --follow --format text|json`: new events of the containers as they are stored, polled
 * through the same reader, until the process is interrupted (Ctrl-C), like `tail -f`.
 */
async function tail(kv: KVReader, opts: ReplayOptions, ids: string[], seen: Seen, out: Writable): Promise<never> {
  const w = new JsonLinesWriter();
  for (;;) {
    await sleep(TAIL_POLL_MS);
    const from = Number.isFinite(seen.last) ? seen.last - TAIL_OVERLAP_US : nowMicros() - TAIL_OVERLAP_US;
    const win = await openWindow(kv, { containers: ids, from });
    for await (const chunk of win.raw) {
      const fresh = chunk.filter((r) => !seen.has(r));
      if (fresh.length === 0) continue;
      for (const r of fresh) seen.add(r);
      if (opts.format === 'json') {
        for (const r of fresh) w.add(r);
        await writeBytes(out, w.take());
      } else {
        await writeLines(out, fresh.map((r) => textLine(decodeRaw(r))));
      }
    }
    seen.prune();
  }
}
