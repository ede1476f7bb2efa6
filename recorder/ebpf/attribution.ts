/**
 * Maps kernel events to containers. Keys, in order: the cgroup v2 id (learned from the engine's
 * init pid, or from the cgroup's own name, which for Docker is the container ID, printed with
 * every exec, once the engine has announced that ID), then the mount namespace inode (learned
 * from the engine's init pid; works for host-PID containers too). Host-namespace events are host
 * events. Anything else is held for `holdMs` (a container that lives under a second may run
 * before the engine tells us its pid) and then recorded as a host event with `host`, or counted
 * in an `ebpf-unattributed` gap: never dropped silently.
 *
 * The kernel hands a freed namespace inode to the next namespace made (a host `unshare -m`, an
 * image extraction), so a stopped container's inode is retired at once: only processes that
 * started before the stop (its own, still exiting) are attributed by it. cgroup ids are not reused.
 */
import type { NewEvent } from '../../formats/schema.js';

const CONTAINER_CGROUP = /^(?:docker-)?([0-9a-f]{64})(?:\.scope)?$/;
/** systemd's cgroups of services and login sessions: no container runtime puts a container there. */
const HOST_UNIT = /^(?:.+\.service|session-[0-9]+\.scope|init\.scope)$/;
const MAX_HOST_CGROUPS = 4096;
/** Events held at most; beyond it the oldest are counted unattributed at once (a host storm). */
const MAX_HELD = 50_000;

/** `ticks`: the process's start, in clock ticks since boot (when the event has a process). */
export interface AttributionKeys { cgroup: number; mnt: number; ticks?: number }
export interface AttributorOptions {
  host: boolean;
  /** Mount namespace inode of the host (pid 1). */
  hostMnt: number;
  holdMs: number;
  emit: (ev: NewEvent) => void;
  now?: () => number;
  /** Clock ticks since boot now (processes' start times are in these). */
  nowTicks?: () => number;
  /** Whether a watched engine announced this container ID (a cgroup name alone does not make one). */
  isContainer?: (id: string) => boolean;
  /** The cgroup v2 root's id: host processes are there once containers are seen to have their own. */
  rootCgroup?: number;
}
const MAX_PENDING_NAMES = 4096;
interface Held { ev: NewEvent; keys: AttributionKeys; at: number }

export class Attributor {
  readonly #o: AttributorOptions;
  readonly #byCgroup = new Map<number, string>();
  readonly #byMnt = new Map<number, string>();
  /** Mount namespace inodes of stopped containers → the tick they stopped at. */
  readonly #retired = new Map<number, number>();
  /** Mount namespace inode → the tick the container's init started at: older processes are not its. */
  readonly #since = new Map<number, number>();
  /** When each key was last learned, so a forget does not undo a later learning (a restart). */
  #epoch = 0;
  readonly #cgroupEpoch = new Map<number, number>();
  readonly #mntEpoch = new Map<number, number>();
  /** Cgroups named after an ID no engine has announced yet: learned if one does. */
  readonly #pendingNames = new Map<string, { cgroup: number }>();
  /** cgroups proven the host's (systemd services and sessions, by the name printed with an exec). */
  readonly #hostCgroups = new Set<number>();
  /** Some container has a cgroup v2 of its own: then the root cgroup holds host processes only. */
  #ownCgroups = false;
  #held: Held[] = [];
  #unattributed = 0;
  #unattributedFrom = 0;
  #unattributedTo = 0;
  readonly stats = { held: 0, resolvedLate: 0, unattributed: 0, hostSkipped: 0 };

  constructor(o: AttributorOptions) {
    this.#o = o;
  }

