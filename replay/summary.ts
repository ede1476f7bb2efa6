/**
 * One-line summaries of events for text output and the TUI's event list. Pure functions.
 * Container-controlled text (argv, paths, log lines, names) is escaped here so it can never drive
 * the terminal: every control byte becomes a visible escape.
 */
import type { DashEvent } from '../formats/schema.js';

// C0, DEL and C1 controls, plus the Unicode line/paragraph separators and bidi overrides.
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
export function safeText(s: string): string {
  return s.replace(CONTROL, (c) => {
    if (c === '\t') return '\\t';
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

function argvText(argv: string[] | undefined, exe: string): string {
  return safeText(argv && argv.length ? argv.join(' ') : exe);
}

export function summarize(ev: DashEvent): string {
  switch (ev.kind) {
    case 'lifecycle': {
      const a = ev.attributes ?? {};
      const extra = ev.action === 'die' ? ` exitCode=${a.exitCode ?? '?'}` : ev.action === 'kill' ? ` signal=${a.signal ?? '?'}` : a.actionDetail ? ` ${a.actionDetail}` : '';
      const who = ev.type !== 'container' ? `${ev.type} ` : '';
      return safeText(`${who}${ev.action}${extra}${ev.source === 'dashcam' ? ' (inferred by reconcile)' : ''}`);
    }
    case 'snapshot': {
      const s = ev.snapshot as { State?: { Status?: string; ExitCode?: number; OOMKilled?: boolean }; Config?: { Image?: string } };
      return safeText(`snapshot (${ev.reason}) state=${s.State?.Status ?? '?'}${s.State?.OOMKilled ? ' OOMKilled' : ''} image=${s.Config?.Image ?? '?'}`);
    }
    case 'exec': return `exec pid=${ev.pid} ppid=${ev.ppid} uid=${ev.uid} ${argvText(ev.argv, ev.exe)}`;
    case 'exit': return `exit pid=${ev.pid}${ev.signal ? ` signal=${ev.signal}` : ` code=${ev.exitCode ?? '?'}`}${ev.comm ? ` ${safeText(ev.comm)}` : ''}`;
    case 'fork': return `fork pid=${ev.pid} ppid=${ev.ppid}${ev.comm ? ` ${safeText(ev.comm)}` : ''}`;
    case 'net': return safeText(`${ev.op} ${ev.proto} ${ev.local} -> ${ev.remote}${ev.pid ? ` pid=${ev.pid}` : ''}`);
    case 'file': return safeText(`${ev.op} ${ev.path}${ev.newPath ? ` -> ${ev.newPath}` : ''}${ev.pid ? ` pid=${ev.pid}` : ''}`);
    case 'log': {
      const text = Buffer.from(ev.line.buffer, ev.line.byteOffset, ev.line.byteLength).toString('utf8');
      return `${ev.stream}: ${safeText(text)}${ev.truncated ? ` [truncated from ${ev.truncated} bytes]` : ''}`;
    }
    case 'stats': {
      const mem = ev.memUsage !== undefined ? ` mem=${(ev.memUsage / 1048576).toFixed(1)}MiB${ev.memLimit ? `/${(ev.memLimit / 1048576).toFixed(0)}MiB` : ''}` : '';
      if (ev.sample === 'oom-victim') return `stats at OOM kill: victim pid=${ev.pid ?? '?'}${mem.replace(' mem=', ' rss=')}`;
      return `stats cpu=${ev.cpuPercent ?? '?'}%${mem} pids=${ev.pids ?? '?'}${ev.sample ? ` (${safeText(ev.sample)})` : ''}`;
    }
    case 'incident': return safeText(`INCIDENT [${ev.severity}] ${ev.trigger}: ${ev.title}`);
    case 'gap': return safeText(`GAP ${ev.reason}${ev.lost ? ` lost=${ev.lost}` : ''}${ev.classes ? ` ${Object.entries(ev.classes).map(([c, n]) => `${c}=${n}`).join(' ')}` : ''}${ev.detail ? ` (${ev.detail})` : ''}`);
    case 'syscall': return safeText(`${ev.op} pid=${ev.pid}${ev.args ? ` ${Object.entries(ev.args).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`);
  }
}

/**
 * The TUI's event rows, where the kind has its own column and a row is cut at the pane's width:
 * what a responder reads first (the command line, the path, the peer's address), ids after it,
 * as csysdig's views do.
 */
export function rowSummary(ev: DashEvent): string {
  const pid = 'pid' in ev && ev.pid ? ` pid=${ev.pid}` : '';
  switch (ev.kind) {
    case 'exec': return `${argvText(ev.argv, ev.exe)}  pid=${ev.pid} ppid=${ev.ppid} uid=${ev.uid}`;
    case 'exit': return `${ev.comm ? `${safeText(ev.comm)} ` : ''}${ev.signal ? `signal=${ev.signal}` : `code=${ev.exitCode ?? '?'}`}  pid=${ev.pid}`;
    case 'fork': return `${ev.comm ? `${safeText(ev.comm)} ` : ''} pid=${ev.pid} ppid=${ev.ppid}`.trimStart();
    case 'file': return safeText(`${ev.path}${ev.newPath ? ` -> ${ev.newPath}` : ''}  ${ev.op}${pid}`);
    case 'net': {
      const peer = ev.remote && ev.op !== 'listen' ? ev.remote : ev.local;
      return safeText(`${peer}  ${ev.op} ${ev.proto}${peer === ev.remote ? ` local=${ev.local}` : ''}${pid}`);
    }
    default: return summarize(ev);
  }
}
