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

/** "NAME=value" → "NAME=[REDACTED …]" when NAME looks secret. */
export function redactEnvEntry(entry: string, key: RedactKey): string {
  const eq = entry.indexOf('=');
  if (eq <= 0) return entry;
  const name = entry.slice(0, eq);
  return SECRET_NAME.test(name) ? `${name}=${redactedMarker(entry.slice(eq + 1), key)}` : entry;
}

/** Returns a redacted copy of a Docker inspect document (the input is left untouched). */
export function redactSnapshot(doc: Record<string, unknown>, key: RedactKey): Record<string, unknown> {
  const out = structuredClone(doc) as { Config?: { Env?: unknown } };
  if (out.Config && Array.isArray(out.Config.Env)) {
    out.Config.Env = out.Config.Env.map((e) => (typeof e === 'string' ? redactEnvEntry(e, key) : e));
  }
  return out as Record<string, unknown>;
}
