/**
 * Decodes one HTTP/1.1 response as it arrives on a socket: status line and headers, then the
 * body, chunked (Transfer-Encoding: chunked), sized (Content-Length) or up to the close.
 *
 * Why not Node's http client: the engine writes a followed log stream as one HTTP chunk per log
 * line, and Node's client (like undici) hands the body over chunk by chunk, with a parser callback,
 * a stream push and an event per line. Following 100,000 lines cost 0.51-0.64 CPU-s through
 * dockerode and 0.46-0.50 through undici, against 0.18-0.20 reading the same socket raw (same
 * container, same session). This decoder hands the body over once per socket read: the data of
 * every chunk in it, as one buffer (a view of the read), with no object per chunk on the way
 * (chunk sizes are read from the bytes, chunk data moved together within the read: BodyBuilder):
 * at one chunk per log line, every allocation here would be one per line.
 *
 * A read handed to push() is the decoder's to rewrite. Bodies handed over are never reused, so the
 * caller may keep views of them. A caller that reads into one buffer it reuses says so
 * (`reusedReads`): a body is then a copy, never a view of the read, and the read needs no copy of
 * its own (each byte is copied once).
 */
export interface ResponseHead { status: number; headers: Map<string, string> }

export interface ResponseHandlers {
  head(h: ResponseHead): void;
  body(b: Buffer): void;
  end(): void;
}

const HEAD_MAX = 64 * 1024;
const LINE_MAX = 4096;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

const bad = (what: string): Error => new Error(`unexpected engine response: ${what}`);

type State = 'head' | 'size' | 'data' | 'data-end' | 'trailer' | 'sized' | 'close' | 'done';

const hexDigit = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);

/** The size on a chunk-size line b[at, nl): hex digits, then optional spaces and `;extensions`. */
function chunkSize(b: Buffer, at: number, nl: number): number {
  let i = at;
  while (i < nl && (b[i] === 32 || b[i] === 9)) i++;
  let n = 0;
  let digits = 0;
  for (let d: number; i < nl && (d = hexDigit(b[i]!)) >= 0; i++) {
    n = n * 16 + d;
    digits++;
  }
  while (i < nl && (b[i] === 32 || b[i] === 9)) i++;
  if (digits === 0 || digits > 12 || (i < nl && b[i] !== 59)) throw bad(`chunk size ${JSON.stringify(b.toString('latin1', at, Math.min(nl, at + 20)))}`);
  return n;
}

/**
 * The body bytes of one read, gathered in place: the data of each later chunk is moved down onto
 * the end of the body so far (the chunk framing between them drops out), so a read holding a
 * hundred chunks costs a hundred moves within it and no buffer or view per chunk. Ranges come in
 * order and the body never reaches past the next one, so a move never overwrites data yet to come.
 */
class BodyBuilder {
  #from = 0;
  #end = 0;
  #any = false;
  constructor(readonly src: Buffer, readonly reused: boolean) {}

