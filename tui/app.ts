/**
 * The replay screen's controller: owns the cursor, the play state, the filter and the focus;
 * turns key actions (keys.ts) into cursor moves and redraws the panes through the pure render
 * functions. Actions run one at a time (a queue), so fast key repeats never interleave seeks.
 */
import type { Widgets } from 'blessed';
import type { KVReader } from '../formats/kv.js';
import type { DashEvent } from '../formats/schema.js';
import { getContainer } from '../formats/queries.js';
import type { Cursor } from '../replay/cursor.js';
import { buildTimeline, type Timeline } from '../replay/timeline.js';
import { ProbeFolder } from '../replay/fold.js';
import { isNotable } from '../replay/notable.js';
import { actionFor, JUMP_MICROS, type Action } from './keys.js';
import { FOCUSABLE, type PaneId } from './layout.js';
import { applyLayout, createPanes, fillPane, type Panes } from './widgets.js';
import { eventRow } from './render-event.js';
import { connLines, fileLines, logLines, procTreeLines } from './render-state.js';
import { headerLines, timelineRows } from './render-header.js';
import { statsLines } from './sparkline.js';
import { parseFilter, type EventPredicate } from './filter.js';
import { Overlay } from './overlay.js';
import { toTagged } from './line.js';
import type { IncidentRecord } from '../formats/records.js';

type Blessed = typeof import('blessed');

export interface AppOptions {
  fold: boolean;
  follow: boolean;
  /** Where the cursor opens (--at, or the incident's time). */
  initial?: number;
  /** The incident replayed: its title in the header. */
  incident?: IncidentRecord;
  /** Open on the first event at `initial` (the incident's trigger) rather than the state after it. */
  atTrigger?: boolean;
}

const SPEEDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 600];
const TICK_MS = 100;

export class ReplayApp {
  readonly #screen: Widgets.Screen;
  readonly #panes: Panes;
  readonly #overlay: Overlay;
  readonly #cursor: Cursor;
  readonly #kv: KVReader;
  readonly #opts: AppOptions;
  readonly #folder: ProbeFolder;
  #rects: ReturnType<typeof applyLayout>;
  #timeline: Timeline | undefined;
  #speed = 1;
  #playing = false;
  #focus = 0;
  readonly #scroll = new Map<PaneId, number>();
  #filterText = '';
  #filter: EventPredicate | undefined;
  #typing: string | undefined;
  #selected: DashEvent | undefined;
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  #timers: NodeJS.Timeout[] = [];
  #finish!: (err?: unknown) => void;
  readonly done: Promise<void>;

