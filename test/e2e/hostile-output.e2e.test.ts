/**
 * Terminal-escape safety against the real engine, with the Docker and eBPF sources: a container
 * whose labels, env, log lines, argv, file paths and a manual mark's note hold ESC sequences
 * (CSI, OSC title), bare CR and LF, the C1 CSI (U+009B and a raw 0x9b byte) and U+202E. Text
 * output (`replay`, `replay --at`, `ls`, `incidents`, `status`), CLI error lines and the TUI's
 * pure render functions must carry none of those bytes raw; every JSON line must parse and give
 * back the original text exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, removeTestContainers, runDetached, uniqueName, waitExit } from '../helpers/engine.js';
import { cli, logLines as recorderLog, startEbpfRecorder, until } from '../helpers/recorder.js';
import type { Recorder } from '../../recorder/record.js';
import { openStoreForReading } from '../../replay/open-store.js';
import { openWindow } from '../../replay/window.js';
import { eventRow } from '../../tui/render-event.js';
import { detailLines } from '../../tui/overlay.js';
import { connLines, fileLines, logLines, procTreeLines } from '../../tui/render-state.js';
import { headerLines } from '../../tui/render-header.js';
import { toTagged, type Line } from '../../tui/line.js';
import { emptyState } from '../../formats/state.js';
import { applyEvent } from '../../formats/state-apply.js';
import type { DashEvent } from '../../formats/schema.js';

type Ev = Record<string, unknown>;
/** Everything that can drive a terminal or reorder what it shows; text output may hold only \n. */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const P = 'x\x1b[2J\x1b]0;pwned\x07y\rz\nw\u009b31m\u202eevil';
const FILE = '/tmp/p\x1b[2J\u202eq';
/** What the container prints: CSI, OSC, CR, C1 CSI as UTF-8, U+202E, and a raw 0x9b byte. */
const LOG = Buffer.from('L1 \x1b[2JA\x1b]0;t\x07B\rC\xc2\x9bD\xe2\x80\xaeE\x9bF', 'latin1');
const SCRIPT = `printf 'L1 \\033[2JA\\033]0;t\\007B\\rC\\302\\233D\\342\\200\\256E\\233F\\n'; echo x > '${FILE}'; sleep 3; exit 3`;

let store: string;
let rec: Recorder;
let name: string;
let id: string;

beforeAll(async () => {
  await removeTestContainers();
  store = await mkdtemp(join(tmpdir(), 'dashcam-hostile-'));
  rec = await startEbpfRecorder(store);
  name = uniqueName('hostile');
  id = await runDetached(name, ['--label', `evil=${P}`, '-e', `EVIL=${P}`], ['sh', '-c', SCRIPT]);
  await docker('exec', id, 'sh', '-c', `true '${P.replace(/'/g, '')}'`).catch(() => '');
  const mark = await cli(['mark', '--store', store, '--container', name, '--note', P]);
  expect(mark.code, mark.stderr).toBe(0);
  expect(await waitExit(id)).toBe(3);
  await until(async () => {
    const evs = await json(['replay', '--store', store, '--container', name, '--format', 'json']);
    return evs.some((e) => e.kind === 'lifecycle' && e.action === 'die') && evs.some((e) => e.kind === 'file' && e.path === FILE) && evs.some((e) => e.kind === 'log');
  }, 30_000, 'hostile events recorded');
}, 180_000);
afterAll(async () => {
  await rec?.stop();
  await removeTestContainers();
  if (store) await rm(store, { recursive: true, force: true });
});

