// Waiting for a condition in tests that talk to real processes (an agent converging, a watch delivering).
import {sleep} from '../../src/lib/sleep.js'

/** Polls `fn` every `intervalMs` until it returns true or `timeoutMs` passes; returns the last result. */
export async function waitFor(fn: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await fn()) return true
    if (Date.now() > end) return false
    await sleep(intervalMs)
  }
}
