/** Events with hostile strings and bytes in every kind's text fields (JSON Lines tests). */
import type { DashEvent } from '../../formats/schema.js';

export const odd = ['', 'plain', 'quote " and \\ backslash', 'tab\tnew\nline\r', '\x1b[2J\x07\x00', '\u2028\u2029', '\u202e', 'é 漢字 🎉', '\ud800 lone surrogate'];

export function* hostileEvents(): Generator<DashEvent> {
  let seq = 1;
  const base = { source: 'ebpf' as const, container: 'ab'.repeat(32) };
  for (const s of odd) {
    const time = 1_700_000_000_000_000 + seq * 7;
    yield { ...base, time, seq: seq++, kind: 'exec', pid: 1, ppid: 0, uid: 0, exe: s, argv: [s, s], cwd: s, comm: s };
    yield { ...base, time, seq: seq++, kind: 'file', op: 'rename', path: s, newPath: s, pid: 2 };
    yield { ...base, time, seq: seq++, kind: 'lifecycle', source: 'docker', type: 'container', action: s, attributes: { [s]: s, exitCode: '3' } };
    yield { ...base, time, seq: seq++, kind: 'log', source: 'docker', stream: 'stderr', line: Buffer.from(s), engineTime: time };
    yield { ...base, time, seq: seq++, kind: 'gap', source: 'dashcam', container: '', reason: s, lost: 3, from: time - 5, to: time };
  }
  yield { ...base, time: 2 ** 53 - 1, seq: seq++, kind: 'log', source: 'docker', stream: 'stdout', line: Buffer.from([0x62, 0xff, 0xfe, 0x00]) };
}
