import { describe, expect, it } from 'vitest';
import { IncidentEngine } from '../../../recorder/incidents/incident-engine.js';
import { defaultIncidentConfig } from '../../../recorder/incidents/incident-config.js';
import { IncidentIds, INCIDENT_ID } from '../../../recorder/incidents/incident-id.js';
import { createLogger } from '../../../recorder/logger.js';
import { unpack } from '../../../formats/codec.js';
import type { DashEvent, NewEvent } from '../../../formats/schema.js';
import type { KVEntry } from '../../../formats/kv.js';
import type { IncidentRecord } from '../../../formats/records.js';

const C = 'c'.repeat(64);
const D = 'd'.repeat(64);

/** A sink that stamps events and feeds them back to the engine, as the pipeline does. */
function harness(): { engine: IncidentEngine; feed(ev: NewEvent): void; events: DashEvent[]; puts: KVEntry[]; settle(): Promise<void> } {
  let seq = 0;
  const events: DashEvent[] = [];
  const puts: KVEntry[] = [];
  const sink = { emit: (e: NewEvent): void => feed(e) };
  const engine = new IncidentEngine(sink, { config: defaultIncidentConfig(), pinRetain: 30 * 86400e6 }, createLogger({ quiet: true, write: () => {} }));
  function feed(e: NewEvent): void {
    const ev = { ...e, seq: ++seq, time: e.time ?? 0 } as DashEvent;
    events.push(ev);
    engine.observe(ev, puts);
  }
  return { engine, feed, events, puts, settle: () => new Promise((r) => setTimeout(r, 0)) };
}
const die = (container: string, s: number, code: string): NewEvent => ({ kind: 'lifecycle', source: 'docker', container, time: s * 1e6, type: 'container', action: 'die', attributes: { exitCode: code } });
const records = (puts: KVEntry[]): IncidentRecord[] => puts.map(([, v]) => unpack<IncidentRecord>(v, 'incident'));

describe('incident engine', () => {
  it('makes an incident, a timeline marker and its record in the same batch', async () => {
    const h = harness();
    h.feed(die(C, 1000, '1'));
    await h.settle();
    const marker = h.events.find((e) => e.kind === 'incident');
    expect(marker).toMatchObject({ container: C, trigger: 'exit', time: 1000e6, windowStart: 700e6, windowEnd: 1120e6 });
    const [rec] = records(h.puts);
    expect(rec).toMatchObject({ container: C, trigger: 'exit', windowStart: 700e6, windowEnd: 1120e6, pinUntil: 1120e6 + 30 * 86400e6 });
    expect(rec!.id).toMatch(INCIDENT_ID);
  });

  it('merges incidents close together on one container, not across containers', async () => {
    const h = harness();
    h.feed(die(C, 1000, '1'));
    h.feed(die(C, 1100, '1')); // same trigger inside the window: a second occurrence of the same incident
    h.engine.raise({ time: 1200e6, container: C, trigger: 'manual', severity: 'high', title: 'look', before: 60e6, after: 600e6 });
    h.feed(die(D, 1000, '2'));
    h.feed(die(C, 5000, '1')); // far later: a new incident
    await h.settle();
    const recs = new Map(records(h.puts).map((r) => [r.id, r]));
    const onC = [...recs.values()].filter((r) => r.container === C).sort((a, b) => a.time - b.time);
    // The mark is its own incident with its own window; the exits merge around it.
    expect(onC).toHaveLength(3);
    expect(onC[1]).toMatchObject({ trigger: 'manual', windowStart: 1140e6, windowEnd: 1800e6, severity: 'high', triggers: ['manual'] });
    expect(onC[0]).toMatchObject({ trigger: 'exit', windowStart: 700e6, triggers: ['exit', 'exit'] });
    expect(onC[0]!.merged).toHaveLength(1);
    expect([...recs.values()].filter((r) => r.container === D)).toHaveLength(1);
    expect(h.events.filter((e) => e.kind === 'incident').map((e) => (e as { trigger: string }).trigger)).toEqual(['exit', 'exit', 'manual', 'exit', 'exit']);
  });

  it('IDs are short, unique and sortable', () => {
    const ids = new IncidentIds();
    const xs = [1, 1, 1, 2, 1000, 1000].map((ms) => ids.next(1_700_000_000_000_000 + ms * 1000));
    expect(new Set(xs).size).toBe(xs.length);
    expect([...xs].sort()).toEqual(xs);
    for (const x of xs) expect(x).toMatch(INCIDENT_ID);
  });
});
