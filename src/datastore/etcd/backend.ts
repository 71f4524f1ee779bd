// The etcd v3 backend, byte-compatible with libcalico-go's etcdv3 client: same keys, same JSON, same
// transactions (libcalico-model.md §9–§10). Reads and writes (get, list, create, update, apply, delete) go through
// the small client in kv.ts; the etcd3 package (grpc-js, protobufjs) is imported only for a watch, so calicoctl's
// commands and the CNI plugin never load it.

import {isIP} from 'node:net'
import type {Etcd3, IKeyValue, IOptions, Watcher as EtcdWatcher} from 'etcd3'
import {
  CalicoError,
  DatastoreError,
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
  ResourceUpdateConflictError,
} from '../../api/errors.js'
import {
  WatchExpiredError,
  type Backend,
  type Key,
  type KVPair,
  type ListOptions,
  type ListResult,
  type WatchEvent,
  type WatchOptions,
  type Watcher,
} from '../backend.js'
import {decodeValue, encodeValue, parseRevision} from '../codec.js'
import type {DatastoreConfig} from '../config.js'
import {CALICO_ROOT, keyId, keyMatches, keyToPath, listRanges, pathToKey, watchPrefix} from '../keys.js'
import {WatchQueue} from '../watch-queue.js'
import {GetBatcher, PutBatcher, type ConditionalPut, type PutResult} from './batch.js'
import {ClientClosedError, GrpcStatusError, Status, TransportError} from './grpc.js'
import {describeEndpoints, etcdConnection, type EtcdConnection} from './options.js'
import {EtcdKV} from './kv.js'
import type {Compare, KeyValue, RangeResponse, TxnResponse} from './proto.js'

type Etcd3Module = typeof import('etcd3')

export interface EtcdBackendOptions {
  /**
   * Keys per range request of a list (default 500): bounds the size of each response and etcd's work per request.
   * The next page is requested as soon as one arrives, so paging costs little time.
   */
  pageSize?: number
  /** Deadline of the first request, which establishes the connection (default 3 s). */
  dialTimeoutMs?: number
  /** Deadline of every later unary request (default 10 s; watch streams have none). */
  requestTimeoutMs?: number
  /**
   * Most operations per transaction when concurrent writes are batched: etcd's --max-txn-ops (default 128).
   * A server configured lower is detected and the batches shrink.
   */
  maxTxnOps?: number
}

/** Request bytes per batched transaction, well below etcd's default --max-request-bytes of 1.5 MiB. */
const MAX_TXN_BYTES = 1024 * 1024

const COMPACTED = /required revision has been compacted/

const ZERO = Buffer.from([0])

type RetryPolicy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>

/**
 * The client's global fault policy: one attempt per endpoint for transport errors (so each member of
 * a cluster gets its chance), instead of the library default of three attempts whatever the count,
 * which triples the wait on a dead single endpoint. cockatiel's IPolicy is only needed structurally.
 */
function attemptsPerHost(hosts: number, isRecoverable: (err: Error) => boolean): RetryPolicy {
  const never = () => ({dispose: () => undefined})
  const policy = {
    onSuccess: never,
    onFailure: never,
    async execute<T>(fn: (ctx: {signal: AbortSignal}) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn({signal: signal ?? new AbortController().signal})
        } catch (err) {
          if (attempt >= hosts || !(err instanceof Error) || !isRecoverable(err)) throw err
        }
      }
    },
  }
  return policy as unknown as RetryPolicy
}

/** The end of the key range holding every key that starts with `prefix` (etcd's clientv3.GetPrefixRangeEnd). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++
      return end.subarray(0, i + 1)
    }
  }
  return Buffer.from([0])
}

/**
 * grpc's transport error → the part a user can act on, e.g. "14 UNAVAILABLE: No connection established.
 * Last error: Error: connect ECONNREFUSED ..." → "connect ECONNREFUSED ...", OpenSSL's error strings
 * → the TLS alert, with a hint where the usual cause is known.
 */
