/**
 * The sensitive-read list: globs on absolute paths as seen inside the container. Reads are not
 * recorded in general (too costly); a read-only open is recorded only when its path matches one of
 * these. The kernel side filters cheaply on each pattern's literal prefix (the text before the
 * first `*`); the exact glob is checked here. `*` matches within one path component, a trailing
 * `/` matches everything below a directory.
 */
export const DEFAULT_SENSITIVE: readonly string[] = [
  '/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/sudoers.d/',
  '/etc/ssl/private/', '/root/.ssh/', '/home/*/.ssh/', '/root/.aws/', '/root/.docker/config.json',
  '/var/run/secrets/', '/run/secrets/', '/proc/*/environ',
];

/** Characters a pattern may contain: it becomes a string literal in the bpftrace program. */
const SAFE = /^\/[A-Za-z0-9_.@+\-/*]*$/;

export class SensitiveList {
  readonly patterns: readonly string[];
  readonly #res: RegExp[];
  constructor(patterns: readonly string[] = DEFAULT_SENSITIVE) {
    for (const p of patterns) {
      if (!SAFE.test(p) || p.length > 120) throw Object.assign(new Error(`sensitive path pattern ${JSON.stringify(p)}: use an absolute path of letters, digits, _ . @ + - / and *`), { code: 'BAD_ARGUMENT' });
    }
    this.patterns = [...patterns];
    this.#res = patterns.map((p) => {
      const body = p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');
      return new RegExp(`^${body}${p.endsWith('/') ? '' : '$'}`);
    });
  }

  /** Literal prefixes for the kernel-side filter, shortest covering set, no duplicates. */
  prefixes(): string[] {
    const raw = [...new Set(this.patterns.map((p) => p.split('*')[0]!))].sort((a, b) => a.length - b.length);
    return raw.filter((p, i) => !raw.slice(0, i).some((q) => p.startsWith(q)));
  }

  matches(path: string): boolean {
    return this.#res.some((r) => r.test(path));
  }
}