  add(from: number, to: number): void {
    if (to <= from) return;
    if (!this.#any) {
      this.#from = from;
      this.#end = to;
      this.#any = true;
      return;
    }
    if (from !== this.#end) this.src.copyWithin(this.#end, from, to);
    this.#end += to - from;
  }

  /** The body so far (undefined when empty); the builder starts over. */
  take(): Buffer | undefined {
    if (!this.#any) return undefined;
    this.#any = false;
    const body = this.src.subarray(this.#from, this.#end);
    return this.reused ? Buffer.from(body) : body;
  }
}

/** Where the CRLF ending the line at `at` starts, or -1: chunk-size lines are a few bytes, and a
 * scan here costs less than indexOf's call into native code once per chunk (once per log line). */
function lineEnd(b: Buffer, at: number): number {
  for (let i = at; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
}

export class HttpResponseDecoder {
  readonly #h: ResponseHandlers;
  #state: State = 'head';
  /** Bytes of an unfinished head or chunk-size line, carried to the next read. */
  #carry: Buffer = Buffer.alloc(0);
  /** Data bytes left in the current chunk (or in a sized body). */
  #left = 0;

  readonly #reused: boolean;

  constructor(handlers: ResponseHandlers, opts: { reusedReads?: boolean } = {}) {
    this.#h = handlers;
    this.#reused = opts.reusedReads ?? false;
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  /** Feeds one read. Throws on a response it cannot read. */
  push(read: Buffer): void {
    let b = read;
    let at = 0;
    if (this.#carry.length) {
      b = Buffer.concat([this.#carry, read]);
      this.#carry = Buffer.alloc(0);
    }
    const out = new BodyBuilder(b, this.#reused && b === read);
    while (at < b.length && this.#state !== 'done') {
      switch (this.#state) {
        case 'head': {
          const end = b.indexOf(HEAD_END, at);
          if (end === -1) return this.#keep(b, at, HEAD_MAX, 'response head');
          this.#head(b.toString('latin1', at, end));
          at = end + 4;
          break;
        }
        case 'size': {
          const nl = lineEnd(b, at);
          if (nl === -1) return this.#keep(b, at, LINE_MAX, 'chunk size line', out);
          this.#left = chunkSize(b, at, nl);
          this.#state = this.#left === 0 ? 'trailer' : 'data';
          at = nl + 2;
          break;
        }
        case 'data':
        case 'sized': {
          const n = Math.min(this.#left, b.length - at);
          out.add(at, at + n);
          at += n;
          this.#left -= n;
          if (this.#left === 0) this.#state = this.#state === 'data' ? 'data-end' : 'done';
          break;
        }
        case 'data-end': {
          if (b.length - at < 2) return this.#keep(b, at, 2, 'chunk end', out);
          if (b[at] !== 13 || b[at + 1] !== 10) throw bad('chunk not followed by CRLF');
          at += 2;
          this.#state = 'size';
          break;
        }
        case 'trailer': {
          // Trailer fields (none from the engine), then an empty line.
          const nl = b.indexOf(CRLF, at);
          if (nl === -1) return this.#keep(b, at, LINE_MAX, 'trailer', out);
          if (nl === at) this.#state = 'done';
          at = nl + 2;
          break;
        }
        case 'close':
          out.add(at, b.length);
          at = b.length;
          break;
      }
    }
    this.#flush(out);
    if (this.#state === 'done') this.#h.end();
  }

  /** The socket closed: the end of a body that runs to the close, else a cut response. */
  close(): void {
    if (this.#state === 'close') {
      this.#state = 'done';
      this.#h.end();
    } else if (this.#state !== 'done') {
      throw bad(this.#state === 'head' ? 'the connection closed before the response head' : 'the connection closed inside the body');
    }
  }

  #keep(b: Buffer, at: number, max: number, what: string, out?: BodyBuilder): void {
    if (b.length - at > max) throw bad(`${what} longer than ${max} bytes`);
    // An own copy: `b` may be the caller's read.
    this.#carry = Buffer.from(b.subarray(at));
    if (out) this.#flush(out);
  }

  #flush(out: BodyBuilder): void {
    const body = out.take();
    if (body) this.#h.body(body);
  }

  #head(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) throw bad(`status line ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`);
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      if (c > 0) headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
    }
    const status = Number(m[1]);
    const te = headers.get('transfer-encoding')?.toLowerCase() ?? '';
    const len = headers.get('content-length');
    if (te.includes('chunked')) this.#state = 'size';
    else if (len !== undefined) {
      if (!/^\d{1,15}$/.test(len)) throw bad(`content-length ${JSON.stringify(len.slice(0, 20))}`);
      this.#left = Number(len);
      this.#state = this.#left === 0 ? 'done' : 'sized';
    } else this.#state = 'close';
    this.#h.head({ status, headers });
  }
}
