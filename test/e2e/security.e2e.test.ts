/**
 * Security against the real engine. Secrets: realistic secrets planted in a container's env never
 * reach replay (json, text, --at), `ls`, the recorder's own log, a default export bundle or the
 * raw bytes of the store's files; argv and log secrets, kept by the default profile, are masked
 * by `export --redact strict`. Permissions: `dashcam record` keeps its store 0700 with files
 * 0600, the query socket 0600 (0660 with --socket-group), bundles and private keys 0600, and the
 * Falco listener on loopback by default.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, readdir, stat } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { tempDir } from '../helpers/temp-store.js';
import { removeTestContainers, runDetached, uniqueName, waitExit } from '../helpers/engine.js';
import { CLI, cli, exited, logLines, recorderReady, replayJson, spawnRecorder, startRecorder, until } from '../helpers/recorder.js';
import type { Recorder } from '../../recorder/record.js';
import { ClassicLevel } from 'classic-level';
import { openBundleBytes, eventsBytes } from '../../formats/bundle-reader.js';
import { redactEnvEntry, newRedactKey } from '../../formats/redact.js';
import { SOCKET_NAME } from '../../formats/frames.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const alnum = (n: number): string => [...randomBytes(n)].map((b) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 62]).join('');

let recorders: Recorder[] = [];
let children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(recorders.map((r) => r.stop()));
  recorders = [];
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map(exited));
  children = [];
});
beforeAll(removeTestContainers);
afterAll(removeTestContainers);

/** Pieces of a secret to look for: 12-character slices of its random tail (or of all of it). */
const pieces = (s: string): string[] => (s.match(/[0-9a-f]{24}$/)?.[0] ?? s).match(/.{12}/g)!;
const leaks = (hay: string | Buffer, secrets: Record<string, string>): string[] =>
  Object.entries(secrets).filter(([, v]) => pieces(v).some((p) => hay.includes(p))).map(([k]) => k);

async function* files(dir: string): AsyncIterable<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

