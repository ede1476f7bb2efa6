/** Pure parsers for /proc files; kept apart from the I/O so they are unit-tested on fixtures. */

export interface ProcStat { pid: number; comm: string; ppid: number; startTicks: number }

/** /proc/<pid>/stat. The comm field may hold spaces and parentheses: it ends at the LAST ')'. */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); ppid is field 4, starttime field 22.
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  const pid = Number(text.slice(0, open).trim());
  if (!Number.isFinite(pid) || !Number.isFinite(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { pid, comm: text.slice(open + 1, close), ppid, startTicks };
}

/** The identity shared by every source: `<host pid>:<start time in clock ticks since boot>`. */
export function procKey(pid: number, startTicks: number): string {
  return `${pid}:${startTicks}`;
}

/** First value of a "Uid:" / "Gid:" line of /proc/<pid>/status (the real id). */
export function statusId(status: string, field: 'Uid' | 'Gid'): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status);
  return m ? Number(m[1]) : undefined;
}

export const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

export interface SocketRow { local: string; remote: string; state: string; inode: number; family: 4 | 6 }

/** Hex address as the kernel prints it (host byte order per 32-bit word) → text. */
function hexAddr(hex: string, family: 4 | 6): string {
  const words: Buffer[] = [];
  for (let i = 0; i < hex.length; i += 8) words.push(Buffer.from(hex.slice(i, i + 8), 'hex').reverse());
  const b = Buffer.concat(words);
  if (family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i));
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return ipv6Text(g);
}

/** RFC 5952: the longest run of two or more zero groups becomes '::'. */
function ipv6Text(g: number[]): string {
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function endpoint(field: string, family: 4 | 6): string {
  const [addr, port] = field.split(':');
  const ip = hexAddr(addr!, family);
  const p = parseInt(port!, 16);
  return family === 6 ? `[${ip}]:${p}` : `${ip}:${p}`;
}

/** /proc/<pid>/net/tcp or tcp6. */
export function parseNetTcp(text: string, family: 4 | 6): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    rows.push({ local: endpoint(f[1]!, family), remote: endpoint(f[2]!, family), state: TCP_STATES[f[3]!] ?? f[3]!, inode: Number(f[9]), family });
  }
  return rows;
}

/** Which cgroup.procs file lists a process's cgroup, from /proc/<pid>/cgroup (v1 or v2). */
export function cgroupProcsCandidates(cgroupFile: string, root = '/sys/fs/cgroup'): string[] {
  const out: string[] = [];
  for (const line of cgroupFile.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined || path === '/') continue;
    if (controllers === '') out.push(`${root}${path}/cgroup.procs`, `${root}/unified${path}/cgroup.procs`);
    else if (controllers!.split(',').includes('pids')) out.unshift(`${root}/pids${path}/cgroup.procs`);
    else if (controllers!.split(',').includes('memory')) out.push(`${root}/memory${path}/cgroup.procs`);
  }
  return out;
}
