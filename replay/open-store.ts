/**
 * Opens a store for reading: directly when no recorder holds it, else through the recorder's
 * query socket. Callers see one KVReader either way.
 */
import { join } from 'node:path';
import type { KVReader } from '../formats/kv.js';
import { openLevelStore } from '../formats/level-store.js';
import { FormatError } from '../formats/errors.js';
import { SOCKET_NAME } from '../formats/frames.js';
import { RemoteKV } from './remote-kv.js';

export interface OpenedStore { kv: KVReader; remote?: RemoteKV }

export async function openStoreForReading(dir: string): Promise<OpenedStore> {
  try {
    return { kv: await openLevelStore(dir) };
  } catch (err) {
    // A member of the recorder's --socket-group may not open the store's files, only its socket.
    const denied = err instanceof FormatError && err.code === 'STORE_PERMISSION';
    if (!(err instanceof FormatError) || (err.code !== 'STORE_LOCKED' && !denied)) throw err;
    if (denied) {
      try {
        const remote = await RemoteKV.connect(join(dir, SOCKET_NAME));
        return { kv: remote, remote };
      } catch {
        throw err;
      }
    }
  }
  try {
    const remote = await RemoteKV.connect(join(dir, SOCKET_NAME));
    return { kv: remote, remote };
  } catch (err) {
    throw new FormatError('STORE_LOCKED', `store ${dir} is held by another process and its query socket does not answer (${(err as Error).message})`, { cause: err });
  }
}
