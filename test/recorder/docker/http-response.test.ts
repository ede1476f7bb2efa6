/**
 * The engine response decoder (recorder/docker/http-response.ts): whatever the split of the bytes
 * into reads, it gives the same status, headers and body; one body buffer per read at most.
 */
import { describe, expect, it } from 'vitest';
import { HttpResponseDecoder, type ResponseHead } from '../../../recorder/docker/http-response.js';
import { rng } from '../../replay/fixture-events.js';

interface Got { head?: ResponseHead; body: Buffer[]; ended: boolean; bodiesPerRead: number[] }

function decode(reads: Buffer[], closeAtEnd = false): Got {
  const got: Got = { body: [], ended: false, bodiesPerRead: [] };
  let n = 0;
  const d = new HttpResponseDecoder({ head: (h) => { got.head = h; }, body: (b) => { got.body.push(b); n++; }, end: () => { got.ended = true; } });
  for (const r of reads) {
    n = 0;
    d.push(r);
    got.bodiesPerRead.push(n);
  }
  if (closeAtEnd) d.close();
  return got;
}

function splits(buf: Buffer, r: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length;) {
    const n = r() < 0.3 ? 1 : 1 + Math.floor(r() * 300);
    out.push(Buffer.from(buf.subarray(at, at + n)));
    at += n;
  }
  return out;
}

const chunked = (parts: Buffer[], ext = false): Buffer => Buffer.concat([
  Buffer.from('HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nTransfer-Encoding: chunked\r\n\r\n'),
  ...parts.flatMap((p) => [Buffer.from(`${p.length.toString(16)}${ext ? ';x=1' : ''}\r\n`), p, Buffer.from('\r\n')]),
  Buffer.from('0\r\n\r\n'),
]);

describe('HttpResponseDecoder', () => {
  it('decodes a chunked body the same whatever the reads, with one body buffer per read', () => {
    const r = rng(12);
    for (let round = 0; round < 200; round++) {
      const parts = Array.from({ length: 1 + Math.floor(r() * 40) }, (_, i) => Buffer.from(`frame ${round}.${i} ${'x'.repeat(Math.floor(r() * 200))}\n`));
      const want = Buffer.concat(parts);
      // Some rounds in one read: every chunk's data lands in the one body buffer of that read.
      const got = decode(round % 10 === 0 ? [chunked(parts, round % 4 === 0)] : splits(chunked(parts, round % 2 === 1), r));
      expect(got.head?.status).toBe(200);
      expect(got.head?.headers.get('content-type')).toBe('application/vnd.docker.multiplexed-stream');
      expect(Buffer.concat(got.body)).toEqual(want);
      expect(got.ended).toBe(true);
      expect(Math.max(...got.bodiesPerRead)).toBeLessThanOrEqual(1);
    }
  });

  it('with reusedReads, hands over bodies that outlive the read buffer they came in', () => {
    const r = rng(5);
    const parts = Array.from({ length: 300 }, (_, i) => Buffer.from(`line ${i} ${'y'.repeat(Math.floor(r() * 100))}\n`));
    const bodies: Buffer[] = [];
    const d = new HttpResponseDecoder({ head: () => undefined, body: (b) => void bodies.push(b), end: () => undefined }, { reusedReads: true });
    // One buffer for every read, as the log follower reads; some reads hold one chunk's data only.
    const scratch = Buffer.alloc(512);
    for (const piece of splits(chunked(parts), r)) {
      piece.copy(scratch);
      d.push(scratch.subarray(0, piece.length));
      scratch.fill(0x21);
    }
    expect(Buffer.concat(bodies)).toEqual(Buffer.concat(parts));
  });

  it('decodes sized and close-delimited bodies, and an error status with its JSON', () => {
    const sized = decode(splits(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 38\r\n\r\n{"message":"No such container: abc12"}'), rng(3)));
    expect(sized.head?.status).toBe(404);
    expect(Buffer.concat(sized.body).toString()).toBe('{"message":"No such container: abc12"}');
    expect(sized.ended).toBe(true);
    const raw = decode([Buffer.from('HTTP/1.0 200 OK\r\n\r\nraw '), Buffer.from('stream')], true);
    expect(Buffer.concat(raw.body).toString()).toBe('raw stream');
    expect(raw.ended).toBe(true);
  });

  it('refuses what is not a response it can read, and says a cut body was cut', () => {
    expect(() => decode([Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')])).toThrow(/status line/);
    expect(() => decode([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')])).toThrow(/chunk size/);
    for (const size of ['', ' ', '1x', '1234567890abc', '-1']) {
      expect(() => decode([Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\n`)])).toThrow(/chunk size/);
    }
    expect(decode([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n A ;ext=1\r\n0123456789\r\n0\r\n\r\n')]).body.toString()).toBe('0123456789');
    expect(() => decode([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY')])).toThrow(/CRLF/);
    expect(() => decode([Buffer.from('HTTP/1.1 200 OK\r\n'), Buffer.alloc(70_000, 0x41)])).toThrow(/longer than/);
    expect(() => decode([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab')], true)).toThrow(/closed inside the body/);
  });
});
