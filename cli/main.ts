#!/usr/bin/env node
import { buildProgram } from './program.js';
import { reportError } from './errors.js';

// Everything dashcam writes (store files, sockets, bundles, keys) is owner-only unless a command
// is told otherwise: what it holds is evidence and may hold secrets.
process.umask(0o077);
// A reader that stops early (`| head`, `| jq -n 'first(inputs)'`) closes the pipe: that ends the
// output, as it ends a tool killed by SIGPIPE, not with a stack trace. Any other output error is
// one line and exit 1. (The recorder writes nothing to stdout.)
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  process.stderr.write(`dashcam: cannot write the output: ${err.message}\n`);
  process.exit(1);
});
try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}
