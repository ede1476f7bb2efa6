/** The default export file name: `dashcam-<what>-<yyyymmddThhmmss>.<ext>` (UTC), descriptive and sortable. */
import type { Selection } from './export-select.js';

const clean = (s: string): string => s.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[._]+/, '').slice(0, 60) || 'container';

export function defaultExportName(sel: Selection, time: number, ext: string): string {
  const first = sel.records[0];
  const what = typeof sel.filters.incident === 'string'
    ? `incident-${clean(sel.filters.incident)}`
    : `${clean(first?.name || first?.id.slice(0, 12) || 'export')}${sel.records.length > 1 ? `-and-${sel.records.length - 1}-more` : ''}`;
  const stamp = new Date(Math.floor(time / 1000)).toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `dashcam-${what}-${stamp}.${ext}`;
}
