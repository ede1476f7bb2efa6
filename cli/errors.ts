/** The one place errors become messages and exit codes. */
import { safeText } from '../replay/summary.js';

export class UsageError extends Error {
  readonly code = 'USAGE';
}

/**
 * Node's own error codes that can reach the CLI (a path argument that does not exist, is a
 * directory, or is not ours to read), said in our codes so every error line ends in one of the
 * codes the README lists.
 */
const SYSTEM_CODES: Record<string, string> = {
  ENOENT: 'NOT_FOUND',
  EACCES: 'PERMISSION',
  EPERM: 'PERMISSION',
  EISDIR: 'BAD_ARGUMENT',
  ENOTDIR: 'BAD_ARGUMENT',
};

/** The dashcam code an error is reported under. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || code.startsWith('ERR_')) return 'INTERNAL';
  if (/^E[A-Z]+$/.test(code)) return SYSTEM_CODES[code] ?? 'IO';
  return /^[A-Z][A-Z_]+$/.test(code) ? code : 'INTERNAL';
}

/** Exit codes: 1 runtime error (store, engine, bundle), 2 usage error (commander's included). */
export function reportError(err: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  const e = err as { code?: string; message?: string; exitCode?: number };
  if (e?.code === 'commander.helpDisplayed' || e?.code === 'commander.version') return 0;
  if (typeof e?.code === 'string' && e.code.startsWith('commander.')) return 2; // commander already printed
  // One line, and no control bytes: messages may quote what a container or a damaged file holds.
  const msg = safeText((e?.message ?? String(err)).split('\n')[0]!);
  const code = errorCode(err);
  write(`dashcam: ${msg} [${code}]\n`);
  if (process.env.DASHCAM_DEBUG) write(`${(err as Error)?.stack ?? ''}\n`);
  return code === 'USAGE' || code === 'BAD_ARGUMENT' ? 2 : 1;
}
