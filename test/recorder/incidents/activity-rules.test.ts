import { describe, expect, it } from 'vitest';
import { ActivityRules } from '../../../recorder/incidents/activity-rules.js';
import { defaultIncidentConfig, incidentConfigFrom } from '../../../recorder/incidents/incident-config.js';
import type { DashEvent } from '../../../formats/schema.js';

const C = 'b'.repeat(64);
let seq = 0;
const env = { container: C, source: 'ebpf' as const };
const at = (s: number): { time: number; seq: number } => ({ time: s * 1e6, seq: ++seq });
const exec = (s: number, exe: string, argv: string[], uid = 0): DashEvent => ({ ...env, ...at(s), kind: 'exec', pid: 10, ppid: 1, uid, exe, argv, procKey: `10:${s}` });
const file = (s: number, op: string, path: string): DashEvent => ({ ...env, ...at(s), kind: 'file', op, path, pid: 10 });
const triggers = (r: ActivityRules, evs: DashEvent[]): string[] => evs.flatMap((e) => r.onEvent(e)).map((c) => c.trigger);

describe('activity rules', () => {
  it('interactive shell: a shell without -c or a script, by exec or by docker exec', () => {
    const r = new ActivityRules(defaultIncidentConfig().rules);
    expect(triggers(r, [exec(1, '/bin/sh', ['sh'])])).toEqual(['interactive-shell']);
    expect(triggers(r, [exec(2, '/bin/bash', ['bash', '-i'])])).toEqual(['interactive-shell']);
    expect(triggers(r, [exec(3, '/bin/sh', ['sh', '-c', 'true']), exec(4, '/bin/sh', ['sh', 'run.sh'])])).toEqual([]);
    const dockerExec: DashEvent = { container: C, source: 'docker', ...at(5), kind: 'lifecycle', type: 'container', action: 'exec_start', attributes: { actionDetail: 'sh' } };
    const probe: DashEvent = { container: C, source: 'docker', ...at(6), kind: 'lifecycle', type: 'container', action: 'exec_start', attributes: { actionDetail: '/bin/sh -c wget -q localhost' } };
    expect(triggers(r, [dockerExec, probe])).toEqual(['interactive-shell']);
  });

  it('write below system directories, package managers, sensitive reads', () => {
    const r = new ActivityRules(defaultIncidentConfig().rules);
    expect(triggers(r, [file(1, 'write', '/etc/passwd'), file(2, 'write', '/tmp/x'), file(3, 'unlink', '/usr/bin/id'), file(4, 'read-sensitive', '/etc/shadow')]))
      .toEqual(['write-below-system', 'write-below-system', 'sensitive-read']);
    expect(triggers(r, [exec(5, '/sbin/apk', ['apk', 'add', 'curl']), exec(6, '/usr/bin/pip3', ['pip3', 'install', 'x'])])).toEqual(['package-manager', 'package-manager']);
  });

  it('drift: an executable written in the container, then run', () => {
    const r = new ActivityRules(defaultIncidentConfig().rules);
    expect(triggers(r, [exec(1, '/tmp/payload', ['payload'])])).toEqual([]);
    expect(triggers(r, [file(2, 'create', '/tmp/payload'), file(3, 'chmod', '/tmp/payload'), exec(4, '/tmp/payload', ['payload'])])).toEqual(['drift']);
  });

  it('privilege change to root from a non-root process, ptrace other than TRACEME', () => {
    const r = new ActivityRules(defaultIncidentConfig().rules);
    triggers(r, [exec(1, '/app/run', ['run'], 1000)]);
    const setuid: DashEvent = { ...env, ...at(2), kind: 'syscall', op: 'setuid', pid: 10, procKey: '10:1', args: { uid: 0 } };
    const setuidRoot: DashEvent = { ...env, ...at(3), kind: 'syscall', op: 'setuid', pid: 11, procKey: '11:1', args: { uid: 1000 } };
    const traceme: DashEvent = { ...env, ...at(4), kind: 'syscall', op: 'ptrace', pid: 10, args: { request: 0 } };
    const attach: DashEvent = { ...env, ...at(5), kind: 'syscall', op: 'ptrace', pid: 10, args: { request: 16, target: 99 } };
    expect(triggers(r, [setuid, setuidRoot, traceme, attach])).toEqual(['privilege-root', 'ptrace']);
  });

  it('new outbound destination: off by default; on, fires once per destination, never for loopback or DNS', () => {
    const conn = (s: number, remote: string): DashEvent => ({ ...env, ...at(s), kind: 'net', op: 'connect', proto: 'tcp', local: '172.17.0.2:40000', remote });
    const evs = [conn(1, '10.0.0.1:443'), conn(2, '10.0.0.1:443'), conn(3, '127.0.0.1:80'), conn(4, '10.0.0.2:53'), conn(5, '[2001:db8::1]:443')];
    expect(triggers(new ActivityRules(defaultIncidentConfig().rules), evs)).toEqual([]);
    const on = incidentConfigFrom({ rules: { 'new-outbound': { enabled: true } } });
    expect(triggers(new ActivityRules(on.rules), evs)).toEqual(['new-outbound', 'new-outbound']);
  });

  it('the rules file tunes rules and rejects unknown names', () => {
    const cfg = incidentConfigFrom({ window: { before: '1m' }, rules: { 'write-below-system': { prefixes: ['/opt/'], after: '30s' } }, triggers: { 'restart-loop': { count: 5, within: '10m' } } });
    expect(cfg.rules['write-below-system']).toMatchObject({ prefixes: ['/opt/'], before: 60e6, after: 30e6 });
    expect(cfg.triggers['restart-loop']).toMatchObject({ count: 5, within: 600e6, before: 60e6 });
    expect(() => incidentConfigFrom({ rules: { nope: {} } })).toThrow(/unknown rule "nope"/);
    expect(() => incidentConfigFrom({ rules: { ptrace: { enabled: 'yes' } } })).toThrow(/expected a boolean/);
  });
});
