/** KVReader over the recorder's query socket (protocol in formats/frames.ts). */
import { connect, type Socket } from 'node:net';
import type { KVEntry, KVRange, KVReader } from '../formats/kv.js';
import { FrameReader, frame, type QueryRequest, type QueryResponse } from '../formats/frames.js';
import { FormatError } from '../formats/errors.js';

interface Pending { resolve(m: QueryResponse): void; reject(e: Error): void }

export class RemoteKV implements KVReader {
  readonly #sock: Socket;
  readonly #reader = new FrameReader();
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: Error | undefined;

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.on('data', (c: Buffer) => {
      let msgs: unknown[];
      try {
        msgs = this.#reader.push(c);
      } catch (err) {
        this.#fail(err as Error);
        sock.destroy();
        return;
      }
      for (const m of msgs as QueryResponse[]) {
        const p = this.#pending.get(m.id);
        if (!p) continue;
        this.#pending.delete(m.id);
        if (m.error) p.reject(new FormatError(m.error.code as never, m.error.message));
        else p.resolve(m);
      }
    });
    const end = (): void => this.#fail(new FormatError('STORE_IO', 'the recorder closed the query socket'));
    sock.on('close', end);
    sock.on('error', end);
  }

  #fail(err: Error): void {
    this.#closed ??= err;
    for (const p of this.#pending.values()) p.reject(this.#closed);
    this.#pending.clear();
  }

  static connect(path: string): Promise<RemoteKV> {
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      sock.once('connect', () => resolve(new RemoteKV(sock)));
      sock.once('error', (err) => reject(err));
    });
  }

  /** Sends one request and waits for its one answer. */
  #ask(req: QueryRequest): Promise<QueryResponse> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#pending.set(req.id, { resolve, reject });
      this.#sock.write(frame(req));
    });
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.#ask({ id: this.#nextId++, op: 'get', key })).value ?? undefined;
  }

  async *chunks(range: KVRange): AsyncIterable<KVEntry[]> {
    const id = this.#nextId++;
    let m = await this.#ask({ id, op: 'open', range });
    let finished = false;
    try {
      while (!m.done) {
        if (m.entries) yield m.entries;
        m = await this.#ask({ id, op: 'next' });
      }
      finished = true;
    } finally {
      // The consumer stopped early: let the recorder drop its cursor.
      if (!finished && !this.#closed) this.#sock.write(frame({ id, op: 'cancel' }));
    }
  }

  async command(command: string, args: Record<string, unknown> = {}): Promise<unknown> {
    return (await this.#ask({ id: this.#nextId++, op: 'command', command, args })).result;
  }

  async close(): Promise<void> {
    this.#sock.end();
  }
}
