/**
 * A line of pane content as data: text plus a style. Render functions return these (pure,
 * testable); only widgets turn them into blessed tags. Text is escaped for the terminal (control
 * bytes become visible escapes) and for blessed's tag parser here, at the one place text becomes
 * markup.
 */
import { safeText } from '../replay/summary.js';

export interface Line {
  text: string;
  fg?: string;
  bold?: boolean;
  inverse?: boolean;
  dim?: boolean;
}

/** Cuts plain text to `width` terminal columns (ellipsis when cut). */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = Array.from(text);
  return chars.length <= width ? text : chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}

/** Escapes `{` and `}` for blessed's tag parser in one pass. */
export function escapeTags(s: string): string {
  return s.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

export function toTagged(l: Line, width: number): string {
  let s = escapeTags(fit(safeText(l.text), width));
  if (l.fg) s = `{${l.fg}-fg}${s}{/${l.fg}-fg}`;
  if (l.bold) s = `{bold}${s}{/bold}`;
  if (l.dim) s = `{gray-fg}${s}{/gray-fg}`;
  if (l.inverse) s = `{inverse}${s}{/inverse}`;
  return s;
}

export function line(text: string, style: Omit<Line, 'text'> = {}): Line {
  return { text, ...style };
}
