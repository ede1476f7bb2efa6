/**
 * `dashcam record --falco-listen HOST:PORT`: receives Falco's `http_output` (or falcosidekick's
 * webhook) alerts with `POST /`, and turns each into an incident on the container it names.
 * Bound to 127.0.0.1 unless told otherwise; an optional bearer token. Every refusal is a clear
 * HTTP status with a JSON `{ "error": ... }` body; none of them touches the recorder.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { nowMicros } from '../../formats/time.js';
import type { IncidentRecord } from '../../formats/records.js';
import type { Logger } from '../logger.js';
import type { IncidentCandidate } from './incident-types.js';
import type { TriggerSettings } from './incident-config.js';
import { AlertError, alertCandidate, parseAlert } from './falco-alert.js';

export const FALCO_BODY_LIMIT = 1 << 20;
/** After a 413 we read (and discard) at most this much more so the client sees the answer. */
const DRAIN_LIMIT = 32 << 20;

export interface FalcoListenerOptions {
  listen: string;
  token?: string;
  bodyLimit?: number;
  settings: TriggerSettings;
  /** 12 or 64 hex → full container ID, if the recorder knows it. */
  resolve(id: string): string | undefined;
  raise(c: IncidentCandidate): IncidentRecord;
  log: Logger;
}

/** "8765" → 127.0.0.1:8765; "0.0.0.0:8765"; "[::1]:8765". */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-f:.]+)\]:|([^:\[\]]+):)?(\d{1,5})$/i.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port < 65536)) throw Object.assign(new Error(`--falco-listen: expected HOST:PORT or PORT, got ${JSON.stringify(s)}`), { code: 'USAGE' });
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

/** Media types an alert may be sent as. */
const JSON_TYPES = /^(?:application\/(?:[a-z0-9.-]+\+)?json|text\/json|text\/plain)$/;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export class FalcoListener {
  readonly #opts: FalcoListenerOptions;
  readonly #server: Server;
  readonly #tokenHash: Buffer | undefined;
  readonly stats = { accepted: 0, refused: 0 };

  constructor(opts: FalcoListenerOptions) {
    this.#opts = opts;
    this.#tokenHash = opts.token ? digest(opts.token) : undefined;
    // Node enforces these timeouts only when it sweeps its connections (every 30 s by default),
    // which let a slowloris client hold a socket for up to 45 s; sweep every second instead.
    this.#server = createServer({ requestTimeout: 15_000, headersTimeout: 10_000, connectionsCheckingInterval: 1000 }, (req, res) => this.#handle(req, res));
  }

  async start(): Promise<AddressInfo> {
    const { host, port } = parseListen(this.#opts.listen);
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => { this.#server.off('error', reject); resolve(); });
    });
    const addr = this.#server.address() as AddressInfo;
    const loopback = /^(127\.|::1$|localhost$)/.test(host);
    if (!loopback && !this.#tokenHash) this.#opts.log.warn(`falco listener on ${host} without --falco-token: anyone who can reach it can create incidents`);
    this.#opts.log.info(`falco listener on http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}/`);
    return addr;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  #send(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
    if (status >= 400) this.stats.refused++;
    if (res.headersSent) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body) + '\n');
  }

  #authorized(req: IncomingMessage): boolean {
    if (!this.#tokenHash) return true;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]!.trim()), this.#tokenHash);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => req.destroy());
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/') return this.#refuse(req, res, 404, `no such endpoint ${JSON.stringify(path)}: Falco alerts go to POST /`);
    if (req.method !== 'POST') return this.#refuse(req, res, 405, 'only POST is accepted (Falco http_output JSON)', { allow: 'POST' });
    if (!this.#authorized(req)) {
      return this.#refuse(req, res, 401, req.headers.authorization ? 'wrong bearer token' : 'missing bearer token (Authorization: Bearer <token>)', { 'www-authenticate': 'Bearer realm="dashcam"' });
    }
    // Falco sends application/json (text/plain with json_output: false, refused below as not JSON).
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type && !JSON_TYPES.test(type)) return this.#refuse(req, res, 415, `content type ${JSON.stringify(type)} is not accepted: send the alert as application/json`);
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') return this.#refuse(req, res, 415, `content encoding ${JSON.stringify(encoding)} is not supported: send alerts uncompressed (Falco: http_output.compress_uploads: false)`);
    const limit = this.#opts.bodyLimit ?? FALCO_BODY_LIMIT;
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return this.#refuse(req, res, 413, `alert body of ${declared} bytes exceeds the ${limit}-byte limit`);
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        parts.length = 0;
        this.#refuse(req, res, 413, `alert body exceeds the ${limit}-byte limit`);
        return;
      }
      parts.push(c);
    });
    req.on('end', () => {
      if (!over) this.#accept(Buffer.concat(parts), res);
    });
  }

  /** Answers, then reads and discards a bounded rest of the body so the client gets the answer. */
  #refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string, headers: Record<string, string> = {}): void {
    this.#opts.log.warn(`falco listener: ${status} ${error}`);
    this.#send(res, status, { error }, { connection: 'close', ...headers });
    let drained = 0;
    req.on('data', (c: Buffer) => {
      drained += c.length;
      if (drained > DRAIN_LIMIT) req.destroy();
    });
    req.resume();
  }

  #accept(body: Buffer, res: ServerResponse): void {
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return this.#send(res, 400, { error: `malformed JSON: ${(err as Error).message}` });
    }
    try {
      const { alert, containerId } = parseAlert(doc);
      const full = this.#opts.resolve(containerId);
      if (!full) throw new AlertError(404, `unknown container ${containerId}: the recorder has not seen it`);
      const rec = this.#opts.raise(alertCandidate(alert, full, nowMicros(), this.#opts.settings));
      this.stats.accepted++;
      this.#send(res, 201, { incident: rec.id, container: full });
    } catch (err) {
      if (err instanceof AlertError) {
        this.#opts.log.warn(`falco listener: ${err.status} ${err.message}`);
        return this.#send(res, err.status, { error: err.message });
      }
      this.#opts.log.error(`falco listener: ${(err as Error).message}`);
      this.#send(res, 500, { error: 'internal error' });
    }
  }
}
