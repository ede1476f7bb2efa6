/**
 * LevelDB lets one process hold a store. While the recorder runs, it serves reads of its store
 * (and a few commands: status, gc, mark) over a unix socket in the store directory, which is
 * owner-only (0700 directory, 0600 socket), so only root or the configured group can query it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmod, chown, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { KVReader } from '../formats/kv.js';
import { FrameReader, SOCKET_NAME, frame, type QueryRequest, type QueryResponse } from '../formats/frames.js';
import type { Logger } from './logger.js';

export type CommandHandler = (command: string, args: Record<string, unknown>) => Promise<unknown>;

export async function startQueryServer(kv: KVReader, dir: string, commands: CommandHandler, log: Logger, gid?: number): Promise<Server> {
  const path = join(dir, SOCKET_NAME);
  await rm(path, { force: true });
  const server = createServer((sock) => serve(sock, kv, commands, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, gid === undefined ? 0o600 : 0o660);
  if (gid !== undefined) await chown(path, 0, gid);
  return server;
}

function serve(sock: Socket, kv: KVReader, commands: CommandHandler, log: Logger): void {
  const reader = new FrameReader();
  let queue = Promise.resolve();
  const send = async (msg: QueryResponse): Promise<void> => {
    if (!sock.write(frame(msg))) await new Promise((r) => sock.once('drain', r));
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
    for (const r of reqs) queue = queue.then(() => handle(r as QueryRequest, kv, commands, send)).catch(() => { sock.destroy(); });
  });
  sock.on('error', () => sock.destroy());
}

async function handle(req: QueryRequest, kv: KVReader, commands: CommandHandler, send: (m: QueryResponse) => Promise<void>): Promise<void> {
  try {
    if (req.op === 'get' && req.key) {
      await send({ id: req.id, value: (await kv.get(req.key)) ?? null, done: true });
    } else if (req.op === 'chunks') {
      for await (const entries of kv.chunks(req.range ?? {})) await send({ id: req.id, entries });
      await send({ id: req.id, done: true });
    } else if (req.op === 'command' && req.command) {
      await send({ id: req.id, result: await commands(req.command, req.args ?? {}), done: true });
    } else {
      await send({ id: req.id, error: { code: 'BAD_ARGUMENT', message: `bad query ${String(req.op)}` }, done: true });
    }
  } catch (err) {
    const e = err as { code?: string; message?: string };
    await send({ id: req.id, error: { code: e.code ?? 'STORE_IO', message: e.message ?? String(err) }, done: true });
  }
}

export async function stopQueryServer(server: Server, dir: string): Promise<void> {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(join(dir, SOCKET_NAME), { force: true });
}
