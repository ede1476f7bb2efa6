/**
 * Every key of the replay screen, as one table. The help screen is generated from it and the app
 * dispatches through it, so the two cannot drift.
 */
import type { Line } from './line.js';

export type Action =
  | 'playPause' | 'stepNext' | 'stepPrev' | 'jumpForward' | 'jumpBack' | 'faster' | 'slower' | 'start' | 'end'
  | 'nextNotable' | 'prevNotable' | 'filter' | 'focusNext' | 'details' | 'help' | 'quit' | 'scrollUp' | 'scrollDown';

export interface KeyBinding {
  /** blessed key names (`key.full`) or the typed character. */
  keys: readonly string[];
  label: string;
  description: string;
  action: Action;
}

export const JUMP_MICROS = 10_000_000;

export const KEY_TABLE: readonly KeyBinding[] = [
  { keys: ['space'], label: 'space', description: 'play / pause', action: 'playPause' },
  { keys: ['right'], label: '→', description: 'step to the next event', action: 'stepNext' },
  { keys: ['left'], label: '←', description: 'step to the previous event', action: 'stepPrev' },
  { keys: ['S-right', ']'], label: 'shift+→ ]', description: 'jump forward 10 s', action: 'jumpForward' },
  { keys: ['S-left', '['], label: 'shift+← [', description: 'jump back 10 s', action: 'jumpBack' },
  { keys: ['+', '='], label: '+', description: 'play faster', action: 'faster' },
  { keys: ['-', '_'], label: '-', description: 'play slower', action: 'slower' },
  { keys: ['g', 'home'], label: 'g', description: 'go to the start', action: 'start' },
  { keys: ['S-g', 'G', 'end'], label: 'G', description: 'go to the end', action: 'end' },
  { keys: ['n'], label: 'n', description: 'next incident or notable event (OOM, non-zero exit, kill, gap)', action: 'nextNotable' },
  { keys: ['S-n', 'N'], label: 'N', description: 'previous incident or notable event', action: 'prevNotable' },
  { keys: ['/'], label: '/', description: 'filter events: kind:exec,net  pid:123  text (empty clears)', action: 'filter' },
  { keys: ['tab'], label: 'tab', description: 'focus the next pane', action: 'focusNext' },
  { keys: ['up', 'k'], label: '↑ k', description: 'scroll the focused pane up', action: 'scrollUp' },
  { keys: ['down', 'j'], label: '↓ j', description: 'scroll the focused pane down', action: 'scrollDown' },
  { keys: ['enter', 'return'], label: 'enter', description: 'details of the selected event', action: 'details' },
  { keys: ['?'], label: '?', description: 'this help', action: 'help' },
  { keys: ['q', 'C-c'], label: 'q', description: 'quit', action: 'quit' },
];

const BY_KEY = new Map<string, Action>();
for (const b of KEY_TABLE) for (const k of b.keys) BY_KEY.set(k, b.action);

/** The action for a keypress (blessed's full key name first, then the typed character). */
export function actionFor(full: string | undefined, ch: string | undefined): Action | undefined {
  return (full !== undefined ? BY_KEY.get(full) : undefined) ?? (ch !== undefined ? BY_KEY.get(ch) : undefined);
}

export function helpLines(): Line[] {
  const w = Math.max(...KEY_TABLE.map((b) => b.label.length));
  return [
    { text: 'dashcam replay: keys (any key closes)', bold: true },
    ...KEY_TABLE.map((b) => ({ text: `${b.label.padEnd(w)}  ${b.description}` })),
  ];
}
