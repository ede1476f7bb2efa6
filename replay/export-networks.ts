/**
 * The exported containers' own networks, learned from their inspect snapshots
 * (NetworkSettings.Networks[*].IPAddress/IPPrefixLen and the IPv6 pair). Strict redaction keeps
 * addresses inside them (and loopback, unspecified) and masks every other address.
 */
import { isIPv4, isIPv6 } from 'node:net';

interface Net { base: bigint; bits: number; width: 32 | 128 }

function v4(ip: string): bigint {
  return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}
function v6(ip: string): bigint {
  let s = ip.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = v4(dotted[1]!);
    s = s.slice(0, -dotted[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}
function toNum(ip: string): { n: bigint; width: 32 | 128 } | undefined {
  if (isIPv4(ip)) return { n: v4(ip), width: 32 };
  if (isIPv6(ip)) return { n: v6(ip), width: 128 };
  return undefined;
}

export class OwnNetworks {
  readonly #nets: Net[] = [];

  add(ip: string, prefixLen: number): void {
    const a = toNum(ip);
    if (!a || !Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > a.width) return;
    const shift = BigInt(a.width - prefixLen);
    const base = (a.n >> shift) << shift;
    if (!this.#nets.some((x) => x.base === base && x.bits === prefixLen && x.width === a.width)) this.#nets.push({ base, bits: prefixLen, width: a.width });
  }

  addSnapshot(snap: Record<string, unknown>): void {
    type N = { IPAddress?: string; IPPrefixLen?: number; GlobalIPv6Address?: string; GlobalIPv6PrefixLen?: number };
    const ns = (snap as { NetworkSettings?: N & { Networks?: Record<string, N> } }).NetworkSettings;
    if (!ns) return;
    for (const n of [ns, ...Object.values(ns.Networks ?? {})]) {
      if (n?.IPAddress) this.add(n.IPAddress, n.IPPrefixLen ?? 32);
      if (n?.GlobalIPv6Address) this.add(n.GlobalIPv6Address, n.GlobalIPv6PrefixLen ?? 128);
    }
  }

  /** Is this address one of ours (or loopback / unspecified, which identify nobody)? */
  has(ip: string): boolean {
    const a = toNum(ip);
    if (!a) return false;
    if (a.width === 32 && (a.n >> 24n === 127n || a.n === 0n)) return true;
    if (a.width === 128 && (a.n === 1n || a.n === 0n)) return true;
    return this.#nets.some((x) => x.width === a.width && a.n >> BigInt(x.width - x.bits) === x.base >> BigInt(x.width - x.bits));
  }
}
