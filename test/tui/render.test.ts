import { describe, expect, it } from 'vitest';
import { eventRow } from '../../tui/render-event.js';
import { procTreeLines, fileLines, connLines, logLines } from '../../tui/render-state.js';
import { timelineRows, headerLines } from '../../tui/render-header.js';
import { computeLayout, FOCUSABLE } from '../../tui/layout.js';
import { KEY_TABLE, actionFor, helpLines } from '../../tui/keys.js';
import { parseFilter } from '../../tui/filter.js';
import { toTagged, escapeTags, fit } from '../../tui/line.js';
import { sparkline } from '../../tui/sparkline.js';
import { emptyState } from '../../formats/state.js';
import { applyEvent } from '../../formats/state-apply.js';
import type { DashEvent } from '../../formats/schema.js';

const C = 'ab'.repeat(32);
let seq = 0;
const ev = (e: Record<string, unknown>): DashEvent => ({ container: C, source: 'ebpf', time: 1_800_000_000_000_000 + seq * 1000, seq: ++seq, ...e }) as unknown as DashEvent;

describe('event rows', () => {
  it('escape terminal control sequences in argv and log lines, and blessed tags', () => {
    const row = eventRow(ev({ kind: 'exec', pid: 5, ppid: 1, uid: 0, exe: '/bin/sh', argv: ['sh', '-c', 'x\x1b]0;pwned\x07{red-fg}'] }));
    const tagged = toTagged(row, 200);
    expect(tagged).not.toMatch(/[\x00-\x1f\x7f]/);
    expect(tagged).toContain('\\x1b]0;pwned\\x07');
    expect(tagged).toContain('{open}red-fg{close}');
    expect(row.fg).toBe('green');
    const log = eventRow(ev({ kind: 'log', stream: 'stderr', line: Buffer.from('bad \x1b[2J\r\n') }));
    expect(toTagged(log, 200)).not.toMatch(/\x1b/);
  });

  it('colour notable events red and mark the selected row', () => {
    const die = eventRow(ev({ kind: 'lifecycle', source: 'docker', type: 'container', action: 'die', attributes: { exitCode: '3' } }), { selected: true });
    expect(die).toMatchObject({ fg: 'red', bold: true, inverse: true });
    expect(die.text).toContain('die exitCode=3');
  });

  it('lead with the command line, the path and the peer, ids after them', () => {
    const row = (e: Record<string, unknown>): string => eventRow(ev(e)).text.slice(13);
    expect(row({ kind: 'exec', pid: 26454, ppid: 26432, uid: 0, exe: '/bin/sh', argv: ['sh', '-c', 'cat /etc/shadow'] })).toBe('exec    sh -c cat /etc/shadow  pid=26454 ppid=26432 uid=0');
    expect(row({ kind: 'file', op: 'read-sensitive', path: '/etc/shadow', pid: 7 })).toBe('file    /etc/shadow  read-sensitive pid=7');
    expect(row({ kind: 'net', op: 'connect', proto: 'tcp', local: '172.17.0.2:40000', remote: '10.0.0.5:6379', pid: 7 })).toBe('net     10.0.0.5:6379  connect tcp local=172.17.0.2:40000 pid=7');
    expect(row({ kind: 'net', op: 'listen', proto: 'tcp', local: '0.0.0.0:80', remote: '', pid: 7 })).toBe('net     0.0.0.0:80  listen tcp pid=7');
    expect(row({ kind: 'exit', pid: 9, exitCode: 2, comm: 'cat' })).toBe('exit    cat code=2  pid=9');
  });

  it('fit cuts to the width with an ellipsis', () => {
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('abc', 4)).toBe('abc');
    expect(escapeTags('{x}')).toBe('{open}x{close}');
  });
});

