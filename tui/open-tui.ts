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
import { eventSpan } from '../replay/event-span.js';

export interface TuiOptions {
  store: string;
  container: string[];
  since?: string;
  until?: string;
  at?: string;
  incident?: string;
  follow?: boolean;
  fold?: boolean;
  withPeers?: boolean;
  /** A bundle's own incident (its manifest's), to open at when no --incident or --at is given. */
  focus?: { incident?: string };
}

/** `source`: an already open reader (a bundle) instead of the store; `warning`: shown on screen. */
export async function openTui(o: TuiOptions, source?: KVReader, warning?: string): Promise<void> {
  const kv = source ?? (await openStoreForReading(o.store)).kv;
  try {
    const target = await resolveTarget(kv, o);
    let { from, to } = target;
    // An incident's pinned window is minutes; the container may have lived seconds of it.
    if (o.incident !== undefined && o.since === undefined && o.until === undefined) {
      const span = await eventSpan(kv, target.records.map((r) => r.id), from, to);
      if (span) { from = span.first; to = o.follow ? to : span.last; }
    }
    const cursor = await Cursor.open(kv, target.records, { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
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
      app = new ReplayApp(blessed, screen, kv, cursor, {
        fold: o.fold !== false, follow: o.follow === true,
        ...(target.initial !== undefined ? { initial: target.initial } : {}),
        ...(target.incident ? { incident: target.incident, atTrigger: target.atTrigger === true } : {}),
      });
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
