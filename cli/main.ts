#!/usr/bin/env node
import { buildProgram } from './program.js';
import { reportError } from './errors.js';

// Everything dashcam writes (store files, sockets, bundles, keys) is owner-only unless a command
// is told otherwise: what it holds is evidence and may hold secrets.
process.umask(0o077);
try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}
