/**
 * A progress bar on stderr for export, import and verify. It appears only when stderr is a
 * terminal and the work has already taken more than a moment, so quick runs and pipes stay quiet;
 * redraws are throttled so the bar costs nothing per event.
 */
import type { WriteStream } from 'node:tty';

export interface Progress {
  /** Adds `n` units of work done. */
  tick(n: number): void;
  /** Raises the expected total (when it was only an estimate). */
  total(n: number): void;
  done(): void;
}

const QUIET: Progress = { tick() {}, total() {}, done() {} };
const DELAY_MS = 400;
const REDRAW_MS = 100;

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Formats a count of units (bytes, events) for display. */
  unit?: (n: number) => string;
}

export function createProgress(label: string, expected: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (!stream.isTTY) return QUIET;
  const unit = opts.unit ?? ((n: number) => n.toLocaleString('en-US'));
  const start = Date.now();
  let total = Math.max(expected, 0);
  let done = 0;
  let last = 0;
  let shown = false;
  const draw = (): void => {
    const cols = Math.max(40, (stream as WriteStream).columns ?? 80);
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const text = ` ${(frac * 100).toFixed(0).padStart(3)}%  ${unit(done)}${total > 0 ? ` / ${unit(total)}` : ''}`;
    const width = Math.max(10, cols - label.length - text.length - 4);
    const fill = Math.round(frac * width);
    stream.write(`\r${label} [${'#'.repeat(fill)}${' '.repeat(width - fill)}]${text}`);
    shown = true;
  };
  return {
    tick(n) {
      done += n;
      const now = Date.now();
      if (now - start < DELAY_MS || now - last < REDRAW_MS) return;
      last = now;
      draw();
    },
    total(n) {
      total = Math.max(total, n);
    },
    done() {
      if (!shown) return;
      if (total > 0) done = total;
      draw();
      stream.write('\n');
    },
  };
}

export const formatBytes = (n: number): string =>
  n >= 1 << 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 1 << 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
