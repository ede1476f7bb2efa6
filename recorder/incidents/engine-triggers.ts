/**
 * Incidents the engine itself reports: OOM kill, die with a non-zero exit code, a kill by a
 * signal nobody asked the engine for, health status unhealthy, and restart loops (N restarts in
 * M minutes). Reads only `lifecycle` events of type container.
 */
import type { EventOf } from '../../formats/schema.js';
import type { IncidentConfig, TriggerName } from './incident-config.js';
import type { IncidentCandidate } from './incident-types.js';

/** A die this long after `docker kill` / `docker stop` (kill event) was asked for. */
const REQUESTED_MS = 60_000;
/** A die this long after an oom is the OOM kill itself, not another incident. */
const OOM_DIE_MS = 30_000;

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM' };

interface PerContainer { killAsked?: number; oomAt?: number; starts: number[] }

export class EngineTriggers {
  readonly #cfg: IncidentConfig['triggers'];
  readonly #state = new Map<string, PerContainer>();

  constructor(cfg: IncidentConfig['triggers']) {
    this.#cfg = cfg;
  }

  #st(id: string): PerContainer {
    let s = this.#state.get(id);
    if (!s) this.#state.set(id, (s = { starts: [] }));
    return s;
  }

  #fire(name: TriggerName, ev: EventOf<'lifecycle'>, title: string, note?: string): IncidentCandidate[] {
    const t = this.#cfg[name];
    if (!t.enabled) return [];
    return [{ time: ev.time, container: ev.container, trigger: name, severity: t.severity, title, before: t.before, after: t.after, note, source: 'dashcam' }];
  }

  footprint(): Record<string, number> {
    return { triggerState: this.#state.size };
  }

  onLifecycle(ev: EventOf<'lifecycle'>): IncidentCandidate[] {
    if (ev.type !== 'container' || ev.container === '' || ev.attributes.reconciled === 'true') return [];
    const name = ev.attributes.name ?? ev.container.slice(0, 12);
    const s = this.#st(ev.container);
    const ms = ev.time / 1000;
    switch (ev.action) {
      case 'kill':
        s.killAsked = ms;
        return [];
      case 'oom':
        s.oomAt = ms;
        return this.#fire('oom', ev, `${name} was killed for running out of memory`);
      case 'die': {
        const code = Number(ev.attributes.exitCode);
        const asked = s.killAsked !== undefined && ms - s.killAsked < REQUESTED_MS;
        const oom = s.oomAt !== undefined && ms - s.oomAt < OOM_DIE_MS;
        s.killAsked = undefined;
        if (!Number.isFinite(code) || code === 0 || asked || oom) return [];
        if (code > 128 && code < 160) {
          const sig = code - 128;
          return this.#fire('signal', ev, `${name} was killed by ${SIGNALS[sig] ?? `signal ${sig}`} (exit ${code}) that nobody asked the engine for`);
        }
        return this.#fire('exit', ev, `${name} exited with code ${code}`);
      }
      case 'health_status':
        if (ev.attributes.actionDetail !== 'unhealthy') return [];
        return this.#fire('unhealthy', ev, `${name} became unhealthy`);
      case 'start': {
        const loop = this.#cfg['restart-loop'];
        s.starts.push(ms);
        while (s.starts.length && ms - s.starts[0]! > loop.within / 1000) s.starts.shift();
        // N restarts = N+1 starts in the interval.
        if (s.starts.length <= loop.count) return [];
        const n = s.starts.length - 1;
        s.starts = [ms];
        return this.#fire('restart-loop', ev, `${name} restarted ${n} times in ${Math.round(loop.within / 60e6)} min`);
      }
      case 'destroy':
        this.#state.delete(ev.container);
        return [];
      default:
        return [];
    }
  }
}
