/**
 * `dashcam repair`: LevelDB's own repair (it salvages what table and log files still hold and
 * drops what it cannot read), then a check that the store opens and a count of what survived.
 * Refuses while a recorder holds the store: repairing under a live writer would corrupt it.
 */
import type { Writable } from 'node:stream';
import { stat } from 'node:fs/promises';
import { openLevelStore, repairLevelStore } from '../formats/level-store.js';
import { FormatError } from '../formats/errors.js';
import { listContainers } from '../formats/queries.js';
import { P_EVENT, nameKey, prefixRange } from '../formats/keys.js';
import type { KVEntry } from '../formats/kv.js';
import { entryCount } from '../formats/event-block.js';

export async function repairCommand(opts: { store: string }, out: Writable): Promise<void> {
  const st = await stat(opts.store).catch(() => undefined);
  if (!st?.isDirectory()) throw new FormatError('STORE_NOT_FOUND', `no dashcam store at ${opts.store}`);
  try {
    await repairLevelStore(opts.store);
  } catch (err) {
    const code = (err as { code?: string; cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
    if (code === 'LEVEL_LOCKED' || /lock/i.test(String((err as Error).message))) {
      throw new FormatError('STORE_LOCKED', `store ${opts.store} is held by a running recorder; stop it before repairing`, { cause: err });
    }
    throw new FormatError('STORE_IO', `repair of ${opts.store} failed: ${(err as Error).message}`, { cause: err });
  }
  // The format record lives in the last table (meta keys sort last): if that table was lost,
  // what survived was still written by a dashcam of this format line, so the record is restored.
  let restored = false;
  const kv = await openLevelStore(opts.store).catch(async (err: unknown) => {
    if (!(err instanceof FormatError) || !/no format version record|empty/.test(err.message)) throw err;
    restored = true;
    return openLevelStore(opts.store, { create: true });
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
    out.write(`repaired ${opts.store}: ${events} events of ${containers.length} containers readable${damaged ? ` (${damaged} damaged entries left for replay to report)` : ''}${restored ? ' (the format record was lost and has been rewritten)' : ''}\n`);
  } finally {
    await kv.close();
  }
}
