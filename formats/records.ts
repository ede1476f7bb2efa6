/** Records kept beside the events: one per container, store metadata, incidents. */
import type { Micros } from './schema.js';

export interface ContainerRecord {
  id: string;
  /** Current (last known) name, without the leading slash. */
  name: string;
  /** Every name the container ever bore, oldest first. */
  names: string[];
  image: string;
  imageId?: string;
  command?: string;
  labels?: Record<string, string>;
  tty?: boolean;
  firstSeen: Micros;
  lastSeen: Micros;
  /** created, running, paused, restarting, exited, dead, removed */
  state: string;
  exitCode?: number;
  oomKilled?: boolean;
  startedAt?: Micros;
  finishedAt?: Micros;
  removed?: boolean;
  events: number;
  bytes: number;
  /** Latest redacted inspect document. */
  snapshot?: Record<string, unknown>;
  /** Set when the store learned of the container from a bundle (`dashcam import`), to the host
   * the bundle was recorded on: the recorder never infers its removal from this host's engine. */
  importedFrom?: string;
}

export interface RunRecord {
  start: Micros;
  /** Last time the recorder proved it was alive (written with every batch). */
  heartbeat: Micros;
  stop?: Micros;
  pid: number;
  host: string;
  version: string;
}

export interface IncidentRecord {
  id: string;
  time: Micros;
  container: string;
  trigger: string;
  severity: string;
  title: string;
  windowStart: Micros;
  windowEnd: Micros;
  /** Pins expire after this time (retention may then drop the window). */
  pinUntil: Micros;
  note?: string;
  rule?: string;
  /** Ids of incidents merged into this one. */
  merged?: string[];
  /** Triggers of every incident merged in, in order (the first is `trigger`). */
  triggers?: string[];
  /** When retention dropped the pin early because pinned bytes exceeded their cap. */
  unpinned?: Micros;
}

/** What one retention pass did (`dashcam gc`). */
export interface GcReport {
  startedAt: Micros;
  ms: number;
  deletedEvents: number;
  deletedKeyframes: number;
  deletedContainers: number;
  deletedIncidents: number;
  /** Pins dropped because pinned bytes exceeded their cap (oldest first). */
  unpinned: string[];
  /** Imports (file names) no longer kept out of retention because imported bytes exceeded their cap. */
  releasedImports?: string[];
  sizeBefore: number;
  sizeAfter: number;
  horizon?: Micros;
}

/** `dashcam status`: what the recorder is doing (or, without one, what the store says). */
export interface StatusReport {
  recorder: 'running' | 'not running';
  store: string;
  run?: RunRecord;
  sources: { source: string; state: string; detail?: string; events: number; lost: number; lostByClass?: Record<string, number> }[];
  eventsPerSecond?: number;
  lostEvents: number;
  storeBytes: number;
  /** Oldest retained event time. */
  horizon?: Micros;
  containers: number;
  incidents: number;
  pinnedWindows: number;
  /** Imported bundles whose events retention keeps, and how many events they brought. */
  imports?: { bundles: number; events: number };
  pinnedBytes: number;
  retention?: { retain: Micros; maxSize: number; pinRetain: Micros; pinMax: number; importMax?: number; lastPass?: GcReport };
}
