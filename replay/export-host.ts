/** The host a store was recorded on: the latest recorder run's host name. */
import type { KVReader } from '../formats/kv.js';
import type { RunRecord } from '../formats/records.js';
import { P_META, prefixRange } from '../formats/keys.js';
import { unpack } from '../formats/codec.js';

export async function storeHost(kv: KVReader): Promise<string | undefined> {
  for await (const chunk of kv.chunks({ ...prefixRange(P_META, 'run/'), reverse: true, limit: 1 })) {
    const run = chunk[0] && unpack<RunRecord>(chunk[0][1], 'run record');
    if (run && typeof run.host === 'string') return run.host;
  }
  return undefined;
}
