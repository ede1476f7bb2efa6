/**
 * Fuzzing the Falco listener of a running recorder (real engine): random and hostile bodies
 * (some naming a real container, so they reach the incident engine), wrong content types and
 * encodings, huge headers, slowloris partial headers and bodies, methods other than POST, other
 * paths, garbage on the wire. Each request gets a clear HTTP error (or 201 for a well-formed
 * alert), never a 500 or a dropped connection without an answer; the recorder keeps recording
 * and the incidents it stored all decode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, removeTestContainers, runDetached, uniqueName } from '../helpers/engine.js';
import { cli, startRecorder, until } from '../helpers/recorder.js';
import type { Recorder } from '../../recorder/record.js';
import { Rng, fuzzCases, fuzzSeed, hostileValue } from '../helpers/fuzz.js';
import { severityOfPriority } from '../../recorder/incidents/falco-alert.js';

let store: string;
let rec: Recorder;
let port: number;
let cid: string;

beforeAll(async () => {
  await removeTestContainers();
  store = await mkdtemp(join(tmpdir(), 'dashcam-fuzz-falco-'));
  rec = await startRecorder(store, { falcoListen: '127.0.0.1:0' });
  port = rec.incidents.falcoAddress!.port;
  cid = await runDetached(uniqueName('falco-fuzz'), [], ['sleep', '600']);
  await until(async () => (await cli(['ls', '--store', store, '--format', 'json'])).stdout.includes(cid), 15_000, 'container known');
}, 120_000);
afterAll(async () => {
  await rec?.stop();
  await removeTestContainers();
  if (store) await rm(store, { recursive: true, force: true });
});

interface Reply { status: number; headers: string; body: string; closedWithoutAnswer: boolean; ms: number }

/**
 * Sends raw bytes (in timed pieces, for slowloris) and reads until the server closes or answers
 * completely. Raw sockets, so nothing in a client library tidies the request up.
 */
function raw(pieces: (Buffer | string | number)[], opts: { endAfter?: boolean; limitMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(got).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const split = text.indexOf('\r\n\r\n');
      const head = split >= 0 ? text.slice(0, split) : text;
      let body = split >= 0 ? text.slice(split + 4) : '';
      if (/\r\ntransfer-encoding: chunked/i.test(head)) body = unchunk(body);
      resolve({ status: m ? Number(m[1]) : 0, headers: head, body, closedWithoutAnswer: !m, ms: Date.now() - t0 });
    };
    const timer = setTimeout(finish, opts.limitMs ?? 10_000);
    sock.on('data', (c: Buffer) => {
      got.push(c);
      // A complete answer: headers plus as many body bytes as content-length says.
      const text = Buffer.concat(got).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: (\d+)/i.exec(text)?.[1];
      if (split >= 0 && len !== undefined && Buffer.byteLength(text.slice(split + 4), 'latin1') >= Number(len)) finish();
      if (split >= 0 && /\r\ntransfer-encoding: chunked/i.test(text.slice(0, split)) && /(^|\r\n)0\r\n\r\n$/.test(text.slice(split + 4))) finish();
      if (split >= 0 && /^HTTP\/1\.[01] \d{3}/.test(text) && /^HEAD /.test(String(pieces[0]))) finish();
    });
    sock.on('close', finish);
    sock.on('error', finish);
    void (async () => {
      for (const p of pieces) {
        if (typeof p === 'number') await new Promise((r) => setTimeout(r, p));
        else if (!sock.destroyed) sock.write(p);
      }
      if (opts.endAfter && !sock.destroyed) sock.end();
    })();
  });
}

/** Decodes a chunked body (the listener's answers are small and complete). */
function unchunk(s: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const nl = s.indexOf('\r\n', at);
    if (nl < 0) return out;
    const n = parseInt(s.slice(at, nl), 16);
    if (!(n > 0)) return out;
    out += s.slice(nl + 2, nl + 2 + n);
    at = nl + 2 + n + 2;
  }
}

