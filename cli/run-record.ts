/** Maps `dashcam record` flags onto RecordOptions and runs until a signal stops it. */
import { record } from '../recorder/record.js';
import { createLogger } from '../recorder/logger.js';
import type { RecordOptions, SourceName } from '../recorder/record-options.js';
import { parseDuration } from '../replay/time-arg.js';
import { UsageError } from './errors.js';
import { parseSize } from '../formats/units.js';
import { loadIncidentConfig } from '../recorder/incidents/incident-config.js';
import { parseListen } from '../recorder/incidents/falco-listener.js';

interface Flags {
  store: string; sources: string; statsInterval: string; maxLogLine: string; flush: string; poll: string;
  host: boolean; socketGroup?: string; verbose: boolean; sensitive?: string;
  retain?: string; maxSize?: string; pinRetain?: string; pinMax?: string; importMax?: string; retentionInterval?: string;
  falcoListen?: string; falcoToken?: string; rules?: string;
}

/** Fails at parse time, not when the recorder is half started. */
function checkedListen(s: string): string {
  parseListen(s);
  return s;
}

/** --retain, --max-size, --pin-retain, --pin-max, --import-max, --retention-interval (issue 5). */
function retentionFromFlags(f: Flags): RecordOptions['retention'] {
  const out: RecordOptions['retention'] = {};
  if (f.retain !== undefined) out.retain = parseDuration(f.retain);
  if (f.maxSize !== undefined) out.maxSize = parseSize(f.maxSize);
  if (f.pinRetain !== undefined) out.pinRetain = parseDuration(f.pinRetain);
  if (f.pinMax !== undefined) out.pinMax = parseSize(f.pinMax);
  if (f.importMax !== undefined) out.importMax = parseSize(f.importMax);
  if (f.retentionInterval !== undefined) out.intervalMs = Math.max(1000, parseDuration(f.retentionInterval) / 1000);
  if (out.maxSize !== undefined && out.maxSize < 8 << 20) throw new UsageError('--max-size must be at least 8MiB (LevelDB needs room for its logs and compaction)');
  return out;
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
    ...(f.sensitive !== undefined ? { sensitive: f.sensitive.split(',').map((p) => p.trim()).filter(Boolean) } : {}),
    socketGroup: f.socketGroup === undefined ? undefined : Number(f.socketGroup),
    handleSignals: true,
    retention: retentionFromFlags(f),
    ...(f.falcoListen !== undefined ? { falcoListen: checkedListen(f.falcoListen) } : {}),
    ...(f.falcoToken ? { falcoToken: f.falcoToken } : {}),
  };
}

export async function runRecord(f: Flags): Promise<void> {
  const opts = recordOptionsFromFlags(f);
  if (f.rules) opts.incidents = await loadIncidentConfig(f.rules);
  const rec = await record(opts, createLogger({ verbose: f.verbose }));
  await rec.done;
}
