/** Options of `dashcam record`, typed, with every default in one place. */
import { RETENTION_DEFAULTS, type RetentionOptions } from './retention-options.js';
import { KEYFRAME_DEFAULTS } from './keyframes.js';
import type { IncidentConfig } from './incidents/incident-config.js';

export type SourceName = 'docker' | 'ebpf' | 'procfs';

export interface RecordOptions {
  store: string;
  /** Which sources to run; 'auto' for the kernel picks eBPF when it can start, else procfs. */
  sources: SourceName[] | 'auto';
  statsIntervalMs: number;
  /** Log lines longer than this many bytes are cut (the original length is recorded). */
  maxLogLine: number;
  flushMs: number;
  batchSize: number;
  maxQueue: number;
  /** Record host (non-container) processes too. */
  host: boolean;
  /** Paths whose reads the eBPF source records (globs; undefined = the built-in list). */
  sensitive?: string[];
  /** procfs polling interval. */
  pollMs: number;
  /** Group allowed to open the query socket (gid); root only when undefined. */
  socketGroup?: number;
  handleSignals: boolean;
  /** Rolling retention (age, size, pins); defaults in recorder/retention.ts. */
  retention: Partial<RetentionOptions>;
  /** Falco http_output listener, HOST:PORT (127.0.0.1 when only a port); off when undefined. */
  falcoListen?: string;
  /** Bearer token the Falco listener requires, if any. */
  falcoToken?: string;
  /** Incident triggers and rules; defaults in recorder/incidents/incident-config.ts. */
  incidents?: IncidentConfig;
  /**
   * A state keyframe per container every this many events (replay seeks from the nearest one).
   * 0 turns the keyframe writer off: replay then folds every seek from the container's first event
   * (bench/memory.ts uses it to show the writer's own share of the recorder's memory).
   */
  keyframeEvery: number;
  /** bpftrace binary for the eBPF source (default: `bpftrace` on PATH). */
  bpftrace?: string;
  /** Removed containers leave the recorder's memory this long after their last event (default 5 min). */
  containerEvictMs?: number;
}

export const DEFAULT_STORE = '/var/lib/dashcam';

export const RECORD_DEFAULTS: RecordOptions = {
  store: process.env.DASHCAM_STORE || DEFAULT_STORE,
  sources: 'auto',
  statsIntervalMs: 10_000,
  maxLogLine: 256 * 1024,
  flushMs: 100,
  batchSize: 4096,
  maxQueue: 200_000,
  host: false,
  pollMs: 2000,
  handleSignals: false,
  retention: RETENTION_DEFAULTS,
  keyframeEvery: KEYFRAME_DEFAULTS.everyEvents,
};
