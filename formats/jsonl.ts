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

/** Fields written as RFC 3339 times. */
export const TIME_FIELDS: ReadonlySet<string> = new Set(['engineTime', 'windowStart', 'windowEnd', 'from', 'to']);

const asBuffer = (v: Uint8Array): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

/** The contract as an object (the TUI's detail view shows it); toJsonLine() is its serialization. */
export function toJson(ev: DashEvent): JsonEvent {
  const out: JsonEvent = { time: toRfc3339(ev.time), kind: ev.kind, source: ev.source, container: ev.container, seq: ev.seq };
  const rec = ev as unknown as Record<string, unknown>;
  for (const f of (KINDS[ev.kind] as KindSpec).fields) {
    const v = rec[f];
    if (v === undefined) continue;
    if (f === 'line' && v instanceof Uint8Array) {
      const buf = asBuffer(v);
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

/*
 * toJsonLine builds the line as a string directly, byte for byte what JSON.stringify(toJson(ev))
 * gives (checked on 200,000 random and hostile values and on a 1,000,000-event replay): no
 * intermediate object per event, property names as precomputed literals, the envelope's constant
 * part and the date part of the timestamp cached. Measured with bench/replay-seek.ts, building
 * the object and stringifying it was the largest cost of `--format json`.
 */

/** Up to here (year 2096) both this cache and toRfc3339's divisions are exact. */
const FAST_TIME_MAX = 4e15;
let cachedSecond = -1;
let cachedPrefix = '';

/** toRfc3339(t), with "YYYY-MM-DDTHH:MM:SS." computed once per second. */
export function rfc3339(t: number): string {
  if (Number.isInteger(t) && t >= 0 && t <= FAST_TIME_MAX) {
    const sec = Math.floor(t / 1e6);
    const micro = t - sec * 1e6;
    if (micro >= 0 && micro < 1e6) {
      if (sec !== cachedSecond) {
        cachedPrefix = new Date(sec * 1000).toISOString().slice(0, 20);
        cachedSecond = sec;
      }
      return `${cachedPrefix}${String(micro + 1e6).slice(1)}Z`;
    }
  }
  return toRfc3339(t);
}

/** A property value as JSON.stringify writes it inside an object; undefined: the property is left out. */
function value(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string': return JSON.stringify(v);
    case 'number': return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean': return v ? 'true' : 'false';
    case 'undefined': case 'function': case 'symbol': return undefined;
    default: return JSON.stringify(v);
  }
}

/** How a field is written: as its value, as an RFC 3339 time, as a log line's bytes. */
const PLAIN = 0;
const TIME = 1;
const LINE = 2;
interface FieldPlan { name: string; key: string; how: number }
interface KindPlan { kind: string; fields: FieldPlan[] }

const ENVELOPE = new Set(['time', 'kind', 'source', 'container', 'seq', 'lineBase64']);
const PLANS = new Map<string, KindPlan>();
for (const spec of Object.values(KINDS) as KindSpec[]) {
  // A field named like an envelope property would move in the object: such a kind (none today)
  // takes the object path.
  if (spec.fields.some((f) => ENVELOPE.has(f)) || new Set(spec.fields).size !== spec.fields.length) continue;
  PLANS.set(spec.name, {
    kind: `,"kind":${JSON.stringify(spec.name)}`,
    fields: spec.fields.map((name) => ({ name, key: `,${JSON.stringify(name)}:`, how: name === 'line' ? LINE : TIME_FIELDS.has(name) ? TIME : PLAIN })),
  });
}

/**
 * `","kind":...,"source":...,"container":...,"seq":` for the last (kind, source, container) seen:
 * the same for every event of a range but the kind, so one piece per line instead of six.
 */
interface Head { source: unknown; container: unknown; text: string }
const HEADS = new Map<string, Head>();

function headOf(plan: KindPlan, ev: DashEvent): string {
  const h = HEADS.get(plan.kind);
  if (h !== undefined && h.source === ev.source && h.container === ev.container) return h.text;
  let text = plan.kind;
  const src = value(ev.source);
  if (src !== undefined) text += `,"source":${src}`;
  const container = value(ev.container);
  if (container !== undefined) text += `,"container":${container}`;
  HEADS.set(plan.kind, { source: ev.source, container: ev.container, text });
  return text;
}

/** Does toJsonLine() write this kind from its plan (the field order jsonl-bytes.ts reproduces)? */
export const hasJsonPlan = (kind: string): boolean => PLANS.has(kind);

export function toJsonLine(ev: DashEvent): string {
  const plan = PLANS.get(ev.kind);
  if (plan === undefined || typeof ev.time !== 'number') return JSON.stringify(toJson(ev));
  let s = `{"time":"${rfc3339(ev.time)}"${headOf(plan, ev)}`;
  const seq = value(ev.seq);
  if (seq !== undefined) s += `,"seq":${seq}`;
  const rec = ev as unknown as Record<string, unknown>;
  for (const f of plan.fields) {
    const v = rec[f.name];
    if (v === undefined) continue;
    if (f.how === LINE && v instanceof Uint8Array) {
      const buf = asBuffer(v);
      s += `${f.key}${JSON.stringify(buf.toString('utf8'))}`;
      if (!isUtf8(buf)) s += `,"lineBase64":"${buf.toString('base64')}"`;
    } else if (f.how === TIME && typeof v === 'number') {
      s += `${f.key}"${rfc3339(v)}"`;
    } else {
      const j = value(v);
      if (j !== undefined) s += f.key + j;
    }
  }
  return `${s}}`;
}