export function connectionReason(message: string, endpoints: string): string {
  if (/DEADLINE_EXCEEDED/.test(message)) return 'timed out waiting for a response'
  const last = /Last error: (?:Error: )?(.*?)(?:\.? Resolution note:.*)?$/s.exec(message)
  let reason = (last?.[1] ?? message)
    .replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)\s*$/, '') // grpc appends a timestamp
    .replace(/^\d+ [A-Z_]+: /, '') // and its status code
    .trim()
  const ssl = /SSL routines:[^:]*:([^:]+)/.exec(reason)
  if (ssl) reason = `TLS handshake failed: ${ssl[1]}`
  if (/alert (bad certificate|certificate required|unknown ca)/.test(reason)) {
    reason += ' (etcd rejected the client certificate: check etcdCertFile/etcdKeyFile)'
  } else if (/unable to verify|self[- ]signed|unable to get (local )?issuer/.test(reason)) {
    reason = `TLS: ${reason} (set etcdCACertFile to the CA that signed etcd's certificate)`
  } else if (reason === 'Failed to connect' && endpoints.includes('http://')) {
    reason += ' (if etcd serves TLS, use https:// endpoints)'
  }
  return reason.split('\n')[0]
}

let ipServernameWarningSilenced = false

/**
 * grpc-js passes the endpoint host as the TLS server name even when it is an IP address, so Node
 * prints DEP0123 ("Setting the TLS ServerName to an IP address ...") on every calicoctl run against
 * https://<ip> endpoints. Certificate checks are unaffected; only that one warning is dropped.
 */
function silenceIpServernameWarning(): void {
  if (ipServernameWarningSilenced) return
  ipServernameWarningSilenced = true
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void
  process.emitWarning = ((...args: unknown[]) => {
    const options = args[1]
    const code = typeof options === 'object' && options !== null ? (options as {code?: unknown}).code : args[2]
    if (code === 'DEP0123') return
    emit(...args)
  }) as typeof process.emitWarning
}

/**
 * "The key exists at this mod revision" (an update's or a delete's guard). A missing key has mod revision 0, so
 * revision 0 alone would match it; the second compare rules that out.
 */
function ifAtRevision(key: Buffer, rev: number): Compare[] {
  const atRevision: Compare = {key, target: 'mod', result: '==', value: rev}
  return rev === 0 ? [atRevision, {key, target: 'version', result: '>', value: 0}] : [atRevision]
}

export class EtcdBackend implements Backend {
  readonly type = 'etcdv3' as const
  readonly endpoints: string
  private readonly pageSize: number
  private readonly watchers = new Set<WatchQueue>()
  /** Every operation but watches. */
  private readonly kv: EtcdKV
  /** Watches: loaded on first use (see watchClient()). */
  private etcd3: Promise<Etcd3> | undefined
  /** The module once loaded, so translate() can recognise its errors. */
  private etcd3Module: Etcd3Module | undefined
  /** Settles once a first request got through; until then watches wait for it (see connected()). */
  private ready: Promise<void> | undefined
  /** After close(): the etcd3 client is not created any more. */
  private closed = false
  /** The last connection failure, to explain later fail-fast rejections by the etcd3 client's circuit breaker. */
  private lastConnectError: string | undefined
  /** Creates and updates issued in the same event-loop turn share one transaction (see batch.ts). */
  private readonly puts: PutBatcher
  /** So do single-key reads. */
  private readonly gets: GetBatcher

  private constructor(
    private readonly conn: EtcdConnection,
    private readonly opts: EtcdBackendOptions,
  ) {
    this.endpoints = describeEndpoints(conn)
    this.pageSize = opts.pageSize ?? 500
    this.kv = new EtcdKV(conn, {dialTimeoutMs: opts.dialTimeoutMs ?? 3_000, requestTimeoutMs: opts.requestTimeoutMs ?? 10_000})
    const maxOps = opts.maxTxnOps ?? 128
    this.puts = new PutBatcher((batch) => this.request(() => this.commitPuts(batch)), {maxOps, maxBytes: MAX_TXN_BYTES})
    this.gets = new GetBatcher((keys) => this.request(() => this.kv.ranges(keys.map((key) => ({key})))), maxOps)
  }

  /** Validates the configuration (reading TLS files). No request is made until the first operation. */
  static async connect(config: DatastoreConfig, opts: EtcdBackendOptions = {}): Promise<EtcdBackend> {
    return new EtcdBackend(etcdConnection(config), opts)
  }

