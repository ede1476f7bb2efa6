/**
 * The event model: one envelope, a tagged union of kinds, one schema table.
 *
 * Rules (see README "Format"): kind numbers and source numbers are never reused; a kind's
 * fields only ever grow by appending to its `fields` list (values are stored positionally,
 * so an old record simply has fewer entries); FORMAT_VERSION rises with every change.
 */

/**
 * Version of the store layout and of the event encoding. Readers refuse newer versions and read
 * every older one. 1: one event per entry. 2: an entry holds one event or a block of one
 * container's events (event-block.ts); a version 1 store reads as one made of one-event entries.
 */
export const FORMAT_VERSION = 2;
/** Version of the JSON Lines contract (`replay --format json`). Fields are added, never renamed. */
export const JSONL_VERSION = 1;

/** Wall-clock time in microseconds since the Unix epoch (exact in a double until year 2255). */
export type Micros = number;

export const SOURCES = ['docker', 'ebpf', 'procfs', 'falco', 'dashcam', 'import'] as const;
export type Source = (typeof SOURCES)[number];

export interface Envelope {
  /** Wall-clock microseconds. */
  time: Micros;
  /** Per-store sequence number; breaks ties between events of the same microsecond. */
  seq: number;
  /** Full 64-hex container ID, or '' for host-level events. */
  container: string;
  source: Source;
}

/** A process identity that survives pid reuse: `<host pid>:<start time in clock ticks since boot>`. */
export type ProcKey = string;

export interface LifecycleFields {
  /** Engine object type: container, network, volume, ... */
  type: string;
  action: string;
  attributes: Record<string, string>;
}
export interface SnapshotFields {
  /** Why the snapshot was taken: create, start, die, adopt, reconcile, update. */
  reason: string;
  /** The engine's inspect document, with secrets redacted. */
  snapshot: Record<string, unknown>;
}
export interface ExecFields {
  pid: number; ppid: number; uid: number; gid?: number;
  exe: string; argv: string[]; cwd?: string;
  procKey?: ProcKey; parentKey?: ProcKey;
  /** Pid as seen inside the container's pid namespace. */
  vpid?: number;
  comm?: string;
}
export interface ExitFields {
  pid: number; exitCode?: number; signal?: number;
  procKey?: ProcKey; comm?: string;
}
export interface ForkFields {
  pid: number; ppid: number; procKey?: ProcKey; parentKey?: ProcKey; comm?: string;
}
export type NetOp = 'connect' | 'accept' | 'listen' | 'close' | 'established' | 'send' | 'state';
export interface NetFields {
  op: NetOp | string;
  proto: 'tcp' | 'udp' | string;
  /** `ip:port` (IPv6 as `[ip]:port`). */
  local: string;
  remote: string;
  pid?: number; procKey?: ProcKey; family?: 4 | 6; state?: string; comm?: string;
}
export type FileOp = 'write' | 'create' | 'truncate' | 'unlink' | 'rename' | 'chmod' | 'chown' | 'mkdir' | 'read-sensitive';
export interface FileFields {
  op: FileOp | string;
  /** Path as seen inside the container. */
  path: string;
  newPath?: string;
  pid?: number; procKey?: ProcKey; flags?: number; mode?: number; comm?: string;
}
export interface LogFields {
  stream: 'stdout' | 'stderr';
  /** Raw bytes of the line without its newline; binary-safe. */
  line: Uint8Array;
  /** The engine's own timestamp of the line (microseconds). */
  engineTime?: Micros;
  /** Original length in bytes when the line was cut at the recorder's bound. */
  truncated?: number;
}
export interface StatsFields {
  cpuPercent?: number; cpuTotalNs?: number;
  memUsage?: number; memLimit?: number;
  netRx?: number; netTx?: number; blkRead?: number; blkWrite?: number;
  pids?: number;
  /** A sample taken outside the interval, and why: `oom-victim` (eBPF: the resident memory of the
   * process the kernel's OOM killer chose, as it was chosen; `pid` names it), `unhealthy`. */
  sample?: string;
  pid?: number;
}
export interface IncidentFields {
  id: string; trigger: string; severity: string; title: string;
  /** Pinned window, absolute microseconds. */
  windowStart?: Micros; windowEnd?: Micros;
  note?: string; rule?: string;
}
export interface GapFields {
  /** Why events are missing: engine-unreachable, recorder-down, ebpf-lost, queue-overflow, write-failed, ... */
  reason: string;
  /** Events known lost, when countable. */
  lost?: number;
  /** The unobserved interval, when known. */
  from?: Micros; to?: Micros;
  detail?: string;
  /** A host-level gap of which every container it concerns has its own copy (stamped inside that
   * container's life): container windows skip this one, so each shows the gap once. */
  perContainer?: boolean;
  /** Events lost by class of probe (`process`, `net`, `file`), when the loss is known per class. */
  classes?: Record<string, number>;
}
export interface SyscallFields {
  /** setuid, setgid, ptrace, mount, unshare, setns, memfd_create, init_module, ... */
  op: string;
  pid: number; procKey?: ProcKey; comm?: string;
  /** Syscall-specific arguments, e.g. { uid: 0 } or { target: 1234 }. */
  args?: Record<string, string | number>;
}

