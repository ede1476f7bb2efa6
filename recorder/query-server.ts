/**
 * LevelDB lets one process hold a store. While the recorder runs, it serves reads of its store
 * (and a few commands: status, gc, mark) over a unix socket in the store directory, which is
 * owner-only (0700 directory, 0600 socket), so only root or the configured group can query it
 * (with --socket-group: 0710 directory, 0660 socket, both in that group).
 * The protocol is in formats/frames.ts.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmod, chown, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { KVEntry, KVReader } from '../formats/kv.js';
import { FrameReader, SOCKET_NAME, frame, type QueryRequest, type QueryResponse } from '../formats/frames.js';
import type { Logger } from './logger.js';

export type CommandHandler = (command: string, args: Record<string, unknown>) => Promise<unknown>;

/** Open cursors per connection are capped so a client cannot pin unbounded iterators. */
const MAX_CURSORS = 64;

export async function startQueryServer(kv: KVReader, dir: string, commands: CommandHandler, log: Logger, gid?: number): Promise<Server> {
  const path = join(dir, SOCKET_NAME);
  await rm(path, { force: true });
  const server = createServer((sock) => serve(sock, kv, commands, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, gid === undefined ? 0o600 : 0o660);
  if (gid !== undefined) {
    await chown(path, 0, gid);
    // The group must also pass through the 0700 store directory to reach the socket: give it
    // search (x) only, so it can open the socket by name but not list or read the store's files.
    await chown(dir, process.getuid?.() ?? 0, gid);
    await chmod(dir, 0o710);
  }
  return server;
}

function serve(sock: Socket, kv: KVReader, commands: CommandHandler, log: Logger): void {
  const reader = new FrameReader();
  const cursors = new Map<number, AsyncIterator<KVEntry[]>>();
  const send = (msg: QueryResponse): void => {
    if (!sock.destroyed) sock.write(frame(msg));
  };
  const closeAll = (): void => {
    for (const it of cursors.values()) void it.return?.();
    cursors.clear();
  };
  sock.on('data', (chunk: Buffer) => {
    let reqs: unknown[];
    try {
      reqs = reader.push(chunk);
    } catch (err) {
      log.warn(`query socket: ${(err as Error).message}`);
      sock.destroy();
      return;
    }
    for (const r of reqs) void handle(r as QueryRequest, kv, commands, cursors, send);
  });
  sock.on('close', closeAll);
  sock.on('error', () => sock.destroy());
}

async function handle(req: QueryRequest, kv: KVReader, commands: CommandHandler, cursors: Map<number, AsyncIterator<KVEntry[]>>, send: (m: QueryResponse) => void): Promise<void> {
  const id = typeof req?.id === 'number' ? req.id : 0;
  try {
    switch (req?.op) {
      case 'get':
        if (!(req.key instanceof Uint8Array)) break;
        return send({ id, value: (await kv.get(req.key)) ?? null, done: true });
      case 'open':
        if (cursors.size >= MAX_CURSORS) throw Object.assign(new Error('too many open cursors'), { code: 'BAD_ARGUMENT' });
        cursors.set(id, kv.chunks(req.range ?? {})[Symbol.asyncIterator]());
        return send(await pull(cursors, id)); // the first chunk answers the open
      case 'next':
        if (!cursors.has(id)) break;
        return send(await pull(cursors, id));
      case 'cancel':
        await cursors.get(id)?.return?.();
        cursors.delete(id);
        return;
      case 'command':
        if (typeof req.command !== 'string') break;
        return send({ id, result: await commands(req.command, req.args ?? {}), done: true });
    }
    send({ id, error: { code: 'BAD_ARGUMENT', message: `bad query ${String(req?.op)}` }, done: true });
  } catch (err) {
    cursors.delete(id);
    const e = err as { code?: string; message?: string };
    send({ id, error: { code: e.code ?? 'STORE_IO', message: e.message ?? String(err) }, done: true });
  }
}

async function pull(cursors: Map<number, AsyncIterator<KVEntry[]>>, id: number): Promise<QueryResponse> {
  const n = await cursors.get(id)!.next();
  if (n.done) cursors.delete(id);
  return n.done ? { id, done: true } : { id, entries: n.value };
}

export async function stopQueryServer(server: Server, dir: string): Promise<void> {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(join(dir, SOCKET_NAME), { force: true });
}
