import type { Writable } from 'node:stream';

/** Writes lines with backpressure: one write per chunk, waiting for drain when the pipe is full. */
export async function writeLines(out: Writable, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  if (!out.write(lines.join('\n') + '\n')) await new Promise((r) => out.once('drain', r));
}