export interface KindFields {
  lifecycle: LifecycleFields;
  snapshot: SnapshotFields;
  exec: ExecFields;
  exit: ExitFields;
  net: NetFields;
  file: FileFields;
  log: LogFields;
  stats: StatsFields;
  incident: IncidentFields;
  gap: GapFields;
  fork: ForkFields;
  syscall: SyscallFields;
}
export type Kind = keyof KindFields;

export type EventOf<K extends Kind> = Envelope & { kind: K } & KindFields[K];
export type DashEvent = { [K in Kind]: EventOf<K> }[Kind];
/** An event before the pipeline stamps it with a sequence number (and, if absent, a time). */
export type NewEvent = DistributiveOmit<DashEvent, 'seq' | 'time'> & { time?: Micros };
type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

export interface KindSpec<K extends Kind = Kind> {
  num: number;
  name: K;
  /** Does this kind change the reconstructed state (process tree, connections, ...)? */
  stateful: boolean;
  /** Field names in storage order. Append only. */
  fields: readonly (keyof KindFields[K] & string)[];
}

function spec<K extends Kind>(num: number, name: K, stateful: boolean, fields: KindSpec<K>['fields']): KindSpec<K> {
  return { num, name, stateful, fields };
}

/** The schema table. Numbers are permanent; retired ones go to RETIRED_KIND_NUMBERS. */
export const KINDS: { [K in Kind]: KindSpec<K> } = {
  lifecycle: spec(1, 'lifecycle', true, ['type', 'action', 'attributes']),
  snapshot: spec(2, 'snapshot', true, ['reason', 'snapshot']),
  exec: spec(3, 'exec', true, ['pid', 'ppid', 'uid', 'gid', 'exe', 'argv', 'cwd', 'procKey', 'parentKey', 'vpid', 'comm']),
  exit: spec(4, 'exit', true, ['pid', 'exitCode', 'signal', 'procKey', 'comm']),
  net: spec(5, 'net', true, ['op', 'proto', 'local', 'remote', 'pid', 'procKey', 'family', 'state', 'comm']),
  file: spec(6, 'file', true, ['op', 'path', 'newPath', 'pid', 'procKey', 'flags', 'mode', 'comm']),
  log: spec(7, 'log', true, ['stream', 'line', 'engineTime', 'truncated']),
  stats: spec(8, 'stats', true, ['cpuPercent', 'cpuTotalNs', 'memUsage', 'memLimit', 'netRx', 'netTx', 'blkRead', 'blkWrite', 'pids', 'sample', 'pid']),
  incident: spec(9, 'incident', false, ['id', 'trigger', 'severity', 'title', 'windowStart', 'windowEnd', 'note', 'rule']),
  gap: spec(10, 'gap', false, ['reason', 'lost', 'from', 'to', 'detail', 'perContainer', 'classes']),
  fork: spec(11, 'fork', true, ['pid', 'ppid', 'procKey', 'parentKey', 'comm']),
  syscall: spec(12, 'syscall', false, ['op', 'pid', 'procKey', 'comm', 'args']),
};
export const RETIRED_KIND_NUMBERS: readonly number[] = [];

export const KIND_BY_NUM: readonly (KindSpec | undefined)[] = (() => {
  const table: (KindSpec | undefined)[] = [];
  for (const s of Object.values(KINDS) as KindSpec[]) table[s.num] = s;
  return table;
})();
export const SOURCE_NUM: Record<Source, number> = Object.fromEntries(SOURCES.map((s, i) => [s, i])) as Record<Source, number>;

export const HOST = '';
const HEX64 = /^[0-9a-f]{64}$/;
export function isContainerId(s: string): boolean {
  return HEX64.test(s);
}
