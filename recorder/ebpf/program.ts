/**
 * Generates the bpftrace program. Everything in it comes from constants in this file, numbers
 * checked to be integers, and sensitive-path prefixes checked against a strict character set
 * (SensitiveList): no container name, path or other observed text is ever spliced into it.
 *
 * Output protocol (bpftrace -f json; each printf is one JSON record whose `data` is one line):
 * a tag, tab-separated numeric fields, and at most one free string, always last, so tabs or
 * newlines inside it cannot shift fields. Events that carry several strings (exec argv and cwd,
 * rename's two paths, the cgroup name) send the extra strings first on lines keyed by thread id;
 * one probe runs on one CPU, whose output stays in order, so they precede their main line.
 * The common header H is: monotonic ns, tgid, tid, process start (clock ticks since boot, as in
 * /proc/<pid>/stat), cgroup v2 id, mount namespace inode.
 */
/**
 * Classes of probes, each run by its own bpftrace process with its own buffers and loss counter,
 * so a storm of one class (a host extracting an image writes tens of thousands of files) can
 * only cost events of that class: process (exec, fork, exit, security calls, OOM), net, file.
 */
export const PROBE_CLASSES = ['process', 'net', 'file'] as const;
export type ProbeClass = (typeof PROBE_CLASSES)[number];

export interface ProgramOptions {
  /** The classes of probes in this program (default: all, one program). */
  classes?: readonly ProbeClass[];
  /** Tracepoints this kernel has, as `category:name`. Probes on missing ones are left out. */
  tracepoints: ReadonlySet<string>;
  /** Literal prefixes of sensitive paths (already validated). */
  sensitivePrefixes: readonly string[];
  /** When set, events of tasks in this mount namespace (the host's) are filtered in the kernel. */
  hostMntNs?: number;
  /** argv elements printed per exec (more are flagged). */
  maxArgs: number;
  /** cwd path components walked per exec. */
  maxCwdDepth: number;
}

/** Syscall numbers in our `S` lines (stable; the parser maps them back). */
export const SYSCALL_OPS = ['', 'setuid', 'setgid', 'setreuid', 'setresuid', 'setregid', 'setresgid', 'ptrace', 'mount', 'unshare', 'setns', 'memfd_create', 'init_module', 'finit_module'] as const;
const op = (name: (typeof SYSCALL_OPS)[number]): number => SYSCALL_OPS.indexOf(name);

const H_FMT = '%llu\\t%d\\t%d\\t%llu\\t%llu\\t%u';
const H_ARGS = 'nsecs, pid, tid, curtask->group_leader->start_boottime / 10000000, cgroup, curtask->nsproxy->mnt_ns->ns.inum';
/** O_WRONLY | O_RDWR | O_CREAT | O_TRUNC */
const WRITE_FLAGS = 0x243;
const AT_FDCWD = -100;

function line(tag: string, fmt: string[], args: string[], withHeader = true): string {
  const f = [tag, ...(withHeader ? [H_FMT] : []), ...fmt].join('\\t');
  const a = [...(withHeader ? [H_ARGS] : []), ...args];
  return `printf("${f}\\n", ${a.join(', ')});`;
}

function int(n: number, what: string): number {
  if (!Number.isSafeInteger(n)) throw Object.assign(new Error(`program constant ${what} must be an integer`), { code: 'BAD_ARGUMENT' });
  return n;
}

/** A bpftrace string literal from a prefix that SensitiveList validated; re-checked here. */
function literal(s: string): string {
  if (!/^[A-Za-z0-9_.@+\-/]+$/.test(s)) throw Object.assign(new Error(`unsafe literal ${JSON.stringify(s)}`), { code: 'BAD_ARGUMENT' });
  return `"${s}"`;
}

function sockTuple(sk: string): { fmt: string[]; args: string[] } {
  const c = `${sk}->__sk_common`;
  const v6 = (f: string): string[] => [0, 1, 2, 3].map((i) => `${c}.${f}.in6_u.u6_addr32[${i}]`);
  return {
    fmt: ['%d', '%d', '%d', '%d', '%u', '%u', '%u', '%u', '%u', '%u', '%u', '%u', '%u', '%u'],
    args: [`${c}.skc_family`, `${sk}->sk_protocol`, `${c}.skc_num`, `${c}.skc_dport`, `${c}.skc_rcv_saddr`, `${c}.skc_daddr`, ...v6('skc_v6_rcv_saddr'), ...v6('skc_v6_daddr')],
  };
}

