/**
 * The LevelDB directory. `openLevelStore()` checks its input and the format version, then hands
 * back a KVWriter; the rest of dashcam never touches classic-level directly.
 *
 * We use classic-level (the Node backend of `level`) directly because we need what only it
 * has: compactRange to really reclaim space, approximateSize for the size budget, and repair.
 */
import { mkdir, chmod, readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { FormatError } from './errors.js';
import type { KVEntry, KVRange, KVWriter } from './kv.js';
import { metaKey } from './keys.js';
import { pack, unpack } from './codec.js';
import { FORMAT_VERSION } from './schema.js';
import { damagedTables, hasLevelFiles, listTables } from './table-check.js';

type DB = ClassicLevel<Uint8Array, Uint8Array>;
const CHUNK = 1000;
/**
 * Bytes per `nextv` (classic-level stops a chunk at this many bytes, default 16 KiB: ~150 events,
 * so a million-event scan paid ~6,700 round trips to LevelDB's thread). Range reads with a small
 * limit (keyframe probes, whose values are large) keep the default so they read no more than one.
 */
const CHUNK_BYTES = 256 * 1024;
const SMALL_CHUNK_BYTES = 16 * 1024;
const SMALL_LIMIT = 16;

/**
 * LevelDB tuning, measured with bench/ingest.ts: bigger blocks give Snappy and the key prefix
 * compression (our keys share container and time prefixes) more to work with (bytes per activity
 * event after compaction 43.6 -> 37.4). Reads are range scans, so bigger blocks cost seeks little.
 * The write buffer stays at LevelDB's 4 MiB: the write-ahead log grows up to that size on disk, and
 * retention's size budget leaves room for it.
 */
const TUNING = { blockSize: 64 * 1024, blockRestartInterval: 64 } as const;

/** Repair works on a copy and refuses a held store, but a user reads the hint first. */
const REPAIR_HINT = (dir: string) => `try: stop the recorder, then dashcam repair --store ${dir}`;

export interface OpenOptions {
  /** Create the directory and a new store if absent (the recorder, import). Default false. */
  create?: boolean;
}

export async function openLevelStore(dir: string, opts: OpenOptions = {}): Promise<LevelStore> {
  if (opts.create) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
  } else {
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new FormatError('STORE_NOT_FOUND', `no dashcam store at ${dir}`);
    const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EACCES' || err.code === 'EPERM' ? translate(err, dir) : new FormatError('STORE_IO', `store ${dir}: ${err.message}`, { cause: err });
    });
    if (!names.includes('CURRENT') && !(await hasLevelFiles(dir))) {
      throw new FormatError('STORE_NOT_FOUND', `${dir} is not a dashcam store (no LevelDB files in it)`);
    }
  }
  const tables = await listTables(dir);
  const db = await openDb(dir, opts.create === true);
  const store = new LevelStore(db, dir);
  try {
    const bad = await damagedTables(dir, tables);
    if (bad.length) throw new FormatError('STORE_CORRUPT', `store ${dir} is corrupted (truncated table file${bad.length > 1 ? 's' : ''} ${bad.join(', ')}); ${REPAIR_HINT(dir)}`);
    await store.checkVersion(opts.create === true);
  } catch (err) {
    await db.close();
    throw err;
  }
  return store;
}

async function openDb(dir: string, create: boolean): Promise<DB> {
  // Without CURRENT, LevelDB would create a fresh database here and then delete the existing
  // tables as obsolete: a damaged store must never be "created" over.
  if (create && !(await stat(join(dir, 'CURRENT')).catch(() => undefined)) && (await hasLevelFiles(dir))) {
    throw new FormatError('STORE_CORRUPT', `store ${dir} is corrupted (its CURRENT file is missing); ${REPAIR_HINT(dir)}`);
  }
  const db: DB = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.open({ createIfMissing: create, ...TUNING });
  } catch (err) {
    const e = translate(err, dir);
    // No CURRENT file beside tables and a manifest: the store is damaged, not absent.
    if (e.code === 'STORE_IO' && /does not exist/.test(e.message) && (await hasLevelFiles(dir))) {
      throw new FormatError('STORE_CORRUPT', `store ${dir} is corrupted (its CURRENT file is missing); ${REPAIR_HINT(dir)}`, { cause: err });
    }
    throw e;
  }
  return db;
}

/** Maps LevelDB's errors onto our stable codes. */
export function translate(err: unknown, dir: string): FormatError {
  const e = err as { code?: string; cause?: { code?: string; message?: string }; message?: string };
  const code = e.cause?.code ?? e.code;
  const msg = `${e.message ?? err}${e.cause?.message ? `: ${e.cause.message}` : ''}`;
  if (code === 'LEVEL_LOCKED') return new FormatError('STORE_LOCKED', `store ${dir} is locked by another process`, { cause: err });
  if (/permission denied|EACCES/i.test(msg)) {
    return new FormatError('STORE_PERMISSION', `store ${dir} is not readable by this user: run as root, or as a member of the recorder's --socket-group while it records`, { cause: err });
  }
  // A table LevelDB cannot read (truncated: EINVAL), or a file the manifest or CURRENT names
  // missing, is damage too; a full disk or a permission error is not.
  const damaged = /\.(ldb|sst): Invalid argument/.test(msg) || /(MANIFEST-\d+|\.ldb|\.sst|[\\/][^\\/:]+): No such file or directory/.test(msg);
  if (code === 'LEVEL_CORRUPTION' || /corrupt/i.test(msg) || damaged) {
    return new FormatError('STORE_CORRUPT', `store ${dir} is corrupted (${msg}); ${REPAIR_HINT(dir)}`, { cause: err });
  }
  if (err instanceof FormatError) return err;
  return new FormatError('STORE_IO', `store ${dir}: ${msg}`, { cause: err });
}

