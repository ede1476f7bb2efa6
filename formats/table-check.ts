/**
 * A cheap integrity check of a LevelDB directory at open time. LevelDB opens its table files
 * lazily, so a truncated table is only noticed by the first read that touches its key range:
 * `ls` (container records) would list happily while `replay` of some container fails. Every
 * table ends with a fixed 48-byte footer holding a magic number; checking it costs one small read
 * per table and turns a truncated table into one clear error for every command.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const FOOTER = 48;
/** kTableMagicNumber 0xdb4775248b80fb57, stored little-endian in the last 8 bytes. */
const MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);
const PARALLEL = 64;

export interface TableFile { name: string; ino: number }

/**
 * The table files in `dir` now, with their inodes (taken before LevelDB opens it: LevelDB may
 * then write a new table under the number of one it abandoned, which is half-written, not damaged).
 */
export async function listTables(dir: string): Promise<TableFile[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d+\.(ldb|sst)$/.test(n));
  const out: TableFile[] = [];
  for (const name of names) {
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st) out.push({ name, ino: st.ino });
  }
  return out;
}

/** Whether `dir` holds LevelDB files (so a failure to open it means damage, not absence). */
export async function hasLevelFiles(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.some((n) => /^(MANIFEST-\d+|\d+\.(ldb|sst|log))$/.test(n));
}

/**
 * Names of the given tables that exist but do not end with a valid footer. Tables gone by now
 * were obsolete (LevelDB deletes them at open or after a compaction) and are skipped.
 */
export async function damagedTables(dir: string, tables: readonly TableFile[]): Promise<string[]> {
  const bad: string[] = [];
  for (let i = 0; i < tables.length; i += PARALLEL) {
    await Promise.all(tables.slice(i, i + PARALLEL).map(async (t) => {
      if (!(await footerOk(join(dir, t.name), t.ino))) bad.push(t.name);
    }));
  }
  return bad.sort();
}

async function footerOk(path: string, ino: number): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return true; // deleted since the listing: obsolete, not damaged
  }
  try {
    const { size, ino: now } = await fh.stat();
    if (now !== ino) return true; // a new file under a reused number: being written, not damaged
    if (size < FOOTER) return false;
    const tail = Buffer.alloc(MAGIC.length);
    await fh.read(tail, 0, MAGIC.length, size - MAGIC.length);
    return tail.equals(MAGIC);
  } finally {
    await fh.close();
  }
}
