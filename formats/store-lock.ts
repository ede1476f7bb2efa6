/**
 * Who holds a store: LevelDB takes a POSIX lock on the store's LOCK file, which /proc/locks lists
 * with the holder's pid. Reading it changes nothing, so `repair` can ask before touching a byte.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The pid holding the store's LOCK file, or undefined when no process does (or it cannot tell). */
export async function storeLockHolder(dir: string): Promise<number | undefined> {
  const st = await stat(join(dir, 'LOCK')).catch(() => undefined);
  if (!st) return undefined;
  const locks = await readFile('/proc/locks', 'utf8').catch(() => '');
  const major = Number((BigInt(st.dev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(st.dev) & 0xffn) | ((BigInt(st.dev) >> 12n) & 0xfff00n));
  for (const line of locks.split('\n')) {
    // "1: POSIX  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; blocked waiters are marked "->".
    const f = line.trim().split(/\s+/);
    if (f[1] === '->') continue;
    const pid = Number(f[4]);
    const id = f[5]?.split(':');
    if (!id || id.length !== 3 || !Number.isInteger(pid)) continue;
    if (Number(id[2]) === st.ino && Number.parseInt(id[0]!, 16) === major && Number.parseInt(id[1]!, 16) === minor) return pid;
  }
  return undefined;
}
