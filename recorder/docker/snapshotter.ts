/**
 * Takes inspect snapshots (redacted before they leave this file) and emits them as `snapshot`
 * events. Tracks calls in flight so shutdown can wait for them.
 */
import type Docker from 'dockerode';
import type { Sink } from '../source.js';
import type { Logger } from '../logger.js';
import { redactSnapshot, type RedactKey } from '../../formats/redact.js';

export class Snapshotter {
  readonly #inflight = new Set<Promise<unknown>>();
  /** Whether each container has a TTY, from its latest snapshot (log framing depends on it). */
  readonly #tty = new Map<string, boolean>();

  constructor(readonly docker: Docker, readonly sink: Sink, readonly log: Logger, readonly redactKey: RedactKey) {}

  /** Resolves with the redacted document, or undefined when the container is already gone. */
  take(id: string, reason: string): Promise<Record<string, unknown> | undefined> {
    const p = this.#take(id, reason);
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
    return p;
  }

  async #take(id: string, reason: string): Promise<Record<string, unknown> | undefined> {
    let doc: Record<string, unknown>;
    try {
      doc = redactSnapshot((await this.docker.getContainer(id).inspect()) as unknown as Record<string, unknown>, this.redactKey);
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 404) this.log.warn(`inspect ${id.slice(0, 12)} (${reason}): ${(err as Error).message}`);
      return undefined;
    }
    this.#tty.set(id, Boolean((doc.Config as { Tty?: boolean } | undefined)?.Tty));
    this.sink.emit({ kind: 'snapshot', source: 'docker', container: id, reason, snapshot: doc });
    return doc;
  }

  footprint(): Record<string, number> {
    return { snapshotTty: this.#tty.size, snapshotsInFlight: this.#inflight.size };
  }

  tty(id: string): boolean | undefined {
    return this.#tty.get(id);
  }

  forget(id: string): void {
    this.#tty.delete(id);
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
  }
}
