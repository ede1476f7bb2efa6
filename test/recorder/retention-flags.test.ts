import { describe, expect, it } from 'vitest';
import { recordOptionsFromFlags } from '../../cli/run-record.js';

const base = { store: '/tmp/x', sources: 'docker', statsInterval: '10s', maxLogLine: '262144', flush: '100ms', poll: '2s', host: false, verbose: false };

describe('record flags for retention and Falco', () => {
  it('parses durations and sizes', () => {
    const o = recordOptionsFromFlags({ ...base, retain: '24h', maxSize: '2GiB', pinRetain: '30d', pinMax: '512MiB', retentionInterval: '30s', falcoListen: '127.0.0.1:8765', falcoToken: 't' });
    expect(o.retention).toEqual({ retain: 86400e6, maxSize: 2 * 1024 ** 3, pinRetain: 30 * 86400e6, pinMax: 512 * 1024 ** 2, intervalMs: 30_000 });
    expect(o).toMatchObject({ falcoListen: '127.0.0.1:8765', falcoToken: 't' });
  });

  it('leaves unset settings to the defaults and refuses bad values', () => {
    expect(recordOptionsFromFlags(base).retention).toEqual({});
    expect(recordOptionsFromFlags(base).falcoListen).toBeUndefined();
    expect(() => recordOptionsFromFlags({ ...base, maxSize: 'big' })).toThrow(/not a size/);
    expect(() => recordOptionsFromFlags({ ...base, maxSize: '1MiB' })).toThrow(/at least 8MiB/);
    expect(() => recordOptionsFromFlags({ ...base, retain: '1 day' })).toThrow(/not a duration/);
    expect(() => recordOptionsFromFlags({ ...base, falcoListen: 'a:b:c' })).toThrow(/HOST:PORT/);
  });
});
