// The agent's young generation (V8's new space): bounded, so that the agent stays small for its long and mostly idle
// life, but not so small that start-up spends its time collecting garbage.
import {PerformanceObserver} from 'node:perf_hooks'
import {getHeapSpaceStatistics, setFlagsFromString} from 'node:v8'

/**
 * The size the semi-spaces may grow to (V8's own limit is 32 MiB). In-process, validating and calculating the bench
 * snapshot (1,000 policies) spent ~360 ms in garbage collection with the initial 1 MiB, ~170 ms with 4 MiB, ~120 ms
 * with 8 MiB (medians of 3 cold runs, load ~10). The agent's resident memory at 10,000 endpoints is the same with
 * 4 MiB as with 1 MiB (126 MiB); with 8 MiB it peaks at 149 MiB, over the 150 MB the issue allows.
 */
const MAX_SEMI_SPACE_BYTES = 4 * 1024 * 1024

/** The capacity of one semi-space (what V8 grows). */
function semiSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0
}

/**
 * Lets V8 grow the young generation as usual until its semi-spaces reach MAX_SEMI_SPACE_BYTES (looked at after each
 * collection), then stops it growing: V8 reads --semi-space-growth-factor whenever it would grow the space, while
 * --max-semi-space-size, the direct way, is read only when node starts. Left alone, the start-up burst grows it to the
 * 32 MiB limit, and V8 keeps that resident for the life of the process.
 */
export function boundYoungGeneration(): void {
  const observer = new PerformanceObserver(() => {
    if (semiSpaceBytes() < MAX_SEMI_SPACE_BYTES) return
    setFlagsFromString('--semi-space-growth-factor=1')
    observer.disconnect()
  })
  observer.observe({entryTypes: ['gc']})
}
