/**
 * Issue 26: every error the CLI prints is one line ending in a dashcam code the README lists;
 * Node's raw codes are translated; an empty window says so and an inverted one is a usage error.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorCode, reportError } from '../../cli/errors.js';
import { cli } from '../helpers/recorder.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SAMPLE = join(ROOT, 'samples/oom-kill.dcb');

async function* sources(dir: string): AsyncIterable<string> {
  for (const e of await readdir(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) yield* sources(rel);
    else if (e.name.endsWith('.ts')) yield rel;
  }
}

/** The codes the README's error table lists. */
async function documentedCodes(): Promise<Set<string>> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Error codes'));
  return new Set([...table.slice(0, table.indexOf('\n## ', 3)).matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1]!));
}

describe('CLI errors', () => {
  it('every code thrown on a CLI path is ours and documented, and no bare Error is thrown', async () => {
    const documented = await documentedCodes();
    const thrown = new Map<string, string>();
    const bare: string[] = [];
    for (const room of ['cli', 'formats', 'recorder', 'replay', 'tui']) {
      for await (const file of sources(room)) {
        const text = await readFile(join(ROOT, file), 'utf8');
        for (const m of text.matchAll(/new (?:FormatError|LookupError)\('([A-Z_]+)'|code: '([A-Z_]+)'/g)) thrown.set(m[1] ?? m[2]!, file);
        // A bare Error would be reported as INTERNAL: each throw names its code.
        for (const m of text.matchAll(/throw new Error\(/g)) bare.push(`${file}@${m.index}`);
      }
    }
    expect(thrown.size).toBeGreaterThan(10);
    expect([...thrown].filter(([code]) => !documented.has(code))).toEqual([]);
    expect(bare).toEqual([]);
    for (const code of ['NOT_FOUND', 'PERMISSION', 'IO', 'INTERNAL', 'NO_EVENTS', 'USAGE']) expect(documented).toContain(code);
  });

  it("translates Node's codes and reports one line", () => {
    const sys = (code: string) => Object.assign(new Error(`${code}: something, open '/x'`), { code });
    expect(errorCode(sys('ENOENT'))).toBe('NOT_FOUND');
    expect(errorCode(sys('EACCES'))).toBe('PERMISSION');
    expect(errorCode(sys('EISDIR'))).toBe('BAD_ARGUMENT');
    expect(errorCode(sys('ENOSPC'))).toBe('IO');
    expect(errorCode(sys('ERR_INVALID_ARG_TYPE'))).toBe('INTERNAL');
    expect(errorCode(new Error('plain'))).toBe('INTERNAL');
    let out = '';
    expect(reportError(sys('EISDIR'), (s) => void (out += s))).toBe(2);
    expect(out).toBe("dashcam: EISDIR: something, open '/x' [BAD_ARGUMENT]\n");
  });

  it('a directory given as a bundle, or a missing file, is one line in our codes', async () => {
    const dir = await cli(['verify', ROOT]);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toMatch(/^dashcam: [^\n]* \[BAD_ARGUMENT\]\n$/);
    const missing = await cli(['verify', join(ROOT, 'no-such.dcb')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^dashcam: [^\n]* \[NOT_FOUND\]\n$/);
  });

  it('a directory that is not a store is STORE_NOT_FOUND in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dashcam-not-a-store-'));
    try {
      const r = await cli(['ls', '--store', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`dashcam: ${dir} is not a dashcam store (no LevelDB files in it) [STORE_NOT_FOUND]\n`);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('an unknown command or option is a usage error (exit 2)', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['ls', '--frobnicate'])).code).toBe(2);
  });

  it('an empty window says so in one line and exits 0; an inverted window is a usage error', async () => {
    const empty = await cli(['replay', '--bundle', SAMPLE, '--format', 'json', '--since', '2030-01-01T00:00:00Z']);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toMatch(/^dashcam: no events between 2030-01-01T00:00:00\.000000Z and now; container \S+ seen 2026-\S+\.\.\S+ \[NO_EVENTS\]\n$/);
    const inverted = await cli(['replay', '--bundle', SAMPLE, '--since', '2026-11-25T06:00:00Z', '--until', '2026-11-25T05:00:00Z']);
    expect(inverted.code).toBe(2);
    expect(inverted.stderr).toMatch(/^dashcam: --since \(2026-11-25T06:00:00\.000000Z\) is not before --until \(2026-11-25T05:00:00\.000000Z\): the window is empty \[BAD_ARGUMENT\]\n$/);
  });
});
