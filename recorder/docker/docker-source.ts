/**
 * The Docker source: the engine's event stream (containers, networks, volumes), inspect snapshots
 * on create/start/die, logs of every running container, stats. When the event stream breaks it
 * reconnects with backoff; the engine keeps only its last 256 events, so after every (re)connect it
 * lists all containers and reconciles what changed unobserved, and records a `gap`.
 */
import Docker from 'dockerode';
import type { CaptureSource, ContainerDirectory, ContainerProcessInfo, Sink, SourceHealth } from '../source.js';
import type { Logger } from '../logger.js';
import { nowMicros, parseRfc3339 } from '../../formats/time.js';
import { LogFollower, emptyLogCursor, type LogCursor } from './log-follower.js';
import { StatsPoller } from './stats-poller.js';
import { EngineEvents, type EngineGap, type EngineMessage } from './engine-events.js';
import { Snapshotter } from './snapshotter.js';
import type { RedactKey } from '../../formats/redact.js';

export interface KnownContainer { id: string; state: string; removed?: boolean; firstSeen?: number; importedFrom?: string }

const GAP_DETAIL = 'engine events unobserved; containers reconciled from the container list';

export interface DockerSourceOptions {
  /** Defaults to DOCKER_HOST, else /var/run/docker.sock. */
  docker?: Docker;
  maxLogLine: number;
  statsIntervalMs: number;
  /** Where the previous recorder run stopped observing (µs); events since then are asked back. */
  resumeFrom?: number;
  /** Containers the store knows (to reconcile removals that happened unobserved). */
  known: () => Iterable<KnownContainer>;
  /** Engine times of the last stored stdout and stderr lines of a container (restart dedupe). */
  storedLogCursor?: (id: string) => Promise<LogCursor>;
  log: Logger;
  /** Key of the redaction markers (formats/redact.ts). */
  redactKey: RedactKey;
}


const isTty = (doc: Record<string, unknown>): boolean => Boolean((doc.Config as { Tty?: boolean } | undefined)?.Tty);

export function dockerFromEnv(): Docker {
  // dockerode/docker-modem read DOCKER_HOST (unix://, tcp://) themselves; default is the local socket.
  return process.env.DOCKER_HOST ? new Docker() : new Docker({ socketPath: '/var/run/docker.sock' });
}

export class DockerSource implements CaptureSource, ContainerDirectory {
  readonly name = 'docker' as const;
  readonly #docker: Docker;
  readonly #opts: DockerSourceOptions;
  /** Running containers, as kernel sources need them. */
  readonly #live = new Map<string, ContainerProcessInfo>();
  /** Containers the engine told us of (an event or the list), until destroyed. */
  readonly #announced = new Set<string>();
  /** Engine time of the last log line per container, shared by its followers: restarts and
   * reconnects never duplicate a line. */
  readonly #cursors = new Map<string, LogCursor>();
  readonly #startCbs: ((i: ContainerProcessInfo) => void)[] = [];
  readonly #stopCbs: ((id: string) => void)[] = [];
  readonly #followers = new Set<LogFollower>();
  /** Containers a follow was asked for while one was running (#followAsync). */
  readonly #followAgain = new Set<string>();
  #sink!: Sink;
  #events!: EngineEvents;
  #stats!: StatsPoller;
  #snap!: Snapshotter;
  #health: SourceHealth = { source: 'docker', state: 'starting', events: 0, lost: 0 };
  #stopping = false;

  constructor(opts: DockerSourceOptions) {
    this.#opts = opts;
    this.#docker = opts.docker ?? dockerFromEnv();
  }

