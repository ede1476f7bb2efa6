import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-store.js';
import { StrictRedactor } from '../../replay/redact-strict.js';
import { OwnNetworks } from '../../replay/export-networks.js';
import { exportBundle } from '../../replay/export-command.js';
import { openBundleKV } from '../../replay/bundle-kv.js';
import { replayCommand } from '../../replay/replay-command.js';
import { P_KEYFRAME, prefixRange } from '../../formats/keys.js';
import { unpack } from '../../formats/codec.js';
import type { DashEvent } from '../../formats/schema.js';
import { writeFixtureStore } from './export-fixture.js';

const M = /\[redacted:[0-9a-f]{8}\]/;
function redactor(): StrictRedactor {
  const nets = new OwnNetworks();
  nets.add('172.18.0.5', 16);
  nets.add('fd00:1::5', 64);
  return new StrictRedactor(nets);
}

describe('strict redaction', () => {
  it('masks credentials in argv and keeps everything else', () => {
    const r = redactor();
    const out = r.argv(['mysql', '-p', 'pw1', '--password=pw2', '--token', 'tok', '-u', 'bob:pw3', 'DB_PASSWORD=pw4', 'plain=1', '-v', 'https://al:pw5@host/x', 'AKIAABCDEFGHIJKLMNOP']);
    expect(out[0]).toBe('mysql');
    expect(out[2]).toMatch(M);
    expect(out[3]).toMatch(/^--password=\[redacted:[0-9a-f]{8}\]$/);
    expect(out[5]).toMatch(M);
    expect(out[7]).toMatch(/^bob:\[redacted:[0-9a-f]{8}\]$/);
    expect(out[8]).toMatch(/^DB_PASSWORD=\[redacted:/);
    expect(out.slice(9, 11)).toEqual(['plain=1', '-v']);
    expect(out[11]).toMatch(/^https:\/\/al:\[redacted:[0-9a-f]{8}\]@host\/x$/);
    expect(out[12]).toMatch(M);
    expect(out.join(' ')).not.toMatch(/pw\d|tok\b|AKIA/);
  });

  it('masks URL passwords, Authorization headers, secret assignments and foreign IPs in text', () => {
    const r = redactor();
    const t = r.text('Authorization: Bearer eyJabc.def Proxy-Authorization: Basic dXNlcjpwdw== api_key=k1 "password":"p1" from 8.8.8.8 to 172.18.3.4 and 127.0.0.1, v6 2001:db8::1 fd00:1::9 at 10:20:30');
    expect(t).not.toMatch(/eyJabc|dXNlcjpwdw|k1|p1|8\.8\.8\.8|2001:db8::1/);
    expect(t).toContain('Authorization: Bearer [redacted:');
    expect(t).toContain('Proxy-Authorization: Basic [redacted:');
    expect(t).toContain('172.18.3.4');
    expect(t).toContain('127.0.0.1');
    expect(t).toContain('fd00:1::9');
    expect(t).toContain('10:20:30');
    expect(r.text('nothing to see here: 1.2.3 and v1.2.3.4.5')).toBe('nothing to see here: 1.2.3 and v1.2.3.4.5');
  });

  it('gives the same value the same marker, and lists counts', () => {
    const r = redactor();
    const a = r.address('8.8.8.8:53');
    expect(a).toMatch(/^\[redacted:[0-9a-f]{8}\]:53$/);
    expect(r.text('dns 8.8.8.8')).toBe(`dns ${a.slice(0, -3)}`);
    expect(r.address('[2001:db8::1]:443')).toMatch(/^\[redacted:[0-9a-f]{8}\]:443$/);
    expect(r.address('172.18.0.9:80')).toBe('172.18.0.9:80');
    expect(r.applied().find((x) => x.name === 'foreign-ip-addresses')?.count).toBe(3);
    expect(redactor().marker('x')).not.toBe(r.marker('x')); // a fresh key per export
  });

  it('keeps log lines byte for byte apart from what it masks', () => {
    const r = redactor();
    const line = Buffer.from('token=abc \xff\xfe end', 'latin1');
    const ev = r.event({ time: 1, seq: 1, container: '', source: 'docker', kind: 'log', stream: 'stdout', line } as DashEvent) as { line: Uint8Array };
    const out = Buffer.from(ev.line);
    expect(out.subarray(0, 6).toString()).toBe('token=');
    expect(out.subarray(out.length - 7)).toEqual(Buffer.from(' \xff\xfe end', 'latin1'));
    expect(out.toString('latin1')).toMatch(M);
  });

  it('export --redact strict masks events, records and keyframes and lists what it applied', async () => {
    const dir = await tempDir();
    const store = join(dir, 's');
    await writeFixtureStore(store);
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const { path } = await exportBundle({ store, container: ['alpha', 'beta'], redact: 'strict', format: 'bundle', output: join(dir, 'x.dcb') }, sink);
    const b = await openBundleKV(path);
    let text = '';
    await replayCommand({ store, container: b.containers, format: 'json' }, new Writable({ write: (c, _e, cb) => { text += c; cb(); } }), b.kv);
    expect(text.split('\n').filter(Boolean).length).toBe(156);
    for (const secret of ['s3cret', 'tok0', 'hunter2', 'abc0', '8.8.8.8', '93.184.216.34', 'u:pw@']) expect(text).not.toContain(secret);
    expect(text).toContain('172.17.0.3:80'); // the other exported container's address stays
    expect(JSON.stringify(b.records)).not.toContain('hunter2');
    for await (const c of b.kv.chunks(prefixRange(P_KEYFRAME))) for (const [, v] of c) expect(JSON.stringify(unpack(v, 'kf'))).not.toMatch(/bob:pw|10\.9\.8\.7/);
    const names = b.manifest.redaction.applied.map((a) => a.name);
    expect(b.manifest.redaction.profile).toBe('strict');
    expect(names).toEqual(['env-secrets', 'argv-credentials', 'url-passwords', 'authorization-headers', 'credential-assignments', 'foreign-ip-addresses']);
    expect(b.manifest.redaction.applied.every((a) => a.by === 'recorder' || (a.count ?? 0) > 0)).toBe(true);
  });
});