describe('state panes', () => {
  it('draw the process tree by parent key, exited dim, probes folded', () => {
    const s = emptyState(C);
    applyEvent(s, ev({ kind: 'snapshot', source: 'docker', reason: 'start', snapshot: { Path: 'sh', Args: ['-c', 'app'], Config: { Healthcheck: { Test: ['CMD-SHELL', 'true'] } }, State: { Running: true, Pid: 10 } } }));
    applyEvent(s, ev({ kind: 'exec', pid: 10, ppid: 1, uid: 0, exe: '/bin/sh', argv: ['sh', '-c', 'app'], procKey: '10:1' }));
    applyEvent(s, ev({ kind: 'exec', pid: 11, ppid: 10, uid: 0, exe: '/bin/cat', argv: ['cat', '/etc/shadow'], procKey: '11:2', parentKey: '10:1' }));
    applyEvent(s, ev({ kind: 'exec', pid: 12, ppid: 10, uid: 0, exe: '/bin/true', argv: ['true'], procKey: '12:3', parentKey: '10:1' }));
    applyEvent(s, ev({ kind: 'exit', pid: 12, exitCode: 1, procKey: '12:3' }));
    applyEvent(s, ev({ kind: 'lifecycle', source: 'docker', type: 'container', action: 'exec_start', attributes: { execID: 'p1', actionDetail: '/bin/sh -c true' } }));
    const lines = procTreeLines(s, { fold: true }).map((l) => l.text);
    expect(lines).toEqual(['10 sh -c app', '└─11 cat /etc/shadow', '·· 1 exited', 'true [exit 1] (pid 12)', '·· 1 health-check probe process(es) folded']);
    expect(procTreeLines(s, { fold: false }).map((l) => l.text)).toContain('exec /bin/sh -c true');
  });

  it('put live processes first and collapse exited ones by command line, failures first', () => {
    const s = emptyState(C);
    applyEvent(s, ev({ kind: 'exec', pid: 10, ppid: 1, uid: 0, exe: '/bin/sh', argv: ['sh', '-c', 'serve'], procKey: '10:1' }));
    for (let i = 0; i < 300; i++) {
      applyEvent(s, ev({ kind: 'exec', pid: 100 + i, ppid: 10, uid: 0, exe: '/bin/sleep', argv: ['sleep', '1'], procKey: `${100 + i}:9`, parentKey: '10:1' }));
      applyEvent(s, ev({ kind: 'exit', pid: 100 + i, exitCode: 0, procKey: `${100 + i}:9` }));
    }
    applyEvent(s, ev({ kind: 'exec', pid: 50, ppid: 10, uid: 0, exe: '/bin/false', argv: ['false'], procKey: '50:9', parentKey: '10:1' }));
    applyEvent(s, ev({ kind: 'exit', pid: 50, exitCode: 1, procKey: '50:9' }));
    applyEvent(s, ev({ kind: 'exec', pid: 60, ppid: 10, uid: 0, exe: '/bin/nc', argv: ['nc', '-l', '-p', '4444'], procKey: '60:9', parentKey: '10:1' }));
    const lines = procTreeLines(s, { fold: true });
    expect(lines.map((l) => l.text)).toEqual(['10 sh -c serve', '└─60 nc -l -p 4444', '·· the last 256 exited', 'false [exit 1] (pid 50)', 'sleep 1 [exit 0] ×255']);
    expect(lines[3]!.fg).toBe('red');
    expect(lines[4]!.dim).toBe(true);
  });

  it('list files, connections and logs around the cursor', () => {
    const s = emptyState(C);
    applyEvent(s, ev({ kind: 'file', op: 'write', path: '/tmp/f' }));
    applyEvent(s, ev({ kind: 'file', op: 'rename', path: '/tmp/f', newPath: '/tmp/g' }));
    applyEvent(s, ev({ kind: 'net', op: 'listen', proto: 'tcp', local: '127.0.0.1:80', remote: '' }));
    applyEvent(s, ev({ kind: 'net', op: 'connect', proto: 'tcp', local: '127.0.0.1:5000', remote: '127.0.0.1:80' }));
    applyEvent(s, ev({ kind: 'log', source: 'docker', stream: 'stdout', line: Buffer.from('past') }));
    expect(fileLines(s).map((l) => l.text)).toEqual(['rename-to /tmp/g', 'write,rename /tmp/f → /tmp/g ×2']);
    expect(connLines(s).map((l) => l.text)).toEqual(['LISTEN tcp 127.0.0.1:80', 'connect tcp 127.0.0.1:5000 → 127.0.0.1:80']);
    const next = ev({ kind: 'log', source: 'docker', stream: 'stdout', line: Buffer.from('future') });
    const logs = logLines(s, [next], 4);
    expect(logs.map((l) => l.text.slice(13))).toEqual(['past', 'future']);
    expect(logs[1]!.dim).toBe(true);
  });
});

