import type { Writable } from 'node:stream';

/** Writes lines with backpressure: one write per chunk, waiting for drain when the pipe is full. */
export async function writeLines(out: Writable, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  await writeBytes(out, lines.join('\n') + '\n');
}

/** Writes whole lines, as text or already encoded, with backpressure: waits for drain when the pipe is full. */
export async function writeBytes(out: Writable, data: string | Uint8Array): Promise<void> {
  if (data.length === 0) return;
  if (!out.write(data)) await new Promise((r) => out.once('drain', r));
}
