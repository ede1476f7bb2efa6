import { describe, expect, it } from 'vitest';
import { cgroupProcsCandidates, parseNetTcp, parseStat, procKey, statusId } from '../../../recorder/procfs/proc-parse.js';

describe('/proc parsers', () => {
  it('reads stat even when comm holds spaces and parentheses', () => {
    const st = parseStat('4242 (we (ird) name) S 17 4242 1 0 -1 4194304 1 0 0 0 0 0 0 0 20 0 1 0 886786 3133440 355 18446744073709551615');
    expect(st).toEqual({ pid: 4242, comm: 'we (ird) name', ppid: 17, startTicks: 886786 });
    expect(procKey(st!.pid, st!.startTicks)).toBe('4242:886786');
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('reads tcp and tcp6 tables', () => {
    const v4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1125 1 0 100 0 0 10 0
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2233 1 0 100 0 0 10 0`;
    expect(parseNetTcp(v4, 4)).toEqual([
      { local: '127.0.0.1:8080', remote: '0.0.0.0:0', state: 'LISTEN', inode: 1125, family: 4 },
      { local: '127.0.0.1:50000', remote: '127.0.0.1:8080', state: 'ESTABLISHED', inode: 2233, family: 4 },
    ]);
    const v6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 78 1 0 100 0 0 10 0`;
    expect(parseNetTcp(v6, 6).map((r) => [r.local, r.remote])).toEqual([
      ['[::1]:8080', '[::]:0'],
      ['[::ffff:127.0.0.1]:8080', '[::ffff:127.0.0.1]:54321'],
    ]);
  });

  it('reads uid/gid and finds the cgroup.procs of v1 and v2 hierarchies', () => {
    expect(statusId('Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nGid:\t50\t50\t50\t50\n', 'Uid')).toBe(1000);
    expect(statusId('Gid:\t50\t50\t50\t50\n', 'Gid')).toBe(50);
    const v1 = '9:pids:/docker/abc\n4:memory:/docker/abc\n0::/\n';
    expect(cgroupProcsCandidates(v1)[0]).toBe('/sys/fs/cgroup/pids/docker/abc/cgroup.procs');
    expect(cgroupProcsCandidates('0::/system.slice/docker-abc.scope\n')).toContain('/sys/fs/cgroup/system.slice/docker-abc.scope/cgroup.procs');
  });
});