  async create<V>(key: Key, value: V): Promise<KVPair<V>> {
    const path = keyToPath(key)
    const text = encodeValue(key, value)
    const res = await this.puts.submit({key: Buffer.from(path), value: Buffer.from(text)})
    if (!res.written) throw new ResourceAlreadyExistsError(keyId(key))
    return this.written(key, path, text, res.revision)
  }

  async update<V>(key: Key, value: V, revision: string): Promise<KVPair<V>> {
    const path = keyToPath(key)
    const modRevision = parseRevision(revision)
    const text = encodeValue(key, value)
    const res = await this.puts.submit({key: Buffer.from(path), value: Buffer.from(text), modRevision})
    if (!res.written) this.throwFailedCondition(key, res)
    return this.written(key, path, text, res.revision)
  }

  async apply<V>(key: Key, value: V): Promise<KVPair<V>> {
    const path = keyToPath(key)
    const text = encodeValue(key, value)
    const res = await this.request(() => this.kv.put({key: Buffer.from(path), value: Buffer.from(text)}))
    const revision = String(res.revision)
    return {key: pathToKey(path) ?? key, value: decodeValue(key, text, revision, path) as V, revision}
  }

  async delete<V>(key: Key, revision?: string): Promise<KVPair<V>> {
    const path = Buffer.from(keyToPath(key))
    const del = {key: path, prevKv: true}
    let prev: KeyValue | undefined
    if (revision === undefined) {
      prev = (await this.request(() => this.kv.deleteRange(del))).prevKvs[0]
    } else {
      const compare = ifAtRevision(path, parseRevision(revision))
      // Else a read of the key, keys only: whether it exists tells "not found" from "conflict".
      const res = await this.request(() => this.kv.txn({compare, success: [{deleteRange: del}], failure: [{range: {key: path, keysOnly: true}}]}))
      if (!res.succeeded) this.throwFailedCondition(key, {written: false, current: res.responses[0]?.kvs[0]})
      prev = res.deleted[0]?.[0]
    }
    if (!prev) throw new ResourceDoesNotExistError(keyId(key))
    return this.pair<V>(prev.key, prev.value, String(prev.modRevision))
  }

  async get<V>(key: Key): Promise<KVPair<V>> {
    const path = keyToPath(key)
    const kv = await this.gets.get(Buffer.from(path))
    if (!kv) throw new ResourceDoesNotExistError(keyId(key))
    return this.pair<V>(path, kv.value, String(kv.modRevision))
  }

  async list<V>(options: ListOptions): Promise<ListResult<V>> {
    // A compaction can overtake a paged read pinned to an old revision; start over once.
    try {
      return await this.listOnce<V>(options)
    } catch (err) {
      if (!(err instanceof Error) || !COMPACTED.test(err.message)) throw err
    }
    try {
      return await this.listOnce<V>(options)
    } catch (err) {
      throw this.compactionError(err)
    }
  }

  /**
   * The pages of a list as etcd returns them. Unlike list(), a compaction that overtakes the read is not retried:
   * earlier pages were handed out already, so it fails as list() fails when compacted twice.
   */
  async *listPages<V>(options: ListOptions): AsyncGenerator<ListResult<V>> {
    try {
      yield* this.pages<V>(options)
    } catch (err) {
      throw this.compactionError(err)
    }
  }

