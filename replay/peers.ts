/**
 * The other containers in an incident's story: those sharing its network namespace
 * (`--network container:X` either way, or one Kubernetes pod), and those it talked to or that
 * talked to it, recognised by the addresses their snapshots gave them. For `replay --with-peers`
 * and the `peers` of `dashcam incidents`.
 */
import type { KVReader } from '../formats/kv.js';
import type { ContainerRecord } from '../formats/records.js';
import { KINDS } from '../formats/schema.js';
import { P_EVENT, timeRange } from '../formats/keys.js';
import { decodeRaw, scanEvents } from '../formats/event-scan.js';
import { listContainers } from '../formats/queries.js';

export interface Peer { id: string; name: string; why: string }

interface NetFacts { ips: Set<string>; netMode: string; pod: string }
type Snap = {
  HostConfig?: { NetworkMode?: string };
  Config?: { Labels?: Record<string, string> | null };
  NetworkSettings?: { IPAddress?: string; GlobalIPv6Address?: string; Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string }> | null };
};

const SNAPSHOT = KINDS.snapshot.num;
const NET = KINDS.net.num;
/** A container's addresses are in its first snapshots (a stopped container's latest has none). */
const FIRST_EVENTS = 64;
const POD_UID = 'io.kubernetes.pod.uid';

function addIps(into: Set<string>, snap: Snap): void {
  const ns = snap.NetworkSettings;
  if (!ns) return;
  for (const n of [ns, ...Object.values(ns.Networks ?? {})]) {
    if (n?.IPAddress) into.add(n.IPAddress);
    if (n?.GlobalIPv6Address) into.add(n.GlobalIPv6Address);
  }
}

/** The host part of `1.2.3.4:80` or `[fe80::1]:80`. */
export function hostOf(addr: string): string {
  if (addr.startsWith('[')) return addr.slice(1, addr.indexOf(']'));
  const i = addr.lastIndexOf(':');
  return i === -1 ? addr : addr.slice(0, i);
}

/** Looks up each container's network facts once per instance (incidents share containers). */
export class PeerFinder {
  readonly #kv: KVReader;
  readonly #facts = new Map<string, Promise<NetFacts>>();
  #all: Promise<ContainerRecord[]> | undefined;

  /** `records`: the store's container records, when the caller has them already. */
  constructor(kv: KVReader, records?: ContainerRecord[]) {
    this.#kv = kv;
    if (records) this.#all = Promise.resolve(records);
  }

  #factsOf(r: ContainerRecord): Promise<NetFacts> {
    let f = this.#facts.get(r.id);
    if (!f) this.#facts.set(r.id, (f = this.#read(r)));
    return f;
  }

  async #read(r: ContainerRecord): Promise<NetFacts> {
    const latest = (r.snapshot ?? {}) as Snap;
    const ips = new Set<string>();
    addIps(ips, latest);
    for await (const raws of scanEvents(this.#kv, { ...timeRange(P_EVENT, r.id), limit: FIRST_EVENTS })) {
      for (const e of raws) {
        if (e.kindNum !== SNAPSHOT) continue;
        const ev = decodeRaw(e);
        if (ev.kind === 'snapshot') addIps(ips, ev.snapshot as Snap);
      }
    }
    return { ips, netMode: latest.HostConfig?.NetworkMode ?? '', pod: latest.Config?.Labels?.[POD_UID] ?? '' };
  }

  /**
   * Peers of `self` among the containers that lived during [from, to]. `talked`: the peer
   * addresses of its connections in the window, when the caller has read them already.
   */
  async peersOf(self: ContainerRecord, from: number | undefined, to: number | undefined, talked?: ReadonlyMap<string, string>): Promise<Peer[]> {
    const lo = from ?? self.firstSeen;
    const hi = to ?? self.lastSeen;
    const others = (await (this.#all ??= listContainers(this.#kv))).filter((c) => c.id !== self.id && c.firstSeen <= hi && c.lastSeen >= lo);
    if (others.length === 0) return [];
    const mine = await this.#factsOf(self);
    const joins = (mode: string, c: ContainerRecord): boolean => {
      if (!mode.startsWith('container:')) return false;
      const ref = mode.slice('container:'.length);
      return ref.length > 0 && (c.id.startsWith(ref) || c.names.includes(ref) || c.name === ref);
    };
    talked ??= await this.#talked(self, lo, hi);
    const out: Peer[] = [];
    for (const c of others) {
      const theirs = await this.#factsOf(c);
      const name = c.name || c.id.slice(0, 12);
      if (joins(mine.netMode, c) || joins(theirs.netMode, self)) out.push({ id: c.id, name, why: 'shares its network namespace' });
      else if (mine.pod && mine.pod === theirs.pod) out.push({ id: c.id, name, why: 'same pod' });
      else {
        const ip = [...theirs.ips].find((a) => talked.has(a));
        if (ip) out.push({ id: c.id, name, why: `talked with ${talked.get(ip)!}` });
      }
    }
    return out;
  }

  /** The peer addresses of a container's connections in [lo, hi], by host. */
  async #talked(self: ContainerRecord, lo: number, hi: number): Promise<Map<string, string>> {
    const talked = new Map<string, string>();
    for await (const raws of scanEvents(this.#kv, timeRange(P_EVENT, self.id, lo, hi + 1))) {
      for (const e of raws) {
        if (e.kindNum !== NET) continue;
        const ev = decodeRaw(e);
        if (ev.kind === 'net' && ev.remote) talked.set(hostOf(ev.remote), ev.remote);
      }
    }
    return talked;
  }
}