export class LevelStore implements KVWriter {
  #db: DB;
  /** Set while reopen() swaps the database; every call waits for it. */
  #reopening: Promise<void> | undefined;
  /** Range reads open now (each holds a snapshot; see readersIdle). */
  #readers = 0;
  #idleWaiters: (() => void)[] = [];
  readonly location: string;

  constructor(db: DB, location: string) {
    this.#db = db;
    this.location = location;
  }

  async checkVersion(create: boolean): Promise<void> {
    const raw = await this.get(metaKey('format'));
    if (raw === undefined) {
      if (!create) {
        const any = await this.#db.keys({ limit: 1 }).all();
        if (any.length === 0) throw new FormatError('STORE_NOT_FOUND', `no dashcam store at ${this.location} (empty)`);
        throw new FormatError('STORE_CORRUPT', `store ${this.location} has no format version record`);
      }
      await this.write([[metaKey('format'), pack({ version: FORMAT_VERSION })]]);
      return;
    }
    const { version } = unpack<{ version: number }>(raw, 'format record');
    if (typeof version !== 'number' || version > FORMAT_VERSION) {
      throw new FormatError('STORE_VERSION', `store ${this.location} has format version ${version}; this dashcam reads up to ${FORMAT_VERSION}: upgrade dashcam`);
    }
    // A writer (recorder, import) about to add newer entries says so first, so an older dashcam
    // refuses the store with STORE_VERSION rather than failing on an entry it cannot read.
    if (create && version < FORMAT_VERSION) await this.write([[metaKey('format'), pack({ version: FORMAT_VERSION })]]);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.#reopening) await this.#reopening;
    try {
      return await this.#db.get(key);
    } catch (err) {
      throw translate(err, this.location);
    }
  }

  /**
   * A long scan reads ahead: once the consumer asks for a second chunk, the next `nextv` runs on
   * LevelDB's thread while the consumer decodes the current one (measured with
   * bench/replay-seek.ts: the main thread otherwise idles on every chunk). Short reads (a probe
   * with a small limit, the first chunk of the event list) never read further than asked.
   */
  async *chunks(range: KVRange): AsyncIterable<KVEntry[]> {
    if (this.#reopening) await this.#reopening;
    const small = range.limit !== undefined && range.limit >= 0 && range.limit <= SMALL_LIMIT;
    const it = this.#db.iterator({ ...range, limit: range.limit ?? -1, highWaterMarkBytes: small ? SMALL_CHUNK_BYTES : CHUNK_BYTES });
    const next = (): Promise<KVEntry[]> => (it.nextv(CHUNK) as Promise<KVEntry[]>).catch((err: unknown) => { throw translate(err, this.location); });
    let ahead: Promise<KVEntry[]> | undefined;
    this.#readers++;
    try {
      let items = await next();
      for (let n = 0; items.length > 0; n++) {
        // Read ahead from the second chunk on; the first may be all a short read wants.
        if (n > 0) {
          ahead = next();
          // Handled here so a failure while the consumer is busy is not an unhandled rejection;
          // awaiting it below still throws.
          ahead.catch(() => undefined);
        }
        yield items;
        items = ahead ? await ahead : await next();
        ahead = undefined;
      }
    } finally {
      // A read still in flight must end before the iterator closes.
      if (ahead) await ahead.catch(() => undefined);
      await it.close();
      if (--this.#readers === 0) for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  readersIdle(maxMs: number): Promise<void> {
    if (this.#readers === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, maxMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async write(puts: readonly KVEntry[], dels: readonly Uint8Array[] = []): Promise<void> {
    if (this.#reopening) await this.#reopening;
    const batch = this.#db.batch();
    for (const [k, v] of puts) batch.put(k, v);
    for (const k of dels) batch.del(k);
    try {
      await batch.write();
    } catch (err) {
      throw translate(err, this.location);
    }
  }

  async compact(gte: Uint8Array, lt: Uint8Array): Promise<void> {
    if (this.#reopening) await this.#reopening;
    await this.#db.compactRange(gte, lt);
  }

  async approximateSize(gte: Uint8Array, lt: Uint8Array): Promise<number> {
    if (this.#reopening) await this.#reopening;
    return this.#db.approximateSize(gte, lt);
  }

  /**
   * Closes the database and opens it again in place (see KVWriter.reopen): readers that hold this
   * object (the query server) carry on with the new handle. Opening replays the write-ahead log
   * into a new table, so while the disk lacks room for that it refuses (STORE_IO) and keeps the
   * old handle, which still serves reads; if the open fails anyway, the next call tries again.
   */
  reopen(): Promise<void> {
    this.#reopening ??= (async () => {
      try {
        const need = (await logBytes(this.location)) + (1 << 20);
        const fs = await statfs(this.location);
        if (fs.bavail * fs.bsize < need) throw new FormatError('STORE_IO', `store ${this.location}: not enough free space to reopen (${fs.bavail * fs.bsize} bytes free, ${need} needed)`);
        await this.#db.close();
        this.#db = await openDb(this.location, false);
      } finally {
        this.#reopening = undefined;
      }
    })();
    return this.#reopening;
  }

  async close(): Promise<void> {
    if (this.#reopening) await this.#reopening.catch(() => undefined);
    await this.#db.close();
  }
}

async function logBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir)) if (f.endsWith('.log')) n += (await stat(join(dir, f)).catch(() => ({ size: 0 }))).size;
  return n;
}

/** `dashcam repair`: LevelDB's own repair, which salvages what tables and logs still hold. */
export async function repairLevelStore(dir: string): Promise<void> {
  await ClassicLevel.repair(dir);
}
