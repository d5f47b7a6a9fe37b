import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // one temporary folder for the whole run, removed at its end (tests/global-setup.ts)
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // the JSON summary lets .ci/run print a plain "N passed, N failed" line
    reporters: ['default', 'json'],
    outputFile: { json: 'outputs/test-results.json' },
  },
});
