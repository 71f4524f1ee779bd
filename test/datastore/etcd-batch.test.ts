// Concurrent creates, updates and reads on etcd are committed together as transactions (src/datastore/etcd/batch.ts):
// each still gets exactly the answer a request of its own would give, batches respect etcd's per-transaction
// limits, and a server with lower limits than the client assumes is handled.

import {describe, expect, it} from 'vitest'
import {
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
  ResourceUpdateConflictError,
} from '../../src/api/errors.js'
import type {KVPair} from '../../src/datastore/backend.js'
import {splitBatches, type Batch, type ConditionalPut} from '../../src/datastore/etcd/batch.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {useEtcd} from '../helpers/etcd-vitest.js'

const skip = etcdSkipReason() !== undefined

describe('splitBatches', () => {
  const put = (key: string, value = 'v', modRevision?: number): {put: ConditionalPut} => ({
    put: {key: Buffer.from(key), value: Buffer.from(value), modRevision},
  })
  const keys = (batches: Array<Batch<{put: ConditionalPut}>>) => batches.map((b) => b.items.map((p) => p.put.key.toString()))

  it('cuts at the operation limit, counting two compares for an update at revision 0', () => {
    const items = [put('a'), put('b', 'v', 7), put('c', 'v', 0), put('d'), put('e')]
    expect(keys(splitBatches(items, {maxOps: 3, maxBytes: 1 << 20}))).toEqual([['a', 'b'], ['c', 'd'], ['e']])
    expect(keys(splitBatches(items, {maxOps: 128, maxBytes: 1 << 20}))).toEqual([['a', 'b', 'c', 'd', 'e']])
  })

  it('cuts at the byte limit, and sends a write larger than the limit on its own', () => {
    const items = [put('a', 'x'.repeat(100)), put('b', 'x'.repeat(100)), put('c', 'x'.repeat(500)), put('d')]
    expect(keys(splitBatches(items, {maxOps: 128, maxBytes: 300}))).toEqual([['a', 'b'], ['c'], ['d']])
  })

  it('never puts one key twice in a transaction, keeping submission order', () => {
    const items = [put('a'), put('b'), put('a', 'v', 5), put('c'), put('b'), put('d')]
    const batches = splitBatches(items, {maxOps: 3, maxBytes: 1 << 20})
    expect(keys(batches)).toEqual([['a', 'b'], ['a', 'c', 'b'], ['d']])
    expect(batches.map((b) => b.afterPrevious)).toEqual([false, true, false])
    // A key from a transaction before the current one also makes the current one wait.
    const later = splitBatches([put('a'), put('b'), put('c'), put('a', 'v', 5)], {maxOps: 2, maxBytes: 1 << 20})
    expect(keys(later)).toEqual([['a', 'b'], ['c', 'a']])
    expect(later.map((b) => b.afterPrevious)).toEqual([false, true])
  })
})

