/**
 * Incident settings: every trigger and rule on/off, its severity and its window, with the
 * defaults in one place. `dashcam record --rules FILE` merges a JSON file over the defaults:
 *
 *   { "window": { "before": "5m", "after": "2m" },
 *     "triggers": { "exit": { "enabled": false }, "restart-loop": { "count": 5, "within": "10m" } },
 *     "rules": { "new-outbound": { "enabled": true }, "write-below-system": { "after": "5m" } } }
 */
import { readFile } from 'node:fs/promises';
import type { Micros } from '../../formats/schema.js';
import { FormatError } from '../../formats/errors.js';
import { parseDurationMicros } from '../../formats/units.js';

export interface TriggerSettings {
  enabled: boolean;
  severity: string;
  before: Micros;
  after: Micros;
}

export interface IncidentConfig {
  triggers: {
    oom: TriggerSettings;
    /** Die with a non-zero exit code. Stops and kills asked of the engine are not incidents. */
    exit: TriggerSettings;
    /** Killed by a signal nobody asked the engine for (exit code 128+n without a kill/stop). */
    signal: TriggerSettings;
    unhealthy: TriggerSettings;
    'restart-loop': TriggerSettings & { count: number; within: Micros };
    manual: TriggerSettings;
    falco: TriggerSettings;
  };
  rules: {
    'interactive-shell': TriggerSettings & { shells: string[] };
    'write-below-system': TriggerSettings & { prefixes: string[] };
    'package-manager': TriggerSettings & { programs: string[] };
    drift: TriggerSettings;
    'sensitive-read': TriggerSettings;
    'privilege-root': TriggerSettings;
    ptrace: TriggerSettings;
    'new-outbound': TriggerSettings & { ignorePorts: number[] };
  };
  /** Executables a container may write then run per container remembered (drift), and destinations (new-outbound). */
  memory: number;
}

export type TriggerName = keyof IncidentConfig['triggers'];
export type RuleName = keyof IncidentConfig['rules'];

const MIN = 60_000_000;
const on = (severity: string, enabled = true): TriggerSettings => ({ enabled, severity, before: 5 * MIN, after: 2 * MIN });

export function defaultIncidentConfig(): IncidentConfig {
  return {
    triggers: {
      oom: on('high'),
      exit: on('medium'),
      signal: on('medium'),
      unhealthy: on('medium'),
      'restart-loop': { ...on('high'), count: 3, within: 5 * MIN },
      manual: on('medium'),
      falco: on('medium'),
    },
    rules: {
      'interactive-shell': { ...on('high'), shells: ['sh', 'ash', 'bash', 'dash', 'zsh', 'ksh', 'csh', 'tcsh', 'fish', 'busybox'] },
      'write-below-system': { ...on('medium'), prefixes: ['/etc/', '/bin/', '/sbin/', '/usr/', '/lib/', '/lib64/'] },
      'package-manager': { ...on('medium'), programs: ['apt', 'apt-get', 'aptitude', 'dpkg', 'yum', 'dnf', 'microdnf', 'rpm', 'apk', 'zypper', 'pacman', 'pip', 'pip3', 'gem', 'npm'] },
      drift: on('high'),
      'sensitive-read': on('high'),
      'privilege-root': on('high'),
      ptrace: on('high'),
      'new-outbound': { ...on('low', false), ignorePorts: [53] },
    },
    memory: 4096,
  };
}

type Json = Record<string, unknown>;

function applySettings(target: Record<string, unknown>, src: Json, where: string, window: Json): void {
  for (const [k, v] of Object.entries({ ...window, ...src })) {
    if (!(k in target)) throw new FormatError('BAD_ARGUMENT', `${where}: unknown setting ${JSON.stringify(k)}`);
    const cur = target[k];
    if ((k === 'before' || k === 'after' || k === 'within') && typeof v === 'string') target[k] = parseDurationMicros(v);
    else if ((k === 'before' || k === 'after' || k === 'within') && typeof v === 'number') target[k] = v * 1e6; // seconds
    else if (Array.isArray(cur) && Array.isArray(v)) target[k] = v;
    else if (typeof cur === typeof v) target[k] = v;
    else throw new FormatError('BAD_ARGUMENT', `${where}.${k}: expected a ${Array.isArray(cur) ? 'list' : typeof cur}`);
  }
}

/** Merges a parsed JSON document over the defaults; unknown names are errors, not ignored. */
export function incidentConfigFrom(doc: unknown, base: IncidentConfig = defaultIncidentConfig()): IncidentConfig {
  if (typeof doc !== 'object' || doc === null) throw new FormatError('BAD_ARGUMENT', 'rules file: expected a JSON object');
  const d = doc as Json;
  const window = (d.window ?? {}) as Json;
  for (const k of Object.keys(d)) if (!['window', 'triggers', 'rules', 'memory'].includes(k)) throw new FormatError('BAD_ARGUMENT', `rules file: unknown section ${JSON.stringify(k)}`);
  if (typeof d.memory === 'number') base.memory = d.memory;
  for (const section of ['triggers', 'rules'] as const) {
    const table = base[section] as unknown as Record<string, Record<string, unknown>>;
    const given = (d[section] ?? {}) as Json;
    for (const name of Object.keys(given)) if (!(name in table)) throw new FormatError('BAD_ARGUMENT', `rules file: unknown ${section === 'rules' ? 'rule' : 'trigger'} ${JSON.stringify(name)} (known: ${Object.keys(table).join(', ')})`);
    for (const [name, settings] of Object.entries(table)) applySettings(settings, (given[name] ?? {}) as Json, `${section}.${name}`, window);
  }
  return base;
}

export async function loadIncidentConfig(file: string): Promise<IncidentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FormatError('BAD_ARGUMENT', `cannot read rules file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FormatError('BAD_ARGUMENT', `rules file ${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return incidentConfigFrom(doc);
}
