/**
 * A small store written directly through the formats layer (no recorder, no engine), with two
 * containers, a host gap, an incident and keyframes before and inside a window: what export,
 * verify and import tests slice up.
 */
import { openLevelStore } from '../../formats/level-store.js';
import type { KVEntry } from '../../formats/kv.js';
import type { ContainerRecord, IncidentRecord } from '../../formats/records.js';
import type { DashEvent } from '../../formats/schema.js';
import { P_EVENT, P_KEYFRAME, cidBytes, containerKey, incidentKey, nameKey, timeKey } from '../../formats/keys.js';
import { encodeValue, pack } from '../../formats/codec.js';

export const A = 'a'.repeat(63) + '1';
export const B = 'b'.repeat(63) + '2';
export const T0 = 1_760_000_000_000_000;
export const SEC = 1_000_000;
export const INCIDENT_ID = 'inc0001';

const snapshot = (ip: string): Record<string, unknown> => ({
  Config: { Image: 'busybox', Cmd: ['sh', '-c', 'run --password=hunter2'], Env: ['PLAIN=1'] },
  State: { Status: 'running' },
  NetworkSettings: { Networks: { bridge: { IPAddress: ip, IPPrefixLen: 16 } } },
});

function record(id: string, name: string, events: number): ContainerRecord {
  return { id, name, names: [name], image: 'busybox', firstSeen: T0, lastSeen: T0 + 60 * SEC, state: 'exited', exitCode: 1, events, bytes: 0, removed: true, snapshot: snapshot(id === A ? '172.17.0.2' : '172.17.0.3') };
}

type Ev = DashEvent;
export function fixtureEvents(): Ev[] {
  const evs: Ev[] = [];
  let seq = 0;
  const add = (e: Omit<Ev, 'seq'>): void => void evs.push({ ...e, seq: ++seq } as Ev);
  add({ time: T0, container: A, source: 'docker', kind: 'lifecycle', type: 'container', action: 'start', attributes: { name: 'alpha' } });
  add({ time: T0 + 1, container: A, source: 'docker', kind: 'snapshot', reason: 'start', snapshot: snapshot('172.17.0.2') });
  add({ time: T0 + 2, container: B, source: 'docker', kind: 'lifecycle', type: 'container', action: 'start', attributes: { name: 'beta' } });
  add({ time: T0 + 5 * SEC, container: '', source: 'dashcam', kind: 'gap', reason: 'engine-unreachable', detail: 'test' });
  add({ time: T0 + 5 * SEC + 1, container: '', source: 'procfs', kind: 'exec', pid: 1, ppid: 0, uid: 0, exe: '/sbin/init', argv: ['init'] });
  for (let i = 0; i < 50; i++) {
    const t = T0 + (10 + i) * SEC;
    add({ time: t, container: A, source: 'ebpf', kind: 'exec', pid: 100 + i, ppid: 1, uid: 0, exe: '/usr/bin/mysql', argv: ['mysql', '-p', 's3cret', `--token=tok${i % 3}`, 'host=db'] });
    add({ time: t + 1, container: A, source: 'ebpf', kind: 'net', op: 'connect', proto: 'tcp', local: '172.17.0.2:40000', remote: i % 2 ? '172.17.0.3:80' : '93.184.216.34:443' });
    add({ time: t + 2, container: B, source: 'docker', kind: 'log', stream: 'stdout', line: Buffer.from(`GET /x Authorization: Bearer abc${i % 2} from 8.8.8.8 via https://u:pw@proxy:3128/ \xff`, 'latin1') });
  }
  add({ time: T0 + 30 * SEC + 5, container: A, source: 'dashcam', kind: 'incident', id: INCIDENT_ID, trigger: 'exit', severity: 'high', title: 'alpha died', windowStart: T0 + 25 * SEC, windowEnd: T0 + 40 * SEC });
  add({ time: T0 + 59 * SEC, container: A, source: 'docker', kind: 'lifecycle', type: 'container', action: 'die', attributes: { exitCode: '1' } });
  return evs;
}

export const FRAME_TIMES = [T0 + 20 * SEC, T0 + 30 * SEC, T0 + 45 * SEC];

export async function writeFixtureStore(dir: string): Promise<{ events: Ev[] }> {
  const kv = await openLevelStore(dir, { create: true });
  const events = fixtureEvents();
  const puts: KVEntry[] = events.map((e) => [timeKey(P_EVENT, cidBytes(e.container), e.time, e.seq), encodeValue(e)]);
  const inc: IncidentRecord = { id: INCIDENT_ID, time: T0 + 30 * SEC + 5, container: A, trigger: 'exit', severity: 'high', title: 'alpha died', windowStart: T0 + 25 * SEC, windowEnd: T0 + 40 * SEC, pinUntil: T0 + 3600 * SEC };
  puts.push([incidentKey(inc.time, inc.id), pack(inc)]);
  FRAME_TIMES.forEach((t, i) => puts.push([timeKey(P_KEYFRAME, cidBytes(A), t, 1000 + i), pack({ procs: [{ pid: 7, argv: ['curl', '-u', 'bob:pw', 'http://10.9.8.7/'] }], at: t })]));
  for (const r of [record(A, 'alpha', 104), record(B, 'beta', 51)]) {
    puts.push([containerKey(r.id), pack(r)], [nameKey(r.name, r.id), new Uint8Array(0)]);
  }
  await kv.write(puts);
  await kv.close();
  return { events };
}
