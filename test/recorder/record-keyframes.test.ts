import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { record } from '../../recorder/record.js';
import { createLogger } from '../../recorder/logger.js';
import { openStoreForReading } from '../../replay/open-store.js';
import { P_EVENT, P_KEYFRAME, timeRange } from '../../formats/keys.js';
import { nowMicros } from '../../formats/time.js';
import { scanEvents } from '../../formats/event-scan.js';
import { tempDir } from '../helpers/temp-store.js';

const CID = 'a1'.repeat(32);

/** Records 600 execs spread over the last 60 s with a keyframe every `every` events; counts what is stored. */
async function recordExecs(every: number): Promise<{ events: number; keyframes: number }> {
  const store = join(await tempDir(), 'store');
  const rec = await record({ store, sources: [], handleSignals: false, keyframeEvery: every }, createLogger({ quiet: true, write: () => {} }));
  const t0 = nowMicros() - 60_000_000;
  for (let i = 0; i < 600; i++) {
    rec.pipeline.emit({ kind: 'exec', source: 'ebpf', container: CID, time: t0 + i * 100_000, pid: 100 + i, ppid: 1, exe: '/bin/true', argv: ['/bin/true', String(i)], uid: 0 });
  }
  await rec.stop();
  const { kv } = await openStoreForReading(store);
  try {
    let events = 0;
    for await (const chunk of scanEvents(kv, timeRange(P_EVENT, CID))) events += chunk.length;
    let keyframes = 0;
    for await (const chunk of kv.chunks(timeRange(P_KEYFRAME, CID))) keyframes += chunk.length;
    return { events, keyframes };
  } finally {
    await kv.close();
  }
}

describe('record: keyframeEvery', () => {
  it('writes keyframes every N events, and none with 0 (the writer is off), storing every event either way', async () => {
    const on = await recordExecs(50);
    const off = await recordExecs(0);
    expect(on.events).toBe(600);
    expect(off.events).toBe(600);
    // 600 events, of which those older than the 2 s reorder window (about 580) are applied: 11 keyframes.
    expect(on.keyframes).toBeGreaterThanOrEqual(10);
    expect(off.keyframes).toBe(0);
  });
});
