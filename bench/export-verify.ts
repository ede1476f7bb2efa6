/**
 * Bundle budgets (issue 6): 1,000,000 events export in under 5 s and verify in under 3 s. Writes a
 * synthetic store (a realistic mix of exec, net, file, log and stats events for one container),
 * then times `exportBundle` and `verifyBundleFile` as the CLI runs them, plus opening the bundle
 * for replay. Run: `npm run build && node dist/bench/export-verify.js [events]`.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { openLevelStore } from '../formats/level-store.js';
import type { ContainerRecord } from '../formats/records.js';
import type { DashEvent } from '../formats/schema.js';
import { cidBytes, containerKey, nameKey } from '../formats/keys.js';
import { encodeEntries, type StoredEvent } from '../formats/event-block.js';
import { encodeValue, pack } from '../formats/codec.js';
import { exportBundle } from '../replay/export-command.js';
import { verifyBundleFile } from '../replay/verify-command.js';
import { openBundleKV } from '../replay/bundle-kv.js';
import { appendResult, median } from './report.js';

const N = Number(process.argv[2] ?? 1_000_000);
const RUNS = 3;
const ID = 'feed'.repeat(16);
const T0 = 1_760_000_000_000_000;

function event(i: number, t: number): DashEvent {
  const base = { time: t, seq: i + 1, container: ID };
  switch (i % 5) {
    case 0: return { ...base, source: 'ebpf', kind: 'exec', pid: 1000 + (i % 500), ppid: 1, uid: 0, exe: '/bin/sh', argv: ['sh', '-c', `worker --job ${i}`], cwd: '/app' };
    case 1: return { ...base, source: 'ebpf', kind: 'net', op: 'connect', proto: 'tcp', local: `172.17.0.2:${30000 + (i % 20000)}`, remote: '10.0.0.5:5432', pid: 1000 + (i % 500) };
    case 2: return { ...base, source: 'ebpf', kind: 'file', op: 'write', path: `/var/lib/app/cache-${i % 1000}`, pid: 1000 + (i % 500), flags: 577 };
    case 3: return { ...base, source: 'docker', kind: 'log', stream: 'stdout', line: Buffer.from(`${new Date(t / 1000).toISOString()} GET /api/items/${i % 977} 200 ${i % 300}ms`), engineTime: t };
    default: return { ...base, source: 'docker', kind: 'stats', cpuPercent: (i % 100) / 3, memUsage: 50e6 + i, memLimit: 2 ** 30, pids: 4 };
  }
}

async function fill(dir: string): Promise<void> {
  const kv = await openLevelStore(dir, { create: true });
  const cid = cidBytes(ID);
  let batch: StoredEvent[] = [];
  let t = T0;
  // Written as the recorder writes: 10,000-event batches cut into blocks (formats/event-block.ts).
  for (let i = 0; i < N; i++) {
    t += 37 + (i % 13);
    const ev = event(i, t);
    batch.push({ time: ev.time, seq: ev.seq, value: encodeValue(ev) });
    if (batch.length === 10_000) { await kv.write(encodeEntries(cid, batch)); batch = []; }
  }
  const rec: ContainerRecord = { id: ID, name: 'bench', names: ['bench'], image: 'bench:latest', firstSeen: T0, lastSeen: t, state: 'running', events: N, bytes: 0 };
  await kv.write([...encodeEntries(cid, batch), [containerKey(ID), pack(rec)], [nameKey('bench', ID), new Uint8Array(0)]]);
  await kv.close();
}

const quiet = new Writable({ write: (_c, _e, cb) => cb() });
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dashcam-bench-bundle-'));
  try {
    const store = join(dir, 'store');
    let t = performance.now();
    await fill(store);
    process.stdout.write(`wrote ${N.toLocaleString('en-US')} synthetic events in ${secs(performance.now() - t)}\n`);
    const exp: number[] = [];
    const ver: number[] = [];
    const open: number[] = [];
    const file = join(dir, 'bench.dcb');
    for (let r = 0; r < RUNS; r++) {
      await rm(file, { force: true });
      t = performance.now();
      const res = await exportBundle({ store, container: ['bench'], redact: 'default', format: 'bundle', output: file }, quiet);
      exp.push(performance.now() - t);
      if (res.events !== N) throw new Error(`exported ${res.events} events, expected ${N}`);
      t = performance.now();
      const { result } = await verifyBundleFile({ file });
      ver.push(performance.now() - t);
      if (result.failed.length) throw new Error(`verify failed: ${result.failed.join(', ')}`);
      t = performance.now();
      await openBundleKV(file);
      open.push(performance.now() - t);
      process.stdout.write(`run ${r + 1}: export ${secs(exp[r]!)}, verify ${secs(ver[r]!)}, open for replay ${secs(open[r]!)}\n`);
    }
    const size = (await stat(file)).size;
    const scale = N === 1_000_000 ? '' : ` (${N.toLocaleString('en-US')} events)`;
    appendResult(`Bundles: export and verify 1,000,000 events${scale}`, [
      { what: 'export 1M events (median of 3)', budget: '< 5 s', measured: secs(median(exp)), met: N === 1_000_000 ? median(exp) < 5000 : undefined },
      { what: 'verify 1M events (median of 3)', budget: '< 3 s', measured: secs(median(ver)), met: N === 1_000_000 ? median(ver) < 3000 : undefined },
      { what: 'open the bundle for replay (median of 3)', budget: '-', measured: secs(median(open)), met: undefined },
      { what: 'bundle size', budget: '-', measured: `${(size / 2 ** 20).toFixed(1)} MiB (${(size / N).toFixed(1)} B/event)`, met: undefined },
    ], `Load average at the end of the run: ${loadavg().map((x) => x.toFixed(1)).join(', ')} (on ${cpus().length} cores; other work on the machine slows every figure). Export reads the store, brotli-compresses (quality 3) the raw entries and hashes every part; verify re-hashes every part, decompresses the events and checks their order and counts against the manifest.`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
