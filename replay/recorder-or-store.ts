/**
 * Commands that act on the store (gc, mark, status) go through the recorder's query socket when
 * it holds the store; otherwise the CLI supplies a local fallback (which lives in recorder/, and
 * which replay/ must not import).
 */
import { openStoreForReading } from './open-store.js';

export async function viaRecorderOr<T>(store: string, command: string, args: Record<string, unknown>, local: () => Promise<T>): Promise<T> {
  const { kv, remote } = await openStoreForReading(store);
  if (!remote) {
    await kv.close();
    return local();
  }
  try {
    return (await remote.command(command, args)) as T;
  } finally {
    await remote.close();
  }
}
