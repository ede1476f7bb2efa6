/**
 * The JSON Lines contract (JSONL_VERSION): every line has time (RFC 3339 UTC, microseconds),
 * kind, source, container (64 hex or '') and seq, then the kind's fields. Log lines are bytes:
 * `line` is their UTF-8 reading (invalid sequences become U+FFFD) and `lineBase64` carries the
 * exact bytes when they are not valid UTF-8. Fields are only ever added.
 */
import { isUtf8 } from 'node:buffer';
import { KINDS, type DashEvent, type KindSpec } from './schema.js';
import { toRfc3339 } from './time.js';

export type JsonEvent = Record<string, unknown>;

const TIME_FIELDS = new Set(['engineTime', 'windowStart', 'windowEnd', 'from', 'to']);

export function toJson(ev: DashEvent): JsonEvent {
  const out: JsonEvent = { time: toRfc3339(ev.time), kind: ev.kind, source: ev.source, container: ev.container, seq: ev.seq };
  const rec = ev as unknown as Record<string, unknown>;
  for (const f of (KINDS[ev.kind] as KindSpec).fields) {
    const v = rec[f];
    if (v === undefined) continue;
    if (f === 'line' && v instanceof Uint8Array) {
      const buf = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      out.line = buf.toString('utf8');
      if (!isUtf8(buf)) out.lineBase64 = buf.toString('base64');
    } else if (TIME_FIELDS.has(f) && typeof v === 'number') {
      out[f] = toRfc3339(v);
    } else {
      out[f] = v;
    }
  }
  return out;
}

export function toJsonLine(ev: DashEvent): string {
  return JSON.stringify(toJson(ev));
}
