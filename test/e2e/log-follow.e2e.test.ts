/**
 * Following a container's logs straight off the engine's socket (recorder/docker/http-response.ts)
 * gives exactly the events dockerode's stream gives: both streams, a line the log driver splits,
 * bytes that are not UTF-8, a TTY container; and an error from the engine is a warning, not a crash.
 * A container has one follower at a time, however many ways the recorder learns it started.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { LogFollower, emptyLogCursor } from '../../recorder/docker/log-follower.js';
import { dockerFromEnv } from '../../recorder/docker/docker-source.js';
import { createLogger } from '../../recorder/logger.js';
import type { NewEvent } from '../../formats/schema.js';
import { IMAGE, LABEL, removeTestContainers, runDetached, uniqueName, waitExit } from '../helpers/engine.js';
import { startRecorder } from '../helpers/recorder.js';
import { tempDir } from '../helpers/temp-store.js';
import { openLevelStore } from '../../formats/level-store.js';
import { eventChunks } from '../../formats/queries.js';

afterAll(removeTestContainers);

async function follow(id: string, tty: boolean, viaDockerode: boolean, warnings: string[] = []): Promise<NewEvent[]> {
  const events: NewEvent[] = [];
  const log = createLogger({ write: (l) => void warnings.push(l) });
  const f = new LogFollower(dockerFromEnv(), id, { tty, maxLine: 65_536, since: 0, cursor: emptyLogCursor(), viaDockerode }, { emit: (e) => void events.push(e) }, log);
  await f.done;
  return events;
}

const shape = (evs: NewEvent[]): unknown[] => evs.map((e) => (e.kind === 'log' ? [e.stream, Buffer.from(e.line).toString('hex'), e.engineTime, e.truncated] : e.kind));

describe('log following (real engine)', () => {
  it('reads the same lines off the socket as through dockerode', async () => {
    const script = 'i=0; while [ $i -lt 3000 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; head -c 40000 /dev/zero | tr "\\0" y; echo; printf "\\377\\376 not utf-8\\n"; printf "no newline at the end"';
    const id = await runDetached(uniqueName('follow'), [], ['sh', '-c', script]);
    expect(await waitExit(id)).toBe(0);
    const raw = await follow(id, false, false);
    const viaDockerode = await follow(id, false, true);
    expect(raw.length).toBe(6003);
    expect(shape(raw)).toEqual(shape(viaDockerode));
    const long = raw.find((e) => e.kind === 'log' && e.line.length === 40_000);
    expect(long, 'the 40,000-byte line, split by the log driver at 16 KiB, joined again').toBeDefined();
  });

  it('reads a TTY container the same way', async () => {
    const id = await runDetached(uniqueName('follow-tty'), ['-t'], ['sh', '-c', 'for i in 1 2 3 4 5; do echo "tty $i"; done']);
    expect(await waitExit(id)).toBe(0);
    const raw = await follow(id, true, false);
    expect(raw.map((e) => (e.kind === 'log' ? Buffer.from(e.line).toString() : ''))).toEqual(['tty 1', 'tty 2', 'tty 3', 'tty 4', 'tty 5']);
    expect(shape(raw)).toEqual(shape(await follow(id, true, true)));
  });

  it('turns an engine error into a warning with the engine\'s message', async () => {
    const warnings: string[] = [];
    expect(await follow('f'.repeat(64), false, false, warnings)).toEqual([]);
    expect(warnings.join('\n')).toMatch(/logs of ffffffffffff: \(HTTP code 404\) No such container/);
  });

  it('follows a container that starts while the recorder is starting once: every line stored once', { timeout: 60_000 }, async () => {
    // The recorder lists the running containers once it is connected to the engine's events, and
    // a container that started meanwhile is both in that list and in a start event: only one of
    // them may follow its logs (two followers stored each line twice). `docker run` is waited for
    // synchronously so that the list is made after the start, as on a busy host.
    const store = await tempDir();
    const rec = await startRecorder(store);
    const id = execFileSync('docker', ['run', '-d', '--label', LABEL, '--name', uniqueName('follow-once'), IMAGE, 'sh', '-c',
      'sleep 1; i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done; exec sleep 30'], { encoding: 'utf8' }).trim();
    const end = Date.now() + 40_000;
    while ((rec.pipeline.book.get(id)?.events ?? 0) < 20_000 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1000)); // a second follower would still be writing
    expect(rec.footprint().logFollowers).toBe(1);
    await rec.stop();
    const kv = await openLevelStore(store);
    const lines: string[] = [];
    for await (const evs of eventChunks(kv, id)) for (const ev of evs) if (ev.kind === 'log') lines.push(Buffer.from(ev.line).toString());
    await kv.close();
    expect(new Set(lines).size).toBe(20_000);
    expect(lines.length).toBe(20_000);
  });
});
