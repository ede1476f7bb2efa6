/**
 * The reconstructed state of one container at an instant: what the replay cursor shows and what
 * keyframes store. The recorder (recorder/keyframes.ts) and replay (replay/cursor.ts) run the SAME
 * reducer (state-apply.ts), so a keyframe plus the events after it equals a replay from the start.
 *
 * Everything is bounded (exited processes, files, connections, logs, stats samples) so keyframes
 * stay small on containers that run for weeks. Bounds are part of the reducer's semantics: change
 * one and STATE_VERSION must rise, which makes older keyframes unusable (replay then scans).
 */
import type { Micros, ProcKey, Source } from './schema.js';

/** Version of the reducer's semantics; keyframes written by another version are not used. */
export const STATE_VERSION = 2;

export const STATE_LIMITS = {
  /** Exited processes kept (oldest exited dropped first); live ones are never dropped. */
  exitedProcs: 256,
  /** Live processes kept; beyond it the oldest is dropped (a source that loses exits must not grow state forever). */
  liveProcs: 1024,
  files: 256,
  conns: 512,
  listening: 128,
  logs: 50,
  /** Characters of a log line kept in state (the event itself keeps every byte). */
  logChars: 2048,
  stats: 60,
  fileOps: 8,
} as const;

export interface ProcEntry {
  /** procKey when the source gave one; `pid:<pid>` for a main process seen in a snapshot; `exec:<id>` for `docker exec`. */
  key: ProcKey;
  pid: number;
  ppid: number;
  parentKey?: ProcKey;
  exe: string;
  argv: string[];
  uid?: number;
  cwd?: string;
  comm?: string;
  source: Source;
  start: Micros;
  exit?: Micros;
  exitCode?: number;
  signal?: number;
  /** An engine health-check probe (folded in replay unless --no-fold). */
  probe?: boolean;
}

export interface ConnEntry {
  key: string;
  proto: string;
  local: string;
  remote: string;
  /** The operation that opened it: connect, accept, established, send. */
  op: string;
  pid?: number;
  procKey?: ProcKey;
  since: Micros;
  source: Source;
}

export interface ListenEntry {
  key: string;
  proto: string;
  local: string;
  pid?: number;
  procKey?: ProcKey;
  since: Micros;
  source: Source;
}

export interface FileEntry {
  path: string;
  /** Distinct operations seen on the path, first seen first (bounded). */
  ops: string[];
  count: number;
  first: Micros;
  last: Micros;
  pid?: number;
  /** Where a rename moved it. */
  newPath?: string;
}

export interface LogEntry {
  time: Micros;
  seq: number;
  stream: string;
  text: string;
  truncated?: number;
}

/** The stats event fields a state's sample keeps (why a sample was taken stays in the event). */
export const STATS_SAMPLE_FIELDS = ['cpuPercent', 'cpuTotalNs', 'memUsage', 'memLimit', 'netRx', 'netTx', 'blkRead', 'blkWrite', 'pids'] as const;

export interface StatsSample {
  time: Micros;
  cpuPercent?: number;
  memUsage?: number;
  memLimit?: number;
  cpuTotalNs?: number;
  pids?: number;
  netRx?: number;
  netTx?: number;
  blkRead?: number;
  blkWrite?: number;
}

export interface GapMark {
  time: Micros;
  reason: string;
  lost?: number;
}

export interface ContainerState {
  container: string;
  /** Key of the last event applied (0/0 before any). */
  time: Micros;
  seq: number;
  /** Events applied since the container's first event. */
  events: number;
  /** created, running, paused, restarting, exited, removed, unknown */
  status: string;
  exitCode?: number;
  oomKilled: boolean;
  /** Last signal the engine sent (kill). */
  lastSignal?: number;
  health?: string;
  startedAt?: Micros;
  finishedAt?: Micros;
  name: string;
  image: string;
  command: string;
  /** The health-check command as the engine prints it in exec_* actions. */
  probeCmd?: string;
  /** In start order. */
  procs: Map<ProcKey, ProcEntry>;
  conns: Map<string, ConnEntry>;
  listening: Map<string, ListenEntry>;
  /** Least recently touched first. */
  files: Map<string, FileEntry>;
  logs: LogEntry[];
  stats: StatsSample[];
  gaps: number;
  lastGap?: GapMark;
  /** Exited entries currently in `procs` (to bound them cheaply). */
  exitedCount: number;
  /**
   * Live process by pid (derived from `procs`, not stored: keyframe decoding rebuilds it). At most
   * one live process holds a pid: a new one with the same pid proves the old one is gone.
   */
  livePid: Map<number, ProcKey>;
}

export function emptyState(container: string): ContainerState {
  return {
    container, time: 0, seq: 0, events: 0, status: 'unknown', oomKilled: false, name: '', image: '', command: '',
    procs: new Map(), conns: new Map(), listening: new Map(), files: new Map(), logs: [], stats: [], gaps: 0, exitedCount: 0, livePid: new Map(),
  };
}
