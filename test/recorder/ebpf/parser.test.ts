import { describe, expect, it } from 'vitest';
import { BpftraceParser, decodeBytes } from '../../../recorder/ebpf/parser.js';

const H = (tag: string, pid: number, ...rest: (string | number)[]): string =>
  JSON.stringify({ type: 'printf', data: [tag, 1_000_000, pid, pid, 500, 1754, 4026532255, ...rest].join('\t') + '\n' });
const L = (...f: (string | number)[]): string => JSON.stringify({ type: 'printf', data: f.join('\t') + '\n' });

describe('bpftrace output parser', () => {
  it('assembles an exec from its argv, cwd, cgroup and file lines', () => {
    const p = new BpftraceParser();
    for (const l of [L('a', 7, 0, 'sh'), L('a', 7, 1, '-c'), L('a', 7, 2, 'echo\ta\nb'), L('e', 7), L('c', 7, 0, 'd'), L('c', 7, 1, 'tmp'), L('g', 7, 'abc'), L('f', 7, '/bin/sh')]) expect(p.line(l)).toBeUndefined();
    const ev = p.line(H('E', 7, 7, 1, 400, 0, 0, 1));
    expect(ev).toMatchObject({ k: 'exec', file: '/bin/sh', argv: ['sh', '-c', 'echo\ta\nb'], cwd: '/tmp/d', cgroupName: 'abc', ppid: 1, pticks: 400, h: { pid: 7, ticks: 500, cgroup: 1754, mnt: 4026532255 } });
  });

  it('reads the OOM killer\'s victim and its resident memory', () => {
    const p = new BpftraceParser();
    expect(p.line(H('K', 7, 8, 20000, 15000, 900, 100))).toMatchObject({ k: 'oom', victim: 8, totalVmKb: 20000, rssKb: 16000, h: { pid: 7, cgroup: 1754 } });
  });

  it('waits for argv that another CPU printed later', () => {
    const p = new BpftraceParser();
    p.line(L('f', 9, '/bin/true'));
    expect(p.line(H('E', 9, 9, 1, 400, 0, 0, 1))).toBeUndefined();
    p.line(L('a', 9, 0, '/bin/true'));
    expect(p.line(L('e', 9))).toMatchObject({ k: 'exec', argv: ['/bin/true'], file: '/bin/true' });
  });

  it('keeps argv read before the exec line when the exit comes before the end of argv', () => {
    // bpftrace read the first CPU's buffer while the execve probe was still printing (a, a), then
    // the second CPU's (exec, exit), then the rest of the first (e).
    const p = new BpftraceParser();
    p.line(L('a', 9, 0, '/bin/echo'));
    p.line(L('a', 9, 1, 'alpha'));
    expect(p.line(H('E', 9, 9, 1, 400, 0, 0, 1))).toBeUndefined();
    expect(p.line(H('Q', 9, 0, 'echo'))).toMatchObject({ k: 'exit' });
    expect(p.line(L('e', 9))).toMatchObject({ k: 'exec', argv: ['/bin/echo', 'alpha'] });
    // ... or the exit between the end of argv and the exec line.
    p.line(L('a', 10, 0, '/bin/echo'));
    p.line(L('a', 10, 1, 'bravo'));
    p.line(H('Q', 10, 0, 'echo'));
    p.line(L('e', 10));
    expect(p.line(H('E', 10, 10, 1, 400, 0, 0, 1))).toMatchObject({ k: 'exec', argv: ['/bin/echo', 'bravo'] });
  });

  it('forgets the argv of a task that exited without a successful exec', () => {
    const p = new BpftraceParser();
    p.line(L('a', 11, 0, '/no/such'));
    p.line(L('e', 11));
    p.line(H('Q', 11, 1, 'sh'));
    expect(p.footprint()).toMatchObject({ ebpfPending: 1 });
    p.expire(0);
    expect(p.footprint()).toMatchObject({ ebpfPending: 0 });
  });

  it('holds nothing after a rename when it parses file probes alone (no exit line ever comes)', () => {
    const p = new BpftraceParser();
    p.line(L('r', 12, 'old'));
    expect(p.line(H('R', 12, -100, -100, 0, 'new'))).toMatchObject({ k: 'file', tag: 'rename', path: 'old', newPath: 'new' });
    expect(p.footprint()).toMatchObject({ ebpfPending: 0 });
  });

  it('keeps a string with tabs and newlines in the last field: it cannot forge fields or lines', () => {
    const p = new BpftraceParser();
    const evil = '/tmp/x\t0\t0\n' + H('E', 1, 1, 1, 1, 0, 0, 1);
    expect(p.line(H('O', 5, -100, 577, 438, evil))).toMatchObject({ k: 'file', tag: 'open', path: evil, flags: 577, dfd: -100 });
  });

  it('decodes bytes >= 0x80 that bpftrace 0.17 escapes as \\uffffffXX', () => {
    const raw = '{"type": "printf", "data": "P\\t1\\t2\\t2\\t3\\t4\\t5\\t/tmp/\\uffffffc3\\uffffffa9t\\uffffffff\\n"}';
    const ev = new BpftraceParser().line(raw);
    expect(ev).toMatchObject({ k: 'chdir', path: '/tmp/ét\ufffd' });
    expect(decodeBytes('plain')).toBe('plain');
  });

  it('turns lost-event reports into counts, in JSON and in text', () => {
    const p = new BpftraceParser();
    expect(p.line('{"type": "lost_events", "data": {"events": 12}}')).toEqual({ k: 'lost', n: 12 });
    expect(p.line('Lost 7 events')).toEqual({ k: 'lost', n: 7 });
    expect(p.line('{"type": "attached_probes", "data": {"probes": 49}}')).toEqual({ k: 'attached', probes: 49 });
  });

  it('counts malformed lines instead of guessing', () => {
    const p = new BpftraceParser();
    expect(p.line(L('O', 'x'))).toBeUndefined();
    expect(p.line(L('?', 1))).toBeUndefined();
    expect(p.line('not json')).toBeUndefined();
    expect(p.bad).toBe(3);
  });
});
