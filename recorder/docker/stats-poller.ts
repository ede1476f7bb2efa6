/**
 * Samples resource stats of running containers every `intervalMs` with one-shot stats calls
 * (no 1 s wait for a second sample inside the engine); CPU % is computed from our own previous
 * sample of the same container.
 */
import type Docker from 'dockerode';
import type { Sink } from '../source.js';
import type { Logger } from '../logger.js';

interface Prev { cpu: number; system: number }
type Stats = Docker.ContainerStats & { memory_stats: { stats?: Record<string, number> } };

export class StatsPoller {
  readonly #prev = new Map<string, Prev>();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(readonly docker: Docker, readonly intervalMs: number, readonly running: () => string[], readonly sink: Sink, readonly log: Logger) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.#timer = setInterval(() => void this.#tick(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Containers with a previous sample held. */
  get size(): number {
    return this.#prev.size;
  }

  forget(id: string): void {
    this.#prev.delete(id);
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

  async sample(id: string): Promise<void> {
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
      netRx, netTx, blkRead, blkWrite, pids: s.pids_stats?.current,
    });
  }
}
