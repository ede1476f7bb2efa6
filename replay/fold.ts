/**
 * Noise control: the engine's health-check probes (exec_create / exec_start / exec_die every
 * interval, and the probe's own processes when a kernel source sees them) are recorded in full
 * but folded in human-facing replay output (text and TUI); `--no-fold` shows them all. The JSON
 * Lines contract is never folded: scripts get every event.
 *
 * A probe is recognised by its command line: the container's Config.Healthcheck.Test as the
 * engine prints it in exec actions (`/bin/sh -c <cmd>` for CMD-SHELL). A `docker exec` of exactly
 * that command is folded too.
 */
import type { DashEvent } from '../formats/schema.js';
import type { ContainerRecord } from '../formats/records.js';
import type { ContainerState } from '../formats/state.js';
import { probeCommand } from '../formats/state-apply.js';

type HealthDoc = { Config?: { Healthcheck?: { Test?: string[] | null } } };

export class ProbeFolder {
  readonly #cmd = new Map<string, string>();
  /** execIDs and process keys known to be probes (container-qualified). */
  readonly #known = new Set<string>();

  constructor(records: readonly ContainerRecord[] = []) {
    for (const r of records) this.#learn(r.id, r.snapshot as HealthDoc | undefined);
  }

  #learn(id: string, snap: HealthDoc | undefined): void {
    const cmd = probeCommand(snap?.Config?.Healthcheck?.Test);
    if (cmd !== undefined) this.#cmd.set(id, cmd);
  }

  /** True when `ev` belongs to a health-check probe. `state` (the container's, if at hand) resolves exec_die seen without its exec_start. */
  isProbe(ev: DashEvent, state?: ContainerState): boolean {
    const id = ev.container;
    switch (ev.kind) {
      case 'snapshot':
        this.#learn(id, ev.snapshot as HealthDoc);
        return false;
      case 'lifecycle': {
        const exec = ev.attributes?.execID;
        if (!exec || !ev.action.startsWith('exec_')) return false;
        const key = `${id}/exec:${exec}`;
        const cmd = this.#cmd.get(id) ?? state?.probeCmd;
        if (cmd !== undefined && ev.attributes.actionDetail === cmd) { this.#known.add(key); return true; }
        return this.#known.has(key) || state?.procs.get(`exec:${exec}`)?.probe === true;
      }
      case 'exec': {
        const cmd = this.#cmd.get(id) ?? state?.probeCmd;
        const key = `${id}/${ev.procKey ?? `pid:${ev.pid}`}`;
        if (cmd !== undefined && (ev.argv ?? []).join(' ') === cmd) { this.#known.add(key); return true; }
        return this.#known.has(key);
      }
      case 'fork': {
        const parent = ev.parentKey === undefined ? undefined : `${id}/${ev.parentKey}`;
        if (parent !== undefined && this.#known.has(parent)) { this.#known.add(`${id}/${ev.procKey ?? `pid:${ev.pid}`}`); return true; }
        return false;
      }
      case 'exit': {
        const key = `${id}/${ev.procKey ?? `pid:${ev.pid}`}`;
        return this.#known.has(key) || (ev.procKey !== undefined && state?.procs.get(ev.procKey)?.probe === true);
      }
      default: return false;
    }
  }
}

/** A run of folded probe events, reported where it began. */
export interface FoldSummary { fold: true; time: number; container: string; events: number; probes: number; failed: number }

/**
 * Streams events with probe runs replaced by one summary each (emitted when the run ends, so a
 * consumer sees it in time order before the next real event).
 */
export async function* foldEvents(chunks: AsyncIterable<DashEvent[]>, folder: ProbeFolder): AsyncIterable<(DashEvent | FoldSummary)[]> {
  let run: FoldSummary | undefined;
  for await (const chunk of chunks) {
    const out: (DashEvent | FoldSummary)[] = [];
    for (const ev of chunk) {
      if (folder.isProbe(ev)) {
        run ??= { fold: true, time: ev.time, container: ev.container, events: 0, probes: 0, failed: 0 };
        run.events++;
        if (ev.kind === 'lifecycle' && ev.action === 'exec_start') run.probes++;
        if (ev.kind === 'lifecycle' && ev.action === 'exec_die' && (ev.attributes.exitCode ?? '0') !== '0') run.failed++;
        continue;
      }
      if (run) { out.push(run); run = undefined; }
      out.push(ev);
    }
    if (out.length) yield out;
  }
  if (run) yield [run];
}

export function isFold(x: DashEvent | FoldSummary): x is FoldSummary {
  return (x as FoldSummary).fold === true;
}
