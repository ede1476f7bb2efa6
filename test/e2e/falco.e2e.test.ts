/**
 * Issue 5 acceptance, Falco: an alert posted (as Falco's http_output sends it) for a running
 * container becomes an incident on it; malformed JSON, a missing or wrong token, an unknown
 * container and a 10 MiB body each get a clear HTTP error, and the recorder keeps running.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-store.js';
import { docker, runDetached, uniqueName } from '../helpers/engine.js';
import { cli, replayJson, until, useRecorders } from '../helpers/recorder.js';

const recorders = useRecorders();

interface Reply { status: number; body: Record<string, unknown> }
/** A raw HTTP request, as Falco's libcurl sends it (body written in chunks as the socket takes it). */
function post(port: number, body: string | Buffer, headers: Record<string, string> = {}, method = 'POST', path = '/'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const req = request({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', 'content-length': String(buf.length), ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString() || '{}') as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(buf);
  });
}

const alert = (containerId: string): string => JSON.stringify({
  hostname: 'test-host', priority: 'Warning', rule: 'Terminal shell in container', source: 'syscall', tags: ['container', 'shell', 'mitre_execution'],
  time: new Date().toISOString(), output: `Warning A shell was spawned in a container (user=root container_id=${containerId.slice(0, 12)} shell=sh parent=runc)`,
  output_fields: { 'container.id': containerId, 'container.name': 'x', 'proc.name': 'sh', 'user.name': 'root' },
});

describe('Falco listener (real engine)', () => {
  it('turns an alert into an incident on a running container and refuses bad requests clearly', async () => {
    const store = await tempDir();
    const rec = await recorders.start(store, { falcoListen: '127.0.0.1:0', falcoToken: 's3cret-token' });
    const port = rec.incidents.falcoAddress!.port;
    expect(rec.incidents.falcoAddress!.address).toBe('127.0.0.1');
    const name = uniqueName('falco');
    const id = await runDetached(name, [], ['sh', '-c', 'sleep 300']);
    await until(async () => (await replayJson(store, name)).some((e) => e.kind === 'snapshot'), 15_000, 'container known');
    const auth = { authorization: 'Bearer s3cret-token' };

    const ok = await post(port, alert(id.slice(0, 12)), auth);
    expect(ok.status).toBe(201);
    expect(ok.body.container).toBe(id);
    const list = await cli(['incidents', '--store', store, '--container', name, '--format', 'json']);
    const [inc] = list.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inc).toMatchObject({ id: ok.body.incident, trigger: 'falco', rule: 'Terminal shell in container', severity: 'medium', container: id });
    expect(String(inc!.note)).toContain('A shell was spawned');
    const marker = (await replayJson(store, name)).find((e) => e.kind === 'incident');
    expect(marker).toMatchObject({ source: 'falco', rule: 'Terminal shell in container' });

    const malformed = await post(port, '{"rule": "x", ', auth);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/malformed JSON/);
    const missing = await post(port, alert(id));
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatch(/missing bearer token/);
    const wrong = await post(port, alert(id), { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatch(/wrong bearer token/);
    const unknown = await post(port, alert('0123456789ab'), auth);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/unknown container 0123456789ab/);
    const host = await post(port, alert('host'), auth);
    expect(host.status).toBe(422);
    const huge = await post(port, Buffer.alloc(10 << 20, 0x20), auth);
    expect(huge.status).toBe(413);
    expect(huge.body.error).toMatch(/exceeds the 1048576-byte limit/);
    // No Content-Length (chunked): the limit holds while streaming.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { ...auth, 'transfer-encoding': 'chunked' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write(Buffer.alloc(1 << 20, 0x20));
      req.end();
    });
    expect(chunked).toBe(413);
    expect((await post(port, '', auth, 'GET')).status).toBe(405);
    expect((await post(port, alert(id), auth, 'POST', '/other')).status).toBe(404);

    // Still recording, still answering.
    const again = await post(port, alert(id), auth);
    expect(again.status).toBe(201);
    expect(again.body.incident).toBe(ok.body.incident); // merged into the open incident
    const status = await cli(['status', '--store', store, '--format', 'json']);
    expect(status.code).toBe(0);
    const st = JSON.parse(status.stdout) as { recorder: string; incidents: number; pinnedWindows: number };
    expect(st.recorder).toBe('running');
    expect(st.pinnedWindows).toBeGreaterThanOrEqual(1); // ours (the shared engine may add others)
    const mine = (await cli(['incidents', '--store', store, '--container', name, '--format', 'json'])).stdout.trim().split('\n');
    expect(mine).toHaveLength(1);
    await docker('rm', '-f', id);
  });

  it('without a token it binds loopback and accepts alerts; the flag parser refuses a bad address', async () => {
    const store = await tempDir();
    const rec = await recorders.start(store, { falcoListen: '0' });
    expect(rec.incidents.falcoAddress!.address).toBe('127.0.0.1');
    const r = await cli(['record', '--store', await tempDir(), '--falco-listen', 'not-an-address']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--falco-listen: expected HOST:PORT/);
  });
});
