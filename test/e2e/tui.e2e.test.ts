/**
 * The replay TUI in a real terminal (tmux, 80x24), on a container that ran a few processes, logged
 * and exited 3, then was removed: header, events and logs on open, `n` to the die event, `?` help,
 * `/` filter, `q` back to an intact shell prompt.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-store.js';
import { docker, removeTestContainers, runDetached, uniqueName, waitExit, IMAGE } from '../helpers/engine.js';
import { CLI, cli, replayJson, startRecorder, until } from '../helpers/recorder.js';
import { selectedRow, tmuxSession } from '../helpers/tmux.js';
import type { Recorder } from '../../recorder/record.js';

const t = tmuxSession('dashcam-tui');
const { screen, keys, waitScreen } = t;

let recorders: Recorder[] = [];
afterEach(async () => {
  await Promise.all(recorders.map((r) => r.stop()));
  recorders = [];
  await t.kill();
});
beforeAll(removeTestContainers);
afterAll(removeTestContainers);

describe('replay TUI (tmux, real engine)', () => {
  it('shows a removed container that exited 3, jumps to its death, helps, filters and quits cleanly', async () => {
    const store = await tempDir();
    const rec = await startRecorder(store);
    recorders.push(rec);
    const name = uniqueName('tui');
    const id = await runDetached(name, [], ['sh', '-c', 'echo hello-from-tui; sleep 3; echo "evil \x1b[2J\x1b]0;pwned\x07 done"; sleep 0.5; exit 3']);
    await docker('exec', id, 'sh', '-c', 'echo side-process');
    await docker('exec', id, 'cat', '/etc/hostname');
    expect(await waitExit(id)).toBe(3);
    await docker('rm', id);
    await until(async () => (await replayJson(store, name)).some((e) => e.action === 'destroy'), 15_000, 'destroy recorded');
    await rec.stop();
    recorders = [];

    await t.open('bash --norc --noprofile');
    await keys(`PS1='READY$ '; clear`, 'Enter');
    await waitScreen((s) => s.includes('READY$'), 'shell prompt');
    await keys(`${process.execPath} ${CLI} replay --store ${store} --container ${name}`, 'Enter');
    let s = await waitScreen((x) => x.includes('Processes') && x.includes('hello-from-tui'), 'first screen');
    const lines = s.split('\n');
    expect(lines[0]).toContain(name);
    expect(lines[0]).toContain(IMAGE);
    expect(lines[1]).toMatch(/final 3/);
    expect(s).toContain('exec_start');
    expect(s).toContain('Logs');
    expect(s).not.toContain('pwned\x07');
    expect(s).not.toMatch(/\x1b/);

    await keys('n');
    s = await waitScreen((x) => /exited \| exit 3/.test(x.split('\n')[1] ?? ''), 'n jumps to the die event');
    expect(s).toMatch(/die exitCode=3/);
    // Past the last notable event (the incident marker follows the die), `n` says so and leaves
    // the state as it was: the header still shows the container as it was at that moment.
    // Keys are handled in the order typed, so extra presses past the end only repeat the message.
    await keys('n', 'n', 'n');
    s = await waitScreen((x) => x.includes('no later notable event'), 'no later notable event');
    expect(s.split('\n')[1]).toMatch(/exited \| exit 3/);
    expect(s.split('\n')[1]).not.toMatch(/removed/);

    // One Enter opens the detail overlay (blessed reports it twice), Escape closes it.
    await keys('Enter');
    s = await waitScreen((x) => x.includes('any other key closes'), 'detail overlay');
    await new Promise((r) => setTimeout(r, 300));
    expect(await screen()).toContain('any other key closes');
    await keys('Escape');
    await waitScreen((x) => !x.includes('any other key closes'), 'overlay closed');

    await keys('?');
    s = await waitScreen((x) => x.includes('play / pause'), 'help');
    for (const d of ['step to the next event', 'jump forward 10 s', 'next incident or notable event', 'quit']) expect(s).toContain(d);
    await keys('Escape');
    await waitScreen((x) => !x.includes('play / pause'), 'help closed');

    // Typed at once, as a fast typist would: the keys after `/` belong to the prompt even while
    // the seek that `g` started is still running.
    await keys('-l', 'g/kind:log');
    await keys('Enter');
    s = await waitScreen((x) => x.includes('filter: kind:'), 'filter applied');
    expect(s).not.toContain('any other key closes'); // Enter applied the filter and did nothing more
    const events = s.split('\n').slice(5, 14).map((l) => l.slice(0, 45)).filter((l) => /^\d\d:\d\d/.test(l));
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((l) => / log /.test(l))).toBe(true);

    await keys('q');
    s = await waitScreen((x) => x.trim().split('\n').pop()!.startsWith('READY$'), 'shell prompt after quit');
    expect(s).not.toContain('Processes');
    expect(s).not.toContain('Events');
    await keys('echo still-$((40+2))', 'Enter');
    await waitScreen((x) => x.includes('still-42'), 'shell works after quit');
  });

  it('replay --incident opens on the trigger, titled, zoomed to the container\'s few seconds', async () => {
    const store = await tempDir();
    const rec = await startRecorder(store);
    recorders.push(rec);
    const name = uniqueName('tui-inc');
    const id = await runDetached(name, [], ['sh', '-c', 'echo up; sleep 2; echo going-down; exit 3']);
    expect(await waitExit(id)).toBe(3);
    const inc = await until(async () => {
      const r = await cli(['incidents', '--store', store, '--format', 'json']);
      return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; container: string; trigger: string }).find((i) => i.container === id && i.trigger === 'exit');
    }, 15_000, 'exit incident');
    await rec.stop();
    recorders = [];

    await t.open(`${process.execPath} ${CLI} replay --store ${store} --incident ${inc.id}; sleep 30`);
    const s = await waitScreen((x) => x.includes('Processes') && x.includes('! exit:'), 'first screen');
    const lines = s.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${name} {2}! exit: ${name} exited with code 3`));
    expect(selectedRow(await screen(true))).toMatch(/ engine +die exitCode=3/);
    // The pinned window is minutes wide; the timeline spans the container's ~2 s, edge to edge.
    expect(lines[2]![0]).not.toBe(' ');
    expect(lines[2]![79]).not.toBe(' ');
    await keys('g');
    await until(async () => /engine +create/.test(selectedRow(await screen(true)) ?? ''), 10_000, 'g goes to the create event');
    await keys('q');
  });

  it('replay --incident --with-peers merges a container sharing its network namespace', async () => {
    const store = await tempDir();
    const rec = await startRecorder(store);
    recorders.push(rec);
    const name = uniqueName('tui-pod');
    const id = await runDetached(name, [], ['sh', '-c', 'echo main-line; sleep 60']);
    const side = uniqueName('tui-side');
    const sideId = await runDetached(side, ['--network', `container:${id}`], ['sh', '-c', 'sleep 1; echo peer-line; sleep 60']);
    try {
      await until(async () => (await replayJson(store, side)).some((e) => e.line === 'peer-line'), 15_000, 'the peer\'s line');
      const marked = await cli(['mark', '--store', store, '--container', name, '--note', 'pod check']);
      expect(marked.code, marked.stderr).toBe(0);
      const inc = await until(async () => {
        const r = await cli(['incidents', '--store', store, '--container', name, '--format', 'json']);
        return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; peers?: { id: string; why: string }[] })[0];
      }, 15_000, 'the mark');
      expect(inc.peers).toEqual([expect.objectContaining({ id: sideId, why: 'shares its network namespace' })]);
      await rec.stop();
      recorders = [];

      await t.open(`${process.execPath} ${CLI} replay --store ${store} --incident ${inc.id} --with-peers; sleep 30`, 100, 30);
      const s = await waitScreen((x) => x.includes('Processes') && x.includes('peer-line'), 'the peer\'s line on screen');
      expect(s.split('\n')[0]).toContain(`${name} +1`);
      // Without --with-peers, only the incident's own container.
      await t.open(`${process.execPath} ${CLI} replay --store ${store} --incident ${inc.id}; sleep 30`, 100, 30);
      const own = await waitScreen((x) => x.includes('Processes') && x.includes('main-line'), 'own screen');
      expect(own).not.toContain('peer-line');
    } finally {
      await docker('rm', '-f', sideId, id);
    }
  });

  it('dim text is never black under TERM=tmux-256color or TERM=screen', async () => {
    const store = await tempDir();
    const rec = await startRecorder(store);
    recorders.push(rec);
    const name = uniqueName('tui-dim');
    expect(await waitExit(await runDetached(name, [], ['sh', '-c', 'echo first-line; sleep 1; echo later-line; exit 0']))).toBe(0);
    await until(async () => (await replayJson(store, name)).some((e) => e.action === 'die'), 15_000, 'die recorded');
    for (const term of ['tmux-256color', 'screen']) {
      await t.open(`env TERM=${term} ${process.execPath} ${CLI} replay --store ${store} --container ${name}; sleep 30`);
      // At the start of the window the log lines to come are shown dim in the logs pane.
      await waitScreen((x) => x.includes('later-line'), `${term}: logs pane`);
      const raw = await screen(true);
      // Every place the line shows (the events pane and the logs pane): the colour it is written in.
      let seen = 0;
      for (const row of raw.split('\n')) {
        for (let at = row.indexOf('later-line'); at !== -1; at = row.indexOf('later-line', at + 1)) {
          seen++;
          const sgr = [...row.slice(0, at).matchAll(/\x1b\[([\d;]*)m/g)].map((m) => m[1]!).pop() ?? '';
          expect(sgr.split(';'), `${term}: ${JSON.stringify(row)}`).not.toContain('30');
        }
      }
      expect(seen, term).toBeGreaterThanOrEqual(2);
      await keys('q');
    }
  });
});
