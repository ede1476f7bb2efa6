/**
 * The screen layout, declared once: which panes exist, their titles, and where they sit for a
 * given terminal size (80x24 and up). Pure; widgets.ts builds blessed boxes from it and re-applies
 * it on resize.
 */
export type PaneId = 'header' | 'timeline' | 'events' | 'procs' | 'logs' | 'conns' | 'files' | 'stats' | 'footer';
export interface Rect { top: number; left: number; width: number; height: number }

export const PANE_TITLES: Record<PaneId, string> = {
  header: '', timeline: '', events: 'Events', procs: 'Processes', logs: 'Logs', conns: 'Connections', files: 'Files', stats: 'CPU / memory', footer: '',
};
/** Panes `tab` cycles through, in order. */
export const FOCUSABLE: readonly PaneId[] = ['events', 'procs', 'logs', 'conns', 'files'];

export function computeLayout(width: number, height: number): Record<PaneId, Rect> {
  const W = Math.max(40, width);
  const H = Math.max(16, height);
  const body = H - 2 - 2 - 1;
  const top = 4;
  const upper = Math.ceil(body * 0.55);
  const lower = body - upper;
  const leftW = Math.floor(W * 0.58);
  const rightW = W - leftW;
  const statsH = Math.min(4, Math.max(2, Math.floor(lower / 3)));
  const connsH = Math.ceil((lower - statsH) / 2);
  const filesH = lower - statsH - connsH;
  return {
    header: { top: 0, left: 0, width: W, height: 2 },
    timeline: { top: 2, left: 0, width: W, height: 2 },
    events: { top, left: 0, width: leftW, height: upper },
    procs: { top, left: leftW, width: rightW, height: upper },
    logs: { top: top + upper, left: 0, width: leftW, height: lower },
    conns: { top: top + upper, left: leftW, width: rightW, height: connsH },
    files: { top: top + upper + connsH, left: leftW, width: rightW, height: filesH },
    stats: { top: top + upper + connsH + filesH, left: leftW, width: rightW, height: statsH },
    footer: { top: H - 1, left: 0, width: W, height: 1 },
  };
}