  watch(options: WatchOptions): Watcher {
    let etcdWatcher: EtcdWatcher | undefined
    let closed = false
    const queue = new WatchQueue(() => {
      closed = true
      this.watchers.delete(queue)
      void etcdWatcher?.cancel().catch(() => undefined)
    })
    this.watchers.add(queue)
    const kinds = options.kinds ? new Set(options.kinds) : undefined

    let delivered: number
    try {
      delivered = options.fromRevision === undefined ? -1 : parseRevision(options.fromRevision)
    } catch (err) {
      queue.fail(err as Error)
      return queue
    }

    const start = async (): Promise<void> => {
      // Fail the watch promptly when etcd is unreachable; the client library would retry forever.
      await this.call(async () => undefined)
      if (delivered < 0) {
        // "From now": pin the current revision so nothing between watch() and stream setup is lost.
        delivered = (await this.head()).revision
      }
      const client = await this.call(() => this.watchClient())
      const w = client.watch().prefix(watchPrefix(options.kinds)).withPreviousKV().startRevision(String(delivered + 1)).watcher()
      etcdWatcher = w
      if (closed) {
        void w.cancel().catch(() => undefined)
        return
      }
      w.on('put', (kv, prev) => this.onWatchEvent(queue, kinds, kv, prev, 'put'))
      w.on('delete', (kv, prev) => this.onWatchEvent(queue, kinds, kv, prev, 'delete'))
      w.on('data', (res) => {
        // Track what was delivered: the client library resumes a dropped stream from the header revision
        // of the last response, which can be ahead of events still to come for a catching-up watcher.
        // A response without events is a progress notification, sent only when the watcher is synced.
        const revs = res.events.map((ev) => Number(ev.kv.mod_revision))
        const upTo = revs.length > 0 ? Math.max(...revs) : Number(res.header.revision)
        if (upTo > delivered) delivered = upTo
      })
      w.on('disconnected', () => {
        w.request.start_revision = String(delivered + 1)
      })
      w.on('error', (err) => {
        void this.watchFailure(err, delivered + 1).then((expired) =>
          queue.fail(expired ? new WatchExpiredError(options.fromRevision ?? String(delivered)) : this.translate(err)),
        )
      })
    }
    start().catch((err: unknown) => queue.fail(err instanceof Error ? err : new Error(String(err))))
    return queue
  }

  /** Deletes every key under /calico/ (Calico's Clean; tests and `datastore migrate` start points). */
  async clean(): Promise<void> {
    const root = Buffer.from(CALICO_ROOT)
    await this.request(() => this.kv.deleteRange({key: root, rangeEnd: prefixEnd(root)}))
  }

  async close(): Promise<void> {
    for (const w of [...this.watchers]) w.close()
    this.closed = true
    this.kv.close()
    if (this.etcd3) (await this.etcd3.catch(() => undefined))?.close()
  }

  // --- internals ---

  private async listOnce<V>(options: ListOptions): Promise<ListResult<V>> {
    const items: KVPair<V>[] = []
    let revision = ''
    for await (const page of this.pages<V>(options)) {
      for (const item of page.items) items.push(item)
      revision = page.revision
    }
    return {items, revision}
  }

  /** A list's pages: at least one (the revision travels with each), all at the first one's revision. */
  private async *pages<V>(options: ListOptions): AsyncGenerator<ListResult<V>> {
    let revision: number | undefined
    for (const range of listRanges(options)) {
      const rangeEnd = prefixEnd(Buffer.from(range.prefix))
      // No sort order: etcd returns a range in key order, and asking for one makes etcd 3.4 read the whole range
      // for every page (it applies the limit only after sorting). Pages after the first are read at the first
      // one's revision: a consistent snapshot.
      const page = (key: Buffer) => this.request(() => this.kv.range({key, rangeEnd, limit: this.pageSize, revision}))
      let next: Promise<RangeResponse> | undefined = page(Buffer.from(range.prefix))
      while (next) {
        const res: RangeResponse = await next
        revision ??= res.revision
        // The next page (just after this one's last key) is on its way while this one is decoded and consumed.
        next = res.more && res.lastKey ? page(Buffer.concat([res.lastKey, ZERO])) : undefined
        next?.catch(() => undefined) // its failure is reported where it is awaited
        const items: KVPair<V>[] = []
        for (const kv of res.kvs) {
          const key = pathToKey(kv.key)
          if (!key || !keyMatches(key, options)) continue
          const pair = this.tryPair<V>(kv.key, kv.value, String(kv.modRevision), key)
          if (pair) items.push(pair)
        }
        yield {items, revision: String(revision)}
      }
    }
    // No range to read (a name prefix no key can have): the store's revision alone.
    if (revision === undefined) yield {items: [], revision: String((await this.head()).revision)}
  }

  /** The store's current revision (a read of one key, which also checks the connection and credentials). */
  private head(): Promise<RangeResponse> {
    return this.request(() => this.kv.range({key: Buffer.from(CALICO_ROOT), keysOnly: true}))
  }

