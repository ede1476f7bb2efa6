/**
 * The bundle manifest (manifest.json): what the bundle holds and the SHA-256 of every other part.
 *
 * Versioning: BUNDLE_VERSION rises whenever the layout changes; fields are only ever added. A
 * reader accepts every version up to its own and refuses a newer one, naming the version it needs.
 *
 * The manifest carries its own digest (`manifestSha256`, computed with that field's value set to
 * 64 zeros), so changing any byte of the manifest is detected even in an unsigned bundle; the
 * signature (manifest.sig) covers the exact manifest bytes, digest included.
 */
import { createHash } from 'node:crypto';
import { FormatError } from './errors.js';
import { FORMAT_VERSION } from './schema.js';

export const BUNDLE_VERSION = 1;
export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sig';
export const CONTAINERS_PART = 'containers.msgpack';
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dashcam.bundle';

export interface PartInfo { name: string; size: number; sha256: string }
export interface RedactionInfo { name: string; by: 'recorder' | 'export'; what: string; count?: number }
export interface ManifestContainer { id: string; name: string; image: string; state: string; exitCode?: number; oomKilled?: boolean; events: number }
export interface ManifestIncident { id: string; time: string; container: string; trigger: string; severity: string; title: string }

export interface Manifest {
  mediaType: string;
  bundleVersion: number;
  /** Version of the event encoding inside (formats/schema.ts FORMAT_VERSION). */
  eventFormatVersion: number;
  tool: { name: 'dashcam'; version: string };
  created: string;
  host: string;
  /** The window asked for (null = open) and the first and last event actually included. */
  timeRange: { from: string | null; to: string | null; firstEvent: string | null; lastEvent: string | null };
  containers: ManifestContainer[];
  counts: { events: number; byKind: Record<string, number>; keyframes: number; incidents: number };
  incidents: ManifestIncident[];
  filters: Record<string, unknown>;
  redaction: { profile: 'default' | 'strict'; applied: RedactionInfo[] };
  /**
   * Name of the events part, its compression and (since 0.1) its size decompressed: readers
   * inflate no further than that, so a decompression bomb fails instead of filling memory.
   */
  events: { part: string; compression: 'br' | 'gzip'; bytes?: number };
  parts: PartInfo[];
  signer?: { alg: 'ed25519'; keyId: string; publicKey: string };
  manifestSha256: string;
}

const ZERO_DIGEST = '0'.repeat(64);
const DIGEST_FIELD = /"manifestSha256": "([0-9a-f]{64})"/;

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Serializes a manifest and stamps its self-digest. */
export function encodeManifest(m: Omit<Manifest, 'manifestSha256'>): Buffer {
  const text = JSON.stringify({ ...m, manifestSha256: ZERO_DIGEST }, null, 2) + '\n';
  const digest = sha256Hex(Buffer.from(text, 'utf8'));
  return Buffer.from(text.replace(`"manifestSha256": "${ZERO_DIGEST}"`, `"manifestSha256": "${digest}"`), 'utf8');
}

const corrupt = (msg: string): FormatError => new FormatError('BUNDLE_CORRUPT', `corrupt bundle: ${MANIFEST}: ${msg}`);

/** The digest a manifest claims and the one its bytes really have (with the field zeroed). */
export function manifestDigests(raw: Buffer): { claimed: string | undefined; actual: string } {
  const text = raw.toString('utf8');
  const claimed = DIGEST_FIELD.exec(text)?.[1];
  const zeroed = text.replace(DIGEST_FIELD, `"manifestSha256": "${ZERO_DIGEST}"`);
  return { claimed, actual: sha256Hex(Buffer.from(zeroed, 'utf8')) };
}

/**
 * Parses and checks the manifest's shape and version. Does not check digests (see verify).
 * `readerVersion` is the tool version, for the message that names what to upgrade to.
 */
