/** What triggers hand to the incident engine, and the severities they use. */
import type { Micros } from '../../formats/schema.js';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function maxSeverity(a: string, b: string): string {
  return SEVERITIES.indexOf(b as Severity) > SEVERITIES.indexOf(a as Severity) ? b : a;
}

/** One trigger firing, before merging. */
export interface IncidentCandidate {
  time: Micros;
  container: string;
  /** oom, exit, signal, unhealthy, restart-loop, a rule name, manual, falco. */
  trigger: string;
  severity: Severity | string;
  title: string;
  /** Window around `time`, microseconds. */
  before: Micros;
  after: Micros;
  note?: string;
  rule?: string;
  source?: 'docker' | 'ebpf' | 'procfs' | 'falco' | 'dashcam';
}
