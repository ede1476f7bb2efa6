/**
 * `dashcam repair`: LevelDB's own repair (it salvages what table and log files still hold and
 * drops what it cannot read), run on a copy of the store. LevelDB's repair does not take the
 * store's lock, so we ask first whether any process holds it or answers on its query socket and
 * refuse before touching a byte; the original is kept beside the repaired store.
 */
import type { Writable } from 'node:stream';
import { createConnection } from 'node:net';
import { cp, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openLevelStore, repairLevelStore } from '../formats/level-store.js';
import { FormatError } from '../formats/errors.js';
import { listContainers } from '../formats/queries.js';
import { P_EVENT, nameKey, prefixRange } from '../formats/keys.js';
import type { KVEntry } from '../formats/kv.js';
import { entryCount } from '../formats/event-block.js';
import { SOCKET_NAME } from '../formats/frames.js';
import { storeLockHolder } from '../formats/store-lock.js';

export async function repairCommand(opts: { store: string }, out: Writable): Promise<void> {
  const st = await stat(opts.store).catch(() => undefined);
  if (!st?.isDirectory()) throw new FormatError('STORE_NOT_FOUND', `no dashcam store at ${opts.store}`);
  await refuseIfHeld(opts.store);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const work = `${opts.store}.repairing-${stamp}`;
  const kept = `${opts.store}.before-repair-${stamp}`;
  await cp(opts.store, work, { recursive: true, errorOnExist: true, force: false });
  await rm(join(work, SOCKET_NAME), { force: true });
  try {
    await repairLevelStore(work);
    const summary = await checkRepaired(work);
    // A recorder may have started while we worked on the copy: the swap would lose its writes.
    await refuseIfHeld(opts.store);
    await rename(opts.store, kept);
    await rename(work, opts.store);
    out.write(`repaired ${opts.store}: ${summary}; the store as it was is kept at ${kept}\n`);
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    if (err instanceof FormatError) throw err;
    throw new FormatError('STORE_IO', `repair of ${opts.store} failed: ${(err as Error).message}; the store was not changed`, { cause: err });
  }
}

async function refuseIfHeld(store: string): Promise<void> {
  const pid = await storeLockHolder(store);
  if (pid !== undefined) {
    throw new FormatError('STORE_LOCKED', `store ${store} is held by process ${pid} (a running recorder?); stop it before repairing; nothing was changed`);
  }
  if (await socketAnswers(join(store, SOCKET_NAME))) {
    throw new FormatError('STORE_LOCKED', `a recorder answers on ${join(store, SOCKET_NAME)}; stop it before repairing; nothing was changed`);
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    sock.setTimeout(1000);
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
    sock.once('timeout', () => { sock.destroy(); resolve(false); });
  });
}

/** Opens the repaired copy, restores what repair may have lost from the last tables, counts. */
async function checkRepaired(dir: string): Promise<string> {
  // The format record lives in the last table (meta keys sort last): if that table was lost,
  // what survived was still written by a dashcam of this format line, so the record is restored.
  let restored = false;
  const kv = await openLevelStore(dir).catch(async (err: unknown) => {
    if (!(err instanceof FormatError) || !/no format version record|empty/.test(err.message)) throw err;
    restored = true;
    return openLevelStore(dir, { create: true });
  });
  try {
    const containers = await listContainers(kv);
    // The name index sorts after the events, in the last tables: rebuild it from the container
    // records that survived, so `replay --container NAME` finds them again.
    const names: KVEntry[] = [];
    for (const c of containers) for (const n of new Set([...c.names, c.name].filter(Boolean))) names.push([nameKey(n, c.id), new Uint8Array(0)]);
    if (names.length) await kv.write(names);
    let events = 0;
    let damaged = 0;
    for await (const chunk of kv.chunks(prefixRange(P_EVENT))) {
      for (const [, v] of chunk) {
        try {
          events += entryCount(v);
        } catch (err) {
          if (!(err instanceof FormatError)) throw err;
          damaged++;
        }
      }
    }
    return `${events} events of ${containers.length} containers readable${damaged ? ` (${damaged} damaged entries left for replay to report)` : ''}${restored ? ' (the format record was lost and has been rewritten)' : ''}`;
  } finally {
    await kv.close();
  }
}
