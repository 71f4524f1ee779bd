import {describe, expect, it} from 'vitest'
import {sleep} from '../../src/lib/sleep.js'

describe('sleep', () => {
  it('ends the wait when the signal aborts', async () => {
    const ac = new AbortController()
    // An hour-long wait that only the abort can end within the test's timeout.
    const waiting = sleep(3_600_000, ac.signal)
    ac.abort()
    await expect(waiting).resolves.toBeUndefined()
  })

  it('does not wait at all on a signal that has already aborted', async () => {
    await expect(sleep(3_600_000, AbortSignal.abort())).resolves.toBeUndefined()
  })

  it('waits without a signal', async () => {
    let done = false
    const waiting = sleep(20).then(() => { done = true })
    expect(done).toBe(false)
    await waiting
    expect(done).toBe(true)
  })
})
