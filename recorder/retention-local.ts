/**
 * The pieces of `dashcam gc` and `dashcam status` that run without a recorder: the CLI lazy-loads
 * this module (replay/ never imports recorder/) when no recorder holds the store.
 */
import { openLevelStore } from '../formats/level-store.js';
import type { GcReport, StatusReport } from '../formats/records.js';
import { getMeta } from '../formats/queries.js';
import { createLogger } from './logger.js';
import { Retention, RETENTION_DEFAULTS, type RetentionOptions } from './retention.js';
import { storeStatus } from './retention-status.js';

/** One retention pass on a store no recorder holds. */
export async function gcLocal(store: string, opts: Partial<RetentionOptions> = {}): Promise<GcReport> {
  const kv = await openLevelStore(store);
  try {
    // The settings the recorder last ran with (it saves them), unless overridden.
    const saved = (await getMeta<Partial<RetentionOptions>>(kv, 'retention')) ?? {};
    return await new Retention(kv, { ...RETENTION_DEFAULTS, ...saved, ...opts }, createLogger({ quiet: true })).pass();
  } finally {
    await kv.close();
  }
}

export async function statusLocal(store: string): Promise<StatusReport> {
  const kv = await openLevelStore(store);
  try {
    return await storeStatus(kv, store);
  } finally {
    await kv.close();
  }
}
