import { describe, expect, it } from 'vitest';
import { LogFramer, type LogLine } from '../../recorder/docker/log-framer.js';

const TS = '2026-11-23T10:00:00.123456789Z';
function frame(stream: 1 | 2, payload: Buffer | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(p.length, 4);
  return Buffer.concat([h, p]);
}
function run(chunks: Buffer[], opts = { tty: false, maxLine: 1024 }): LogLine[] {
  const out: LogLine[] = [];
  const f = new LogFramer(opts, (l) => out.push(l));
  for (const c of chunks) f.push(c);
  f.end();
  return out;
}

describe('LogFramer', () => {
  it('tells stdout from stderr and strips the engine timestamp', () => {
    const lines = run([Buffer.concat([frame(1, `${TS} out\n`), frame(2, `${TS} err\n`)])]);
    expect(lines.map((l) => [l.stream, l.line.toString(), l.engineTime])).toEqual([
      ['stdout', 'out', 1_795_428_000_123_456],
      ['stderr', 'err', 1_795_428_000_123_456],
    ]);
  });

  it('reassembles frames split across chunks at any byte', () => {
    const all = Buffer.concat([frame(1, `${TS} hello\n`), frame(2, `${TS} world\n`)]);
    for (let cut = 1; cut < all.length; cut++) {
      const lines = run([all.subarray(0, cut), all.subarray(cut)]);
      expect(lines.map((l) => l.line.toString())).toEqual(['hello', 'world']);
    }
  });

  it('joins partial messages (no trailing newline) into one line', () => {
    const lines = run([frame(1, `${TS} aaaa`), frame(1, `${TS} bbbb`), frame(1, `${TS} cc\n`)]);
    expect(lines.map((l) => l.line.toString())).toEqual(['aaaabbbbcc']);
  });

  it('cuts lines at maxLine and records the original length', () => {
    const lines = run([frame(1, `${TS} ${'x'.repeat(5000)}\n`), frame(1, `${TS} next\n`)], { tty: false, maxLine: 1024 });
    expect(lines[0]!.line.length).toBe(1024);
    expect(lines[0]!.truncated).toBe(5000);
    expect(lines[1]!.line.toString()).toBe('next');
  });

  it('is binary-safe', () => {
    const bin = Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b, 0x32, 0x4a]);
    const lines = run([frame(1, Buffer.concat([Buffer.from(`${TS} `), bin, Buffer.from('\n')]))]);
    expect(lines[0]!.line).toEqual(bin);
  });

  it('handles TTY streams (raw, CRLF)', () => {
    const lines = run([Buffer.from(`${TS} one\r\n${TS} tw`), Buffer.from(`o\r\n`)], { tty: true, maxLine: 1024 });
    expect(lines.map((l) => [l.stream, l.line.toString()])).toEqual([['stdout', 'one'], ['stdout', 'two']]);
  });
});