  #now(): number {
    return this.#o.now ? this.#o.now() : Date.now();
  }

  /** `keys.ticks`, when given: the start of the container's init process (from /proc). */
  learn(id: string, keys: Partial<AttributionKeys>): void {
    let changed = false;
    this.#epoch++;
    // A container in the root cgroup (a v1 host, or an engine not making v2 cgroups) has no
    // cgroup to be known by: the root's id would claim every host process.
    if (keys.cgroup && keys.cgroup === this.#o.rootCgroup) keys = { ...keys, cgroup: undefined };
    if (keys.cgroup) {
      this.#ownCgroups = true;
      if (this.#byCgroup.get(keys.cgroup) !== id) { this.#byCgroup.set(keys.cgroup, id); changed = true; }
      this.#cgroupEpoch.set(keys.cgroup, this.#epoch);
    }
    if (keys.mnt && keys.mnt !== this.#o.hostMnt) {
      if (this.#byMnt.get(keys.mnt) !== id || this.#retired.has(keys.mnt)) {
        this.#byMnt.set(keys.mnt, id);
        this.#retired.delete(keys.mnt);
        this.#since.delete(keys.mnt);
        changed = true;
      }
      if (keys.ticks !== undefined) this.#since.set(keys.mnt, keys.ticks);
      this.#mntEpoch.set(keys.mnt, this.#epoch);
    }
    const pending = this.#pendingNames.get(id);
    if (pending) {
      this.#pendingNames.delete(id);
      this.learn(id, { cgroup: pending.cgroup });
    }
    if (changed && this.#held.length) this.#retry();
  }

  /**
   * The name of a cgroup, as printed with an exec: Docker names it after the container ID. It
   * proves the cgroup id only: the exec's mount namespace inode may be a reused number, and
   * without the container's start that mapping would claim older processes held meanwhile.
   */
  learnCgroupName(keys: AttributionKeys, name: string | undefined): void {
    if (name && keys.cgroup && HOST_UNIT.test(name) && !this.#byCgroup.has(keys.cgroup)) {
      if (this.#hostCgroups.size >= MAX_HOST_CGROUPS) this.#hostCgroups.delete(this.#hostCgroups.values().next().value!);
      this.#hostCgroups.add(keys.cgroup);
      return;
    }
    const m = name ? CONTAINER_CGROUP.exec(name) : null;
    if (!m) return;
    const id = m[1]!;
    // Another engine's container (or a cgroup that only looks like one) is not ours to record.
    if (this.#o.isContainer && !this.#o.isContainer(id)) {
      if (this.#pendingNames.size >= MAX_PENDING_NAMES) this.#pendingNames.delete(this.#pendingNames.keys().next().value!);
      this.#pendingNames.set(id, { cgroup: keys.cgroup });
      return;
    }
    this.learn(id, { cgroup: keys.cgroup });
  }

  /**
   * A container stopped: its namespace inode is retired now (a later process with it belongs to
   * a namespace made since), and its keys are forgotten a little later (late events of its own
   * processes are still in flight).
   */
  forget(id: string, afterMs = 10_000): void {
    const now = this.#o.nowTicks?.();
    if (now !== undefined) for (const [k, v] of this.#byMnt) if (v === id && !this.#retired.has(k)) this.#retired.set(k, now);
    this.#pendingNames.delete(id);
    const epoch = this.#epoch;
    setTimeout(() => {
      for (const [k, v] of this.#byCgroup) {
        if (v !== id || (this.#cgroupEpoch.get(k) ?? 0) > epoch) continue;
        this.#byCgroup.delete(k);
        this.#cgroupEpoch.delete(k);
      }
      for (const [k, v] of this.#byMnt) {
        if (v !== id || (this.#mntEpoch.get(k) ?? 0) > epoch) continue;
        this.#byMnt.delete(k);
        this.#mntEpoch.delete(k);
        this.#retired.delete(k);
        this.#since.delete(k);
      }
    }, afterMs).unref();
  }

  /** The container of these keys: an ID, '' for the host, undefined if not known yet. */
  resolve(keys: AttributionKeys): string | undefined {
    const byCgroup = this.#byCgroup.get(keys.cgroup);
    if (byCgroup !== undefined) return byCgroup;
    const byMnt = this.#byMnt.get(keys.mnt);
    if (byMnt !== undefined) {
      // A process that started after the container stopped, or before it began, was in another
      // namespace that had the same inode number.
      const retired = this.#retired.get(keys.mnt);
      const since = this.#since.get(keys.mnt);
      const t = keys.ticks;
      if (t === undefined || ((retired === undefined || t <= retired) && (since === undefined || t >= since))) return byMnt;
    }
    if (keys.mnt === this.#o.hostMnt) return '';
    // A host process in a namespace of its own (image extraction, `unshare`, a build step): its
    // cgroup says host, so its events are not held waiting for a container that never comes.
    if (this.#hostCgroups.has(keys.cgroup) || (this.#ownCgroups && keys.cgroup === this.#o.rootCgroup)) return '';
    return undefined;
  }

  /** Attributes and emits `ev` (its `container` is overwritten), or holds it. */
  submit(ev: NewEvent, keys: AttributionKeys): void {
    const id = this.resolve(keys);
    if (id === undefined) {
      this.stats.held++;
      this.#held.push({ ev, keys, at: this.#now() });
      // A quarter at a time, so a storm does not copy the list on every event.
      if (this.#held.length > MAX_HELD) this.#giveUp(MAX_HELD / 4);
      return;
    }
    this.#out(ev, id);
  }

  #out(ev: NewEvent, id: string): void {
    if (id === '' && !this.#o.host) { this.stats.hostSkipped++; return; }
    ev.container = id;
    this.#o.emit(ev);
  }

  #retry(): void {
    const still: Held[] = [];
    for (const h of this.#held) {
      const id = this.resolve(h.keys);
      if (id === undefined) still.push(h);
      else { this.stats.resolvedLate++; this.#out(h.ev, id); }
    }
    this.#held = still;
  }

  /** Gives up on events held longer than holdMs (all of them with `all`). */
  expire(all = false): void {
    // Names the engine has announced since their exec was seen (its event came after the exec).
    if (this.#o.isContainer) for (const id of [...this.#pendingNames.keys()]) if (this.#o.isContainer(id)) this.learn(id, {});
    if (!this.#held.length && !this.#unattributed) return;
    const limit = this.#now() - this.#o.holdMs;
    let n = 0;
    while (n < this.#held.length && (all || this.#held[n]!.at <= limit)) n++;
    this.#giveUp(n);
    if (this.#unattributed) {
      this.stats.unattributed += this.#unattributed;
      this.#o.emit({
        kind: 'gap', source: 'ebpf', container: '', reason: 'ebpf-unattributed', lost: this.#unattributed,
        from: this.#unattributedFrom, to: this.#unattributedTo,
        detail: 'kernel events from processes in no known container (not recorded without --host)',
      });
      this.#unattributed = 0;
      this.#unattributedTo = 0;
    }
  }

  /** The oldest `n` held events: host events with `host`, else counted for the next gap. */
  #giveUp(n: number): void {
    for (let i = 0; i < n; i++) {
      const h = this.#held[i]!;
      if (this.#o.host) { this.#out(h.ev, ''); continue; }
      const t = h.ev.time ?? 0;
      if (this.#unattributed === 0) this.#unattributedFrom = t;
      this.#unattributed++;
      this.#unattributedTo = Math.max(this.#unattributedTo, t);
    }
    if (n) this.#held = this.#held.slice(n);
  }

  get heldCount(): number {
    return this.#held.length;
  }
}