describe.skipIf(skip)('batched writes against a real etcd', () => {
  const etcd = useEtcd()
  const handle = (name: string) => ({kind: 'IPAMHandle', name})
  const stored = async (name: string) =>
    (await etcd.etcdctl(['get', `/calico/ipam/v2/handle/${name}`, '--print-value-only'])).replace(/\n$/, '')
  const head = async () => Number((JSON.parse(await etcd.etcdctl(['get', '/calico/', '-w', 'json'])) as {header: {revision: number}}).header.revision)

  it('gives every write in a failed batch its own answer and commits the rest together', async () => {
    const b = await etcd.connect()
    const exists = await b.create(handle('exists'), {n: 0})
    const current = await b.create(handle('current'), {n: 0})
    const stale = await b.create(handle('stale'), {n: 0})
    await b.create(handle('zero'), {n: 0})
    await b.update(handle('stale'), {n: 1}, stale.revision)
    const before = await head()

    const results = await Promise.allSettled<KVPair>([
      b.create(handle('new-1'), {n: 1}),
      b.create(handle('exists'), {n: 1}),
      b.update(handle('current'), {n: 1}, current.revision),
      b.update(handle('stale'), {n: 2}, stale.revision),
      b.update(handle('missing'), {n: 1}, exists.revision),
      b.update(handle('zero'), {n: 1}, '0'),
      b.update(handle('missing-0'), {n: 1}, '0'),
      b.create(handle('new-2'), {n: 1}),
    ])
    const outcome = results.map((r) => (r.status === 'fulfilled' ? r.value.revision : (r.reason as Error).constructor))
    expect(outcome).toEqual([
      String(before + 1),
      ResourceAlreadyExistsError,
      String(before + 1),
      ResourceUpdateConflictError,
      ResourceDoesNotExistError,
      ResourceUpdateConflictError,
      ResourceDoesNotExistError,
      String(before + 1),
    ])
    // The three writes whose conditions held went in one transaction: one revision, not three.
    expect(await head()).toBe(before + 1)
    expect(await stored('new-1')).toBe('{"n":1}')
    expect(await stored('current')).toBe('{"n":1}')
    expect(await stored('stale')).toBe('{"n":1}')
    expect(await stored('exists')).toBe('{"n":0}')
    expect(await stored('missing')).toBe('')
  })

  it('two writes of one key in one turn are not put in one transaction', async () => {
    const b = await etcd.connect()
    const [first, second] = await Promise.allSettled([b.create(handle('twice'), {n: 1}), b.create(handle('twice'), {n: 2})])
    expect(first.status).toBe('fulfilled')
    expect(second.status === 'rejected' && second.reason).toBeInstanceOf(ResourceAlreadyExistsError)
    expect(await stored('twice')).toBe('{"n":1}')
  })

  it('splits more writes than one transaction may hold', async () => {
    const b = await etcd.connect()
    const before = await head()
    const written = await Promise.all(Array.from({length: 300}, (_, i) => b.create(handle(`h-${i}`), {i})))
    // 128 + 128 + 44: three transactions, three revisions.
    expect(new Set(written.map((w) => w.revision)).size).toBe(3)
    expect(await head()).toBe(before + 3)
    expect((await b.list({kind: 'IPAMHandle'})).items).toHaveLength(300)
  })

  it('splits by size: many large values stay under etcd request limit', async () => {
    const b = await etcd.connect()
    const big = 'x'.repeat(200 * 1024)
    const written = await Promise.all(Array.from({length: 12}, (_, i) => b.create(handle(`big-${i}`), {big, i})))
    expect(new Set(written.map((w) => w.revision)).size).toBeGreaterThan(1)
    expect((await b.list({kind: 'IPAMHandle'})).items).toHaveLength(12)
  })

  /** Requests etcd has answered for one KV method, from its Prometheus metrics. */
  const handled = async (method: 'Range' | 'Txn'): Promise<number> => {
    const text = await (await fetch(`${etcd.endpoints}/metrics`)).text()
    let n = 0
    for (const line of text.split('\n')) {
      if (line.startsWith('grpc_server_handled_total{') && line.includes(`grpc_method="${method}"`)) n += Number(line.split(' ').pop())
    }
    return n
  }

  it('reads issued together share a transaction, one read per distinct key', async () => {
    const b = await etcd.connect()
    for (const name of ['a', 'b', 'c']) await b.create(handle(name), {name})
    const [ranges, txns] = [await handled('Range'), await handled('Txn')]
    const results = await Promise.allSettled(['a', 'b', 'a', 'missing', 'c'].map((name) => b.get(handle(name))))
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.value : (r.reason as Error).constructor))).toEqual([
      {name: 'a'},
      {name: 'b'},
      {name: 'a'},
      ResourceDoesNotExistError,
      {name: 'c'},
    ])
    expect(await handled('Txn')).toBe(txns + 1)
    expect(await handled('Range')).toBe(ranges)

    // More distinct keys than one transaction may hold: 128 + 128 + 44.
    await Promise.all(Array.from({length: 300}, (_, i) => b.create(handle(`r-${i}`), {i})))
    const before = await handled('Txn')
    const read = await Promise.all(Array.from({length: 300}, (_, i) => b.get<{i: number}>(handle(`r-${i}`))))
    expect(read.map((kv) => kv.value.i)).toEqual(Array.from({length: 300}, (_, i) => i))
    expect(await handled('Txn')).toBe(before + 3)
  })

  it('shrinks its batches when the server allows fewer operations per transaction', async () => {
    // Configured above etcd's default limit of 128: the server refuses, the batcher halves and retries.
    const b = await etcd.connect({maxTxnOps: 1000})
    const written = await Promise.all(Array.from({length: 400}, (_, i) => b.create(handle(`s-${i}`), {i})))
    expect(written).toHaveLength(400)
    expect((await b.list({kind: 'IPAMHandle'})).items).toHaveLength(400)
    // Later batches fit at once.
    const before = await head()
    await Promise.all(Array.from({length: 100}, (_, i) => b.create(handle(`t-${i}`), {i})))
    expect(await head()).toBe(before + 1)
  })
})