  private onWatchEvent(queue: WatchQueue, kinds: Set<string> | undefined, kv: IKeyValue, prev: IKeyValue | undefined, op: 'put' | 'delete'): void {
    const path = kv.key.toString()
    const key = pathToKey(path)
    if (!key || (kinds && !kinds.has(key.kind))) return
    const revision = String(kv.mod_revision)
    try {
      const event: WatchEvent =
        op === 'delete'
          ? {type: 'deleted', key, revision}
          : {type: kv.create_revision === kv.mod_revision ? 'added' : 'modified', key, revision}
      if (op === 'put') event.value = decodeValue(key, kv.value.toString(), revision, path)
      if (prev) event.previous = decodeValue(key, prev.value.toString(), String(prev.mod_revision), path)
      queue.push(event)
    } catch (err) {
      // An undecodable value written by another tool: skip it, as list does.
      if (!(err instanceof CalicoError)) throw err
    }
  }

  /**
   * Whether a canceled watch failed because its start revision was compacted. etcd 3.4 cancels such a
   * watch with an empty reason (the compact revision is in a field the client library drops), so a
   * read at the start revision tells.
   */
  private async watchFailure(err: Error, startRevision: number): Promise<boolean> {
    if (COMPACTED.test(err.message)) return true
    try {
      await this.kv.range({key: Buffer.from(CALICO_ROOT), keysOnly: true, revision: startRevision})
      return false
    } catch (probe) {
      return probe instanceof Error && COMPACTED.test(probe.message)
    }
  }

  /**
   * One transaction for a batch of conditional puts: If every condition holds, every put; else a get of
   * every key (without its value), so the batcher learns which conditions failed.
   */
  private commitPuts(batch: readonly ConditionalPut[]): Promise<TxnResponse> {
    return this.kv.txn({
      compare: batch.flatMap((p): Compare[] =>
        p.modRevision === undefined ? [{key: p.key, target: 'version', result: '==', value: 0}] : ifAtRevision(p.key, p.modRevision),
      ),
      success: batch.map((p) => ({put: {key: p.key, value: p.value}})),
      // Keys only: the revisions tell which condition failed; the values are not needed for that.
      failure: batch.map((p) => ({range: {key: p.key, keysOnly: true}})),
    })
  }

  private throwFailedCondition(key: Key, res: PutResult & {written: false}): never {
    if (!res.current) throw new ResourceDoesNotExistError(keyId(key))
    throw new ResourceUpdateConflictError(keyId(key))
  }

  private written<V>(key: Key, path: string, text: string, revision: string): KVPair<V> {
    return {key: pathToKey(path) ?? key, value: decodeValue(key, text, revision, path) as V, revision}
  }

  /**
   * A compaction that list() could not get past, or that listPages() met after handing out pages, as the one-line
   * error every other failure is.
   */
  private compactionError(err: unknown): unknown {
    return err instanceof Error && COMPACTED.test(err.message) ? new DatastoreError(`etcd at ${this.endpoints}: ${err.message}`) : err
  }

  /** A stored value as a KVPair: one JSON.parse (decodeValue) per value. */
  private pair<V>(path: string, value: string, revision: string, known?: Key): KVPair<V> {
    const key = known ?? pathToKey(path)
    if (!key) throw new DatastoreError(`unexpected etcd key ${path}`)
    return {key, value: decodeValue(key, value, revision, path) as V, revision}
  }

  private tryPair<V>(path: string, value: string, revision: string, key: Key): KVPair<V> | undefined {
    try {
      return this.pair<V>(path, value, revision, key)
    } catch (err) {
      if (err instanceof CalicoError) return undefined
      throw err
    }
  }

