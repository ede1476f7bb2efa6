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
    // C1 controls (U+009B is a CSI) and bidi overrides too, as replay's safeText does.
    const safe = msg.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
      const n = c.charCodeAt(0);
      return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
    });
    write(`${new Date().toISOString()} ${level} ${safe}\n`);
  };
  return {
    info: (m) => { if (!opts.quiet) line('info', m); },
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
    debug: (m) => { if (opts.verbose) line('debug', m); },
  };
}