describe('secret redaction', () => {
  it('redacts realistic env secrets by name, and URL passwords and known tokens by value', () => {
    const key = newRedactKey();
    const M = /\[REDACTED hmac:[0-9a-f]{12}\]/;
    for (const e of ['DB_PASSWORD=x1', 'POSTGRES_PASSWORD=x', 'MYSQL_ROOT_PASSWORD=x', 'AWS_SECRET_ACCESS_KEY=x', 'AWS_SESSION_TOKEN=x', 'GITHUB_TOKEN=x', 'API_KEY=x', 'STRIPE_API_KEY=x', 'SECRET_KEY_BASE=x', 'JWT_SECRET=x', 'PRIVATE_KEY=x', 'SENTRY_DSN=x', 'SESSION_SECRET=x', 'DB_CONNECTION_STRING=x']) {
      expect(redactEnvEntry(e, key), e).toMatch(new RegExp(`^${e.split('=')[0]}=${M.source}$`));
    }
    expect(redactEnvEntry('DATABASE_URL=postgres://app:pg-s3cret@db:5432/app', key)).toMatch(new RegExp(`^DATABASE_URL=postgres://app:${M.source}@db:5432/app$`));
    expect(redactEnvEntry('REDIS_URL=redis://:r3dis@cache:6379/0', key)).toMatch(new RegExp(`^REDIS_URL=redis://:${M.source}@cache:6379/0$`));
    expect(redactEnvEntry(`CI_GH=ghp_${'a1B2'.repeat(9)}`, key)).toMatch(new RegExp(`^CI_GH=${M.source}$`));
    expect(redactEnvEntry(`HOOK=https://hooks.example/x?t=xoxb-${'1234567890'.repeat(2)}`, key)).toMatch(M);
    for (const e of ['PATH=/usr/bin:/bin', 'HOME=/root', 'HOSTNAME=web1', 'URL=https://example.com/a:b@c', 'LANG=C.UTF-8', 'KEYBOARD=us']) expect(redactEnvEntry(e, key), e).toBe(e);
  });

  it('planted env secrets never appear in replay, ls, --at, the recorder log, a default bundle or the raw store files; strict export masks argv and log secrets', async () => {
    const store = await tempDir();
    const out = await tempDir();
    const rec = await startRecorder(store);
    recorders.push(rec);
    const env = {
      DB_PASSWORD: `db-pw-${hex(12)}`,
      AWS_SECRET_ACCESS_KEY: `wJalrXUtnFEMIK7MDENGbPxRfiCY${hex(12)}`,
      GITHUB_TOKEN: `ghp_${alnum(12)}${hex(12)}`,
      API_KEY: `ak-${hex(12)}`,
      DATABASE_URL: `pg-pw-${hex(12)}`,
      CI_GH: `ghp_${alnum(12)}${hex(12)}`,
    };
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', k === 'DATABASE_URL' ? `${k}=postgres://app:${v}@db:5432/app` : `${k}=${v}`]);
    const canary = `visible-${hex(12)}`;
    const argvSecret = `hunter2-${hex(12)}`;
    const bearer = `tok-${hex(12)}`;
    const name = uniqueName('secrets');
    const id = await runDetached(name, [...envArgs, '-e', `PLAIN=${canary}`], ['sh', '-c', `echo --password=${argvSecret}; echo 'Authorization: Bearer ${bearer}'; sleep 1`]);
    expect(await waitExit(id)).toBe(0);
    const evs = await until(async () => {
      const e = await replayJson(store, name);
      return e.some((x) => x.kind === 'lifecycle' && x.action === 'die') && e.filter((x) => x.kind === 'log').length >= 2 ? e : undefined;
    }, 20_000, 'container recorded');

    // The recorder saw the env (the canary is there; the secrets are markers).
    const snap = evs.find((e) => e.kind === 'snapshot')!.snapshot as { Config: { Env: string[] } };
    expect(snap.Config.Env).toContain(`PLAIN=${canary}`);
    expect(snap.Config.Env.find((e) => e.startsWith('DATABASE_URL='))).toMatch(/^DATABASE_URL=postgres:\/\/app:\[REDACTED hmac:[0-9a-f]{12}\]@db:5432\/app$/);

    const at = new Date(Date.now() - 500).toISOString();
    const outputs: [string, string][] = [
      ['replay json', JSON.stringify(evs)],
      ['replay text', (await cli(['replay', '--store', store, '--container', name, '--format', 'text'])).stdout],
      ['replay --at json', (await cli(['replay', '--store', store, '--container', name, '--at', at, '--format', 'json'])).stdout],
      ['ls json', (await cli(['ls', '--all', '--store', store, '--format', 'json'])).stdout],
    ];
    for (const [what, text] of outputs) {
      expect(text.length, what).toBeGreaterThan(0);
      expect(leaks(text, env), what).toEqual([]);
    }
    // Default profile: argv and log secrets are kept (a test that could not see them would prove nothing).
    expect(outputs[1]![1]).toContain(argvSecret);
    expect(outputs[1]![1]).toContain(bearer);

    const dflt = join(out, 'default.dcb');
    const strict = join(out, 'strict.dcb');
    expect((await cli(['export', '--store', store, '--container', name, '-o', dflt])).code).toBe(0);
    expect((await cli(['export', '--store', store, '--container', name, '-o', strict, '--redact', 'strict'])).code).toBe(0);
    const bundleText = async (f: string): Promise<Buffer> => {
      const b = openBundleBytes(await readFile(f), 'test');
      return Buffer.concat([...b.parts.values(), await eventsBytes(b)]);
    };
    const d = await bundleText(dflt);
    const s = await bundleText(strict);
    expect(leaks(d, env), 'default bundle').toEqual([]);
    expect(leaks(s, env), 'strict bundle').toEqual([]);
    expect(d.includes(canary) && d.includes(argvSecret) && d.includes(bearer)).toBe(true);
    expect(s.includes(argvSecret), 'strict bundle: argv secret').toBe(false);
    expect(s.includes(bearer), 'strict bundle: bearer token').toBe(false);

    await rec.stop();
    recorders = [];
    expect(leaks(logLines.join(''), { ...env, argvSecret, bearer }), "the recorder's own log").toEqual([]);

    // Raw bytes of every store file, after a full compaction rewrote everything into tables
    // without Snappy: compressed, a string can be split by back-references (a 4-byte run of hex
    // seen earlier in the block), and a search of the bytes would prove nothing either way.
    const db = new ClassicLevel(store, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open({ createIfMissing: false, compression: false });
    await db.compactRange(Buffer.from([0]), Buffer.from([0xff]));
    await db.close();
    const raw: Buffer[] = [];
    for await (const f of files(store)) raw.push(await readFile(f));
    const all = Buffer.concat(raw);
    expect(pieces(canary).some((p) => all.includes(p)), 'the canary is found in the raw files').toBe(true);
    expect(leaks(all, env), 'raw store files').toEqual([]);
  });
});

/** Permission bits of a path. */
const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

async function recordCli(store: string, args: string[]): Promise<{ p: ChildProcess; stderr: () => string }> {
  const p = spawnRecorder(store, args);
  children.push(p);
  let err = '';
  p.stderr?.on('data', (c: Buffer) => { err += c.toString(); });
  await recorderReady(p);
  return { p, stderr: () => err };
}

describe('permissions', () => {
  it('dashcam record: store 0700, every file 0600 or stricter, socket 0600, Falco listener on 127.0.0.1', async () => {
    const store = join(await tempDir(), 'store');
    const r = await recordCli(store, ['--falco-listen', '0']);
    const name = uniqueName('perm');
    const id = await runDetached(name, [], ['sh', '-c', 'echo hi']);
    await waitExit(id);
    await until(async () => (await replayJson(store, name)).some((e) => e.kind === 'log'), 15_000, 'log recorded');

    expect(await mode(store)).toBe(0o700);
    const sock = join(store, SOCKET_NAME);
    expect((await stat(sock)).isSocket()).toBe(true);
    expect(await mode(sock)).toBe(0o600);
    let n = 0;
    for await (const f of files(store)) {
      n++;
      expect((await mode(f)) & 0o077, `${f} is ${(await mode(f)).toString(8)}`).toBe(0);
    }
    expect(n).toBeGreaterThan(3);

    const port = Number(await until(async () => /falco listener on http:\/\/127\.0\.0\.1:(\d+)\//.exec(r.stderr())?.[1], 10_000, 'falco listener log line'));
    // /proc/net/tcp: the listening socket on that port is bound to 127.0.0.1 and nothing wider.
    const rows = (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((c) => c[3] === '0A' && parseInt(c[1]!.split(':')[1]!, 16) === port);
    expect(rows.map((c) => c[1]!.split(':')[0])).toEqual(['0100007F']);
    const rows6 = (await readFile('/proc/net/tcp6', 'utf8').catch(() => '')).split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((c) => c[3] === '0A' && parseInt(c[1]?.split(':')[1] ?? '', 16) === port);
    expect(rows6).toEqual([]);
  });

  it('--socket-group: a member of that group (not root) can query through the socket, no one else can, and neither can read the files', async () => {
    const parent = await tempDir();
    await chmod(parent, 0o711);
    const store = join(parent, 'store');
    await recordCli(store, ['--socket-group', '4242']);
    const st = await stat(join(store, SOCKET_NAME));
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(4242);
    // The directory lets the group reach the socket by name (x), not list or read the store.
    const dst = await stat(store);
    expect([dst.mode & 0o777, dst.gid]).toEqual([0o710, 4242]);
    for await (const f of files(store)) expect((await mode(f)) & 0o077, f).toBe(0);
    const asUser = (gid: number, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { uid: 65534, gid, env: { PATH: process.env.PATH } }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    });
    const member = await asUser(4242, ['status', '--store', store, '--format', 'json']);
    expect(member.code, member.stderr).toBe(0);
    expect(JSON.parse(member.stdout)).toMatchObject({ recorder: 'running' });
    const ls = await asUser(4242, ['ls', '--all', '--store', store, '--format', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    const other = await asUser(65534, ['ls', '--all', '--store', store]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^dashcam: .*\[STORE_[A-Z_]+\]\n$/);
    // With the recorder stopped, a member must read the files, which it may not: one line saying so.
    const rec = children.find((c) => c.exitCode === null)!;
    rec.kill('SIGTERM');
    await exited(rec);
    const direct = await asUser(4242, ['ls', '--all', '--store', store]);
    expect(direct.code).toBe(1);
    expect(direct.stderr).toMatch(/^dashcam: .*run as root, or as a member of the recorder's --socket-group while it records \[STORE_PERMISSION\]\n$/);
  });

  it('an exported bundle and a keygen private key are 0600', async () => {
    const store = join(await tempDir(), 'store');
    const dir = await tempDir();
    await recordCli(store, []);
    const name = uniqueName('perm-export');
    await waitExit(await runDetached(name, [], ['sh', '-c', 'echo hi']));
    await until(async () => (await replayJson(store, name)).some((e) => e.kind === 'log'), 15_000, 'log recorded');
    const keys = await cli(['keygen', '-o', join(dir, 'k')]);
    expect(keys.code, keys.stderr).toBe(0);
    expect(await mode(join(dir, 'k.key'))).toBe(0o600);
    const ex = await cli(['export', '--store', store, '--container', name, '-o', join(dir, 'b.dcb'), '--sign', join(dir, 'k.key')]);
    expect(ex.code, ex.stderr).toBe(0);
    expect(await mode(join(dir, 'b.dcb'))).toBe(0o600);
  });
});
