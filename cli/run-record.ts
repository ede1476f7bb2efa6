/** Maps `dashcam record` flags onto RecordOptions and runs until a signal stops it. */
import { record } from '../recorder/record.js';
import { createLogger } from '../recorder/logger.js';
import type { RecordOptions, SourceName } from '../recorder/record-options.js';
import { parseDuration } from '../replay/time-arg.js';
import { UsageError } from './errors.js';

interface Flags {
  store: string; sources: string; statsInterval: string; maxLogLine: string; flush: string; poll: string;
  host: boolean; socketGroup?: string; verbose: boolean;
}

export function recordOptionsFromFlags(f: Flags): Partial<RecordOptions> {
  const list = f.sources.split(',').map((s) => s.trim()).filter(Boolean);
  const known = ['docker', 'ebpf', 'procfs'];
  if (!(list.length === 1 && list[0] === 'auto')) {
    for (const s of list) if (!known.includes(s)) throw new UsageError(`unknown source ${JSON.stringify(s)} (docker, ebpf, procfs, auto)`);
  }
  const maxLogLine = Number(f.maxLogLine);
  if (!Number.isInteger(maxLogLine) || maxLogLine < 1024) throw new UsageError('--max-log-line must be an integer of at least 1024');
  return {
    store: f.store,
    sources: list[0] === 'auto' ? 'auto' : (list as SourceName[]),
    statsIntervalMs: f.statsInterval === '0' ? 0 : parseDuration(f.statsInterval) / 1000,
    maxLogLine,
    flushMs: Math.max(1, parseDuration(f.flush) / 1000),
    pollMs: parseDuration(f.poll) / 1000,
    host: f.host,
    socketGroup: f.socketGroup === undefined ? undefined : Number(f.socketGroup),
    handleSignals: true,
  };
}

export async function runRecord(f: Flags): Promise<void> {
  const rec = await record(recordOptionsFromFlags(f), createLogger({ verbose: f.verbose }));
  await rec.done;
}