export function buildProgram(o: ProgramOptions): string {
  const has = (tp: string): boolean => o.tracepoints.has(tp);
  const classes = new Set<ProbeClass>(o.classes ?? PROBE_CLASSES);
  const out: string[] = [];
  let cls: ProbeClass = 'process';
  const probe = (tps: string[], filter: string, body: string): void => {
    const present = tps.filter(has);
    if (present.length && classes.has(cls)) out.push(`${present.map((t) => `tracepoint:${t}`).join(',\n')}\n/${filter}/\n{\n  ${body}\n}`);
  };
  const host = o.hostMntNs === undefined ? '' : ` && curtask->nsproxy->mnt_ns->ns.inum != ${int(o.hostMntNs, 'hostMntNs')}`;
  // runc's own setup (runc:[0:PARENT], [1:CHILD], [2:INIT]) runs in the container's cgroup before
  // the container's first exec; its opens and mounts are not the container's doing.
  const F = `strncmp(comm, "runc:[", 6) != 0${host}`;
  const P = 'args->filename';

  cls = 'process';
  // argv, before the exec succeeds (keyed by tid; a failed exec is superseded by the next one).
  let argv = '';
  for (let i = 0; i < int(o.maxArgs, 'maxArgs'); i++) argv += `if (args->argv[${i}] != 0) { printf("a\\t%d\\t${i}\\t%s\\n", tid, str(args->argv[${i}])); `;
  argv += `if (args->argv[${o.maxArgs}] != 0) { printf("A\\t%d\\n", tid); }` + '}'.repeat(o.maxArgs);
  // End of argv: exec migrates the task to another CPU, so its main line may be read first.
  argv += ' printf("e\\t%d\\n", tid);';
  probe(['syscalls:sys_enter_execve', 'syscalls:sys_enter_execveat'], `1${host}`, argv);

  probe(['sched:sched_process_exec'], `1${host}`, [
    '$d = curtask->fs->pwd.dentry; $r = curtask->fs->root.dentry; $i = 0;',
    `  while ($i < ${int(o.maxCwdDepth, 'maxCwdDepth')}) { if ($d == $r) { break; } if ($d == $d->d_parent) { break; } printf("c\\t%d\\t%d\\t%s\\n", tid, $i, str($d->d_name.name)); $d = $d->d_parent; $i++; }`,
    '  printf("g\\t%d\\t%s\\n", tid, str(curtask->cgroups->dfl_cgrp->kn->name));',
    '  printf("f\\t%d\\t%s\\n", tid, str(args->filename));',
    '  ' + line('E', ['%d', '%d', '%llu', '%u', '%u', '%d'], ['args->old_pid', 'curtask->real_parent->tgid', 'curtask->real_parent->group_leader->start_boottime / 10000000', 'uid', 'gid', '$d == $r']),
  ].join('\n'));
  // The child's own return from fork/clone: its start time is readable, threads are skipped.
  probe(['syscalls:sys_exit_clone', 'syscalls:sys_exit_clone3', 'syscalls:sys_exit_fork', 'syscalls:sys_exit_vfork'], `args->ret == 0 && pid == tid && ${F}`,
    line('F', ['%d', '%llu', '%u', '%s'], ['curtask->real_parent->tgid', 'curtask->real_parent->group_leader->start_boottime / 10000000', 'uid', 'comm']));
  probe(['sched:sched_process_exit'], `args->group_dead && ${F}`, line('Q', ['%d', '%s'], ['curtask->exit_code', 'comm']));

  cls = 'file';
  // Files: opens for writing; read-only opens only of sensitive paths (prefix-filtered here).
  const sens = o.sensitivePrefixes.map((p) => `strncmp(str(${P}), ${literal(p)}, ${p.length}) == 0`).join(' || ') || '0';
  probe(['syscalls:sys_enter_openat'], `(args->flags & ${WRITE_FLAGS}) != 0 && ${F}`, line('O', ['%d', '%d', '%d', '%s'], ['args->dfd', 'args->flags', 'args->mode', `str(${P})`]));
  probe(['syscalls:sys_enter_openat'], `(args->flags & ${WRITE_FLAGS}) == 0 && ${F} && (${sens})`, line('O', ['%d', '%d', '%d', '%s'], ['args->dfd', 'args->flags', 'args->mode', `str(${P})`]));
  probe(['syscalls:sys_enter_open'], `(args->flags & ${WRITE_FLAGS}) != 0 && ${F}`, line('O', ['%d', '%d', '%d', '%s'], [`${AT_FDCWD}`, 'args->flags', 'args->mode', `str(${P})`]));
  probe(['syscalls:sys_enter_open'], `(args->flags & ${WRITE_FLAGS}) == 0 && ${F} && (${sens})`, line('O', ['%d', '%d', '%d', '%s'], [`${AT_FDCWD}`, 'args->flags', 'args->mode', `str(${P})`]));
  probe(['syscalls:sys_enter_creat'], F, line('O', ['%d', '%d', '%d', '%s'], [`${AT_FDCWD}`, '0x241', 'args->mode', 'str(args->pathname)']));
  probe(['syscalls:sys_enter_unlinkat'], F, line('U', ['%d', '%d', '%s'], ['args->dfd', 'args->flag', 'str(args->pathname)']));
  probe(['syscalls:sys_enter_unlink'], F, line('U', ['%d', '%d', '%s'], [`${AT_FDCWD}`, '0', 'str(args->pathname)']));
  for (const [tp, od, nd, fl] of [['renameat2', 'args->olddfd', 'args->newdfd', 'args->flags'], ['renameat', 'args->olddfd', 'args->newdfd', '0'], ['rename', `${AT_FDCWD}`, `${AT_FDCWD}`, '0']] as const) {
    probe([`syscalls:sys_enter_${tp}`], F, `printf("r\\t%d\\t%s\\n", tid, str(args->oldname));\n  ` + line('R', ['%d', '%d', '%d', '%s'], [od, nd, fl, 'str(args->newname)']));
  }
  probe(['syscalls:sys_enter_fchmodat', 'syscalls:sys_enter_fchmodat2'], F, line('M', ['%d', '%d', '%s'], ['args->dfd', 'args->mode', `str(${P})`]));
  probe(['syscalls:sys_enter_chmod'], F, line('M', ['%d', '%d', '%s'], [`${AT_FDCWD}`, 'args->mode', `str(${P})`]));
  probe(['syscalls:sys_enter_fchmod'], F, line('m', ['%d', '%d'], ['args->fd', 'args->mode']));
  probe(['syscalls:sys_enter_fchownat'], F, line('W', ['%d', '%d', '%d', '%s'], ['args->dfd', 'args->user', 'args->group', `str(${P})`]));
  probe(['syscalls:sys_enter_chown', 'syscalls:sys_enter_lchown'], F, line('W', ['%d', '%d', '%d', '%s'], [`${AT_FDCWD}`, 'args->user', 'args->group', `str(${P})`]));
  probe(['syscalls:sys_enter_fchown'], F, line('w', ['%d', '%d', '%d'], ['args->fd', 'args->user', 'args->group']));
  probe(['syscalls:sys_enter_mkdirat'], F, line('D', ['%d', '%d', '%s'], ['args->dfd', 'args->mode', 'str(args->pathname)']));
  probe(['syscalls:sys_enter_mkdir'], F, line('D', ['%d', '%d', '%s'], [`${AT_FDCWD}`, 'args->mode', 'str(args->pathname)']));
  probe(['syscalls:sys_enter_chdir'], F, line('P', ['%s'], [`str(${P})`]));
  probe(['syscalls:sys_enter_fchdir'], F, line('p', ['%d'], ['args->fd']));

  cls = 'process';
  // Security-relevant calls.
  const S = (name: (typeof SYSCALL_OPS)[number], filter: string, a1: string, a2: string, s = '""'): void =>
    probe([`syscalls:sys_enter_${name}`], `${filter}${filter ? ' && ' : ''}${F}`, line('S', ['%d', '%lld', '%lld', '%s'], [String(op(name)), a1, a2, s]));
  S('setuid', 'args->uid == 0', 'args->uid', '0');
  S('setgid', 'args->gid == 0', 'args->gid', '0');
  S('setreuid', '(args->ruid == 0 || args->euid == 0)', 'args->ruid', 'args->euid');
  S('setresuid', '(args->ruid == 0 || args->euid == 0 || args->suid == 0)', 'args->ruid', 'args->euid');
  S('setregid', '(args->rgid == 0 || args->egid == 0)', 'args->rgid', 'args->egid');
  S('setresgid', '(args->rgid == 0 || args->egid == 0 || args->sgid == 0)', 'args->rgid', 'args->egid');
  S('ptrace', '', 'args->request', 'args->pid');
  S('mount', '', 'args->flags', '0', 'str(args->dir_name)');
  S('unshare', '', 'args->unshare_flags', '0');
  S('setns', '', 'args->fd', 'args->flags');
  S('memfd_create', '', 'args->flags', '0', 'str(args->uname)');
  S('init_module', '', '0', '0');
  S('finit_module', '', '0', '0');

  cls = 'net';
  // Network: read the socket behind the fd once the call returns, in the caller's context.
  const sockOf = (fd: string): string => `$f = *(curtask->files->fdt->fd + ${fd}); $sk = ((struct socket *)$f->private_data)->sk;`;
  const t = sockTuple('$sk');
  probe(['syscalls:sys_enter_connect'], F, '@cfd[tid] = args->fd + 1;');
  probe(['syscalls:sys_exit_connect'], '@cfd[tid]', `$fd = @cfd[tid] - 1; delete(@cfd[tid]);\n  ${sockOf('$fd')}\n  ` +
    line('N', ['%d', '%lld', '%llu', ...t.fmt], ['1', 'args->ret', '$sk', ...t.args]));
  probe(['syscalls:sys_exit_accept', 'syscalls:sys_exit_accept4'], `args->ret >= 0 && ${F}`, `${sockOf('args->ret')}\n  ` +
    line('N', ['%d', '%lld', '%llu', ...t.fmt], ['2', 'args->ret', '$sk', ...t.args]));
  // Listening runs in the caller's context; closes often run in softirq context, so they carry
  // only the socket address and are attributed to whoever connected or accepted it.
  probe(['sock:inet_sock_set_state'], `args->newstate == 10 && args->protocol == 6 && ${F}`,
    `$sk = (struct sock *)args->skaddr;\n  ` + line('L', ['%d', '%lld', '%llu', ...t.fmt], ['3', '0', '$sk', ...t.args]));
  probe(['sock:inet_sock_set_state'], 'args->newstate == 7 && args->protocol == 6',
    'printf("Z\\t%llu\\t%llu\\t%d\\n", nsecs, args->skaddr, args->oldstate);');
  probe(['syscalls:sys_enter_sendto'], `args->addr != 0 && ${F}`,
    line('u', ['%d', '%d', '%d', '%u', '%u', '%u', '%u', '%u'], ['args->fd', '*(uint16*)args->addr', '*(uint16*)(args->addr + 2)', '*(uint32*)(args->addr + 4)', ...[8, 12, 16, 20].map((i) => `*(uint32*)(args->addr + ${i})`)]));

  cls = 'process';
  // The OOM killer's choice, with the victim's memory as it was chosen (pages in kB): the one
  // memory sample of a container that dies between two stats polls. It runs in the task whose
  // allocation failed, in the same memory cgroup, so the header attributes it to the container.
  probe(['oom:mark_victim'], `1${host}`, line('K', ['%d', '%lu', '%lu', '%lu', '%lu'], ['args->pid', 'args->total_vm', 'args->anon_rss', 'args->file_rss', 'args->shmem_rss']));

  // No probe of these classes on this kernel: nothing to run.
  if (!out.length) return '';
  if (classes.has('net')) out.push('END { clear(@cfd); }');
  return out.join('\n\n') + '\n';
}
