/**
 * `dashcam record`: opens (or creates) the store, resumes from the previous run (recording the
 * time it was down as a gap), starts the sources and the query socket, and runs until stopped.
 * Stopping (SIGTERM/SIGINT or `stop()`) flushes every pending batch before the store closes.
 */
import { connect, type Server } from 'node:net';
import { join } from 'node:path';
import { openLevelStore, type LevelStore } from '../formats/level-store.js';
import { FormatError } from '../formats/errors.js';
import { SOCKET_NAME } from '../formats/frames.js';
import { P_EVENT, P_META, metaKey, prefixRange, timeRange } from '../formats/keys.js';
import type { KVWriter } from '../formats/kv.js';
import { newRedactKey, type RedactKey } from '../formats/redact.js';
import { unpack } from '../formats/codec.js';
import { readEvents } from '../formats/event-scan.js';
import { getMeta, listContainers } from '../formats/queries.js';
import type { RunRecord } from '../formats/records.js';
import { Pipeline } from './pipeline.js';
import { createLogger, type Logger } from './logger.js';
import { DockerSource } from './docker/docker-source.js';
import { emptyLogCursor, type LogCursor } from './docker/log-follower.js';
import { startQueryServer, stopQueryServer } from './query-server.js';
import { chooseKernelSource, startKernelSource } from './kernel-source.js';
import type { CaptureSource } from './source.js';
import { RECORD_DEFAULTS, type RecordOptions } from './record-options.js';
import { VERSION } from './version.js';
import { openKeyframeWriter } from './keyframes-store.js';
import { setupIncidentServices, type IncidentServices } from './incidents/incident-services.js';

export interface Recorder {
  readonly pipeline: Pipeline;
  readonly sources: CaptureSource[];
  /** Incident engine, Falco listener, retention (issue 5). */
  readonly incidents: IncidentServices;
  /** Sizes of every per-container map the recorder holds (issue 8: no leak across churn). */
  footprint(): Record<string, number>;
  stop(): Promise<void>;
  /** Resolves when the recorder has stopped. */
  readonly done: Promise<void>;
}

async function lastRun(kv: Parameters<typeof getMeta>[0]): Promise<RunRecord | undefined> {
  for await (const chunk of kv.chunks({ ...prefixRange(P_META, 'run/'), reverse: true, limit: 1 })) {
    return unpack<RunRecord>(chunk[0]![1], 'run record');
  }
  return undefined;
}

/** The store's redaction key, made on first use (see formats/redact.ts). */
async function loadRedactKey(kv: KVWriter): Promise<RedactKey> {
  const have = await kv.get(metaKey('redact-key'));
  if (have) return have;
  const key = newRedactKey();
  await kv.write([[metaKey('redact-key'), key]]);
  return key;
}

/** Where a container's stored stdout and stderr lines end (searched in its latest 10,000 events):
 * the engine time of the last line of each, and how many lines share that time. */
async function storedLogCursor(kv: KVWriter, id: string): Promise<LogCursor> {
  const cur = emptyLogCursor();
  const done = { stdout: false, stderr: false };
  for await (const evs of readEvents(kv, { ...timeRange(P_EVENT, id), reverse: true, limit: 10_000 })) {
    for (const ev of evs) {
      if (ev.kind !== 'log' || ev.engineTime === undefined || done[ev.stream]) continue;
      const mark = cur[ev.stream];
      if (mark.count === 0 || ev.engineTime === mark.time) {
        mark.time = ev.engineTime;
        mark.count++;
      } else {
        done[ev.stream] = true;
        if (done.stdout && done.stderr) return cur;
      }
    }
  }
  return cur;
}

/**
 * Opens the store for writing. A reader (`ls`, `replay`, `export`) run while no recorder was up
 * holds the store's lock for as long as it reads: wait for it rather than fail a daemon start.
 * Another recorder answers on the store's query socket: that is refused at once.
 */
