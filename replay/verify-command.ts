/**
 * `dashcam verify FILE [--key PUB]`: checks every part against the manifest (size, SHA-256), the
 * manifest's own digest, the signature (and, with --key, that the given key made it), then that
 * the parts decode and agree with the manifest's counts. Prints one line per check; a failure
 * ends in an error naming the part, so the exit status is non-zero.
 */
import type { Writable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { loadPublicKey } from '../formats/bundle-sign.js';
import { checkBundle, checkError, eventsBytes, openBundleBytes, type CheckResult, type OpenedBundle } from '../formats/bundle-reader.js';
import { indexEntries } from '../formats/bundle-entries.js';
import { kindNumAt } from '../formats/codec.js';
import { visitEntry } from '../formats/event-block.js';
import { KIND_BY_NUM } from '../formats/schema.js';
import { P_EVENT, P_INCIDENT, P_KEYFRAME } from '../formats/keys.js';
import { CONTAINERS_PART } from '../formats/bundle-manifest.js';
import { decodeContainers } from './bundle-kv.js';
import { toolVersion } from './export-tool-version.js';
import { createProgress, formatBytes, type Progress } from './progress.js';
import { safeText } from './summary.js';

export interface VerifyOptions { file: string; key?: string }

/** Decodes the parts whose digests matched and compares what they hold with the manifest. */
async function checkContent(b: OpenedBundle, r: CheckResult, progress: Progress): Promise<void> {
  const fail = (part: string, detail: string): void => {
    r.items.push({ part, ok: false, detail });
    r.failed.push(part);
  };
  if (!r.failed.includes(CONTAINERS_PART)) {
    try { decodeContainers(b); } catch (err) { fail(CONTAINERS_PART, (err as Error).message); }
  }
  const part = b.manifest.events.part;
  if (r.failed.includes(part)) return;
  try {
    const byKind: Record<string, number> = {};
    const counts = { events: 0, keyframes: 0, incidents: 0 };
    const byNum = new Float64Array(256);
    let unticked = 0;
    indexEntries(await eventsBytes(b), (p, buf, ka, kl, va, vl) => {
      let n = 1;
      if (p === P_EVENT) {
        n = visitEntry(buf.subarray(ka, ka + kl), buf.subarray(va, va + vl), (_t, _s, vb, off) => { byNum[kindNumAt(vb, off) + 1]!++; });
        counts.events += n;
      } else if (p === P_KEYFRAME) counts.keyframes++;
      else if (p === P_INCIDENT) counts.incidents++;
      if ((unticked += n) >= 0x4000) { progress.tick(unticked); unticked = 0; }
    });
    byNum.forEach((n, i) => { if (n) { const name = KIND_BY_NUM[i - 1]?.name ?? 'unknown'; byKind[name] = (byKind[name] ?? 0) + n; } });
    const m = b.manifest.counts;
    const kinds = (o: Record<string, number>): string => JSON.stringify(Object.entries(o).sort());
    if (counts.events !== m.events || counts.keyframes !== m.keyframes || counts.incidents !== m.incidents || kinds(byKind) !== kinds(m.byKind)) {
      fail(part, `holds ${counts.events} events, ${counts.keyframes} keyframes, ${counts.incidents} incidents; the manifest says ${m.events}, ${m.keyframes}, ${m.incidents}`);
    } else {
      r.items.push({ part, ok: true, detail: `decodes: ${counts.events} events, ${counts.keyframes} keyframes, ${counts.incidents} incidents, as the manifest says` });
    }
  } catch (err) {
    fail(part, (err as Error).message);
  }
}

export async function verifyBundleFile(opts: VerifyOptions): Promise<{ bundle: OpenedBundle; result: CheckResult }> {
  const trustedKey = opts.key ? loadPublicKey(await readFile(opts.key), opts.key) : undefined;
  return verifyBundleBytes(await readFile(opts.file), trustedKey);
}

export async function verifyBundleBytes(buf: Buffer, trustedKey?: KeyObject): Promise<{ bundle: OpenedBundle; result: CheckResult }> {
  const bundle = openBundleBytes(buf, toolVersion());
  const c = bundle.manifest.counts;
  const progress = createProgress('verify', c.events + c.keyframes + c.incidents, { unit: (n) => `${n.toLocaleString('en-US')} entries` });
  const result = checkBundle(bundle, { trustedKey });
  await checkContent(bundle, result, progress);
  progress.done();
  return { bundle, result };
}

export async function verifyCommand(opts: VerifyOptions, out: Writable): Promise<CheckResult> {
  const { bundle, result } = await verifyBundleFile(opts);
  const m = bundle.manifest;
  const lines = [
    `bundle   ${safeText(opts.file)} (${formatBytes(bundle.size)}): bundle format ${m.bundleVersion}, written by dashcam ${safeText(String(m.tool?.version))} on ${safeText(String(m.host))} at ${safeText(String(m.created))}`,
    `content  ${m.counts.events} events of ${m.containers.map((c) => `${safeText(c.name || c.id.slice(0, 12))} (${c.id.slice(0, 12)})`).join(', ')}; ${m.timeRange.firstEvent ?? '-'} .. ${m.timeRange.lastEvent ?? '-'}; redaction ${m.redaction?.profile ?? '?'}`,
    ...result.items.map((i) => `${(i.ok ? 'ok' : 'FAILED').padEnd(8)} ${i.part.padEnd(20)} ${safeText(i.detail)}`),
  ];
  const sig = result.trusted ? `signed by the given key ${result.signerId}`
    : result.signature === 'valid' ? `signed by key ${result.signerId} (pass --key PUB to check who signed)` : 'unsigned';
  lines.push(result.failed.length ? `result   FAILED: ${[...new Set(result.failed)].join(', ')}` : `result   OK, every part matches the manifest; ${sig}`);
  out.write(lines.join('\n') + '\n');
  const err = checkError(result);
  if (err) throw err;
  return result;
}
