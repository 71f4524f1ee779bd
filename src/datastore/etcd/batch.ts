// Micro-batching of conditional puts (creates and compare-and-swap updates) into etcd transactions.
//
// A bulk `calicoctl apply` issues thousands of independent conditional writes, and a transaction per write
// costs a round trip and a raft commit each time. Writes submitted in the same event-loop turn are committed together as
// one transaction (If: every write's condition; Then: every put; Else: a get of every key). When the
// transaction fails, the gets tell exactly which conditions failed, at the same revision: those writes get
// their own answer (whether the key exists, for the caller's error), and the rest are committed again as a
// new batch. Every write therefore sees exactly the outcome a transaction of its own would have had at some
// point between submission and answer, which is all a concurrent caller could observe anyway.
//
// Reads are batched the same way (a transaction of ranges, no conditions, sent by the KV client): the update
// path of a bulk apply reads every stored object before writing it.

import {DatastoreError} from '../../api/errors.js'
import type {KeyValue, TxnResponse} from './proto.js'

/** One conditional put. */
export interface ConditionalPut {
  key: Buffer
  value: Buffer
  /** The mod revision the key must have; undefined when the key must not exist (a create). */
  modRevision?: number
}

/**
 * The outcome of one write: its revision, or when the condition failed the stored key's metadata (absent when
 * there is no such key; the value itself is not read).
 */
export type PutResult = {written: true; revision: string} | {written: false; current?: KeyValue}

export interface BatchLimits {
  /** Most compares, puts or gets in one transaction: etcd's --max-txn-ops (default 128). */
  maxOps: number
  /** Most request bytes per transaction, below etcd's --max-request-bytes (default 1.5 MiB). */
  maxBytes: number
}

/**
 * Commits one transaction for `puts` (If every condition: every put; else a get of every key, in order).
 * Errors should come back as Errors whose message carries etcd's text.
 */
export type CommitPuts = (puts: readonly ConditionalPut[]) => Promise<TxnResponse>

/** etcd's refusals of a transaction that is too large; such a batch is split and retried. */
const TOO_LARGE = /too many operations in txn request|request is too large/

interface Pending {
  put: ConditionalPut
  resolve: (result: PutResult) => void
  reject: (err: unknown) => void
}

/** The compares one put needs: an update at revision 0 also needs "exists", as a missing key has mod revision 0. */
export function comparesOf(put: ConditionalPut): number {
  return put.modRevision === 0 ? 2 : 1
}

/** Bytes a put adds to the request: its key in a compare, a put and a get, its value, and framing. */
function bytesOf(put: ConditionalPut): number {
  return put.key.length * 3 + put.value.length + 32
}

/** Writes for one transaction; `afterPrevious` when it must wait for the transactions before it. */
export interface Batch<T> {
  items: T[]
  afterPrevious: boolean
}

/**
 * Splits writes, in order, into transactions within the limits. A key already in the current transaction
 * starts a new one that waits for the earlier ones (etcd rejects a transaction that puts one key twice, and
 * two writes of one key keep their order). A write larger than the limits on its own still goes alone, so
 * etcd reports that error for it, as it would without batching.
 */
export function splitBatches<T extends {put: ConditionalPut}>(items: readonly T[], limits: BatchLimits): Batch<T>[] {
  const out: Batch<T>[] = []
  let current: Batch<T> = {items: [], afterPrevious: false}
  let compares = 0
  let bytes = 0
  let keys = new Set<string>()
  const seen = new Set<string>()
  for (const item of items) {
    const c = comparesOf(item.put)
    const b = bytesOf(item.put)
    const id = item.put.key.toString('latin1')
    const repeated = keys.has(id)
    if (current.items.length > 0 && (repeated || compares + c > limits.maxOps || bytes + b > limits.maxBytes)) {
      out.push(current)
      current = {items: [], afterPrevious: repeated}
      compares = 0
      bytes = 0
      keys = new Set()
    }
    // A key written by an earlier transaction of this flush: this one waits for it.
    if (seen.has(id)) current.afterPrevious = true
    current.items.push(item)
    compares += c
    bytes += b
    keys.add(id)
    seen.add(id)
  }
  if (current.items.length > 0) out.push(current)
  return out
}

/** Whether `put`'s condition holds against the stored object `current` (undefined: no such key). */
function holds(put: ConditionalPut, current: KeyValue | undefined): boolean {
  if (put.modRevision === undefined) return current === undefined
  return current !== undefined && current.modRevision === put.modRevision
}

/**
 * Collects what is submitted during one event-loop turn and hands it over in one piece. setImmediate, not a
 * microtask: callers resumed by one response (and by others read in the same I/O poll) all get to submit their
 * next request before the batch is cut.
 */