async function openForRecording(dir: string, log: Logger): Promise<LevelStore> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let warned = false;
  for (;;) {
    try {
      return await openLevelStore(dir, { create: true });
    } catch (err) {
      if (!(err instanceof FormatError) || err.code !== 'STORE_LOCKED') throw err;
      if (await answers(join(dir, SOCKET_NAME))) {
        throw new FormatError('STORE_LOCKED', `store ${dir} is already being recorded by another dashcam record`, { cause: err });
      }
      if (Date.now() >= deadline) throw err;
      if (!warned) log.warn(`store ${dir} is held by another process (a reader?); waiting up to ${LOCK_WAIT_MS / 1000} s for it`);
      warned = true;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const LOCK_WAIT_MS = 30_000;

/** Whether something listens on a unix socket. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function record(input: Partial<RecordOptions> = {}, log: Logger = createLogger()): Promise<Recorder> {
  const opts: RecordOptions = { ...RECORD_DEFAULTS, ...input };
  // Everything we create (store files, socket) is owner-only unless configured otherwise.
  process.umask(0o077);
  const kv = await openForRecording(opts.store, log);
  const seq = (await getMeta<number>(kv, 'seq')) ?? 0;
  const prev = await lastRun(kv);
  const redactKey = await loadRedactKey(kv);
  const pipeline = await Pipeline.open(kv, { flushMs: opts.flushMs, batchSize: opts.batchSize, maxQueue: opts.maxQueue, version: VERSION, evictAfterMs: opts.containerEvictMs }, log, seq);
  pipeline.book.load(await listContainers(kv));
  // Keyframes: the same reducer replay uses, resumed from the store for containers still present.
  const keyframes = opts.keyframeEvery > 0 ? await openKeyframeWriter(kv, pipeline.book.all(), { everyEvents: opts.keyframeEvery }, pipeline) : undefined;
  if (keyframes) {
    pipeline.addObserver(keyframes.observe);
    pipeline.addSweeper(keyframes.sweep);
  }
  if (prev) log.info(`previous run ${prev.stop ? 'stopped cleanly' : 'ended without a clean stop'}; recording the gap since then`);

  const docker = new DockerSource({
    maxLogLine: opts.maxLogLine,
    statsIntervalMs: opts.statsIntervalMs,
    resumeFrom: prev ? (prev.stop ?? prev.heartbeat) : undefined,
    known: () => pipeline.book.all(),
    storedLogCursor: (id) => storedLogCursor(kv, id),
    log,
    redactKey,
  });
  const sources: CaptureSource[] = [];
  // 'auto' always records the engine; only the kernel-level source is chosen automatically.
  if (opts.sources === 'auto' || opts.sources.includes('docker')) sources.push(docker);
  const kernel = await chooseKernelSource(opts, docker, log);
  if (kernel) sources.push(kernel);

  // While an incident window is open, its container's stats are sampled every second.
  pipeline.addObserver((ev) => { if (ev.kind === 'incident' && ev.windowEnd !== undefined) docker.boostStats(ev.container, ev.windowEnd / 1000); });

  // Commands other processes (dashcam status, gc, mark) send over the query socket.
  const commands = new Map<string, (args: Record<string, unknown>) => Promise<unknown>>();
  commands.set('status', async () => ({ run: pipeline.run, stats: pipeline.stats, sources: sources.map((s) => s.health()) }));
  const dispatch = async (command: string, args: Record<string, unknown>): Promise<unknown> => {
    const h = commands.get(command);
    if (!h) throw Object.assign(new Error(`unknown recorder command ${command}`), { code: 'BAD_ARGUMENT' });
    return h(args);
  };
  // Incidents, retention and the Falco listener; also registers status, gc and mark.
  const incidents = await setupIncidentServices(kv, pipeline, sources, opts, commands, log);
  const status = commands.get('status')!;
  if (keyframes) commands.set('status', async (args) => ({ ...((await status(args)) as object), keyframes: keyframes.stats }));
  let server: Server | undefined = await startQueryServer(kv, opts.store, dispatch, log, opts.socketGroup);
  try {
    await incidents.start();
  } catch (err) {
    await incidents.stop();
    await stopQueryServer(server, opts.store);
    await kv.close();
    throw err;
  }
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i]!;
    if (s === kernel) sources[i] = await startKernelSource(s, opts, docker, pipeline, log);
    else await s.start(pipeline);
  }
  log.info(`recording to ${opts.store} (sources: ${sources.map((s) => s.name).join(', ')})`);

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await incidents.stop();
      for (const s of sources) {
        try {
          await s.stop();
        } catch (err) {
          log.error(`stopping ${s.name}: ${(err as Error).message}`);
        }
      }
      await pipeline.close();
      if (server) await stopQueryServer(server, opts.store);
      server = undefined;
      await kv.close();
      log.info(`stopped; ${pipeline.stats.written} events written this run`);
      resolveDone();
    })());
  if (opts.handleSignals) {
    const onSignal = (sig: string): void => {
      log.info(`${sig}: flushing and stopping`);
      void stop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  const footprint = (): Record<string, number> => {
    const out: Record<string, number> = { ...pipeline.footprint(), ...keyframes?.footprint(), ...incidents.engine.footprint() };
    for (const s of sources) Object.assign(out, s.footprint?.());
    return out;
  };
  return { pipeline, sources, incidents, footprint, stop, done };
}

