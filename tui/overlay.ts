/** The centred box that shows help (generated from the key table) or one event's full details. */
import type { Widgets } from 'blessed';
import type { DashEvent } from '../formats/schema.js';
import { toJson } from '../formats/jsonl.js';
import { helpLines } from './keys.js';
import { toTagged, type Line } from './line.js';

type Blessed = typeof import('blessed');

/** An event's every field, one per line (long values wrapped by the box, never cut). */
export function detailLines(ev: DashEvent): Line[] {
  const doc = toJson(ev);
  const out: Line[] = [{ text: `${ev.kind} event`, bold: true }];
  for (const [k, v] of Object.entries(doc)) {
    const text = typeof v === 'string' ? v : JSON.stringify(v, null, 2);
    const parts = text.split('\n');
    out.push({ text: `${k}: ${parts[0]}`, fg: 'cyan' });
    for (const p of parts.slice(1)) out.push({ text: `  ${p}` });
  }
  return out;
}

export class Overlay {
  readonly #box: Widgets.BoxElement;
  readonly #screen: Widgets.Screen;
  #lines: Line[] = [];
  #offset = 0;

  constructor(blessed: Blessed, screen: Widgets.Screen) {
    this.#screen = screen;
    this.#box = blessed.box({ parent: screen, top: 'center', left: 'center', width: '90%', height: '100%-1', border: { type: 'line' }, tags: true, wrap: false, hidden: true, style: { border: { fg: 'cyan' } } });
  }

  get visible(): boolean { return !this.#box.hidden; }

  #show(lines: Line[]): void {
    this.#lines = lines;
    this.#offset = 0;
    this.#box.show();
    this.#box.setFront();
    this.#paint();
  }

  #paint(): void {
    const w = Math.max(1, Number(this.#box.width) - 2);
    const h = Math.max(1, Number(this.#box.height) - 2);
    // Long values (argv, log lines) are wrapped here, after escaping, so nothing is hidden.
    const wrapped: Line[] = [];
    for (const l of this.#lines) {
      const chars = Array.from(l.text);
      if (chars.length === 0) wrapped.push(l);
      for (let i = 0; i < chars.length; i += w) wrapped.push({ ...l, text: chars.slice(i, i + w).join('') });
    }
    this.#offset = Math.max(0, Math.min(this.#offset, wrapped.length - h));
    this.#box.setContent(wrapped.slice(this.#offset, this.#offset + h).map((l) => toTagged(l, w)).join('\n'));
  }

  showHelp(): void { this.#show(helpLines()); }
  showEvent(ev: DashEvent): void { this.#show([...detailLines(ev), { text: '' }, { text: '↑/↓ scroll, any other key closes', dim: true }]); }
  scroll(by: number): void { this.#offset += by; this.#paint(); }
  hide(): void { this.#box.hide(); this.#screen.render(); }
}
