/** Settings of rolling retention, with their defaults (kept apart so the CLI loads them cheaply). */
export interface RetentionOptions {
  /** Keep events this long (µs). */
  retain: number;
  /** Keep the store at or under this many bytes on disk. */
  maxSize: number;
  /** Pins last this long after their window ends (µs). */
  pinRetain: number;
  /** Cap on pinned bytes; default half of maxSize. */
  pinMax?: number;
  /** Cap on bytes of imported events kept out of retention; default a quarter of maxSize. */
  importMax?: number;
  /** Passes run this often; a size check runs every few seconds in between. */
  intervalMs: number;
}

export const RETENTION_DEFAULTS: RetentionOptions = {
  retain: 24 * 3600e6, maxSize: 2 * 1024 ** 3, pinRetain: 30 * 86400e6, intervalMs: 60_000,
};