  health(): SourceHealth {
    return { ...this.#health };
  }

  onStart(cb: (i: ContainerProcessInfo) => void): void { this.#startCbs.push(cb); }
  onStop(cb: (id: string) => void): void { this.#stopCbs.push(cb); }
  running(): ContainerProcessInfo[] { return [...this.#live.values()]; }

  /** Sizes of per-container state (the leak test checks they return to their baseline). */
  footprint(): Record<string, number> {
    return { live: this.#live.size, logCursors: this.#cursors.size, logFollowers: this.#followers.size, logFollowAgain: this.#followAgain.size, ...this.#snap?.footprint(), statsPrev: this.#stats?.size ?? 0 };
  }

  async start(sink: Sink): Promise<void> {
    this.#sink = sink;
    const log = this.#opts.log;
    this.#snap = new Snapshotter(this.#docker, sink, log, this.#opts.redactKey);
    this.#stats = new StatsPoller(this.#docker, this.#opts.statsIntervalMs, () => this.running().map((i) => i.id), sink, log);
    this.#stats.start();
    this.#events = new EngineEvents(this.#docker, log, {
      onMessage: (m) => this.#onMessage(m),
      onConnected: (gap) => this.#onConnected(gap),
      onDisconnected: (why) => {
        this.#health = { ...this.#health, state: 'degraded', detail: `engine unreachable: ${why}` };
      },
    });
    this.#events.start(this.#opts.resumeFrom);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#events?.stop();
    this.#stats?.stop();
    for (const f of this.#followers) f.stop();
    await Promise.all([...this.#followers].map((f) => f.done));
    await this.#snap?.idle();
    this.#health = { ...this.#health, state: 'stopped' };
  }

  /**
   * After every (re)connect: record the gap, then list and reconcile. The gap goes to the host's
   * timeline and, as a copy, to every container it concerns, stamped inside that container's
   * life: a container removed before the recorder came back ends before the gap was noticed,
   * and one created meanwhile begins after the hole began. The host copy says so
   * (`perContainer`), and container windows skip it, so each container shows the gap once.
   */
  async #onConnected(gap: EngineGap | undefined): Promise<void> {
    this.#health = { ...this.#health, state: 'running', detail: undefined };
    if (gap) {
      this.#sink.emit({ kind: 'gap', source: 'docker', container: '', reason: gap.reason, from: gap.from, to: gap.to, detail: GAP_DETAIL, perContainer: true });
      // Existing when the hole began, as far as the store knows.
      const copied = new Set<string>();
      for (const k of this.#opts.known()) {
        if (k.removed || k.importedFrom !== undefined) continue;
        this.#gapCopy(k.id, gap, Math.max(gap.from, k.firstSeen ?? 0));
        copied.add(k.id);
      }
      await this.#reconcile(gap, copied);
    } else await this.#reconcile(undefined);
  }

  #gapCopy(container: string, gap: EngineGap, time?: number): void {
    this.#sink.emit({ kind: 'gap', source: 'docker', container, ...(time !== undefined ? { time } : {}), reason: gap.reason, from: gap.from, to: gap.to, detail: GAP_DETAIL });
  }

  /** `copied`: containers already given their copy of `gap`. */
  async #reconcile(gap: EngineGap | undefined, copied?: Set<string>): Promise<void> {
    const gapFrom = gap?.from;
    const log = this.#opts.log;
    let list: Docker.ContainerInfo[];
    try {
      list = await this.#docker.listContainers({ all: true });
    } catch (err) {
      log.warn(`reconcile: cannot list containers: ${(err as Error).message}`);
      return;
    }
    const known = new Map<string, KnownContainer>();
    for (const k of this.#opts.known()) known.set(k.id, k);
    const present = new Set(list.map((c) => c.Id));
    for (const id of present) this.#announced.add(id);
    for (const c of list) {
      const k = known.get(c.Id);
      const running = c.State === 'running';
      const changed = !k || k.removed || (k.state === 'running') !== running;
      const doc = changed ? await this.#snap.take(c.Id, k ? 'reconcile' : 'adopt') : undefined;
      if (this.#live.has(c.Id) && !this.#following(c.Id)) {
        // Followed before the outage, its stream broke with the engine: collect from the cursor
        // (a stopped container's logs are still served; the stream then ends by itself).
        this.#follow(c.Id, doc ? isTty(doc) : (this.#snap.tty(c.Id) ?? false), this.#resumeAt(c.Id, gapFrom));
      }
      if (!running && this.#live.has(c.Id)) {
        // Died while unobserved (the engine's shutdown stopped it): no longer running.
        this.#detach(c.Id, false);
        continue;
      }
      // Created while we were away: its copy of the gap, now that its snapshot gave it a record.
      if (gap && !copied?.has(c.Id)) this.#gapCopy(c.Id, gap);
      if (!running && !this.#live.has(c.Id)) {
        // Lived and died while we were away: collect what it logged.
        const startedAt = parseRfc3339(String((doc?.State as { StartedAt?: string } | undefined)?.StartedAt ?? '')) ?? 0;
        if (doc && gapFrom !== undefined && startedAt >= gapFrom) this.#follow(c.Id, isTty(doc), startedAt);
        continue;
      }
      if (running && !this.#live.has(c.Id)) {
        const d = doc ?? (await this.#snap.take(c.Id, 'adopt'));
        if (d) this.#attach(c.Id, d, gapFrom ?? nowMicros());
      }
    }
    for (const k of known.values()) {
      // An imported container was recorded elsewhere: its absence here says nothing.
      if (k.removed || present.has(k.id) || k.importedFrom !== undefined) continue;
      // Removed while unobserved: say so, and say that dashcam inferred it, not the engine.
      this.#sink.emit({ kind: 'lifecycle', source: 'dashcam', container: k.id, type: 'container', action: 'destroy', attributes: { reconciled: 'true' } });
    }
  }

  #onMessage(m: EngineMessage): void {
    this.#health.events++;
    const raw = m.Action ?? '';
    const colon = raw.indexOf(':');
    const action = colon === -1 ? raw : raw.slice(0, colon);
    const attributes: Record<string, string> = { ...(m.Actor?.Attributes ?? {}) };
    if (colon !== -1) attributes.actionDetail = raw.slice(colon + 1).trim();
    const type = m.Type ?? 'unknown';
    const id = type === 'container' ? (m.Actor?.ID ?? '') : (attributes.container ?? '');
    const container = /^[0-9a-f]{64}$/.test(id) ? id : '';
    const time = m.timeNano ? Math.floor(m.timeNano / 1000) : (m.time ?? 0) * 1e6 || nowMicros();
    this.#sink.emit({ kind: 'lifecycle', source: 'docker', container, time, type, action, attributes });
    if (type !== 'container' || !container) return;
    if (action !== 'destroy') this.#announced.add(container);
    switch (action) {
      case 'create':
        void this.#snap.take(container, 'create');
        break;
      case 'start': {
        // Short-lived containers (`run --rm`) can be gone before an inspect returns: start
        // following logs at once when the create snapshot already told us whether it is a TTY.
        // Otherwise follow once the start snapshot says, even if the container already died:
        // the engine keeps a stopped container's logs until it is removed.
        const since = time - 1_000_000;
        const tty = this.#snap.tty(container);
        if (tty !== undefined) this.#follow(container, tty, since);
        void this.#snap.take(container, 'start').then((doc) => {
          if (!doc) return;
          if (tty === undefined) this.#follow(container, isTty(doc), since);
          this.#attach(container, doc, undefined);
        });
        break;
      }
      case 'die':
        void this.#snap.take(container, 'die');
        this.#detach(container, false);
        break;
      case 'update':
        void this.#snap.take(container, 'update');
        break;
      case 'health_status':
        if (this.#opts.statsIntervalMs > 0 && (attributes.actionDetail ?? '').includes('unhealthy')) void this.#stats.sample(container, 'unhealthy');
        break;
      case 'destroy':
        this.#detach(container, true);
        break;
    }
  }

  /** Samples a container's stats every second until `untilMs` (an open incident window). */
  boostStats(id: string, untilMs: number): void {
    if (this.#live.has(id)) this.#stats?.boost(id, untilMs);
  }

  /** A running container: tell kernel sources its pid; follow its logs unless already done. */
  #attach(id: string, doc: Record<string, unknown>, logsSince: number | undefined): void {
    const state = doc.State as { Pid?: number; Running?: boolean } | undefined;
    if (!state?.Running) return;
    const info: ContainerProcessInfo = { id, pid: state.Pid ?? 0, name: String(doc.Name ?? '').replace(/^\//, '') };
    this.#live.set(id, info);
    if (logsSince !== undefined) this.#follow(id, isTty(doc), logsSince);
    for (const cb of this.#startCbs) cb(info);
  }

  /** Follows logs from `since` until the container stops (the stream then ends by itself). */
  #follow(id: string, tty: boolean, since: number, catchUp = 0): void {
    void this.#followAsync(id, tty, since, catchUp).catch((err: Error) => this.#opts.log.warn(`logs of ${id.slice(0, 12)}: ${err.message}`));
  }

  async #followAsync(id: string, tty: boolean, since: number, catchUp: number): Promise<void> {
    let cursor = this.#cursors.get(id);
    if (!cursor) {
      // After a recorder restart, resume dedupe from what the store already holds.
      const stored = (await this.#opts.storedLogCursor?.(id)) ?? emptyLogCursor();
      // A follow asked for at the same time may have set it meanwhile: there is one per container.
      cursor = this.#cursors.get(id);
      if (!cursor) {
        this.#cursors.set(id, (cursor = stored));
        // The previous run may have been behind the engine when it died: ask from the last line it
        // stored, not from when it was last alive (dedupe skips what is already there).
        const seen = [cursor.stdout.time, cursor.stderr.time].filter((t) => t > 0);
        if (seen.length) since = Math.min(since, ...seen);
      }
    }
    if (this.#stopping) return;
    // One follower per container at a time. A container that starts while the recorder is
    // reconciling is both adopted and seen starting; two followers both admitted every line
    // (each gate starts from the cursor as it was), and each line was stored twice. A follow
    // asked for meanwhile (a restart seen before the old stream ended) is done when it ends.
    if (this.#following(id)) {
      this.#followAgain.add(id);
      return;
    }
    this.#opts.log.debug(`logs of ${id.slice(0, 12)}: following since ${since} (stored up to ${cursor.stdout.time}/${cursor.stderr.time})`);
    const f = new LogFollower(this.#docker, id, { tty, maxLine: this.#opts.maxLogLine, since, cursor }, this.#sink, this.#opts.log);
    this.#followers.add(f);
    await f.done;
    this.#followers.delete(f);
    this.#opts.log.debug(`logs of ${id.slice(0, 12)}: stream ended after ${f.lines} lines`);
    // The engine ends a log stream when the container stops, but also on its own restart and,
    // under heavy output, sometimes early: while the container runs, follow on from the cursor.
    // While the engine is unreachable, the reconcile after the reconnect follows on instead.
    const again = this.#followAgain.delete(id);
    if (this.#stopping || this.#health.state !== 'running') return;
    if (this.#live.has(id) || again) {
      await new Promise((r) => setTimeout(r, 200));
      if (this.#stopping || !(this.#live.has(id) || again) || !this.#cursors.has(id) || this.#health.state !== 'running') return;
      this.#follow(id, tty, this.#resumeAt(id, since));
    } else if (f.lines > 0 && catchUp < 3 && this.#cursors.has(id)) {
      // Stopped: a stream cut before the tail of the log file would lose its last lines, so read
      // once more from the cursor (a stopped container's stream ends by itself; dedupe skips
      // what is already stored) until a read finds nothing new.
      await new Promise((r) => setTimeout(r, 200));
      this.#follow(id, tty, this.#resumeAt(id, since), catchUp + 1);
    }
  }

  /** Engine time to follow a container's logs on from: its cursor, else `fallback`. */
  #resumeAt(id: string, fallback: number | undefined): number {
    const c = this.#cursors.get(id);
    const seen = c ? [c.stdout.time, c.stderr.time].filter((t) => t > 0) : [];
    return seen.length ? Math.min(...seen) : (fallback ?? nowMicros());
  }

  #following(id: string): boolean {
    for (const f of this.#followers) if (f.id === id) return true;
    return false;
  }

  knows(id: string): boolean {
    return this.#announced.has(id);
  }

  #detach(id: string, destroyed: boolean): void {
    if (destroyed) {
      this.#announced.delete(id);
      this.#cursors.delete(id);
      this.#followAgain.delete(id);
      this.#snap.forget(id);
    }
    if (!this.#live.delete(id)) return;
    this.#stats.forget(id);
    for (const cb of this.#stopCbs) cb(id);
  }
}
