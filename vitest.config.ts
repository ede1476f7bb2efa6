import { defineConfig } from 'vitest/config';
import { RunLastSequencer } from './test/run-last-sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
    // zz-* files stop the shared engine: always last.
    sequence: { sequencer: RunLastSequencer },
  },
});
