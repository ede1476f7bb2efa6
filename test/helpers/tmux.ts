/** A private tmux session for terminal tests: one per test file, killed after each test. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { until } from './recorder.js';

const run = promisify(execFile);

export interface Tmux {
  readonly session: string;
  tmux(...args: string[]): Promise<string>;
  /** Starts the session (killing an earlier one) running `cmd`, at `width`x`height`. */
  open(cmd: string, width?: number, height?: number): Promise<void>;
  /** The visible text; with `escapes`, the SGR colour sequences too. */
  screen(escapes?: boolean): Promise<string>;
  keys(...k: string[]): Promise<string>;
  /** Waits until the screen passes `test`; the error shows the last screen. */
  waitScreen(test: (s: string) => boolean, what: string, ms?: number): Promise<string>;
  kill(): Promise<void>;
}

export function tmuxSession(prefix: string): Tmux {
  const session = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const tmux = async (...args: string[]): Promise<string> => (await run('tmux', args)).stdout;
  const screen = (escapes = false): Promise<string> => tmux('capture-pane', '-t', session, '-p', ...(escapes ? ['-e'] : []));
  const kill = async (): Promise<void> => void (await tmux('kill-session', '-t', session).catch(() => ''));
  return {
    session,
    tmux,
    screen,
    kill,
    async open(cmd, width = 80, height = 24) {
      await kill();
      await tmux('new-session', '-d', '-s', session, '-x', String(width), '-y', String(height), cmd);
    },
    keys: (...k) => tmux('send-keys', '-t', session, ...k),
    async waitScreen(test, what, ms = 10_000) {
      let last = '';
      await until(async () => test((last = await screen())), ms, what).catch((err: Error) => { throw new Error(`${err.message}\n--- screen ---\n${last}`); });
      return last;
    },
  };
}

const INVERSE = /\x1b\[(?:[\d;]*;)?7(?:;[\d;]*)?m/;
const SGR = /\x1b\[[\d;]*m/g;

/** The TUI's selected event in a `capture-pane -e` screen: the event row drawn in reverse video. */
export function selectedRow(rawScreen: string): string | undefined {
  for (const row of rawScreen.split('\n')) {
    const m = INVERSE.exec(row);
    if (!m) continue;
    const text = row.slice(m.index).replace(SGR, '');
    if (/^\d\d:\d\d:\d\d\.\d{3} /.test(text)) return text;
  }
  return undefined;
}
