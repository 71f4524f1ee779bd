// watchForever over a real embedded store, with faults injected around it.

import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {DatastoreError} from '../../src/api/errors.js'
import {WatchExpiredError, type Backend, type Key, type ListOptions, type WatchOptions} from '../../src/datastore/backend.js'
import {EmbeddedBackend} from '../../src/datastore/embedded/backend.js'
import {watchForever, type SyncEvent} from '../../src/datastore/sync.js'
import {WatchQueue} from '../../src/datastore/watch-queue.js'

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

function store(): EmbeddedBackend {
  const dir = mkdtempSync(join(tmpdir(), 'calico-ts-sync-'))
  const {backend} = EmbeddedBackend.open({dir, pollIntervalMs: 20})
  cleanup.push(() => rmSync(dir, {recursive: true, force: true}), () => backend.close())
  return backend
}

/** Delegates to `inner` except where `over` says otherwise. */
function wrap(inner: Backend, over: {list?: Backend['list']; watch?: Backend['watch']}): Backend {
  return {
    type: inner.type,
    create: (k, v) => inner.create(k, v),
    update: (k, v, r) => inner.update(k, v, r),
    apply: (k, v) => inner.apply(k, v),
    delete: (k, r) => inner.delete(k, r),
    get: (k) => inner.get(k),
    list: over.list ?? ((o) => inner.list(o)),
    watch: over.watch ?? ((o) => inner.watch(o)),
    close: () => inner.close(),
  }
}

const pool = (name: string) => ({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name}, spec: {cidr: '10.0.0.0/16'}})
const poolKey = (name: string): Key => ({kind: 'IPPool', name})
const handleKey = (name: string): Key => ({kind: 'IPAMHandle', name})

function describeEvent(ev: SyncEvent): string {
  if (ev.type === 'snapshot') return `snapshot[${ev.items.map((i) => i.key.name).sort().join(',')}]`
  return `${ev.type}:${ev.key.name}`
}

/** Reads events until `done` says stop; aborts the stream afterwards. */
async function read(stream: AsyncGenerator<SyncEvent>, done: (seen: string[]) => boolean, ms = 20_000): Promise<string[]> {
  const seen: string[] = []
  const timer = setTimeout(() => void stream.return(undefined), ms)
  try {
    for await (const ev of stream) {
      seen.push(describeEvent(ev))
      if (done(seen)) break
    }
  } finally {
    clearTimeout(timer)
  }
  return seen
}

describe('watchForever', () => {
  it('yields a snapshot, then changes; a write between two kinds\' lists is neither lost nor repeated', async () => {
    const b = store()
    await b.create(poolKey('p0'), pool('p0'))
    let injected = false
    const wrapped = wrap(b, {
      list: (async (o: ListOptions) => {
        const res = await b.list(o)
        if (o.kind === 'IPPool' && !injected) {
          injected = true
          // Lands after the IPPool list but before the IPAMHandle list.
          await b.create(poolKey('p1'), pool('p1'))
          await b.create(handleKey('h1'), {})
        }
        return res
      }) as Backend['list'],
    })
    const seen: string[] = []
    for await (const ev of watchForever(wrapped, {kinds: ['IPPool', 'IPAMHandle']})) {
      seen.push(describeEvent(ev))
      // h2 comes after h1 in revision order: if h1 were repeated, it would show up first.
      if (seen.length === 2) await b.create(handleKey('h2'), {})
      if (seen.length === 3) break
    }
    expect(seen).toEqual(['snapshot[h1,p0]', 'added:p1', 'added:h2'])
  })

  it('re-lists after the watch expires (compaction), reporting it', async () => {
    const b = store()
    await b.create(poolKey('p0'), pool('p0'))
    let watches = 0
    const errors: Error[] = []
    const wrapped = wrap(b, {
      watch: (o: WatchOptions) => {
        if (++watches === 1) {
          const q = new WatchQueue(() => undefined)
          q.fail(new WatchExpiredError(o.fromRevision ?? ''))
          return q
        }
        return b.watch(o)
      },
    })
    const stream = watchForever(wrapped, {kinds: ['IPPool'], onError: (e) => errors.push(e)})
    const seen: string[] = []
    for await (const ev of stream) {
      seen.push(describeEvent(ev))
      if (seen.length === 2) await b.create(poolKey('p1'), pool('p1'))
      if (seen.length === 3) break
    }
    expect(seen).toEqual(['snapshot[p0]', 'snapshot[p0]', 'added:p1'])
    expect(errors.map((e) => e.constructor.name)).toEqual(['WatchExpiredError'])
  })

  it('retries with backoff while the datastore is unreachable', async () => {
    const b = store()
    await b.create(poolKey('p0'), pool('p0'))
    let failures = 2
    const errors: string[] = []
    const wrapped = wrap(b, {
      list: (async (o: ListOptions) => {
        if (failures-- > 0) throw new DatastoreError('cannot connect to etcd at http://127.0.0.1:1: connect ECONNREFUSED')
        return b.list(o)
      }) as Backend['list'],
    })
    const started = Date.now()
    const stream = watchForever(wrapped, {kinds: ['IPPool'], retryDelayMs: 50, onError: (e) => errors.push(e.message)})
    const seen = await read(stream, (s) => s.length === 1)
    expect(seen).toEqual(['snapshot[p0]'])
    expect(errors).toHaveLength(2)
    expect(Date.now() - started).toBeGreaterThanOrEqual(50 + 100 - 10) // 50 ms, then 100 ms
  })

  it('stops when aborted and closes its watch', async () => {
    const b = store()
    const controller = new AbortController()
    const stream = watchForever(b, {kinds: ['IPPool'], signal: controller.signal})
    const first = await stream.next()
    expect(first.value && describeEvent(first.value)).toBe('snapshot[]')
    setTimeout(() => controller.abort(), 50)
    const next = await stream.next()
    expect(next.done).toBe(true)
  })

  it('passes other errors through', async () => {
    const b = store()
    const wrapped = wrap(b, {
      list: async () => {
        throw new TypeError('bug')
      },
    })
    await expect(watchForever(wrapped, {kinds: ['IPPool']}).next()).rejects.toThrow('bug')
  })
})
