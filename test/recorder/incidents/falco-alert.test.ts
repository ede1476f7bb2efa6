import { describe, expect, it } from 'vitest';
import { AlertError, alertCandidate, parseAlert, severityOfPriority } from '../../../recorder/incidents/falco-alert.js';
import { parseListen } from '../../../recorder/incidents/falco-listener.js';
import { defaultIncidentConfig } from '../../../recorder/incidents/incident-config.js';

// The shape Falco's http_output posts (falco.yaml: json_output: true, http_output.enabled: true).
const alert = {
  hostname: 'node-1', output: '10:00:00.123456789: Warning Shell spawned in a container (user=root container_id=0123456789ab)',
  priority: 'Warning', rule: 'Terminal shell in container', source: 'syscall', tags: ['container', 'shell'],
  time: '2026-11-25T10:00:00.123456789Z', output_fields: { 'container.id': '0123456789ab', 'proc.name': 'sh' },
};

describe('falco alerts', () => {
  it('parses an http_output alert into an incident candidate', () => {
    const { alert: a, containerId } = parseAlert(alert);
    expect(containerId).toBe('0123456789ab');
    const now = Date.parse('2026-11-25T10:00:01Z') * 1000;
    const c = alertCandidate(a, 'f'.repeat(64), now, defaultIncidentConfig().triggers.falco);
    expect(c).toMatchObject({ trigger: 'falco', rule: 'Terminal shell in container', severity: 'medium', source: 'falco', time: Date.parse('2026-11-25T10:00:00.123Z') * 1000 + 456 });
    expect(c.note).toContain('Shell spawned');
    expect(severityOfPriority('Critical')).toBe('critical');
    expect(severityOfPriority('Notice')).toBe('low');
  });

  it('refuses what is not an alert, host alerts and bad IDs with distinct statuses', () => {
    const status = (doc: unknown): number => { try { parseAlert(doc); return 0; } catch (e) { return (e as AlertError).status; } };
    expect(status([1])).toBe(400);
    expect(status({ ...alert, rule: '' })).toBe(400);
    expect(status({ ...alert, output_fields: { 'container.id': 'host' } })).toBe(422);
    expect(status({ ...alert, output_fields: { 'container.id': 'xyz' } })).toBe(422);
    expect(status({ ...alert, output_fields: { 'container.id': 'a'.repeat(64) } })).toBe(0);
  });

  it('listen addresses default to loopback', () => {
    expect(parseListen('8765')).toEqual({ host: '127.0.0.1', port: 8765 });
    expect(parseListen('0.0.0.0:9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(() => parseListen('nope')).toThrow(/HOST:PORT/);
  });
});