class TurnQueue<T> {
  private pending: T[] = []
  private scheduled = false

  constructor(private readonly flush: (items: T[]) => void) {}

  push(item: T): void {
    this.pending.push(item)
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      const items = this.pending
      this.pending = []
      this.scheduled = false
      this.flush(items)
    })
  }
}

export class PutBatcher {
  private readonly queue = new TurnQueue<Pending>((items) => this.flush(items))
  private readonly limits: BatchLimits

  constructor(
    private readonly commit: CommitPuts,
    limits: BatchLimits,
  ) {
    this.limits = {...limits}
  }

  /** Queues a write for the next transaction, sent once the current event-loop turn is over. */
  submit(put: ConditionalPut): Promise<PutResult> {
    return new Promise<PutResult>((resolve, reject) => this.queue.push({put, resolve, reject}))
  }

  private flush(pending: Pending[]): void {
    let started: Promise<void>[] = []
    for (const batch of splitBatches(pending, this.limits)) {
      if (batch.afterPrevious) {
        const earlier = Promise.all(started)
        started = [earlier.then(() => this.run(batch.items))]
      } else {
        started.push(this.run(batch.items))
      }
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    let res: TxnResponse
    try {
      res = await this.commit(batch.map((p) => p.put))
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      if (batch.length > 1 && TOO_LARGE.test(message)) {
        // The server's limits are lower than ours: halve and remember, so later batches fit at once.
        const ops = batch.reduce((n, p) => n + comparesOf(p.put), 0)
        const bytes = batch.reduce((n, p) => n + bytesOf(p.put), 0)
        if (/too many operations/.test(message)) this.limits.maxOps = Math.max(1, Math.floor(ops / 2))
        else this.limits.maxBytes = Math.max(1, Math.floor(bytes / 2))
        const half = Math.ceil(batch.length / 2)
        await Promise.all([this.run(batch.slice(0, half)), this.run(batch.slice(half))])
        return
      }
      for (const p of batch) p.reject(err)
      return
    }
    if (res.succeeded) {
      const revision = String(res.revision)
      for (const p of batch) p.resolve({written: true, revision})
      return
    }
    // The gets ran at the revision where the compares were evaluated, so they say exactly which failed.
    const again: Pending[] = []
    batch.forEach((p, i) => {
      const current = res.responses[i]?.kvs[0]
      if (holds(p.put, current)) again.push(p)
      else p.resolve({written: false, current})
    })
    if (again.length === batch.length) {
      // Cannot happen with etcd's atomic compare-then-get; refusing beats retrying forever.
      const err = new DatastoreError('etcd rejected a transaction whose conditions all held')
      for (const p of batch) p.reject(err)
      return
    }
    if (again.length > 0) await this.run(again)
  }
}

/** Reads the given keys in one transaction; response i holds key i. */
export type CommitGets = (keys: readonly Buffer[]) => Promise<TxnResponse>

interface PendingGet {
  key: Buffer
  resolve: (kv: KeyValue | undefined) => void
  reject: (err: unknown) => void
}

/** Batches single-key reads issued in the same turn into transactions of ranges; one read per distinct key. */
export class GetBatcher {
  private readonly queue = new TurnQueue<PendingGet>((items) => this.flush(items))
  private maxOps: number

  constructor(
    private readonly commit: CommitGets,
    maxOps: number,
  ) {
    this.maxOps = maxOps
  }

  /** The stored key-value, or undefined when the key does not exist. */
  get(key: Buffer): Promise<KeyValue | undefined> {
    return new Promise((resolve, reject) => this.queue.push({key, resolve, reject}))
  }

  private flush(pending: PendingGet[]): void {
    const byKey = new Map<string, PendingGet[]>()
    for (const p of pending) {
      const id = p.key.toString('latin1')
      const same = byKey.get(id)
      if (same) same.push(p)
      else byKey.set(id, [p])
    }
    const groups = [...byKey.values()]
    for (let i = 0; i < groups.length; i += this.maxOps) void this.run(groups.slice(i, i + this.maxOps))
  }

  private async run(groups: PendingGet[][]): Promise<void> {
    let res: TxnResponse
    try {
      res = await this.commit(groups.map((g) => g[0].key))
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      if (groups.length > 1 && TOO_LARGE.test(message)) {
        this.maxOps = Math.max(1, Math.floor(groups.length / 2))
        const half = Math.ceil(groups.length / 2)
        await Promise.all([this.run(groups.slice(0, half)), this.run(groups.slice(half))])
        return
      }
      for (const g of groups) for (const p of g) p.reject(err)
      return
    }
    groups.forEach((g, i) => {
      const kv = res.responses[i]?.kvs[0]
      for (const p of g) p.resolve(kv)
    })
  }
}
