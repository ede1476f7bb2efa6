/**
 * Falco's `http_output` (and falcosidekick's webhook) JSON alert → an incident candidate. Falco
 * posts one JSON object per alert: { time, rule, priority, output, output_fields: {
 * "container.id": "<12 hex>" , ... }, source, tags, hostname }.
 */
import { parseRfc3339 } from '../../formats/time.js';
import type { TriggerSettings } from './incident-config.js';
import type { IncidentCandidate, Severity } from './incident-types.js';

export interface FalcoAlert {
  rule: string;
  priority: string;
  output: string;
  time?: string;
  output_fields?: Record<string, unknown>;
  source?: string;
  tags?: string[];
  hostname?: string;
}

export class AlertError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const PRIORITY: Record<string, Severity> = {
  emergency: 'critical', alert: 'critical', critical: 'critical', error: 'high',
  warning: 'medium', notice: 'low', informational: 'low', info: 'low', debug: 'low',
};

export function severityOfPriority(p: string): Severity {
  // Own keys only: a priority of "constructor" must not pick up Object.prototype's.
  const k = p.toLowerCase();
  return Object.hasOwn(PRIORITY, k) ? PRIORITY[k]! : 'medium';
}

/** Checks the shape and returns the alert's container ID as Falco wrote it (12 or 64 hex). */
export function parseAlert(doc: unknown): { alert: FalcoAlert; containerId: string } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new AlertError(400, 'not a Falco alert: expected a JSON object');
  const a = doc as Record<string, unknown>;
  for (const f of ['rule', 'priority', 'output'] as const) {
    if (typeof a[f] !== 'string' || a[f] === '') throw new AlertError(400, `not a Falco alert: "${f}" must be a non-empty string`);
  }
  const fields = a.output_fields;
  if (typeof fields !== 'object' || fields === null) throw new AlertError(422, 'the alert has no output_fields, so no container.id to attach it to');
  const cid = (fields as Record<string, unknown>)['container.id'];
  if (cid === 'host' || cid === '' || cid === undefined || cid === null) {
    throw new AlertError(422, 'the alert is not about a container (output_fields["container.id"] is missing or "host"); dashcam records container incidents only');
  }
  if (typeof cid !== 'string' || !/^(?:[0-9a-f]{12}|[0-9a-f]{64})$/.test(cid)) {
    throw new AlertError(422, 'output_fields["container.id"] must be a 12- or 64-hex container ID');
  }
  return { alert: a as unknown as FalcoAlert, containerId: cid };
}

/** Alert time when it is plausible (Falco's clock is ours: same host), else now. */
export function alertTime(alert: FalcoAlert, now: number): number {
  const t = alert.time ? parseRfc3339(alert.time) : undefined;
  return t !== undefined && t <= now + 60e6 && t > now - 24 * 3600e6 ? t : now;
}

export function alertCandidate(alert: FalcoAlert, container: string, now: number, t: TriggerSettings): IncidentCandidate {
  return {
    time: alertTime(alert, now), container, trigger: 'falco', rule: alert.rule.slice(0, 200),
    severity: severityOfPriority(alert.priority), title: `Falco: ${alert.rule.slice(0, 200)} (${alert.priority})`,
    note: alert.output.slice(0, 4096), before: t.before, after: t.after, source: 'falco',
  };
}
