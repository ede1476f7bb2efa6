/**
 * Secret redaction. The recorder applies `redactSnapshot` before anything is stored: environment
 * values whose names look secret are replaced by a marker carrying a short, stable hash (so the
 * same secret still matches itself across containers without being readable).
 */
import { createHash } from 'node:crypto';

export const SECRET_NAME = /(PASS(WORD|WD)?|SECRET|TOKEN|(^|_)KEY($|_)|API_?KEY|PRIVATE|CREDENTIAL|AUTH|COOKIE|SESSION|SALT|SIGNATURE|DSN|CONN(ECTION)?_?STR)/i;

/** A stable, non-reversible stand-in for a secret value. Same value, same marker. */
export function redactedMarker(value: string): string {
  const h = createHash('sha256').update('dashcam-redact\0').update(value).digest('hex').slice(0, 12);
  return `[REDACTED sha256:${h}]`;
}

/** "NAME=value" → "NAME=[REDACTED …]" when NAME looks secret. */
export function redactEnvEntry(entry: string): string {
  const eq = entry.indexOf('=');
  if (eq <= 0) return entry;
  const name = entry.slice(0, eq);
  return SECRET_NAME.test(name) ? `${name}=${redactedMarker(entry.slice(eq + 1))}` : entry;
}

/** Redacts a Docker inspect document in place-safe fashion (returns a new object). */
export function redactSnapshot(doc: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(doc) as { Config?: { Env?: unknown } };
  if (out.Config && Array.isArray(out.Config.Env)) {
    out.Config.Env = out.Config.Env.map((e) => (typeof e === 'string' ? redactEnvEntry(e) : e));
  }
  return out as Record<string, unknown>;
}
