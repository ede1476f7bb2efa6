/**
 * The incident engine: a pipeline observer that runs the engine triggers and activity rules on
 * every event, and the entry point for manual marks and Falco alerts. Incidents close together on
 * one container merge into one window instead of stacking; manual marks never merge. Every incident (and every new trigger
 * merged into one) also becomes an `incident` event on the container's timeline, so replay shows
 * a marker; its record (`i|time|id`) is written in the same batch as that event.
 */
import type { KVEntry } from '../../formats/kv.js';
import type { DashEvent, NewEvent } from '../../formats/schema.js';
import type { IncidentRecord } from '../../formats/records.js';
import { incidentKey } from '../../formats/keys.js';
import { pack } from '../../formats/codec.js';
import type { Sink } from '../source.js';
import type { Logger } from '../logger.js';
import type { IncidentConfig } from './incident-config.js';
import { maxSeverity, type IncidentCandidate } from './incident-types.js';
import { IncidentIds } from './incident-id.js';
import { EngineTriggers } from './engine-triggers.js';
import { ActivityRules } from './activity-rules.js';

/** A silent window extension is written only when it moves the end by more than this. */
const EXTEND_WRITE_US = 1_000_000;

export interface IncidentEngineOptions {
  config: IncidentConfig;
  /** How long a pin lasts after its window ends (µs). */
  pinRetain: number;
}

/** Occurrences listed in one incident (its `triggers` and `merged`). */
export const MAX_OCCURRENCES = 100;

export class IncidentEngine {
  readonly #sink: Sink;
  readonly #log: Logger;
  readonly #opts: IncidentEngineOptions;
  readonly #ids = new IncidentIds();
  readonly #engine: EngineTriggers;
  readonly #rules: ActivityRules;
  /** The latest incident per container: the one a new trigger may merge into. */
  readonly #open = new Map<string, IncidentRecord>();
  /** Records whose incident event is on its way through the pipeline. */
  readonly #unwritten = new Map<string, IncidentRecord>();
  readonly stats = { raised: 0, merged: 0 };

  constructor(sink: Sink, opts: IncidentEngineOptions, log: Logger) {
    this.#sink = sink;
    this.#opts = opts;
    this.#log = log;
    this.#engine = new EngineTriggers(opts.config.triggers);
    this.#rules = new ActivityRules(opts.config.rules, opts.config.memory);
  }

  get config(): IncidentConfig {
    return this.#opts.config;
  }

  /** Incidents already in the store whose windows are still open (recorder restart). */
  load(records: Iterable<IncidentRecord>): void {
    for (const r of records) {
      const cur = this.#open.get(r.container);
      if (!cur || r.windowEnd > cur.windowEnd) this.#open.set(r.container, r);
    }
  }

  /** The pipeline observer. */
  readonly observe = (ev: DashEvent, out: KVEntry[]): void => {
    if (ev.kind === 'incident') {
      const rec = this.#unwritten.get(ev.id);
      if (rec) {
        this.#unwritten.delete(ev.id);
        out.push([incidentKey(rec.time, rec.id), pack(rec)]);
      }
      return;
    }
    // A removed container raises nothing more: its open incident need not be remembered.
    if (ev.kind === 'lifecycle' && ev.action === 'destroy' && ev.type === 'container') this.#open.delete(ev.container);
    let found: readonly IncidentCandidate[];
    try {
      found = ev.kind === 'lifecycle' ? [...this.#engine.onLifecycle(ev), ...this.#rules.onEvent(ev)] : this.#rules.onEvent(ev);
    } catch (err) {
      this.#log.error(`incident rules failed on a ${ev.kind} event: ${(err as Error).message}`);
      return;
    }
    for (let i = 0; i < found.length; i++) this.#raise(found[i]!, out);
  };

  /** Per-container state held (for the leak test). */
  footprint(): Record<string, number> {
    return { openIncidents: this.#open.size, unwrittenIncidents: this.#unwritten.size, ...this.#engine.footprint(), ...this.#rules.footprint() };
  }

  /** Manual marks and Falco alerts. Returns the incident the candidate became part of. */
  raise(c: IncidentCandidate): IncidentRecord {
    return this.#raise(c, undefined);
  }

  #raise(c: IncidentCandidate, out: KVEntry[] | undefined): IncidentRecord {
    const start = c.time - c.before;
    const end = c.time + c.after;
    // A mark is a person's statement with its own note and window: it is always its own
    // incident, and never the one later triggers merge into.
    const cur = c.trigger === 'manual' ? undefined : this.#open.get(c.container);
    if (cur && start <= cur.windowEnd && end >= cur.windowStart) {
      // Every occurrence is listed (three OOM kills in one window are three), up to a bound so a
      // rule firing in a loop cannot grow the record without end; past it the window still grows.
      const isNew = (cur.triggers ?? [cur.trigger]).length < MAX_OCCURRENCES;
      const oldEnd = cur.windowEnd;
      cur.windowStart = Math.min(cur.windowStart, start);
      cur.windowEnd = Math.max(cur.windowEnd, end);
      cur.pinUntil = cur.windowEnd + this.#opts.pinRetain;
      cur.severity = maxSeverity(cur.severity, c.severity);
      if (isNew) {
        const childId = this.#ids.next(c.time);
        (cur.merged ??= []).push(childId);
        (cur.triggers ??= [cur.trigger]).push(c.trigger);
        this.stats.merged++;
        this.#announce(cur, c);
      } else if (out && cur.windowEnd - oldEnd > EXTEND_WRITE_US && !this.#unwritten.has(cur.id)) {
        out.push([incidentKey(cur.time, cur.id), pack(cur)]);
      }
      return cur;
    }
    const rec: IncidentRecord = {
      id: this.#ids.next(c.time), time: c.time, container: c.container, trigger: c.trigger, severity: c.severity,
      title: c.title, windowStart: start, windowEnd: end, pinUntil: end + this.#opts.pinRetain, triggers: [c.trigger],
    };
    if (c.note !== undefined) rec.note = c.note;
    if (c.rule !== undefined) rec.rule = c.rule;
    if (c.trigger !== 'manual') this.#open.set(c.container, rec);
    this.stats.raised++;
    if (this.#open.size > 10_000) this.#forgetOld(c.time);
    this.#log.info(`incident ${rec.id} on ${c.container.slice(0, 12)}: ${c.trigger}: ${c.title}`);
    this.#announce(rec, c);
    return rec;
  }

  /** Puts the marker event on the timeline; its observation writes the record. */
  #announce(rec: IncidentRecord, c: IncidentCandidate): void {
    this.#unwritten.set(rec.id, rec);
    const ev: NewEvent = {
      kind: 'incident', source: c.source ?? 'dashcam', container: c.container, time: c.time,
      id: rec.id, trigger: c.trigger, severity: c.severity, title: c.title, windowStart: rec.windowStart, windowEnd: rec.windowEnd,
      ...(c.note !== undefined ? { note: c.note } : {}), ...(c.rule !== undefined ? { rule: c.rule } : {}),
    };
    // Not from inside the pipeline's observer loop: the event goes in right after.
    queueMicrotask(() => this.#sink.emit(ev));
  }

  #forgetOld(now: number): void {
    for (const [id, r] of this.#open) if (r.windowEnd < now) this.#open.delete(id);
  }
}
