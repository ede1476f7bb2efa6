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

/**
 * The colour of dim text. Grey is colour 8, which blessed folds into black (colour 0) on terminals
 * it believes have 8 colours (screen, linux, xterm, and tmux-256color when its terminfo entry is
 * missing): black on black. There, dim text is written in white, which those terminals show as
 * their ordinary light grey.
 */
let dimColor = 'gray';
export function useColors(colors: number): void {
  dimColor = colors >= 16 ? 'gray' : 'white';
}

export function toTagged(l: Line, width: number): string {
  let s = escapeTags(fit(safeText(l.text), width));
  const fg = l.fg === 'gray' ? dimColor : l.fg;
  if (fg) s = `{${fg}-fg}${s}{/${fg}-fg}`;
  if (l.bold) s = `{bold}${s}{/bold}`;
  if (l.dim) s = `{${dimColor}-fg}${s}{/${dimColor}-fg}`;
  if (l.inverse) s = `{inverse}${s}{/inverse}`;
  return s;
}

export function line(text: string, style: Omit<Line, 'text'> = {}): Line {
  return { text, ...style };
}
