/**
 * `dashcam replay` without a terminal: the window's events as text or JSON Lines. (The TUI is
 * opened by the CLI when stdout is a terminal and no --format is given.)
 */
import type { Writable } from 'node:stream';
import { toJsonLine } from '../formats/jsonl.js';
import { toRfc3339, nowMicros } from '../formats/time.js';
import type { DashEvent } from '../formats/schema.js';
import { openStoreForReading } from './open-store.js';
import { openWindow } from './window.js';
import { parseTimeArg } from './time-arg.js';
import { summarize } from './summary.js';
import { writeLines } from './write-lines.js';

export interface ReplayOptions {
  store: string;
  container: string[];
  since?: string;
  until?: string;
  format: 'text' | 'json';
}

export function textLine(ev: DashEvent): string {
  const who = ev.container ? ev.container.slice(0, 12) : 'host';
  return `${toRfc3339(ev.time)}  ${who}  ${ev.source.padEnd(6)}  ${ev.kind.padEnd(9)}  ${summarize(ev)}`;
}

export async function replayCommand(opts: ReplayOptions, out: Writable): Promise<number> {
  const { kv } = await openStoreForReading(opts.store);
  try {
    const now = nowMicros();
    const win = await openWindow(kv, {
      containers: opts.container,
      from: opts.since ? parseTimeArg(opts.since, now) : undefined,
      to: opts.until ? parseTimeArg(opts.until, now) : undefined,
    });
    const fmt = opts.format === 'json' ? toJsonLine : textLine;
    let n = 0;
    for await (const chunk of win.events) {
      n += chunk.length;
      await writeLines(out, chunk.map(fmt));
    }
    return n;
  } finally {
    await kv.close();
  }
}
