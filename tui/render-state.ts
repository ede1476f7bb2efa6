/** State → pane lines: process tree, connections, files, logs around the cursor. Pure. */
import { STATE_LIMITS, type ContainerState, type ProcEntry } from '../formats/state.js';
import type { DashEvent } from '../formats/schema.js';
import { clock } from './render-event.js';
import type { Line } from './line.js';

function cmdOf(p: ProcEntry): string {
  return p.argv.length ? p.argv.join(' ') : p.exe || p.comm || '?';
}

function endOf(p: ProcEntry): string {
  return p.exit === undefined ? '' : p.signal ? ` [signal ${p.signal}]` : ` [exit ${p.exitCode ?? '?'}]`;
}

function procLabel(p: ProcEntry): string {
  const pid = p.pid ? String(p.pid) : p.key.startsWith('exec:') ? 'exec' : '-';
  return `${pid} ${cmdOf(p)}${endOf(p)}`;
}

const failed = (p: ProcEntry): boolean => Boolean(p.exitCode || p.signal);

/**
 * The process pane as of the cursor: the tree of live processes first (a long-running service
 * stays on screen however many short jobs it ran), then the exited ones collapsed by command
 * line and outcome with a count, failures first, then the most recent; probes folded.
 */
export function procTreeLines(s: ContainerState, opts: { fold: boolean } = { fold: true }): Line[] {
  const all = [...s.procs.values()].filter((p) => !(opts.fold && p.probe));
  const live = all.filter((p) => p.exit === undefined);
  const byKey = new Map(live.map((p) => [p.key, p]));
  const livePid = new Map<number, ProcEntry>();
  for (const p of live) if (p.pid) livePid.set(p.pid, p);
  const parentOf = (p: ProcEntry): ProcEntry | undefined => {
    const q = p.parentKey !== undefined ? byKey.get(p.parentKey) : p.ppid ? livePid.get(p.ppid) : undefined;
    return q && q !== p ? q : undefined;
  };
  const children = new Map<string, ProcEntry[]>();
  const roots: ProcEntry[] = [];
  for (const p of live) {
    const parent = parentOf(p);
    if (parent) {
      const list = children.get(parent.key) ?? [];
      list.push(p);
      children.set(parent.key, list);
    } else roots.push(p);
  }
  const out: Line[] = [];
  const seen = new Set<string>();
  const walk = (p: ProcEntry, prefix: string, last: boolean, depth: number): void => {
    if (seen.has(p.key)) return; // a cycle in bad data must not hang the screen
    seen.add(p.key);
    const branch = depth === 0 ? '' : last ? '└─' : '├─';
    out.push({ text: `${prefix}${branch}${procLabel(p)}`, fg: 'green' });
    const kids = children.get(p.key) ?? [];
    kids.forEach((k, i) => walk(k, depth === 0 ? prefix : prefix + (last ? '  ' : '│ '), i === kids.length - 1, depth + 1));
  };
  for (const r of roots) walk(r, '', true, 0);
  const exited = all.filter((p) => p.exit !== undefined);
  if (exited.length) {
    const groups = new Map<string, { p: ProcEntry; n: number; last: number }>();
    for (const p of exited) {
      const k = `${cmdOf(p)}${endOf(p)}`;
      const g = groups.get(k);
      if (g) { g.n++; g.last = Math.max(g.last, p.exit!); } else groups.set(k, { p, n: 1, last: p.exit! });
    }
    const sorted = [...groups.entries()].sort(([, a], [, b]) => Number(failed(b.p)) - Number(failed(a.p)) || b.last - a.last);
    // State keeps only the most recent exited processes (STATE_LIMITS), so a full list says so.
    const capped = s.exitedCount >= STATE_LIMITS.exitedProcs;
    out.push({ text: capped ? `·· the last ${exited.length} exited` : `·· ${exited.length} exited`, dim: true });
    for (const [label, g] of sorted) out.push({ text: `${label}${g.n > 1 ? ` ×${g.n}` : g.p.pid ? ` (pid ${g.p.pid})` : ''}`, ...(failed(g.p) ? { fg: 'red' } : { dim: true }) });
  }
  const folded = opts.fold ? [...s.procs.values()].filter((p) => p.probe).length : 0;
  if (folded) out.push({ text: `·· ${folded} health-check probe process(es) folded`, dim: true });
  if (out.length === 0) out.push({ text: 'no processes seen yet', dim: true });
  return out;
}

export function connLines(s: ContainerState): Line[] {
  const out: Line[] = [];
  for (const l of s.listening.values()) out.push({ text: `LISTEN ${l.proto} ${l.local}${l.pid ? ` pid ${l.pid}` : ''}`, fg: 'cyan' });
  for (const c of s.conns.values()) out.push({ text: `${c.op} ${c.proto} ${c.local} → ${c.remote}${c.pid ? ` pid ${c.pid}` : ''}`, fg: 'magenta' });
  if (out.length === 0) out.push({ text: 'no open connections', dim: true });
  return out;
}

export function fileLines(s: ContainerState): Line[] {
  const out: Line[] = [];
  for (const f of [...s.files.values()].reverse()) {
    out.push({ text: `${f.ops.join(',')} ${f.path}${f.newPath ? ` → ${f.newPath}` : ''}${f.count > 1 ? ` ×${f.count}` : ''}`, ...(f.ops.includes('read-sensitive') ? { fg: 'red' } : {}) });
  }
  if (out.length === 0) out.push({ text: 'no files touched', dim: true });
  return out;
}

/**
 * Log lines around the cursor: the last `height - ahead` lines at or before it (from the state),
 * then the next ones (from the events after the cursor), dimmed, so a user sees what comes.
 */
export function logLines(s: ContainerState, upcoming: readonly DashEvent[], height: number): Line[] {
  const ahead = upcoming.filter((e): e is Extract<DashEvent, { kind: 'log' }> => e.kind === 'log');
  const pastN = Math.max(1, height - Math.min(ahead.length, Math.floor(height / 2)));
  const past = s.logs.slice(-pastN).map((l): Line => ({ text: `${clock(l.time)} ${l.text}`, ...(l.stream === 'stderr' ? { fg: 'yellow' } : {}) }));
  const rest = Math.max(0, height - past.length);
  const next = ahead.slice(0, rest).map((e): Line => ({ text: `${clock(e.time)} ${Buffer.from(e.line.buffer, e.line.byteOffset, e.line.byteLength).toString('utf8')}`, dim: true }));
  const out = [...past, ...next];
  return out.length ? out : [{ text: 'no log lines', dim: true }];
}
