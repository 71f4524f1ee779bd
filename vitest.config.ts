import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // In CI a JSON report as well, from which .ci/run prints a one-line count.
    reporters: process.env.CI === 'true' ? ['default', ['json', {outputFile: 'build/test-results.json'}]] : ['default'],
  },
})