  /** Runs one request of the KV client, translating failures into DatastoreErrors; it connects (and fails) promptly itself. */
  private async request<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn()
      this.lastConnectError = undefined
      return result
    } catch (err) {
      throw this.translate(err)
    }
  }

  /** Runs one step of a watch's set-up, once etcd has answered a first read, translating failures into DatastoreErrors. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      await this.connected()
      const result = await fn()
      this.lastConnectError = undefined
      return result
    } catch (err) {
      throw this.translate(err)
    }
  }

  /**
   * grpc-js waits for a connection until the request deadline (10 s), and an endpoint that accepts TCP but
   * never speaks HTTP/2 would hold a watch's set-up that long. A cheap first read, which the KV client gives the short
   * dial timeout, turns "etcd is not there" into a prompt error.
   */
  private connected(): Promise<void> {
    this.ready ??= this.head().then(
      () => undefined,
      (err: unknown) => {
        this.ready = undefined
        throw err
      },
    )
    return this.ready
  }

  /** etcd3 (its own code-cached bundle, dist/etcd-client.cjs), which watches use. */
  async preload(): Promise<void> {
    this.etcd3Module ??= await import('etcd3')
  }

  /** The etcd3 client, created on first use. */
  private watchClient(): Promise<Etcd3> {
    if (this.closed) return Promise.reject(new ClientClosedError())
    this.etcd3 ??= this.openEtcd3()
    return this.etcd3
  }

  private async openEtcd3(): Promise<Etcd3> {
    const conn = this.conn
    const tls = conn.credentials !== undefined || conn.hosts.some((h) => h.startsWith('https:'))
    const ipHost = conn.hosts.some((h) => isIP(new URL(h).hostname.replace(/^\[|\]$/g, '')) !== 0)
    if (tls && ipHost) silenceIpServernameWarning()
    const etcd = await import('etcd3')
    this.etcd3Module = etcd
    const requestTimeout = this.opts.requestTimeoutMs ?? 10_000
    const client = new etcd.Etcd3({
      hosts: conn.hosts,
      credentials: conn.credentials,
      auth: conn.auth,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : {deadline: Date.now() + requestTimeout}),
      faultHandling: {global: attemptsPerHost(conn.hosts.length, etcd.isRecoverableError)},
      grpcOptions: {
        // Belt and braces: one oversized value must not break a delete's or a transaction's answer.
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
      },
    })
    return client
  }

  /** Errors of the KV client and of etcd3, as one-line DatastoreErrors; compaction errors pass through for list(). */
  private translate(err: unknown): Error {
    if (err instanceof CalicoError || !(err instanceof Error)) return err instanceof Error ? err : new Error(String(err))
    const e = this.etcd3Module
    if (err instanceof ClientClosedError || (e && err instanceof e.ClientClosedError)) {
      return new DatastoreError(`the etcd client for ${this.endpoints} is closed`)
    }
    const status = err instanceof GrpcStatusError ? err.code : undefined
    if (
      err instanceof TransportError ||
      status === Status.UNAVAILABLE ||
      status === Status.DEADLINE_EXCEEDED ||
      (e && (err instanceof e.GRPCUnavailableError || err instanceof e.GRPCDeadlineExceededError))
    ) {
      this.lastConnectError = connectionReason(err.message, this.endpoints)
      return new DatastoreError(`cannot connect to etcd at ${this.endpoints}: ${this.lastConnectError}`)
    }
    if (err.name === 'BrokenCircuitError' || err.constructor.name === 'BrokenCircuitError') {
      const reason = this.lastConnectError ?? 'too many recent connection failures'
      return new DatastoreError(`cannot connect to etcd at ${this.endpoints}: ${reason}`)
    }
    const credentials =
      status === undefined
        ? e && (err instanceof e.EtcdAuthenticationFailedError || err instanceof e.GRPCUnauthenticatedError || err instanceof e.EtcdInvalidAuthTokenError)
        : status === Status.UNAUTHENTICATED || /authentication failed/.test(err.message)
    if (credentials) return new DatastoreError(`etcd at ${this.endpoints} rejected the credentials: ${err.message}`)
    if (status === undefined ? e && err instanceof e.EtcdPermissionDeniedError : status === Status.PERMISSION_DENIED) {
      return new DatastoreError(`etcd at ${this.endpoints} denied access: ${err.message}`)
    }
    if (COMPACTED.test(err.message)) return err
    if (/user name is empty/.test(err.message)) {
      return new DatastoreError(`etcd at ${this.endpoints} requires authentication: set etcdUsername and etcdPassword`)
    }
    // "3 INVALID_ARGUMENT: etcdserver: ..." → "etcdserver: ...": the grpc status adds nothing for users.
    return new DatastoreError(`etcd at ${this.endpoints}: ${err.message.replace(/^\d+ [A-Z_]+: /, '')}`)
  }
}
