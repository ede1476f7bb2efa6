/** KVReader over the recorder's query socket (see recorder/query-server.ts). */
import { connect, type Socket } from 'node:net';
import type { KVEntry, KVRange, KVReader } from '../formats/kv.js';
import { FrameReader, frame, type QueryRequest, type QueryResponse } from '../formats/frames.js';
import { FormatError } from '../formats/errors.js';

export class RemoteKV implements KVReader {
  readonly #sock: Socket;
  readonly #reader = new FrameReader();
  #nextId = 1;
  /** Responses of the request in progress; requests are serialised by #lock. */
  #inbox: QueryResponse[] = [];
  #notify: (() => void) | undefined;
  #closed: Error | undefined;
  #lock: Promise<void> = Promise.resolve();

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.on('data', (c: Buffer) => {
      try {
        for (const m of this.#reader.push(c)) this.#inbox.push(m as QueryResponse);
      } catch (err) {
        this.#closed = err as Error;
      }
      this.#notify?.();
    });
    const end = (): void => {
      this.#closed ??= new FormatError('STORE_IO', 'the recorder closed the query socket');
      this.#notify?.();
    };
    sock.on('close', end);
    sock.on('error', end);
  }

  static connect(path: string): Promise<RemoteKV> {
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      sock.once('connect', () => resolve(new RemoteKV(sock)));
      sock.once('error', (err) => reject(err));
    });
  }

  async #next(): Promise<QueryResponse> {
    while (this.#inbox.length === 0) {
      if (this.#closed) throw this.#closed;
      await new Promise<void>((r) => (this.#notify = r));
      this.#notify = undefined;
    }
    const m = this.#inbox.shift()!;
    if (m.error) throw new FormatError(m.error.code as never, m.error.message);
    return m;
  }

  async *#request(req: Omit<QueryRequest, 'id'>): AsyncIterable<QueryResponse> {
    let release!: () => void;
    const prev = this.#lock;
    this.#lock = new Promise((r) => (release = r));
    await prev;
    try {
      this.#sock.write(frame({ ...req, id: this.#nextId++ }));
      for (;;) {
        const m = await this.#next();
        yield m;
        if (m.done) return;
      }
    } finally {
      release();
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    for await (const m of this.#request({ op: 'get', key })) if (m.done) return m.value ?? undefined;
    return undefined;
  }

  async *chunks(range: KVRange): AsyncIterable<KVEntry[]> {
    for await (const m of this.#request({ op: 'chunks', range })) if (m.entries) yield m.entries;
  }

  async command(command: string, args: Record<string, unknown> = {}): Promise<unknown> {
    for await (const m of this.#request({ op: 'command', command, args })) if (m.done) return m.result;
    return undefined;
  }

  async close(): Promise<void> {
    this.#sock.end();
  }
}
