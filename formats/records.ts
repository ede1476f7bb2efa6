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
}
