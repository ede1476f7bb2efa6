/** blessed boxes for the panes of layout.ts; the only file besides open-tui.ts that touches blessed. */
import type { Widgets } from 'blessed';
import { computeLayout, PANE_TITLES, type PaneId } from './layout.js';
import { toTagged, type Line } from './line.js';

type Blessed = typeof import('blessed');
export type Panes = Record<PaneId, Widgets.BoxElement>;

export function createPanes(blessed: Blessed, screen: Widgets.Screen): Panes {
  const rects = computeLayout(Number(screen.width), Number(screen.height));
  const panes = {} as Panes;
  for (const id of Object.keys(rects) as PaneId[]) {
    panes[id] = blessed.box({ parent: screen, ...rects[id], tags: true, wrap: false, style: { fg: 'white' } });
  }
  return panes;
}

export function applyLayout(screen: Widgets.Screen, panes: Panes): Record<PaneId, { width: number; height: number; left: number }> {
  const rects = computeLayout(Number(screen.width), Number(screen.height));
  for (const id of Object.keys(rects) as PaneId[]) Object.assign(panes[id], rects[id]);
  return rects;
}

/** Fills a pane: a title row (inverse when focused), then `lines` from `offset`. Right-hand panes get a separator column. */
export function fillPane(box: Widgets.BoxElement, id: PaneId, lines: readonly Line[], rect: { width: number; height: number; left: number }, focused: boolean, offset = 0): void {
  const sep = rect.left > 0 ? '│' : '';
  const w = rect.width - sep.length;
  const title = PANE_TITLES[id];
  const rows: string[] = [];
  let body = lines;
  if (title) {
    rows.push(`${sep}${toTagged({ text: ` ${title} `.padEnd(w), inverse: focused, bold: true, ...(focused ? {} : { fg: 'cyan' }) }, w)}`);
    const room = rect.height - 1;
    body = lines.slice(Math.max(0, Math.min(offset, lines.length - room)), Math.max(0, Math.min(offset, lines.length - room)) + room);
  }
  for (const l of body) rows.push(`${sep}${toTagged(l, w)}`);
  box.setContent(rows.join('\n'));
}