const post = (body: Buffer | string, headers: Record<string, string> = {}, path = '/', method = 'POST'): (Buffer | string)[] => {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const h = { host: 'x', 'content-type': 'application/json', 'content-length': String(b.length), ...headers };
  return [`${method} ${path} HTTP/1.1\r\n${Object.entries(h).filter(([, v]) => v !== '').map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, b];
};
const errorBody = (r: Reply): string => {
  const doc = JSON.parse(r.body) as { error?: unknown };
  expect(typeof doc.error).toBe('string');
  return doc.error as string;
};
const alertDoc = (containerId: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  priority: 'Warning', rule: 'Terminal shell in container', output: 'a shell', time: new Date().toISOString(),
  output_fields: { 'container.id': containerId.slice(0, 12) }, ...over,
});

describe('Falco listener fuzz (real recorder)', () => {
  const total = fuzzCases(300);
  it(`${total} random and hostile bodies each get a clear 4xx (or 201), never a 500`, async () => {
    const seed = fuzzSeed();
    const statuses = new Map<number, number>();
    for (let i = 0; i < total; i += 10) {
      await Promise.all([...Array(Math.min(10, total - i))].map(async (_, j) => {
        const rng = new Rng(seed + i + j);
        let body: Buffer;
        const kind = rng.int(5);
        if (kind === 0) body = rng.bytes(rng.int(2048));
        else if (kind === 1) body = Buffer.from(JSON.stringify(hostileValue(rng, 3)) ?? 'null');
        else {
          // Shaped like an alert, with hostile fields; sometimes about the real container.
          const doc = alertDoc(rng.chance(0.5) ? cid : rng.bytes(6).toString('hex'));
          for (const f of ['priority', 'rule', 'output', 'time', 'output_fields', 'hostname', 'tags', 'source']) {
            if (rng.chance(0.3)) doc[f] = rng.chance(0.5) ? hostileValue(rng, 2) : rng.pick(['constructor', 'toString', '__proto__', '\x1b[2J', 'x'.repeat(10_000), '']);
          }
          if (rng.chance(0.2)) (doc.output_fields as Record<string, unknown>) = { 'container.id': rng.pick([cid, cid.slice(0, 12), 'host', cid.toUpperCase(), `${cid.slice(0, 12)}\n`, 42]) };
          body = Buffer.from(JSON.stringify(doc));
          if (kind === 4 && body.length > 2) body = body.subarray(0, rng.int(body.length));
        }
        const r = await raw(post(body));
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        const what = `case ${i + j} (seed ${seed + i + j}): ${r.status} ${r.body.slice(0, 200)}`;
        expect([201, 400, 404, 422], what).toContain(r.status);
        if (r.status !== 201) expect(errorBody(r).length, what).toBeGreaterThan(0);
      }));
    }
    console.log(`falco listener: ${total} bodies, seed ${seed}: ${[...statuses].map(([s, n]) => `${s}=${n}`).join(' ')}`);
    expect(statuses.get(201) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    // Every incident those alerts created decodes and lists.
    const inc = await cli(['incidents', '--store', store, '--format', 'json']);
    expect(inc.code, inc.stderr).toBe(0);
    for (const l of inc.stdout.split('\n').filter(Boolean)) expect(typeof (JSON.parse(l) as { severity: unknown }).severity).toBe('string');
    const text = await cli(['incidents', '--store', store]);
    expect(text.code, text.stderr).toBe(0);
  }, 300_000);

  it("alerts whose priority names an Object.prototype member ('constructor', '__proto__') become medium incidents", async () => {
    for (const p of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) expect(severityOfPriority(p), p).toBe('medium');
    for (const priority of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const r = await raw(post(JSON.stringify(alertDoc(cid, { priority, rule: `proto-${priority}` }))));
      expect(r.status, `${priority}: ${r.body}`).toBe(201);
    }
    const inc = await cli(['incidents', '--store', store, '--format', 'json']);
    expect(inc.code, inc.stderr).toBe(0);
    // (Alerts close together merge into one incident, so check every stored severity.)
    for (const l of inc.stdout.split('\n').filter(Boolean)) expect(['low', 'medium', 'high', 'critical']).toContain((JSON.parse(l) as { severity: unknown }).severity);
  });

  it('wrong content types and encodings get 415, other methods 405, other paths 404, oversize 413/431, garbage 400', async () => {
    const good = JSON.stringify(alertDoc(cid));
    for (const ct of ['text/html', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'image/png']) {
      const r = await raw(post(good, { 'content-type': ct }));
      expect(r.status, ct).toBe(415);
      expect(errorBody(r)).toMatch(/application\/json/);
    }
    for (const ct of ['application/json; charset=utf-8', 'application/cloudevents+json', 'text/plain', '']) {
      const r = await raw(post(good, { 'content-type': ct }));
      expect(r.status, `${ct}: ${r.body}`).toBe(201);
    }
    const gz = await raw(post(good, { 'content-encoding': 'gzip' }));
    expect(gz.status).toBe(415);
    expect(errorBody(gz)).toMatch(/encoding/);
    for (const m of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
      const r = await raw(post(good, {}, '/', m));
      expect(r.status, m).toBe(405);
      expect(r.headers).toMatch(/\r\nallow: POST/i);
    }
    const head = await raw(['HEAD / HTTP/1.1\r\nhost: x\r\n\r\n']);
    expect(head.status).toBe(405);
    for (const path of ['/x', '/../etc/passwd', '//', '/%00', '/?a=1'.replace('/?', '/x?')]) expect((await raw(post(good, {}, path))).status, path).toBe(404);
    const big = await raw(post(Buffer.alloc(2 << 20, 0x20)));
    expect(big.status).toBe(413);
    const chunked = await raw([`POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`, ...[...Array(40)].map(() => `10000\r\n${' '.repeat(0x10000)}\r\n`), '0\r\n\r\n']);
    expect(chunked.status).toBe(413);
    const hugeHeader = await raw([`POST / HTTP/1.1\r\nhost: x\r\nx-pad: ${'a'.repeat(64 << 10)}\r\ncontent-length: 2\r\n\r\n{}`]);
    expect(hugeHeader.status).toBe(431);
    for (const g of ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'FOO / HTTP/1.1\r\nhost: x\r\n\r\n', 'POST / HTTP/9.9\r\n\r\n', 'POST / HTTP/1.1\r\ncontent-length: -1\r\n\r\n', 'POST / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n{}']) {
      const r = await raw([g]);
      expect(r.status, JSON.stringify(g)).toBe(400);
    }
  }, 120_000);

  it('slowloris: trickled headers and a stalled body are cut off with 408, and the recorder keeps serving', async () => {
    const t0 = Date.now();
    const [headers, body, idle] = await Promise.all([
      raw(['POST / HTTP/1.1\r\n', ...[...Array(40)].flatMap(() => [1000, 'x-a: b\r\n'])], { limitMs: 60_000 }),
      raw(['POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"rule":', ...[...Array(40)].flatMap(() => [1000, ' '])], { limitMs: 60_000 }),
      // Connected, sent only blank lines (allowed before a request line), then nothing.
      raw(['\r\n\r\n\r\n'], { limitMs: 60_000 }),
      // Meanwhile, a well-formed alert is answered at once.
      (async () => {
        await new Promise((r) => setTimeout(r, 2000));
        const ok = await raw(post(JSON.stringify(alertDoc(cid))));
        expect(ok.status).toBe(201);
        expect(ok.ms).toBeLessThan(2000);
      })(),
    ]);
    expect(headers.status, headers.headers).toBe(408);
    expect(body.status, body.headers).toBe(408);
    expect(idle.status, idle.headers).toBe(408);
    expect(idle.ms).toBeLessThan(14_000);
    // Cut off within the listener's limits (10 s for headers, 15 s for a request), not held open.
    expect(headers.ms).toBeLessThan(14_000);
    expect(body.ms).toBeLessThan(19_000);
    expect(Date.now() - t0).toBeLessThan(25_000);
  }, 60_000);

  it('after all that the recorder is still recording and answering', async () => {
    const name = uniqueName('falco-after');
    const id = await runDetached(name, [], ['sh', '-c', 'echo still-here']);
    await docker('wait', id);
    await until(async () => (await cli(['replay', '--store', store, '--container', name, '--format', 'text'])).stdout.includes('still-here'), 15_000, 'recorded after the fuzz');
    const st = await cli(['status', '--store', store, '--format', 'json']);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ recorder: 'running' });
  });
});