export function parseManifest(raw: Buffer, readerVersion: string): Manifest {
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(raw.toString('utf8')) as Partial<Manifest>;
  } catch {
    throw corrupt('not valid JSON');
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw corrupt('not a JSON object');
  if (m.mediaType !== BUNDLE_MEDIA_TYPE) throw corrupt(`not a dashcam bundle manifest (mediaType ${JSON.stringify(m.mediaType)})`);
  const v = m.bundleVersion;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw corrupt(`bad bundleVersion ${JSON.stringify(v)}`);
  if (v > BUNDLE_VERSION) {
    const by = typeof m.tool?.version === 'string' ? ` (written by dashcam ${m.tool.version})` : '';
    throw new FormatError('BUNDLE_VERSION', `bundle format version ${v}${by} needs a dashcam that reads bundle format ${v}; this dashcam ${readerVersion} reads up to ${BUNDLE_VERSION}: upgrade dashcam`);
  }
  if (!Array.isArray(m.parts) || !m.parts.every((p) => typeof p?.name === 'string' && typeof p.size === 'number' && typeof p.sha256 === 'string')) throw corrupt('bad parts list');
  if (!Array.isArray(m.containers) || typeof m.events?.part !== 'string' || typeof m.counts?.events !== 'number') throw corrupt('missing containers, events or counts');
  if (m.events.compression !== 'br' && m.events.compression !== 'gzip') throw corrupt(`unknown events compression ${JSON.stringify(m.events.compression)}`);
  if (typeof m.eventFormatVersion !== 'number') throw corrupt('missing eventFormatVersion');
  const eb = m.events.bytes;
  if (eb !== undefined && !(typeof eb === 'number' && Number.isSafeInteger(eb) && eb >= 0)) throw corrupt(`bad events.bytes ${JSON.stringify(eb)}`);
  const bad = badManifestField(m as Record<string, unknown>);
  if (bad) throw corrupt(`bad ${bad}`);
  if (m.eventFormatVersion > FORMAT_VERSION) {
    throw new FormatError('BUNDLE_VERSION', `bundle events use event format version ${m.eventFormatVersion}; this dashcam ${readerVersion} reads up to ${FORMAT_VERSION}: upgrade dashcam`);
  }
  return m as Manifest;
}

const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strOrNull = (v: unknown): boolean => v === null || typeof v === 'string';

/**
 * The first manifest field whose shape is wrong, or undefined. Everything verify and replay print
 * or compute from the manifest is checked, so a crafted manifest (which can carry a valid
 * self-digest) fails here with BUNDLE_CORRUPT instead of as a TypeError somewhere later.
 */
function badManifestField(m: Record<string, unknown>): string | undefined {
  const t = m.tool;
  if (!obj(t) || typeof t.version !== 'string') return 'tool';
  if (typeof m.created !== 'string') return 'created';
  if (typeof m.host !== 'string') return 'host';
  const r = m.timeRange;
  if (!obj(r) || !strOrNull(r.from) || !strOrNull(r.to) || !strOrNull(r.firstEvent) || !strOrNull(r.lastEvent)) return 'timeRange';
  if (!(m.containers as unknown[]).every((c) => obj(c) && typeof c.id === 'string' && typeof c.name === 'string' && typeof c.image === 'string' && typeof c.state === 'string' && typeof c.events === 'number')) return 'containers';
  const n = m.counts as Record<string, unknown>;
  if (typeof n.keyframes !== 'number' || typeof n.incidents !== 'number' || !obj(n.byKind) || !Object.values(n.byKind).every((x) => typeof x === 'number')) return 'counts';
  if (!Array.isArray(m.incidents) || !m.incidents.every((i) => obj(i) && ['id', 'time', 'container', 'trigger', 'severity', 'title'].every((f) => typeof i[f] === 'string'))) return 'incidents';
  const red = m.redaction;
  if (!obj(red) || typeof red.profile !== 'string' || !Array.isArray(red.applied)) return 'redaction';
  if (m.filters !== undefined && !obj(m.filters)) return 'filters';
  const s = m.signer;
  if (s !== undefined && !(obj(s) && typeof s.keyId === 'string' && typeof s.publicKey === 'string')) return 'signer';
  return undefined;
}
