/**
 * dashcam's own version, written into bundle manifests and named in version errors. replay/ may
 * not import recorder/version.ts, so this reads the package.json above this file (source or dist).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function toolVersion(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4 && !cached; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dashcam' && pkg.version) cached = pkg.version;
    } catch {
      // no package.json at this level: keep walking up
    }
  }
  return (cached ??= '0.0.0-unknown');
}
