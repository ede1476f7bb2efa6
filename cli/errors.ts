/** The one place errors become messages and exit codes. */
import { safeText } from '../replay/summary.js';

export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** Exit codes: 1 runtime error (store, engine, bundle), 2 usage error. */
export function reportError(err: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  const e = err as { code?: string; message?: string; exitCode?: number };
  if (e?.code === 'commander.helpDisplayed' || e?.code === 'commander.version') return 0;
  if (typeof e?.code === 'string' && e.code.startsWith('commander.')) return e.exitCode ?? 2; // commander already printed
  // One line, and no control bytes: messages may quote what a container or a damaged file holds.
  const msg = safeText((e?.message ?? String(err)).split('\n')[0]!);
  write(`dashcam: ${msg}${e?.code && !e.code.startsWith('ERR_') ? ` [${e.code}]` : ''}\n`);
  if (process.env.DASHCAM_DEBUG) write(`${(err as Error)?.stack ?? ''}\n`);
  return e?.code === 'USAGE' || e?.code === 'BAD_ARGUMENT' ? 2 : 1;
}
