/** Reads over the key layout, written once against KVReader (local store or query socket). */
import type { KVReader } from './kv.js';
import { P_CONTAINER, P_EVENT, P_INCIDENT, P_META, P_NAME, containerKey, metaKey, prefixRange, timeRange } from './keys.js';
import { unpack } from './codec.js';
import { readEvents } from './event-scan.js';
import type { ContainerRecord, IncidentRecord } from './records.js';
import type { DashEvent } from './schema.js';
import { FormatError } from './errors.js';
import { toRfc3339 } from './time.js';
import { checkContainerRecord, checkIncidentRecord } from './value-check.js';

export async function getContainer(kv: KVReader, id: string): Promise<ContainerRecord | undefined> {
  const raw = await kv.get(containerKey(id));
  return raw === undefined ? undefined : checkContainerRecord(unpack(raw, `container record ${id}`), `container record ${id}`);
}

export async function listContainers(kv: KVReader): Promise<ContainerRecord[]> {
  const out: ContainerRecord[] = [];
  for await (const chunk of kv.chunks(prefixRange(P_CONTAINER))) {
    for (const [k, v] of chunk) out.push(containerRecordAt(k, v));
  }
  return out;
}

/** The text part of a key for a message: as is when plain ASCII, else hex (it may be damaged). */
function keyText(k: Uint8Array, from = 1): string {
  const b = Buffer.from(k).subarray(from);
  return /^[\x21-\x7e]*$/.test(b.toString('latin1')) ? b.toString('latin1') : `0x${b.toString('hex')}`;
}

/** A container record read from its `c|` key, named by that key in any error. */
function containerRecordAt(k: Uint8Array, v: Uint8Array): ContainerRecord {
  const what = `container record ${keyText(k)}`;
  return checkContainerRecord(unpack(v, what), what);
}

async function idsByName(kv: KVReader, name: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const chunk of kv.chunks(prefixRange(P_NAME, `${name}\0`))) {
    for (const [k] of chunk) ids.push(Buffer.from(k).subarray(1 + Buffer.byteLength(name) + 1).toString('ascii'));
  }
  return ids;
}

export class LookupError extends FormatError {}

/**
 * Finds a container by full ID, unique ID prefix, or any name it ever bore. A name borne by
 * several containers resolves to the most recently seen one.
 */
export async function resolveContainer(kv: KVReader, query: string, warn?: (line: string) => void): Promise<ContainerRecord> {
  const q = query.replace(/^\//, '');
  if (/^[0-9a-f]{1,64}$/.test(q)) {
    const matches: ContainerRecord[] = [];
    for await (const chunk of kv.chunks({ ...prefixRange(P_CONTAINER, q), limit: 2 })) {
      for (const [k, v] of chunk) matches.push(containerRecordAt(k, v));
    }
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw new LookupError('BAD_ARGUMENT', `container ID prefix ${q} is ambiguous; give more characters`);
  }
  const ids = await idsByName(kv, q);
  const recs = (await Promise.all(ids.map((id) => getContainer(kv, id)))).filter((r): r is ContainerRecord => r !== undefined);
  if (recs.length === 0) throw new LookupError('BAD_ARGUMENT', `no container matching ${JSON.stringify(query)} in the store`);
  recs.sort((a, b) => b.lastSeen - a.lastSeen);
  if (recs.length > 1 && warn) {
    const others = recs.slice(1).map((r) => `${r.id.slice(0, 12)} (seen until ${toRfc3339(r.lastSeen)})`).join(', ');
    warn(`dashcam: ${recs.length} containers were named ${JSON.stringify(q)}; showing the newest, ${recs[0]!.id.slice(0, 12)} (seen until ${toRfc3339(recs[0]!.lastSeen)}); the others: ${others}; choose one with --container ID\n`);
  }
  return recs[0]!;
}

/** One container's events in [from, to), time order, in chunks. */
export function eventChunks(kv: KVReader, container: string, from?: number, to?: number): AsyncIterable<DashEvent[]> {
  return readEvents(kv, timeRange(P_EVENT, container, from, to));
}

export async function getMeta<T>(kv: KVReader, name: string): Promise<T | undefined> {
  const raw = await kv.get(metaKey(name));
  return raw === undefined ? undefined : unpack<T>(raw, `meta ${name}`);
}

export async function listIncidents(kv: KVReader): Promise<IncidentRecord[]> {
  const out: IncidentRecord[] = [];
  for await (const chunk of kv.chunks(prefixRange(P_INCIDENT))) {
    for (const [k, v] of chunk) {
      const what = `incident record ${keyText(k, 9)}`;
      out.push(checkIncidentRecord(unpack(v, what), what));
    }
  }
  return out;
}

/**
 * An incident by its ID, the ID of an incident merged into it, or a unique ID prefix (what
 * `replay --incident`, `export --incident` and `mark` users type).
 */
export async function findIncident(kv: KVReader, id: string): Promise<IncidentRecord> {
  const all = await listIncidents(kv);
  const hit = all.find((i) => i.id === id) ?? all.find((i) => i.merged?.includes(id));
  if (hit) return hit;
  const prefixed = id.length >= 4 ? all.filter((i) => i.id.startsWith(id)) : [];
  if (prefixed.length === 1) return prefixed[0]!;
  throw new FormatError('BAD_ARGUMENT', prefixed.length > 1 ? `incident ID prefix ${JSON.stringify(id)} is ambiguous` : `no incident ${JSON.stringify(id)} in the store (dashcam incidents lists them)`);
}

/**
 * What `dashcam import` wrote down about a bundle (`m|import/<manifest digest>`). Imported events
 * are evidence: retention keeps each `intervals` entry until `retainUntil` (never, when absent).
 * Records of older dashcams carry no intervals and pin nothing.
 */
export interface ImportRecord {
  file: string;
  host?: string;
  created?: string;
  importedAt: number;
  events: number;
  intervals?: { container: string; from: number; to: number }[];
  retainUntil?: number;
}

export async function listImports(kv: KVReader): Promise<ImportRecord[]> {
  return (await listImportEntries(kv)).map(([, r]) => r);
}

/** The import records with their keys (retention rewrites one it stops keeping). */
export async function listImportEntries(kv: KVReader): Promise<[Uint8Array, ImportRecord][]> {
  const out: [Uint8Array, ImportRecord][] = [];
  for await (const chunk of kv.chunks(prefixRange(P_META, 'import/'))) for (const [k, v] of chunk) out.push([k, unpack<ImportRecord>(v, 'import record')]);
  return out;
}

/** The imported intervals retention must keep at `now`. */
export function importPins(imports: readonly ImportRecord[], now: number): { container: string; from: number; to: number }[] {
  return imports.filter((r) => r.retainUntil === undefined || r.retainUntil > now).flatMap((r) => r.intervals ?? []);
}