async function json(args: string[]): Promise<Ev[]> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`dashcam ${args.join(' ')}: ${r.stderr}`);
  // Every line parses; a line that does not fails the test here.
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
}
async function text(args: string[]): Promise<string> {
  const r = await cli(args);
  expect(r.code, `dashcam ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}
const at = (): string => new Date(Date.now() - 1000).toISOString();

describe('hostile text in labels, env, logs, argv and paths (real engine, eBPF)', () => {
  it('text output of replay, --at, ls, incidents and status holds no raw control bytes', async () => {
    const outs: [string, string][] = [
      ['replay text', await text(['replay', '--store', store, '--container', name, '--format', 'text'])],
      ['replay text --no-fold', await text(['replay', '--store', store, '--container', name, '--format', 'text', '--no-fold'])],
      ['replay --at text', await text(['replay', '--store', store, '--container', name, '--at', at(), '--format', 'text'])],
      ['ls', await text(['ls', '--all', '--store', store])],
      ['incidents', await text(['incidents', '--store', store])],
      ['status', await text(['status', '--store', store])],
    ];
    for (const [what, out] of outs) {
      expect(out.length, what).toBeGreaterThan(0);
      const bad = RAW_CONTROL.exec(out);
      expect(bad, `${what}: raw ${JSON.stringify(bad?.[0])} in ${JSON.stringify(out.slice(Math.max(0, (bad?.index ?? 0) - 60), (bad?.index ?? 0) + 20))}`).toBeNull();
    }
    const log = recorderLog.join('');
    expect(RAW_CONTROL.exec(log.replace(/\n/g, '')), "the recorder's own log").toBeNull();
    // The escapes are shown, not dropped: an investigator sees what the container tried.
    expect(outs[0]![1]).toContain('L1 \\x1b[2JA\\x1b]0;t\\x07B\\rC\\x9bD\\u202eE');
    expect(outs[0]![1]).toContain('\\x1b[2J\\u202eq');
  });

  it('JSON output parses line by line and gives back the original bytes and strings', async () => {
    const evs = await json(['replay', '--store', store, '--container', name, '--format', 'json']);
    const snap = evs.find((e) => e.kind === 'snapshot')!.snapshot as { Config: { Labels: Record<string, string>; Env: string[] } };
    expect(snap.Config.Labels.evil).toBe(P);
    expect(snap.Config.Env).toContain(`EVIL=${P}`);
    const log = evs.find((e) => e.kind === 'log' && String(e.line).startsWith('L1'))!;
    // The engine's json-file log driver stores lines as JSON strings, so it hands back the raw
    // 0x9b byte as U+FFFD; everything else arrives exactly as printed.
    if (log.lineBase64 !== undefined) expect(Buffer.from(log.lineBase64 as string, 'base64').equals(LOG)).toBe(true);
    else expect(log.line).toBe(LOG.toString('utf8'));
    const exec = evs.find((e) => e.kind === 'exec' && e.source === 'ebpf' && (e.argv as string[])[2]?.startsWith('printf'));
    expect(exec, 'the eBPF exec of sh -c with the hostile script').toBeDefined();
    expect((exec!.argv as string[])[2]).toBe(SCRIPT.slice(0, 199) + (SCRIPT.length > 199 ? '…' : ''));
    expect(evs.some((e) => e.kind === 'file' && e.path === FILE)).toBe(true);
    const inc = await json(['incidents', '--store', store, '--format', 'json']);
    expect(inc.some((i) => i.note === P)).toBe(true);
    const ls = await json(['ls', '--all', '--store', store, '--format', 'json']);
    expect(ls.some((r) => r.id === id)).toBe(true);
    const state = await json(['replay', '--store', store, '--container', name, '--at', at(), '--format', 'json']);
    expect(state).toHaveLength(1);
    expect(JSON.stringify(state[0])).toContain(JSON.stringify(FILE).slice(1, -1));
  });

  it("the TUI's pure render functions escape every hostile field", async () => {
    const { kv } = await openStoreForReading(store);
    const evs: DashEvent[] = [];
    let win;
    try {
      win = await openWindow(kv, { containers: [id] });
      for await (const c of win.events) evs.push(...c);
    } finally {
      await kv.close();
    }
    const state = emptyState(id);
    const lines: Line[] = [];
    for (const ev of evs) {
      applyEvent(state, ev);
      lines.push(eventRow(ev), ...detailLines(ev));
    }
    lines.push(...procTreeLines(state, { fold: false }), ...fileLines(state), ...connLines(state), ...logLines(state, evs.slice(-20), 40));
    lines.push(...headerLines({ record: win.records[0]!, state, count: 1, time: evs[evs.length - 1]!.time, speed: 1, playing: false, follow: false, filter: P }));
    const tagged = lines.map((l) => toTagged(l, 400));
    // The hostile text did reach the render functions (escaped), and nothing raw got through.
    expect(tagged.some((t) => t.includes('\\x1b[2J'))).toBe(true);
    for (const t of tagged) expect(RAW_CONTROL.exec(t), t).toBeNull();
  });

  it('an error message quoting hostile text is one escaped line', async () => {
    const r = await cli(['replay', '--store', store, '--container', P, '--format', 'text']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^dashcam: [^\n]*\[BAD_ARGUMENT\]\n$/);
    expect(RAW_CONTROL.exec(r.stderr.slice(0, -1))).toBeNull();
  });

  it('the bpftrace program the recorder loaded holds none of the hostile text (it is built from constants)', async () => {
    const programs: string[] = [];
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
      const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = cmd.split('\0');
      if (ppid === process.pid && args[0]?.endsWith('bpftrace')) programs.push(await readFile(args[args.length - 2]!, 'latin1'));
    }
    expect(programs.length).toBeGreaterThan(0);
    for (const p of programs) {
      expect(p).not.toMatch(/[\x1b\x07\x9b]|evil|pwned|hostile/);
      expect(p).not.toContain(name);
    }
  });
});
