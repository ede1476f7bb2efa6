/**
 * `dashcam replay` on a terminal: opens the store and the cursor, then the blessed screen. The
 * screen is torn down on every way out (quit, error, signal) so the shell gets its terminal back.
 */
import { openStoreForReading } from '../replay/open-store.js';
import { resolveTarget } from '../replay/replay-target.js';
import { Cursor } from '../replay/cursor.js';
import { ReplayApp } from './app.js';
import type { KVReader } from '../formats/kv.js';
import { useColors } from './line.js';

export interface TuiOptions {
  store: string;
  container: string[];
  since?: string;
  until?: string;
  at?: string;
  incident?: string;
  follow?: boolean;
  fold?: boolean;
}

/** `source`: an already open reader (a bundle) instead of the store; `warning`: shown on screen. */
export async function openTui(o: TuiOptions, source?: KVReader, warning?: string): Promise<void> {
  const kv = source ?? (await openStoreForReading(o.store)).kv;
  try {
    const target = await resolveTarget(kv, o);
    const cursor = await Cursor.open(kv, target.records, { ...(target.from !== undefined ? { from: target.from } : {}), ...(target.to !== undefined ? { to: target.to } : {}) });
    const blessed = (await import('blessed')).default;
    let app: ReplayApp | undefined;
    const screen = blessed.screen({ smartCSR: true, fullUnicode: true, title: 'dashcam replay', warnings: false, autoPadding: false,
      // Line-drawing and block characters as Unicode, never the ACS charset (which tmux without a
      // UTF-8 locale shows as letters).
      forceUnicode: true });
    const tput = (screen as unknown as { tput: { brokenACS: boolean; colors: number } }).tput;
    tput.brokenACS = true;
    useColors(tput.colors);
    // A signal ends the replay like `q` (the terminal is restored in the finally below).
    const onSignal = (): void => app?.quit();
    process.once('SIGTERM', onSignal);
    process.once('SIGHUP', onSignal);
    try {
      app = new ReplayApp(blessed, screen, kv, cursor, { fold: o.fold !== false, follow: o.follow === true, ...(target.initial !== undefined ? { initial: target.initial } : {}) });
      await app.start();
      if (warning) app.warn(warning);
      await app.done;
    } finally {
      app?.stop();
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      screen.destroy();
    }
  } finally {
    await kv.close();
  }
}
