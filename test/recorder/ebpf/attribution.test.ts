import { describe, expect, it } from 'vitest';
import { Attributor } from '../../../recorder/ebpf/attribution.js';
import type { NewEvent } from '../../../formats/schema.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const HOST_MNT = 4026531832;
const ev = (pid: number): NewEvent => ({ kind: 'exit', source: 'ebpf', container: '', pid, time: pid });

function setup(host = false): { at: Attributor; out: NewEvent[]; clock: { t: number } } {
  const out: NewEvent[] = [];
  const clock = { t: 0 };
  return { at: new Attributor({ host, hostMnt: HOST_MNT, holdMs: 3000, emit: (e) => out.push(e), now: () => clock.t }), out, clock };
}

describe('container attribution', () => {
  it('maps by cgroup first, then by mount namespace', () => {
    const { at, out } = setup();
    at.learn(A, { cgroup: 10, mnt: 100 });
    at.learn(B, { cgroup: 20, mnt: 200 });
    at.submit(ev(1), { cgroup: 10, mnt: 999 });
    at.submit(ev(2), { cgroup: 999, mnt: 200 });
    at.submit(ev(3), { cgroup: 20, mnt: 100 });
    expect(out.map((e) => [e.container, (e as { pid: number }).pid])).toEqual([[A, 1], [B, 2], [B, 3]]);
  });

  it('learns a container from its cgroup name and releases held events', () => {
    const { at, out } = setup();
    at.submit(ev(1), { cgroup: 30, mnt: 300 });
    expect(out).toHaveLength(0);
    at.learnCgroupName({ cgroup: 30, mnt: 300 }, 'not-a-container');
    expect(out).toHaveLength(0);
    at.learnCgroupName({ cgroup: 30, mnt: 300 }, `docker-${A}.scope`);
    expect(out).toMatchObject([{ container: A, pid: 1 }]);
  });

  it('retires a stopped container\'s namespace inode for processes started after the stop', () => {
    const out: NewEvent[] = [];
    const clock = { t: 0, ticks: 1000 };
    const at = new Attributor({ host: false, hostMnt: HOST_MNT, holdMs: 3000, emit: (e) => out.push(e), now: () => clock.t, nowTicks: () => clock.ticks });
    at.learn(A, { mnt: 100 });
    at.forget(A);
    // Its own last process (started before the stop) is still its; a process of a namespace made
    // since with the same inode (a host `unshare -m`) is not.
    at.submit(ev(1), { cgroup: 0, mnt: 100, ticks: 900 });
    at.submit(ev(2), { cgroup: 0, mnt: 100, ticks: 1001 });
    expect(out.map((e) => e.container)).toEqual([A]);
    clock.t = 5000;
    at.expire();
    expect(out[1]).toMatchObject({ kind: 'gap', reason: 'ebpf-unattributed', lost: 1 });
    // A container that gets the same inode later is learned afresh.
    at.learn(B, { mnt: 100 });
    at.submit(ev(3), { cgroup: 0, mnt: 100, ticks: 2000 });
    expect(out[2]).toMatchObject({ container: B, pid: 3 });
  });

  it('learns from a cgroup name only once a watched engine announced the ID', () => {
    const known = new Set<string>();
    const out: NewEvent[] = [];
    const clock = { t: 0 };
    const at = new Attributor({ host: false, hostMnt: HOST_MNT, holdMs: 3000, emit: (e) => out.push(e), now: () => clock.t, isContainer: (id) => known.has(id) });
    at.submit(ev(1), { cgroup: 30, mnt: 300 });
    at.learnCgroupName({ cgroup: 30, mnt: 300 }, `docker-${A}.scope`);
    expect(out).toHaveLength(0);
    known.add(A); // the engine's create event arrives after the exec
    clock.t = 1000;
    at.expire();
    expect(out).toMatchObject([{ container: A, pid: 1 }]);
    // Another engine's container: never announced, so its events end as unattributed.
    at.submit(ev(2), { cgroup: 40, mnt: 400 });
    at.learnCgroupName({ cgroup: 40, mnt: 400 }, `docker-${B}.scope`);
    clock.t = 5000;
    at.expire();
    expect(out[1]).toMatchObject({ kind: 'gap', reason: 'ebpf-unattributed', lost: 1 });
  });

  it('counts what stays unknown in a gap instead of dropping it', () => {
    const { at, out, clock } = setup();
    at.submit(ev(1), { cgroup: 40, mnt: 400 });
    at.submit(ev(2), { cgroup: 40, mnt: 400 });
    clock.t = 2000;
    at.expire();
    expect(out).toHaveLength(0);
    clock.t = 3500;
    at.expire();
    expect(out).toMatchObject([{ kind: 'gap', reason: 'ebpf-unattributed', lost: 2, container: '' }]);
  });

  it('records host events only when asked', () => {
    const off = setup(false);
    off.at.submit(ev(1), { cgroup: 1, mnt: HOST_MNT });
    expect(off.out).toHaveLength(0);
    expect(off.at.stats.hostSkipped).toBe(1);
    const on = setup(true);
    on.at.submit(ev(1), { cgroup: 1, mnt: HOST_MNT });
    on.at.submit(ev(2), { cgroup: 50, mnt: 500 });
    on.clock.t = 5000;
    on.at.expire();
    expect(on.out.map((e) => e.container)).toEqual(['', '']);
  });

  it('never learns the host mount namespace as a container', () => {
    const { at } = setup();
    at.learn(A, { mnt: HOST_MNT });
    expect(at.resolve({ cgroup: 0, mnt: HOST_MNT })).toBe('');
  });

  it('knows a host process in a namespace of its own by its cgroup, without holding its events', () => {
    const out: NewEvent[] = [];
    const at = new Attributor({ host: false, hostMnt: HOST_MNT, holdMs: 3000, emit: (e) => out.push(e), now: () => 0, rootCgroup: 1 });
    // The root cgroup is the host's only once containers are seen to have cgroups of their own
    // (on a v1 host every process is in it, the containers' too).
    expect(at.resolve({ cgroup: 1, mnt: 900 })).toBeUndefined();
    at.learn(A, { cgroup: 1, mnt: 100 });
    expect(at.resolve({ cgroup: 1, mnt: 900 })).toBeUndefined();
    expect(at.resolve({ cgroup: 1, mnt: 100 })).toBe(A);
    at.learn(B, { cgroup: 20, mnt: 200 });
    expect(at.resolve({ cgroup: 1, mnt: 900 })).toBe('');
    // systemd's service and session cgroups, named with an exec in them.
    at.learnCgroupName({ cgroup: 30, mnt: 901 }, 'docker.service');
    at.learnCgroupName({ cgroup: 31, mnt: 902 }, 'session-4.scope');
    at.learnCgroupName({ cgroup: 32, mnt: 903 }, 'libpod-conmon.scope');
    expect([30, 31, 32].map((c) => at.resolve({ cgroup: c, mnt: 999 }))).toEqual(['', '', undefined]);
    at.submit(ev(1), { cgroup: 30, mnt: 999 });
    expect(at.heldCount).toBe(0);
    expect(at.stats.hostSkipped).toBe(1);
  });

  it('holds a bounded number of events: a storm of unknown ones is counted, not kept', () => {
    const { at, out, clock } = setup();
    for (let i = 0; i < 120_000; i++) at.submit(ev(i), { cgroup: 40, mnt: 400 });
    expect(at.heldCount).toBeLessThanOrEqual(50_000);
    clock.t = 5000;
    at.expire();
    expect(out).toMatchObject([{ kind: 'gap', reason: 'ebpf-unattributed', lost: 120_000, from: 0, to: 119_999 }]);
  });
});
