/**
 * A newcomer's first minute, as the README's first command has it: a fresh copy of the repository
 * (the files git tracks or would), `npm install` (from npm's cache, so the test stays off the network), and
 * the sample bundle's TUI, which opens on the incident's trigger with its title.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp-store.js';
import { selectedRow, tmuxSession } from '../helpers/tmux.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const t = tmuxSession('dashcam-newcomer');
afterEach(() => t.kill());

describe('a fresh clone', () => {
  it('installs without a warning and opens the sample on its incident', async () => {
    const dir = await tempDir('dashcam-clone-');
    // (A checkout whose node_modules is a link to another's is still a checkout without one.)
    const tracked = (await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })).stdout.split('\0').filter((f) => f && f !== 'node_modules');
    for (const f of tracked) await cp(join(ROOT, f), join(dir, f)).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });

    const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd: dir, timeout: 240_000, env: { ...process.env, npm_config_loglevel: 'warn' } });
    expect(install.stderr, install.stderr).not.toMatch(/warn|ERR/i);

    await t.open(`cd ${dir} && npx dashcam replay --bundle samples/suspicious-shell.dcb; sleep 30`);
    const s = await t.waitScreen((x) => x.includes('Processes'), 'the sample\'s first screen', 30_000);
    expect(s.split('\n')[0]).toMatch(/^dcs-shell {2}! drift: \/tmp\/\.updater was written in the container, then run/);
    // The trigger (the dropped file's exec) is selected, its command line before its pids.
    expect(selectedRow(await t.screen(true))).toMatch(/ exec +\/tmp\/\.updater {2}pid=\d+/);
  }, 300_000);
});
