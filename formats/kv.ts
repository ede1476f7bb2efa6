/**
 * The read side of the store as plain key/value access. Two implementations: the LevelDB
 * directory opened in this process (level-store.ts), and the recorder's query socket when the
 * recorder holds the LevelDB lock (replay/remote-kv.ts). Every query in replay is written once
 * against this interface.
 */
export interface KVRange {
  gte?: Uint8Array;
  lt?: Uint8Array;
  reverse?: boolean;
  limit?: number;
}
export type KVEntry = [key: Uint8Array, value: Uint8Array];

export interface KVReader {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Entries in key order, in chunks (one chunk per LevelDB `nextv`), so per-entry cost stays low. */
  chunks(range: KVRange): AsyncIterable<KVEntry[]>;
  close(): Promise<void>;
}

export interface KVWriter extends KVReader {
  /** Atomically applies puts and deletes. */
  write(puts: readonly KVEntry[], dels?: readonly Uint8Array[]): Promise<void>;
  /** Reclaims disk space in [gte, lt) (LevelDB compaction). */
  compact(gte: Uint8Array, lt: Uint8Array): Promise<void>;
  /**
   * Resolves when no range read is open, or after `maxMs`. An open read holds a LevelDB snapshot,
   * and a compaction under it keeps (and rewrites) everything the snapshot can still see: deleted
   * data is not reclaimed and the store can even grow.
   */
  readersIdle?(maxMs: number): Promise<void>;
  approximateSize(gte: Uint8Array, lt: Uint8Array): Promise<number>;
  /**
   * Closes and opens the store again in place, under every holder of this object. LevelDB keeps a
   * failed background write (a full disk) as a sticky error that fails every later write until
   * the database is reopened; the pipeline calls this after repeated write failures.
   */
  reopen?(): Promise<void>;
  readonly location: string;
}
