/** The recorder's own log: one line per message on stderr, with time and level. */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug(msg: string): void;
}

export function createLogger(opts: { verbose?: boolean; quiet?: boolean; write?: (line: string) => void } = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const line = (level: string, msg: string): void => {
    // Messages may quote container-controlled text: keep them on one line with no control bytes.
    const safe = msg.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    write(`${new Date().toISOString()} ${level} ${safe}\n`);
  };
  return {
    info: (m) => { if (!opts.quiet) line('info', m); },
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
    debug: (m) => { if (opts.verbose) line('debug', m); },
  };
}
