/** What `n` / `N` jump to: OOM, non-zero exits, kills, gaps and incidents. Pure. */
import type { DashEvent } from '../formats/schema.js';

export function isNotable(ev: DashEvent): boolean {
  switch (ev.kind) {
    case 'lifecycle': {
      if (ev.type !== 'container') return false;
      if (ev.action === 'oom' || ev.action === 'kill') return true;
      if (ev.action === 'die' || ev.action === 'exec_die') {
        const code = ev.attributes?.exitCode;
        return code !== undefined && code !== '0';
      }
      return ev.action === 'health_status' && (ev.attributes?.actionDetail ?? '').includes('unhealthy');
    }
    case 'exit': return (ev.exitCode !== undefined && ev.exitCode !== 0) || (ev.signal !== undefined && ev.signal !== 0);
    case 'gap':
    case 'incident':
      return true;
    default: return false;
  }
}
