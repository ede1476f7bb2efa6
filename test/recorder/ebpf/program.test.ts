import { describe, expect, it } from 'vitest';
import { PROBE_CLASSES, buildProgram } from '../../../recorder/ebpf/program.js';
import { SensitiveList } from '../../../recorder/ebpf/sensitive.js';

const ALL = new Set(['sched:sched_process_exec', 'sched:sched_process_exit', 'syscalls:sys_enter_openat', 'syscalls:sys_enter_execve', 'syscalls:sys_enter_connect', 'syscalls:sys_exit_connect', 'sock:inet_sock_set_state', 'syscalls:sys_enter_ptrace', 'syscalls:sys_enter_chdir']);
const build = (prefixes: string[], hostMntNs?: number): string => buildProgram({ tracepoints: ALL, sensitivePrefixes: prefixes, hostMntNs, maxArgs: 4, maxCwdDepth: 4 });

describe('bpftrace program generation', () => {
  it('rejects sensitive patterns that could break out of a string literal', () => {
    for (const bad of ['/etc/"; system("id"); "', '/etc/x\nBEGIN { }', 'relative', '/etc/$(id)', '/a\\"b', '/x}', '/x/*/`y`']) {
      expect(() => new SensitiveList([bad]), bad).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    }
    expect(() => build(['/etc/"x'])).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => build([], 1.5)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('depends only on its constants: no container name, path or environment text reaches it', () => {
    const a = build(new SensitiveList().prefixes(), 4026531832);
    process.env.DASHCAM_PROBE_TEST = '"; system("id"); "';
    const b = build(new SensitiveList().prefixes(), 4026531832);
    delete process.env.DASHCAM_PROBE_TEST;
    expect(b).toBe(a);
    // Every string literal in the program is a format string, a validated path prefix or empty.
    const literals = [...a.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    for (const l of literals) expect(l, l).toMatch(/^(?:[A-Za-z0-9_.@+\-/]+|runc:\[|(?:[a-zA-Z0-9]|\\t|%(?:ll)?[dus]|%lld|\\n)+|)$/);
    expect(a).not.toContain('system(');
  });

  it('leaves out probes the kernel does not have and filters the host mount namespace when asked', () => {
    const p = build(['/etc/shadow'], 4026531832);
    expect(p).not.toContain('sys_enter_unlinkat');
    expect(p).toContain('curtask->nsproxy->mnt_ns->ns.inum != 4026531832');
    expect(build(['/etc/shadow'])).not.toContain('!= 4026531832');
    expect(p).toContain('strncmp(str(args->filename), "/etc/shadow", 11) == 0');
  });
});

describe('probe classes', () => {
  it('splits the probes into one program per class whose union is the whole program', () => {
    const o = { tracepoints: ALL, sensitivePrefixes: ['/etc/shadow'], maxArgs: 4, maxCwdDepth: 4 };
    const probes = (p: string): string[] => [...p.matchAll(/^tracepoint:\S+?(?=,|$)/gm)].map((m) => m[0]).sort();
    const byClass = Object.fromEntries(PROBE_CLASSES.map((c) => [c, buildProgram({ ...o, classes: [c] })]));
    expect(probes(byClass.process!)).toEqual(['tracepoint:sched:sched_process_exec', 'tracepoint:sched:sched_process_exit', 'tracepoint:syscalls:sys_enter_execve', 'tracepoint:syscalls:sys_enter_ptrace']);
    expect(probes(byClass.file!)).toEqual(['tracepoint:syscalls:sys_enter_chdir', 'tracepoint:syscalls:sys_enter_openat', 'tracepoint:syscalls:sys_enter_openat']);
    expect(probes(byClass.net!)).toEqual(['tracepoint:sock:inet_sock_set_state', 'tracepoint:sock:inet_sock_set_state', 'tracepoint:syscalls:sys_enter_connect', 'tracepoint:syscalls:sys_exit_connect']);
    expect(byClass.net).toContain('clear(@cfd)');
    expect(byClass.file).not.toContain('@cfd');
    expect(PROBE_CLASSES.flatMap((c) => probes(byClass[c]!)).sort()).toEqual(probes(buildProgram(o)));
    // A class none of whose tracepoints this kernel has is not run at all.
    expect(buildProgram({ ...o, tracepoints: new Set(['sched:sched_process_exec']), classes: ['file'] })).toBe('');
  });
});

describe('sensitive paths', () => {
  it('matches globs within one component and directories below', () => {
    const s = new SensitiveList();
    for (const p of ['/etc/shadow', '/proc/1/environ', '/proc/self/environ', '/home/bob/.ssh/id_rsa', '/run/secrets/db', '/var/run/secrets/kubernetes.io/token']) expect(s.matches(p), p).toBe(true);
    for (const p of ['/etc/shadow-', '/etc/passwd', '/proc/1/task/2/environ', '/home/bob/notes']) expect(s.matches(p), p).toBe(false);
    expect(s.prefixes()).toContain('/proc/');
    expect(s.prefixes()).not.toContain('/etc/sudoers.d/'); // covered by /etc/sudoers
  });
});
