/**
 * Maps kernel events to containers. Keys, in order: the cgroup v2 id (learned from the engine's
 * init pid, or from the cgroup's own name, which for Docker is the container ID, printed with
 * every exec), then the mount namespace inode (learned from the engine's init pid; works for
 * host-PID containers too). Host-namespace events are host events. Anything else is held for
 * `holdMs` (a container that lives under a second may run before the engine tells us its pid)
 * and then recorded as a host event with `host`, or counted in an `ebpf-unattributed` gap:
 * never dropped silently.
 */
import type { NewEvent } from '../../formats/schema.js';

const CONTAINER_CGROUP = /^(?:docker-)?([0-9a-f]{64})(?:\.scope)?$/;

export interface AttributionKeys { cgroup: number; mnt: number }
export interface AttributorOptions {
  host: boolean;
  /** Mount namespace inode of the host (pid 1). */
  hostMnt: number;
  holdMs: number;
  emit: (ev: NewEvent) => void;
  now?: () => number;
}
interface Held { ev: NewEvent; keys: AttributionKeys; at: number }

export class Attributor {
  readonly #o: AttributorOptions;
  readonly #byCgroup = new Map<number, string>();
  readonly #byMnt = new Map<number, string>();
  #held: Held[] = [];
  #unattributed = 0;
  #unattributedFrom = 0;
  #unattributedTo = 0;
  /** Containers that produced events lately (a lost-event gap is written to each). */
  readonly recent = new Map<string, number>();
  readonly stats = { held: 0, resolvedLate: 0, unattributed: 0, hostSkipped: 0 };

  constructor(o: AttributorOptions) {
    this.#o = o;
  }

  #now(): number {
    return this.#o.now ? this.#o.now() : Date.now();
  }

  learn(id: string, keys: Partial<AttributionKeys>): void {
    let changed = false;
    if (keys.cgroup && this.#byCgroup.get(keys.cgroup) !== id) { this.#byCgroup.set(keys.cgroup, id); changed = true; }
    if (keys.mnt && keys.mnt !== this.#o.hostMnt && this.#byMnt.get(keys.mnt) !== id) { this.#byMnt.set(keys.mnt, id); changed = true; }
    if (changed && this.#held.length) this.#retry();
  }

  /** The name of a cgroup, as printed with an exec: Docker names it after the container ID. */
  learnCgroupName(keys: AttributionKeys, name: string | undefined): void {
    const m = name ? CONTAINER_CGROUP.exec(name) : null;
    if (m) this.learn(m[1]!, keys);
  }

  /** A container stopped: forget its keys a little later (late events are still in flight). */
  forget(id: string, afterMs = 10_000): void {
    setTimeout(() => {
      for (const [k, v] of this.#byCgroup) if (v === id) this.#byCgroup.delete(k);
      for (const [k, v] of this.#byMnt) if (v === id) this.#byMnt.delete(k);
      this.recent.delete(id);
    }, afterMs).unref();
  }

  /** The container of these keys: an ID, '' for the host, undefined if not known yet. */
  resolve(keys: AttributionKeys): string | undefined {
    const id = this.#byCgroup.get(keys.cgroup) ?? this.#byMnt.get(keys.mnt);
    if (id !== undefined) return id;
    if (keys.mnt === this.#o.hostMnt) return '';
    return undefined;
  }

  /** Attributes and emits `ev` (its `container` is overwritten), or holds it. */
  submit(ev: NewEvent, keys: AttributionKeys): void {
    const id = this.resolve(keys);
    if (id === undefined) {
      this.stats.held++;
      this.#held.push({ ev, keys, at: this.#now() });
      return;
    }
    this.#out(ev, id);
  }

  #out(ev: NewEvent, id: string): void {
    if (id === '' && !this.#o.host) { this.stats.hostSkipped++; return; }
    ev.container = id;
    if (id) this.recent.set(id, this.#now());
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
    if (!this.#held.length && !this.#unattributed) return;
    const limit = this.#now() - this.#o.holdMs;
    let i = 0;
    for (; i < this.#held.length && (all || this.#held[i]!.at <= limit); i++) {
      const h = this.#held[i]!;
      if (this.#o.host) { this.#out(h.ev, ''); continue; }
      const t = h.ev.time ?? 0;
      if (this.#unattributed === 0) this.#unattributedFrom = t;
      this.#unattributed++;
      this.#unattributedTo = Math.max(this.#unattributedTo, t);
    }
    this.#held = this.#held.slice(i);
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

  get heldCount(): number {
    return this.#held.length;
  }
}
