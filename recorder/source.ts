import type { NewEvent, Source } from '../formats/schema.js';

/** Where sources put what they see. `emit` never blocks and never throws. */
export interface Sink {
  emit(ev: NewEvent): void;
}

export interface SourceHealth {
  source: Source;
  state: 'starting' | 'running' | 'degraded' | 'stopped' | 'failed';
  detail?: string;
  events: number;
  lost: number;
  /** Of `lost`, how many by class of event, where the source counts them apart. */
  lostByClass?: Record<string, number>;
}

/** Every capture source implements this (docker, ebpf, procfs, bundle reader, fixtures). */
export interface CaptureSource {
  readonly name: Source;
  start(sink: Sink): Promise<void>;
  stop(): Promise<void>;
  health(): SourceHealth;
  /** Sizes of the per-container maps it holds (the churn test checks they return to baseline). */
  footprint?(): Record<string, number>;
}

/** A running container as the engine reports it; kernel sources attribute by its namespaces. */
export interface ContainerProcessInfo {
  id: string;
  /** Host pid of the container's init process (inspect State.Pid). */
  pid: number;
  name: string;
}

/**
 * The docker source tells kernel-level sources which containers run, so they can map
 * namespace inodes / cgroups to container IDs.
 */
export interface ContainerDirectory {
  onStart(cb: (info: ContainerProcessInfo) => void): void;
  onStop(cb: (id: string) => void): void;
  running(): ContainerProcessInfo[];
  /** Whether the engine announced this container (created, listed), running or not. */
  knows?(id: string): boolean;
}
