// The Watcher implementation both backends hand out.

import {describe, expect, it} from 'vitest'
import type {WatchEvent} from '../../src/datastore/backend.js'
import {WatchQueue} from '../../src/datastore/watch-queue.js'

const ev = (name: string): WatchEvent => ({type: 'added', key: {kind: 'IPPool', name}, revision: '1'})

describe('WatchQueue', () => {
  it('delivers events pushed before and while iterating, in order', async () => {
    const q = new WatchQueue(() => undefined)
    q.push(ev('a'))
    const seen: string[] = []
    const reading = (async () => {
      for await (const e of q) {
        seen.push(e.key.name)
        if (seen.length === 3) break
      }
    })()
    q.push(ev('b'))
    await new Promise((r) => setTimeout(r, 10))
    q.push(ev('c'))
    await reading
    expect(seen).toEqual(['a', 'b', 'c'])
  })

  it('delivers queued events before a failure, then throws it; releases resources once', async () => {
    let released = 0
    const q = new WatchQueue(() => released++)
    q.push(ev('a'))
    q.fail(new Error('boom'))
    q.push(ev('ignored'))
    const seen: string[] = []
    await expect(
      (async () => {
        for await (const e of q) seen.push(e.key.name)
      })(),
    ).rejects.toThrow('boom')
    expect(seen).toEqual(['a'])
    q.close()
    expect(released).toBe(1)
  })

  it('close() ends a waiting iteration; breaking out of for-await closes it', async () => {
    let released = 0
    const q = new WatchQueue(() => released++)
    setTimeout(() => q.close(), 20)
    for await (const e of q) void e
    expect(q.isClosed).toBe(true)
    expect(released).toBe(1)

    const q2 = new WatchQueue(() => released++)
    q2.push(ev('a'))
    for await (const e of q2) {
      void e
      break
    }
    expect(q2.isClosed).toBe(true)
    expect(released).toBe(2)
  })
})