  constructor(blessed: Blessed, screen: Widgets.Screen, kv: KVReader, cursor: Cursor, opts: AppOptions) {
    this.#screen = screen;
    this.#kv = kv;
    this.#cursor = cursor;
    this.#opts = opts;
    this.#folder = new ProbeFolder(cursor.records);
    this.#panes = createPanes(blessed, screen);
    this.#overlay = new Overlay(blessed, screen);
    this.#rects = applyLayout(screen, this.#panes);
    this.done = new Promise((resolve, reject) => { this.#finish = (err) => (err === undefined ? resolve() : reject(err)); });
    screen.on('keypress', (ch: string | undefined, key: { full?: string; name?: string } | undefined) => this.#onKey(ch, key?.full ?? key?.name));
    screen.on('resize', () => this.#run(async () => { this.#rects = applyLayout(screen, this.#panes); await this.#buildTimeline(); }));
  }

  /** Positions the cursor, draws the first screen and starts the timers. */
  async start(): Promise<void> {
    const at = this.#opts.initial;
    if (at !== undefined && this.#opts.atTrigger) {
      await this.#cursor.seekTime(at - 1);
      await this.#cursor.next(this.#keep);
    } else if (at !== undefined) await this.#cursor.seekTime(at);
    else if (this.#opts.follow) await this.#cursor.seekTime(this.#cursor.end);
    else await this.#cursor.next(this.#keep);
    await this.#buildTimeline();
    await this.#draw();
    this.#timers.push(setInterval(() => { if (this.#playing && this.#pending === 0) this.#run(() => this.#tick()); }, TICK_MS));
    if (this.#opts.follow) this.#timers.push(setInterval(() => { if (this.#pending === 0) this.#run(() => this.#followTick()); }, 1000));
  }

  quit(): void {
    this.stop();
    this.#finish();
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  /** Visible in the event list: passes the filter, and is not a folded probe. */
  readonly #keep = (ev: DashEvent): boolean => {
    if (this.#opts.fold && this.#folder.isProbe(ev, this.#cursor.state(ev.container))) return false;
    return !this.#filter || this.#filter(ev);
  };

  #run(work: () => Promise<void>): void {
    this.#pending++;
    this.#queue = this.#queue.then(work).then(() => this.#draw()).catch((err) => { this.stop(); this.#finish(err); }).finally(() => { this.#pending--; });
  }

  /** Keys take effect in the order typed, each after the work of those before it: a key that opens
   * the filter prompt or an overlay changes what the next keys mean, even when they arrive while a
   * seek is still running. */
  #onKey(ch: string | undefined, full: string | undefined): void {
    // blessed reports one Enter (CR) as 'return' and then 'enter' in the same tick: one keypress.
    const now = performance.now();
    const twin = (full === 'enter' && this.#lastKey === 'return') || (full === 'return' && this.#lastKey === 'enter');
    const last = this.#lastKeyAt;
    this.#lastKey = full;
    this.#lastKeyAt = now;
    if (twin && now - last < 5) return;
    this.#run(() => this.#dispatch(ch, full));
  }

  #lastKey: string | undefined;
  #lastKeyAt = 0;

  async #dispatch(ch: string | undefined, full: string | undefined): Promise<void> {
    if (this.#typing !== undefined) return this.#typeFilter(ch, full);
    if (this.#overlay.visible) {
      if (full === 'up' || full === 'down') this.#overlay.scroll(full === 'up' ? -1 : 1);
      else this.#overlay.hide();
      return;
    }
    const action = actionFor(full, ch);
    if (action) await this.#act(action);
  }

  #typeFilter(ch: string | undefined, full: string | undefined): void {
    if (full === 'escape') this.#typing = undefined;
    else if (full === 'enter' || full === 'return') {
      this.#filterText = this.#typing!.trim();
      this.#filter = parseFilter(this.#filterText);
      this.#typing = undefined;
    } else if (full === 'backspace') this.#typing = this.#typing!.slice(0, -1);
    else if (ch && ch.length === 1 && ch >= ' ' && ch !== '\x7f') this.#typing += ch;
  }

  async #act(a: Action): Promise<void> {
    const c = this.#cursor;
    switch (a) {
      case 'playPause': this.#playing = !this.#playing; break;
      case 'stepNext': await c.next(this.#keep); break;
      case 'stepPrev': await c.prev(this.#keep); break;
      case 'jumpForward': await c.advanceTo(c.pos.time + JUMP_MICROS); break;
      case 'jumpBack': await c.seekTime(c.pos.time - JUMP_MICROS); break;
      case 'faster': this.#speed = SPEEDS[Math.min(SPEEDS.length - 1, SPEEDS.indexOf(this.#speed) + 1)]!; break;
      case 'slower': this.#speed = SPEEDS[Math.max(0, SPEEDS.indexOf(this.#speed) - 1)]!; break;
      case 'start': await c.seek({ time: c.start, seq: 0 }); await c.next(this.#keep); break;
      case 'end': await c.seekTime(c.end); break;
      case 'nextNotable': await this.#notable(1); break;
      case 'prevNotable': await this.#notable(-1); break;
      case 'filter': this.#typing = this.#filterText; break;
      case 'focusNext': this.#focus = (this.#focus + 1) % FOCUSABLE.length; break;
      case 'scrollUp':
      case 'scrollDown': {
        const id = FOCUSABLE[this.#focus]!;
        if (id === 'events') await (a === 'scrollUp' ? c.prev(this.#keep) : c.next(this.#keep));
        else this.#scroll.set(id, Math.max(0, (this.#scroll.get(id) ?? 0) + (a === 'scrollUp' ? -1 : 1)));
        break;
      }
      case 'details': if (this.#selected) this.#overlay.showEvent(this.#selected); break;
      case 'help': this.#overlay.showHelp(); break;
      case 'quit': this.stop(); this.#finish(); break;
    }
  }

  /** The next (dir 1) or previous (-1) notable event or incident marker, whichever is nearer. */
  async #notable(dir: 1 | -1): Promise<void> {
    const c = this.#cursor;
    const from = c.pos.time;
    const marks = (this.#timeline?.incidents ?? []).map((i) => i.time).filter((t) => (dir > 0 ? t > from : t < from));
    const mark = marks.length ? (dir > 0 ? Math.min(...marks) : Math.max(...marks)) : undefined;
    const match = (ev: DashEvent): boolean => isNotable(ev) && this.#keep(ev);
    const ev = dir > 0 ? await c.next(match) : await c.prev(match);
    if (mark !== undefined && (!ev || (dir > 0 ? mark < ev.time : mark > ev.time))) await c.seekTime(mark);
    else if (!ev) this.#flash(dir > 0 ? 'no later notable event' : 'no earlier notable event');
  }

  #message = '';
  #flash(msg: string): void { this.#message = msg; }
  /** A warning that stays on screen (an unverified bundle opened with --force). */
  #banner = '';
  warn(msg: string): void {
    this.#banner = msg.replace(/^dashcam: /, '');
    this.#run(() => this.#draw());
  }

  async #tick(): Promise<void> {
    const c = this.#cursor;
    if (c.pos.time >= c.end && !this.#opts.follow) { this.#playing = false; return; }
    await c.advanceTo(c.pos.time + TICK_MS * 1000 * this.#speed);
  }

  async #followTick(): Promise<void> {
    const c = this.#cursor;
    const atEnd = c.pos.time >= c.end;
    let end = c.end;
    for (const r of c.records) end = Math.max(end, (await getContainer(this.#kv, r.id))?.lastSeen ?? end);
    if (end === c.end) return;
    c.extendTo(end);
    if (atEnd) await c.seekTime(end);
    await this.#buildTimeline();
  }

  async #buildTimeline(): Promise<void> {
    const c = this.#cursor;
    this.#timeline = await buildTimeline(this.#kv, c.records, c.start, c.end, this.#rects.timeline.width);
  }

  async #draw(): Promise<void> {
    const c = this.#cursor;
    const r = this.#rects;
    const focused = FOCUSABLE[this.#focus];
    const rows = r.events.height - 1;
    const beforeN = Math.max(1, Math.floor(rows / 3) + 1);
    const [around, logsAhead] = await Promise.all([
      c.around(beforeN, rows, this.#keep),
      c.around(0, r.logs.height, (ev) => ev.kind === 'log', 5_000),
    ]);
    around.after = around.after.slice(0, Math.max(0, rows - around.before.length));
    this.#selected = around.before[around.before.length - 1];
    const multi = c.records.length > 1;
    const tag = (ev: DashEvent): string | undefined => (multi ? (ev.container || 'host').slice(0, 4) : undefined);
    const evLines = [...around.before.map((e) => eventRow(e, { tag: tag(e), selected: e === this.#selected })), ...around.after.map((e) => eventRow(e, { tag: tag(e) }))];
    const state = c.states[0]!;
    const p = this.#panes;
    fillPane(p.header, 'header', headerLines({ record: c.records[0]!, state, count: c.records.length, time: c.pos.time, speed: this.#speed, playing: this.#playing, follow: this.#opts.follow, filter: this.#filterText, ...(this.#opts.incident ? { incident: this.#opts.incident } : {}) }), r.header, false);
    const [density, marks] = this.#timeline ? timelineRows(this.#timeline, c.pos.time, r.timeline.width) : ['', ''];
    fillPane(p.timeline, 'timeline', [{ text: density, fg: 'cyan' }, { text: marks, fg: 'yellow' }], r.timeline, false);
    fillPane(p.events, 'events', evLines.length ? evLines : [{ text: this.#filter ? 'no event matches the filter' : 'no events', dim: true }], r.events, focused === 'events');
    fillPane(p.procs, 'procs', procTreeLines(state, { fold: this.#opts.fold }), r.procs, focused === 'procs', this.#scroll.get('procs'));
    fillPane(p.logs, 'logs', logLines(state, logsAhead.after, r.logs.height - 1), r.logs, focused === 'logs', this.#scroll.get('logs'));
    fillPane(p.conns, 'conns', connLines(state), r.conns, focused === 'conns', this.#scroll.get('conns'));
    fillPane(p.files, 'files', fileLines(state), r.files, focused === 'files', this.#scroll.get('files'));
    fillPane(p.stats, 'stats', statsLines(state.stats, r.stats.width - 1), r.stats, false);
    const footer = this.#typing !== undefined ? `/${this.#typing}█  (enter apply, esc cancel)` : this.#message || (this.#banner ? `!! ${this.#banner}` : '') || `? help  q quit  space play  ←/→ step  n/N notable  / filter  (${c.lastSeekMs.toFixed(0)} ms)`;
    this.#message = '';
    p.footer.setContent(toTagged({ text: footer, inverse: true }, r.footer.width));
    this.#screen.render();
  }
}
