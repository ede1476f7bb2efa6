import { defineConfig } from 'vitest/config';
import { RunLastSequencer } from './test/run-last-sequencer.js';

/**
 * Two projects. `unit` (bench reports, cli, formats, recorder, replay, tui, fuzz: temp stores, no
 * engine) runs its files in parallel, first; `e2e` (the real engine, eBPF, tmux: one shared
 * engine and kernel) runs after it, one file at a time. `npm run test:unit` runs the first
 * alone, with no engine.
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/{bench,cli,formats,recorder,replay,tui,fuzz}/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          // A missing engine fails the run (never a skip).
          globalSetup: ['test/global-setup.ts'],
          // zz-* files stop the shared engine: always last.
          sequence: { groupOrder: 1, sequencer: RunLastSequencer },
        },
      },
    ],
  },
});
