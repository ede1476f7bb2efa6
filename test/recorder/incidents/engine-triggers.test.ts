import { describe, expect, it } from 'vitest';
import { EngineTriggers } from '../../../recorder/incidents/engine-triggers.js';
import { defaultIncidentConfig } from '../../../recorder/incidents/incident-config.js';
import type { EventOf } from '../../../formats/schema.js';

const C = 'a'.repeat(64);
let seq = 0;
const lc = (action: string, t: number, attributes: Record<string, string> = {}): EventOf<'lifecycle'> =>
  ({ kind: 'lifecycle', source: 'docker', container: C, time: t * 1e6, seq: ++seq, type: 'container', action, attributes: { name: 'web', ...attributes } });

describe('engine triggers', () => {
  it('oom fires once; the die 137 that follows is the same event, not another incident', () => {
    const t = new EngineTriggers(defaultIncidentConfig().triggers);
    expect(t.onLifecycle(lc('oom', 100)).map((c) => c.trigger)).toEqual(['oom']);
    expect(t.onLifecycle(lc('die', 100.2, { exitCode: '137' }))).toEqual([]);
  });

  it('non-zero exit fires, exit 0 does not, a requested stop does not', () => {
    const t = new EngineTriggers(defaultIncidentConfig().triggers);
    expect(t.onLifecycle(lc('die', 1, { exitCode: '0' }))).toEqual([]);
    const [c] = t.onLifecycle(lc('die', 2, { exitCode: '3' }));
    expect(c).toMatchObject({ trigger: 'exit', severity: 'medium', before: 300e6, after: 120e6, time: 2e6 });
    expect(t.onLifecycle(lc('kill', 3, { signal: '15' }))).toEqual([]);
    expect(t.onLifecycle(lc('die', 4, { exitCode: '143' }))).toEqual([]);
  });

  it('an unrequested signal death is a signal incident', () => {
    const t = new EngineTriggers(defaultIncidentConfig().triggers);
    const [c] = t.onLifecycle(lc('die', 2, { exitCode: '139' }));
    expect(c?.trigger).toBe('signal');
    expect(c?.title).toMatch(/SIGSEGV/);
  });

  it('unhealthy and restart loops (3 restarts in 5 minutes by default)', () => {
    const t = new EngineTriggers(defaultIncidentConfig().triggers);
    expect(t.onLifecycle(lc('health_status', 1, { actionDetail: 'healthy' }))).toEqual([]);
    expect(t.onLifecycle(lc('health_status', 2, { actionDetail: 'unhealthy' }))[0]?.trigger).toBe('unhealthy');
    const fired = [10, 20, 30, 40].flatMap((s) => t.onLifecycle(lc('start', s)));
    expect(fired.map((c) => c.trigger)).toEqual(['restart-loop']);
    expect(t.onLifecycle(lc('start', 1000))).toEqual([]);
  });

  it('a disabled trigger never fires', () => {
    const cfg = defaultIncidentConfig();
    cfg.triggers.exit.enabled = false;
    expect(new EngineTriggers(cfg.triggers).onLifecycle(lc('die', 2, { exitCode: '1' }))).toEqual([]);
  });
});
