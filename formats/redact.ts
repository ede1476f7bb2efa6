/**
 * Secret redaction. The recorder applies `redactSnapshot` before anything is stored: environment
 * values whose names look secret are replaced by a marker carrying a short keyed hash, so the same
 * secret still matches itself across containers and events without being readable or guessable.
 *
 * The hash is an HMAC under a random key kept in the store (`m|redact-key`, root-only like the
 * rest): an unkeyed hash of a short password could be reversed by trying candidates.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_NAME = /(PASS(WORD|WD)?|SECRET|TOKEN|(^|_)KEY($|_)|API_?KEY|PRIVATE|CREDENTIAL|AUTH|COOKIE|SESSION|SALT|SIGNATURE|DSN|CONN(ECTION)?_?STR)/i;

export type RedactKey = Uint8Array;

export function newRedactKey(): RedactKey {
  return randomBytes(32);
}

/** A stable, non-reversible stand-in for a secret value. Same value and key, same marker. */
export function redactedMarker(value: string, key: RedactKey): string {
  const h = createHmac('sha256', key).update(value).digest('hex').slice(0, 12);
  return `[REDACTED hmac:${h}]`;
}

/** The password of a URL's userinfo (`postgres://app:PASSWORD@db/app`), whatever the variable's name. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):(?!\[REDACTED)([^\s@/]+)@/gi;
/**
 * Tokens recognisable by their own shape, whatever the variable's name: GitHub, GitLab, Slack,
 * Stripe live keys, JWTs. (`DATABASE_URL`, `GH`, `SLACK` names say nothing; the values do.)
 */
const TOKEN_VALUE = /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|[sr]k_live_[A-Za-z0-9]{20,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/g;

/** A value with URL passwords and recognisable tokens replaced by markers; the rest kept. */
export function redactSecretValues(value: string, key: RedactKey): string {
  return value
    .replace(URL_PASSWORD, (_m, head: string, pw: string) => `${head}:${redactedMarker(pw, key)}@`)
    .replace(TOKEN_VALUE, (t) => redactedMarker(t, key));
}

/** "NAME=value" → "NAME=[REDACTED …]" when NAME looks secret; else secrets recognisable in the value. */
export function redactEnvEntry(entry: string, key: RedactKey): string {
  const eq = entry.indexOf('=');
  if (eq <= 0) return entry;
  const name = entry.slice(0, eq);
  return SECRET_NAME.test(name) ? `${name}=${redactedMarker(entry.slice(eq + 1), key)}` : `${name}=${redactSecretValues(entry.slice(eq + 1), key)}`;
}

/** Returns a redacted copy of a Docker inspect document (the input is left untouched). */
export function redactSnapshot(doc: Record<string, unknown>, key: RedactKey): Record<string, unknown> {
  const out = structuredClone(doc) as { Config?: { Env?: unknown } };
  if (out.Config && Array.isArray(out.Config.Env)) {
    out.Config.Env = out.Config.Env.map((e) => (typeof e === 'string' ? redactEnvEntry(e, key) : e));
  }
  return out as Record<string, unknown>;
}
