/**
 * The `/` filter: space-separated terms, all of which must match. `kind:exec,net` (kind names, or
 * `engine` for lifecycle), `pid:1234`, anything else is text searched (case-insensitively) in the
 * event's one-line summary. Pure.
 */
import type { DashEvent } from '../formats/schema.js';
import { summarize } from '../replay/summary.js';

export type EventPredicate = (ev: DashEvent) => boolean;

export function parseFilter(input: string): EventPredicate | undefined {
  const terms = input.trim().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return undefined;
  const tests: EventPredicate[] = terms.map((term) => {
    const m = /^(kind|pid):(.*)$/i.exec(term);
    if (m && m[1]!.toLowerCase() === 'kind') {
      const kinds = new Set(m[2]!.toLowerCase().split(',').filter(Boolean).map((k) => (k === 'engine' ? 'lifecycle' : k)));
      return (ev) => kinds.has(ev.kind);
    }
    if (m) {
      const pid = Number(m[2]);
      return (ev) => (ev as { pid?: number }).pid === pid || (ev as { ppid?: number }).ppid === pid;
    }
    const needle = term.toLowerCase();
    return (ev) => summarize(ev).toLowerCase().includes(needle);
  });
  return (ev) => tests.every((t) => t(ev));
}
