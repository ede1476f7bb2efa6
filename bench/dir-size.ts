import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Total size in bytes of the files directly in `dir` (a LevelDB directory is flat). */
export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) {
    const st = await stat(join(dir, f)).catch(() => undefined);
    if (st?.isFile()) total += st.size;
  }
  return total;
}
