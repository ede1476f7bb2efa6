/**
 * What issue 5 adds to a running recorder, wired in one place: the incident engine (a pipeline
 * observer), the Falco listener, the retention timer, and the query-socket commands `status`,
 * `gc` and `mark`.
 */
import type { AddressInfo } from 'node:net';
import type { KVWriter } from '../../formats/kv.js';
import { metaKey } from '../../formats/keys.js';
import { pack } from '../../formats/codec.js';
import { listIncidents } from '../../formats/queries.js';
import { nowMicros } from '../../formats/time.js';
import type { Pipeline } from '../pipeline.js';
import type { CaptureSource } from '../source.js';
import type { Logger } from '../logger.js';
import type { RecordOptions } from '../record-options.js';
import { Retention, RETENTION_DEFAULTS } from '../retention.js';
import { RateMeter, liveStatus } from '../retention-status.js';
import { IncidentEngine } from './incident-engine.js';
import { defaultIncidentConfig } from './incident-config.js';
import { FalcoListener } from './falco-listener.js';
import { markArgs, markCandidate } from './manual-mark.js';

export type CommandMap = Map<string, (args: Record<string, unknown>) => Promise<unknown>>;

export interface IncidentServices {
  readonly engine: IncidentEngine;
  readonly retention: Retention;
  readonly falco: FalcoListener | undefined;
  /** Where the Falco listener listens (port 0 in tests picks a free one). */
  falcoAddress: AddressInfo | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Full container ID for a 12- or 64-hex ID, among containers the recorder knows. */
function resolverOf(pipeline: Pipeline): (id: string) => string | undefined {
  return (id) => {
    if (id.length === 64) return pipeline.book.get(id) ? id : undefined;
    for (const r of pipeline.book.all()) if (r.id.startsWith(id)) return r.id;
    return undefined;
  };
}

export async function setupIncidentServices(kv: KVWriter, pipeline: Pipeline, sources: CaptureSource[], opts: RecordOptions, commands: CommandMap, log: Logger): Promise<IncidentServices> {
  const retOpts = { ...RETENTION_DEFAULTS, ...opts.retention };
  const config = opts.incidents ?? defaultIncidentConfig();
  const engine = new IncidentEngine(pipeline, { config, pinRetain: retOpts.pinRetain }, log);
  const now = nowMicros();
  engine.load((await listIncidents(kv)).filter((r) => r.windowEnd > now));
  pipeline.addObserver(engine.observe);
  const retention = new Retention(kv, retOpts, log, pipeline.book);
  // Saved so `dashcam gc` without a recorder applies the same settings.
  await kv.write([[metaKey('retention'), pack(retOpts)]]);
  const falco = opts.falcoListen === undefined ? undefined : new FalcoListener({
    listen: opts.falcoListen, token: opts.falcoToken, settings: config.triggers.falco, resolve: resolverOf(pipeline), raise: (c) => engine.raise(c), log,
  });
  const rate = new RateMeter();

  commands.set('status', async () => ({
    ...(await liveStatus({ kv, store: opts.store, run: pipeline.run, sources: sources.map((s) => s.health()), pipelineLost: pipeline.stats.lost, eventsPerSecond: rate.rate(pipeline.stats.events), retention })),
    stats: pipeline.stats, incidentsRaised: engine.stats.raised, falco: falco?.stats,
  }));
  commands.set('gc', async () => {
    await pipeline.flush();
    return retention.pass();
  });
  commands.set('mark', async (args) => {
    if (!config.triggers.manual.enabled) throw Object.assign(new Error('manual marks are disabled in the rules file'), { code: 'BAD_ARGUMENT' });
    await pipeline.flush(); // a container seen a moment ago must resolve
    const rec = engine.raise(await markCandidate(kv, markArgs(args), config.triggers.manual));
    await new Promise((r) => setImmediate(r));
    await pipeline.flush();
    return rec;
  });

  const services: IncidentServices = {
    engine, retention, falco, falcoAddress: undefined,
    async start() {
      rate.start(() => pipeline.stats.events);
      retention.start();
      if (falco) services.falcoAddress = await falco.start();
    },
    async stop() {
      rate.stop();
      if (falco) await falco.stop().catch((err: Error) => log.error(`stopping the falco listener: ${err.message}`));
      await retention.stop();
    },
  };
  return services;
}
