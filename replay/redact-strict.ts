/**
 * `export --redact strict`: on top of the recorder's env redaction, masks credentials in argv,
 * URL passwords, Authorization-style headers and `secret=value` assignments in any text, AWS
 * access key IDs, and IP addresses outside the exported containers' own networks.
 *
 * Every masked value becomes `[redacted:xxxxxxxx]`, an HMAC of the value under a key made fresh for
 * each export: the same secret matches itself everywhere in one bundle, but a short password cannot
 * be found by hashing guesses, and two bundles cannot be correlated.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { DashEvent } from '../formats/schema.js';
import type { ContainerRecord } from '../formats/records.js';
import type { RedactionInfo } from '../formats/bundle-manifest.js';
import { SECRET_NAME } from '../formats/redact.js';
import { OwnNetworks } from './export-networks.js';

export const STRICT_RULES = {
  'argv-credentials': 'argv values of credential flags (--password=x, -p x, --token x, -u user:pass) and NAME=value with a secret-looking NAME',
  'url-passwords': 'passwords in URLs (scheme://user:password@host)',
  'authorization-headers': 'credentials of Authorization, Proxy-Authorization, X-Api-Key and similar headers in logs and text',
  'credential-assignments': 'values of secret-looking key=value or key: value pairs in logs and text, and AWS access key IDs',
  'foreign-ip-addresses': "IP addresses outside the exported containers' own networks (loopback kept)",
} as const;
type Rule = keyof typeof STRICT_RULES;

const SECRET_FLAG = /^--?(pass(word|wd)?|pwd|token|secret|api[-_]?key|access[-_]?key|secret[-_]?key|private[-_]?key|auth(-token)?|credentials?|client[-_]?secret)$/i;
const VALUE_FLAG = /^(-p|-u|--user)$/;
const NOT_YET = '(?!\\[redacted)';
const URL_PASSWORD = new RegExp(`([a-z][a-z0-9+.-]*://[^\\s:@/]*):${NOT_YET}([^\\s@/]+)@`, 'gi');
const AUTH_HEADER = new RegExp(`\\b((?:proxy-)?authorization|x-api-key|x-auth-token|api-key)(["']?\\s*[:=]\\s*["']?)(?:(bearer|basic|digest|token|negotiate|aws4-hmac-sha256)\\s+)?${NOT_YET}([^\\s"',;]+)`, 'gi');
const ASSIGNMENT = new RegExp(`([A-Za-z0-9_.-]*(?:passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)[A-Za-z0-9_.-]*)(["']?\\s*[=:]\\s*["']?)${NOT_YET}([^\\s"'&,;]+)`, 'gi');
const AWS_KEY_ID = /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g;
const IPV4 = /(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])/g;
const IPV6 = /(?<![0-9a-z:.])((?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4})(?![0-9a-z:.])/gi;
const ARGV_KEYS = new Set(['Cmd', 'Entrypoint', 'Args', 'argv']);

export class StrictRedactor {
  readonly #key = randomBytes(32);
  readonly #nets: OwnNetworks;
  readonly #counts: Record<Rule, number> = { 'argv-credentials': 0, 'url-passwords': 0, 'authorization-headers': 0, 'credential-assignments': 0, 'foreign-ip-addresses': 0 };

  constructor(nets: OwnNetworks) {
    this.#nets = nets;
  }

  marker(value: string): string {
    return `[redacted:${createHmac('sha256', this.#key).update(value).digest('hex').slice(0, 8)}]`;
  }

  #mask(rule: Rule, value: string): string {
    this.#counts[rule]++;
    return this.marker(value);
  }

  applied(): RedactionInfo[] {
    return (Object.keys(STRICT_RULES) as Rule[]).map((name) => ({ name, by: 'export', what: STRICT_RULES[name], count: this.#counts[name] }));
  }

  argv(argv: readonly string[]): string[] {
    const out = argv.slice();
    for (let i = 0; i < out.length; i++) {
      const a = out[i]!;
      const eq = a.indexOf('=');
      if (a.startsWith('-') && eq > 0 && SECRET_FLAG.test(a.slice(0, eq))) out[i] = `${a.slice(0, eq + 1)}${this.#mask('argv-credentials', a.slice(eq + 1))}`;
      else if (!a.startsWith('-') && eq > 0 && SECRET_NAME.test(a.slice(0, eq)) && /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(a.slice(0, eq))) out[i] = `${a.slice(0, eq + 1)}${this.#mask('argv-credentials', a.slice(eq + 1))}`;
      else if ((SECRET_FLAG.test(a) || VALUE_FLAG.test(a)) && i + 1 < out.length) {
        const v = out[i + 1]!;
        const userPass = /^(-u|--user)$/.test(a);
        if (userPass) {
          const c = v.indexOf(':');
          if (c >= 0) out[i + 1] = `${v.slice(0, c + 1)}${this.#mask('argv-credentials', v.slice(c + 1))}`;
        } else out[i + 1] = this.#mask('argv-credentials', v);
        i++;
      }
      out[i] = this.text(out[i]!);
    }
    return out;
  }

  /** Masks URL passwords, header credentials, secret assignments, AWS key IDs and foreign IPs. */
  text(s: string): string {
    if (s.length < 7) return s;
    let t = s.replace(URL_PASSWORD, (_m, head: string, pw: string) => `${head}:${this.#mask('url-passwords', pw)}@`);
    t = t.replace(AUTH_HEADER, (_m, name: string, sep: string, scheme: string | undefined, cred: string) => `${name}${sep}${scheme ? `${scheme} ` : ''}${this.#mask('authorization-headers', cred)}`);
    t = t.replace(ASSIGNMENT, (_m, name: string, sep: string, v: string) => `${name}${sep}${this.#mask('credential-assignments', v)}`);
    t = t.replace(AWS_KEY_ID, (m) => this.#mask('credential-assignments', m));
    t = t.replace(IPV4, (m) => (isIPv4(m) && !this.#nets.has(m) ? this.#mask('foreign-ip-addresses', m) : m));
    if (t.includes('::') || /:[0-9a-f]{1,4}:/i.test(t)) t = t.replace(IPV6, (m) => (isIPv6(m) && !this.#nets.has(m) ? this.#mask('foreign-ip-addresses', m) : m));
    return t;
  }

  /** "ip:port" or "[ip6]:port" → same shape with the IP masked when foreign. */
  address(a: string): string {
    const m = /^\[?([^\]]*?)\]?(:\d+)?$/.exec(a);
    const ip = m?.[1] ?? '';
    if (!(isIPv4(ip) || isIPv6(ip)) || this.#nets.has(ip)) return a;
    return `${this.#mask('foreign-ip-addresses', ip)}${m?.[2] ?? ''}`;
  }

  /** Any decoded structure (snapshots, keyframes, incident records): strings masked, argv arrays as argv. */
  deep(v: unknown, key = ''): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return ARGV_KEYS.has(key) && v.every((x) => typeof x === 'string') ? this.argv(v as string[]) : v.map((x) => this.deep(x));
    if (v instanceof Uint8Array || v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = this.deep(x, k);
    return out;
  }

  record(r: ContainerRecord): ContainerRecord {
    return { ...r, command: r.command === undefined ? undefined : this.text(r.command), snapshot: r.snapshot && (this.deep(r.snapshot) as Record<string, unknown>) };
  }

  /** A new event with its sensitive fields masked (the input is not changed). */
  event(ev: DashEvent): DashEvent {
    switch (ev.kind) {
      case 'exec': return { ...ev, argv: this.argv(ev.argv ?? []), exe: this.text(ev.exe), cwd: ev.cwd === undefined ? undefined : this.text(ev.cwd) };
      case 'net': return { ...ev, local: this.address(ev.local), remote: this.address(ev.remote) };
      case 'file': return { ...ev, path: this.text(ev.path), newPath: ev.newPath === undefined ? undefined : this.text(ev.newPath) };
      case 'log': {
        // latin1 maps bytes 1:1, so binary and invalid UTF-8 lines survive byte for byte.
        const before = Buffer.from(ev.line.buffer, ev.line.byteOffset, ev.line.byteLength).toString('latin1');
        const after = this.text(before);
        return after === before ? ev : { ...ev, line: Buffer.from(after, 'latin1') };
      }
      case 'lifecycle': return { ...ev, action: this.text(ev.action), attributes: this.deep(ev.attributes ?? {}) as Record<string, string> };
      case 'snapshot': return { ...ev, snapshot: this.deep(ev.snapshot) as Record<string, unknown> };
      case 'incident': return { ...ev, title: this.text(ev.title), note: ev.note === undefined ? undefined : this.text(ev.note) };
      case 'gap': return ev.detail === undefined ? ev : { ...ev, detail: this.text(ev.detail) };
      case 'syscall': return ev.args === undefined ? ev : { ...ev, args: this.deep(ev.args) as Record<string, string | number> };
      default: return ev;
    }
  }
}

export function strictRedactorFor(records: readonly ContainerRecord[], snapshots: readonly Record<string, unknown>[]): StrictRedactor {
  const nets = new OwnNetworks();
  for (const r of records) if (r.snapshot) nets.addSnapshot(r.snapshot);
  for (const s of snapshots) nets.addSnapshot(s);
  return new StrictRedactor(nets);
}