describe('header, timeline, layout, keys, filter', () => {
  it('header names the container, image, state and exit code', () => {
    const s = emptyState(C);
    applyEvent(s, ev({ kind: 'lifecycle', source: 'docker', type: 'container', action: 'die', attributes: { exitCode: '3', name: 'web', image: 'nginx:1' } }));
    const [a, b] = headerLines({ record: { id: C, name: 'web', names: ['web'], image: 'nginx:1', firstSeen: 0, lastSeen: 0, state: 'removed', events: 1, bytes: 1 }, state: s, count: 1, time: s.time, speed: 2, playing: false, follow: false });
    expect(a!.text).toContain('web  ababababab');
    expect(a!.text).toContain('nginx:1');
    expect(b!.text).toMatch(/^exited \| exit 3 \| .*Z \| ⏸ 2x$/);
    const [t] = headerLines({ record: { id: C, name: 'web', names: ['web'], image: 'nginx:1', firstSeen: 0, lastSeen: 0, state: 'removed', events: 1, bytes: 1 }, state: s, count: 1, time: s.time, speed: 1, playing: false, follow: false, incident: { trigger: 'crash', title: 'exited with code 3' } });
    expect(t!.text).toMatch(/^web {2}! crash: exited with code 3 {2}ababababab/);
  });

  it('timeline marks density, incidents, gaps and the cursor across the width', () => {
    const [d, m] = timelineRows({ start: 0, end: 99, buckets: [10, 0, 5, 0], incidents: [{ time: 50, id: 'i', label: 'x' }], gaps: [{ time: 99, label: 'gap' }], exact: true }, 0, 8);
    expect(d).toHaveLength(8);
    expect(d[0]).toBe('█');
    expect(d[2]).toBe(' ');
    expect(m).toBe('^───!──x');
  });

  it('layout fills 80x24 exactly and stays inside larger screens', () => {
    for (const [w, h] of [[80, 24], [120, 40], [200, 60]] as const) {
      const L = computeLayout(w, h);
      for (const r of Object.values(L)) {
        expect(r.left + r.width).toBeLessThanOrEqual(w);
        expect(r.top + r.height).toBeLessThanOrEqual(h);
        expect(r.height).toBeGreaterThan(0);
      }
      expect(L.stats.top + L.stats.height).toBe(h - 1);
      expect(L.events.height).toBeGreaterThanOrEqual(10);
    }
    expect(FOCUSABLE).toContain('events');
  });

  it('key table drives dispatch and help (every binding listed, no key bound twice)', () => {
    const help = helpLines().map((l) => l.text).join('\n');
    const seen = new Set<string>();
    for (const b of KEY_TABLE) {
      expect(help).toContain(b.description);
      for (const k of b.keys) {
        expect(seen.has(k)).toBe(false);
        seen.add(k);
        expect(actionFor(k, undefined)).toBe(b.action);
      }
    }
    expect(actionFor('S-g', 'G')).toBe('end');
    expect(actionFor(undefined, ']')).toBe('jumpForward');
    for (const a of ['playPause', 'stepNext', 'stepPrev', 'jumpForward', 'jumpBack', 'faster', 'slower', 'start', 'end', 'nextNotable', 'prevNotable', 'filter', 'focusNext', 'details', 'help', 'quit']) {
      expect(KEY_TABLE.some((b) => b.action === a)).toBe(true);
    }
  });

  it('filter by kind, pid and text, all terms together', () => {
    const f = parseFilter('kind:exec,engine pid:11 cat')!;
    expect(f(ev({ kind: 'exec', pid: 11, ppid: 1, uid: 0, exe: 'cat', argv: ['cat'] }))).toBe(true);
    expect(f(ev({ kind: 'exec', pid: 12, ppid: 1, uid: 0, exe: 'cat', argv: ['cat'] }))).toBe(false);
    expect(f(ev({ kind: 'file', op: 'write', path: 'cat', pid: 11 }))).toBe(false);
    expect(parseFilter('   ')).toBeUndefined();
    expect(sparkline([0, 5, 10], 3)).toBe('▁▅█');
  });
});
