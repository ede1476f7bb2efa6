/**
 * What an incident's pinned window holds, for `dashcam incidents`: its notable events by kind and
 * its gaps (the container's and the host's), so a responder knows before opening it whether the
 * footage is whole. Only events whose kind can be notable are decoded (by the kind byte).
 */
import type { KVReader } from '../formats/kv.js';
import type { IncidentRecord } from '../formats/records.js';
import type { DashEvent } from '../formats/schema.js';
import { KINDS } from '../formats/schema.js';
import { FormatError } from '../formats/errors.js';
import { decodeRaw } from '../formats/event-scan.js';
import { openWindow } from './window.js';
import { isNotable } from './notable.js';
import { hostOf } from './peers.js';

export interface WindowFacts {
  /** Notable events by kind: oom, kill, die (non-zero), unhealthy, exit (a failed process), incident; gaps apart. */
  notable: Record<string, number>;
  gaps: number;
  /** Events the gaps say were lost, where they could count them. */
  lost: number;
  /** Set when part of the window could not be read (a damaged store). */
  error?: string;
  /** Peer addresses of the container's connections in the window, by host (for its peers). */
  talked: Map<string, string>;
}

const NET = KINDS.net.num;
/** Kinds decoded: those that can be notable, and connections (for the peers). */
const READ = new Set([KINDS.lifecycle.num, KINDS.exit.num, KINDS.gap.num, KINDS.incident.num, NET]);

function label(ev: DashEvent): string {
  if (ev.kind === 'lifecycle') return ev.action === 'health_status' ? 'unhealthy' : ev.action === 'exec_die' ? 'die' : ev.action;
  return ev.kind;
}

export async function windowFacts(kv: KVReader, inc: IncidentRecord): Promise<WindowFacts> {
  const facts: WindowFacts = { notable: {}, gaps: 0, lost: 0, talked: new Map() };
  if (!inc.container) return facts; // a host-level alert has no container window to read
  try {
    const win = await openWindow(kv, { containers: [inc.container], from: inc.windowStart, to: inc.windowEnd + 1 });
    for await (const chunk of win.raw) {
      for (const r of chunk) {
        const k = r.kindNum;
        if (k !== -1 && !READ.has(k)) continue;
        const ev = decodeRaw(r);
        if (ev.kind === 'net') {
          if (ev.remote && ev.container) facts.talked.set(hostOf(ev.remote), ev.remote);
        } else if (ev.kind === 'gap') {
          facts.gaps++;
          facts.lost += ev.lost ?? 0;
        } else if (isNotable(ev)) {
          const l = label(ev);
          facts.notable[l] = (facts.notable[l] ?? 0) + 1;
        }
      }
    }
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    facts.error = err.message;
  }
  return facts;
}
