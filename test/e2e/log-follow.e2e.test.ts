/**
 * Following a container's logs straight off the engine's socket (recorder/docker/http-response.ts)
 * gives exactly the events dockerode's stream gives: both streams, a line the log driver splits,
 * bytes that are not UTF-8, a TTY container; and an error from the engine is a warning, not a crash.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LogFollower, emptyLogCursor } from '../../recorder/docker/log-follower.js';
import { dockerFromEnv } from '../../recorder/docker/docker-source.js';
import { createLogger } from '../../recorder/logger.js';
import type { NewEvent } from '../../formats/schema.js';
import { removeTestContainers, runDetached, uniqueName, waitExit } from '../helpers/engine.js';

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
});
