import { describe, expect, it } from 'vitest';
import { BUNDLE_MEDIA_TYPE, BUNDLE_VERSION, encodeManifest, manifestDigests, parseManifest, type Manifest } from '../../formats/bundle-manifest.js';
import { FORMAT_VERSION } from '../../formats/schema.js';

const draft = (over: Partial<Manifest> = {}): Omit<Manifest, 'manifestSha256'> => ({
  mediaType: BUNDLE_MEDIA_TYPE, bundleVersion: BUNDLE_VERSION, eventFormatVersion: FORMAT_VERSION, tool: { name: 'dashcam', version: '9.9.9' },
  created: '2026-01-01T00:00:00.000000Z', host: 'h', timeRange: { from: null, to: null, firstEvent: null, lastEvent: null },
  containers: [], counts: { events: 0, byKind: {}, keyframes: 0, incidents: 0 }, incidents: [], filters: {},
  redaction: { profile: 'default', applied: [] }, events: { part: 'events.bin.br', compression: 'br' }, parts: [], ...over,
});
const err = (f: () => unknown): { code?: string; message?: string } => { try { f(); return {}; } catch (e) { return e as Error & { code: string }; } };

describe('bundle manifest', () => {
  it('carries a self-digest that any change breaks', () => {
    const raw = encodeManifest(draft());
    const d = manifestDigests(raw);
    expect(d.claimed).toBe(d.actual);
    const changed = Buffer.from(raw.toString().replace('"host": "h"', '"host": "x"'));
    const c = manifestDigests(changed);
    expect(c.claimed).not.toBe(c.actual);
    expect(parseManifest(raw, 't').host).toBe('h');
  });

  it('accepts its own and older versions, refuses a newer one naming the version needed', () => {
    expect(parseManifest(encodeManifest(draft({ bundleVersion: 1 })), '0.1.0').bundleVersion).toBe(1);
    const e = err(() => parseManifest(encodeManifest(draft({ bundleVersion: BUNDLE_VERSION + 1 })), '0.1.0'));
    expect(e.code).toBe('BUNDLE_VERSION');
    expect(e.message).toContain(`bundle format version ${BUNDLE_VERSION + 1}`);
    expect(e.message).toContain('written by dashcam 9.9.9');
    expect(e.message).toContain(`reads up to ${BUNDLE_VERSION}`);
    expect(err(() => parseManifest(encodeManifest(draft({ eventFormatVersion: FORMAT_VERSION + 1 })), '0.1.0')).code).toBe('BUNDLE_VERSION');
  });

  it('refuses what is not a manifest with BUNDLE_CORRUPT', () => {
    for (const bad of ['', '[]', '{"a":1}', 'nul', JSON.stringify({ ...draft(), bundleVersion: 'one' }), JSON.stringify({ ...draft(), parts: 'x' }), JSON.stringify({ ...draft(), events: { part: 'e', compression: 'zstd' } })]) {
      expect(err(() => parseManifest(Buffer.from(bad), 't')).code).toBe('BUNDLE_CORRUPT');
    }
  });
});
