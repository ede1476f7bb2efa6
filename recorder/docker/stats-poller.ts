/**
 * Samples resource stats of running containers every `intervalMs` with one-shot stats calls
 * (no 1 s wait for a second sample inside the engine); CPU % is computed from our own previous
 * sample of the same container. While an incident window is open on a container it is sampled
 * every BOOST_MS instead (a short OOM cycle has no sample at a 10 s interval), and a container
 * that turns unhealthy is sampled at once.
 */
import type Docker from 'dockerode';
import type { Sink } from '../source.js';
import type { Logger } from '../logger.js';

interface Prev { cpu: number; system: number }
const BOOST_MS = 1000;
type Stats = Docker.ContainerStats & { memory_stats: { stats?: Record<string, number> } };

export class StatsPoller {
  readonly #prev = new Map<string, Prev>();
  /** Containers sampled every BOOST_MS, until (epoch ms). */
  readonly #boosted = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #fast: NodeJS.Timeout | undefined;
  #busy = false;
  #fastBusy = false;

  constructor(readonly docker: Docker, readonly intervalMs: number, readonly running: () => string[], readonly sink: Sink, readonly log: Logger) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.#timer = setInterval(() => void this.#tick(), this.intervalMs);
    this.#timer.unref();
    if (this.intervalMs > BOOST_MS) {
      this.#fast = setInterval(() => void this.#fastTick(), BOOST_MS);
      this.#fast.unref();
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#fast) clearInterval(this.#fast);
  }

  /** Samples `id` every second until `untilMs` (an incident's window end); off when stats are. */
  boost(id: string, untilMs: number): void {
    if (this.intervalMs <= BOOST_MS || untilMs <= Date.now()) return;
    this.#boosted.set(id, Math.max(untilMs, this.#boosted.get(id) ?? 0));
  }

  /** Containers with a previous sample held, and sampled fast. */
  get size(): number {
    return this.#prev.size + this.#boosted.size;
  }

  forget(id: string): void {
    this.#prev.delete(id);
    this.#boosted.delete(id);
  }

  async #fastTick(): Promise<void> {
    if (this.#fastBusy || this.#boosted.size === 0) return;
    this.#fastBusy = true;
    try {
      const now = Date.now();
      const running = new Set(this.running());
      const due: string[] = [];
      for (const [id, until] of this.#boosted) {
        if (until < now || !running.has(id)) this.#boosted.delete(id);
        else due.push(id);
      }
      await Promise.all(due.map((id) => this.sample(id)));
    } finally {
      this.#fastBusy = false;
    }
  }

  async #tick(): Promise<void> {
    if (this.#busy) return; // a slow engine must not pile up concurrent sweeps
    this.#busy = true;
    try {
      await Promise.all(this.running().map((id) => this.sample(id)));
    } finally {
      this.#busy = false;
    }
  }

  /** `why`: a sample outside the interval says why (the event's `sample` field). */
  async sample(id: string, why?: string): Promise<void> {
    let s: Stats;
    try {
      s = (await this.docker.getContainer(id).stats({ stream: false, 'one-shot': true })) as Stats;
    } catch (err) {
      this.log.debug(`stats of ${id.slice(0, 12)}: ${(err as Error).message}`);
      return;
    }
    const cpu = s.cpu_stats?.cpu_usage?.total_usage ?? 0;
    const system = s.cpu_stats?.system_cpu_usage ?? 0;
    const online = s.cpu_stats?.online_cpus || s.cpu_stats?.cpu_usage?.percpu_usage?.length || 1;
    const prev = this.#prev.get(id);
    this.#prev.set(id, { cpu, system });
    let cpuPercent: number | undefined;
    if (prev && system > prev.system) cpuPercent = Math.round(((cpu - prev.cpu) / (system - prev.system)) * online * 10000) / 100;
    const ms = s.memory_stats ?? {};
    const inactive = ms.stats?.total_inactive_file ?? ms.stats?.inactive_file ?? 0;
    let netRx = 0, netTx = 0;
    for (const n of Object.values(s.networks ?? {})) { netRx += n.rx_bytes; netTx += n.tx_bytes; }
    let blkRead = 0, blkWrite = 0;
    for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
      if (/read/i.test(e.op)) blkRead += e.value;
      else if (/write/i.test(e.op)) blkWrite += e.value;
    }
    this.sink.emit({
      kind: 'stats', source: 'docker', container: id,
      cpuPercent, cpuTotalNs: cpu, memUsage: ms.usage !== undefined ? Math.max(0, ms.usage - inactive) : undefined, memLimit: ms.limit,
      netRx, netTx, blkRead, blkWrite, pids: s.pids_stats?.current, ...(why ? { sample: why } : {}),
    });
  }
}
