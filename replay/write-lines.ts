import type { Writable } from 'node:stream';

/** Writes lines with backpressure: one write per chunk, waiting for drain when the pipe is full. */
export async function writeLines(out: Writable, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  await writeText(out, lines.join('\n') + '\n');
}

/** Writes text (whole lines) with backpressure: waits for drain when the pipe is full. */
export async function writeText(out: Writable, text: string): Promise<void> {
  if (text.length === 0) return;
  if (!out.write(text)) await new Promise((r) => out.once('drain', r));
}
