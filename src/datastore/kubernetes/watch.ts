// The Kubernetes watch loop the Backend's Watcher runs: one stream per Kubernetes resource, each
// resuming from the last resourceVersion it saw (bookmarks included) after a dropped connection, an
// API server restart or a stream that went silent; a 410 Gone ends the watch with WatchExpiredError
// so the owner re-lists (sync.ts watchForever). Events are converted to Calico keys; a per-watch
// cache supplies `previous` and turns IPAM soft deletes and pods leaving the pod network into deletions.

import {DatastoreError} from '../../api/errors.js'
import {WatchExpiredError, type KVPair, type WatchEvent, type Watcher} from '../backend.js'
import {KubeApiError, type KubeClient, type KubeList, type KubeObject, type WatchStream} from './client.js'
import {toCalicoError} from './errors.js'
import {fromObject, resourcePath, type ConvertContext, type Mapping, type Source} from './resources.js'

export interface WatchTuning {
  /** A stream with neither events nor bookmarks for this long is treated as dead and reopened. */
  idleTimeoutMs: number
  /** Reconnect backoff after a failure: first delay, doubling up to max. */
  retryDelayMs: number
  maxRetryDelayMs: number
}

interface Feed {
  mapping: Mapping
  source: Source
}

export class KubeWatcher implements Watcher {
  private readonly queue: WatchEvent[] = []
  private failure?: Error
  private wake?: () => void
  private closed = false
  private readonly streams = new Set<WatchStream>()
  private readonly timers = new Set<NodeJS.Timeout>()
  /** Per object: what readers last saw (null: the object exists but is not visible). */
  private readonly seen = new Map<string, KVPair | null>()

  constructor(
    private readonly client: KubeClient,
    private readonly ctx: ConvertContext,
    feeds: Feed[],
    fromRevision: string | undefined,
    private readonly tuning: WatchTuning,
  ) {
    for (const feed of feeds) void this.run(feed, fromRevision)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const s of this.streams) s.close()
    for (const t of this.timers) clearTimeout(t)
    this.wake?.()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    for (;;) {
      const ev = this.queue.shift()
      if (ev) {
        yield ev
        continue
      }
      if (this.failure) {
        const err = this.failure
        this.close()
        throw err
      }
      if (this.closed) return
      await new Promise<void>((resolve) => (this.wake = resolve))
      this.wake = undefined
    }
  }

  private fail(err: Error): void {
    if (this.failure || this.closed) return
    this.failure = err
    for (const s of this.streams) s.close()
    this.wake?.()
  }

  private push(ev: WatchEvent): void {
    this.queue.push(ev)
    this.wake?.()
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t)
        resolve()
      }, ms)
      this.timers.add(t)
    })
  }

  private async run(feed: Feed, fromRevision: string | undefined): Promise<void> {
    const path = resourcePath(feed.source)
    let delay = this.tuning.retryDelayMs
    let rv = fromRevision
    while (!this.closed && !this.failure) {
      try {
        if (rv === undefined) {
          // "From now": the collection's current revision, so no synthetic ADDED events are replayed.
          const head = await this.client.request<KubeList>('GET', path, {query: {limit: 1}})
          rv = head.metadata.resourceVersion ?? '0'
        }
        const stream = await this.client.watch(path, {resourceVersion: rv, allowWatchBookmarks: true})
        this.streams.add(stream)
        if (this.closed || this.failure) stream.close()
        delay = this.tuning.retryDelayMs
        let idle = this.idleTimer(stream)
        try {
          for await (const line of stream.lines) {
            clearTimeout(idle)
            this.timers.delete(idle)
            idle = this.idleTimer(stream)
            if (line.type === 'ERROR') {
              if (line.object.code === 410) throw new WatchExpiredError(rv)
              throw new KubeApiError(line.object.code ?? 500, line.object.reason ?? '', line.object.message ?? 'watch error')
            }
            const next = line.object.metadata?.resourceVersion
            if (line.type !== 'BOOKMARK') this.deliver(feed, line.type, line.object)
            if (next) rv = next
          }
        } finally {
          clearTimeout(idle)
          this.timers.delete(idle)
          this.streams.delete(stream)
        }
        // The server ended the stream (timeout, restart): resume from the last revision seen.
      } catch (err) {
        if (this.closed) return
        if (err instanceof WatchExpiredError) return this.fail(err)
        if (err instanceof KubeApiError) {
          if (err.code === 410) return this.fail(new WatchExpiredError(rv ?? ''))
          // Permission and missing-CRD errors do not heal by retrying.
          if (err.code === 403 || err.code === 401 || err.code === 404) return this.fail(toCalicoError(err, feed.source))
        } else if (!(err instanceof DatastoreError)) {
          return this.fail(err as Error)
        }
        await this.sleep(delay)
        delay = Math.min(delay * 2, this.tuning.maxRetryDelayMs)
      }
    }
  }

  private idleTimer(stream: WatchStream): NodeJS.Timeout {
    const t = setTimeout(() => stream.close(), this.tuning.idleTimeoutMs)
    this.timers.add(t)
    return t
  }

  private deliver(feed: Feed, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    const id = `${feed.source.group}/${feed.source.plural}/${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`
    let converted
    try {
      converted = fromObject(feed.mapping, this.ctx, feed.source, obj)
    } catch (err) {
      return this.fail(err as Error)
    }
    const revision = obj.metadata.resourceVersion ?? ''
    const before = this.seen.get(id)
    if (type === 'DELETED') {
      this.seen.delete(id)
      if (before === null || !converted.key) return
      this.push({type: 'deleted', key: converted.key, revision, previous: before?.value ?? converted.pair?.value})
      return
    }
    if (!converted.pair || converted.softDeleted) {
      // Not visible any more (soft-deleted IPAM row, pod off the pod network): a deletion for readers.
      this.seen.set(id, null)
      if (before !== null && converted.key) this.push({type: 'deleted', key: converted.key, revision, ...(before ? {previous: before.value} : {})})
      return
    }
    this.seen.set(id, converted.pair)
    const kind = before ? 'modified' : type === 'ADDED' || before === null ? 'added' : 'modified'
    this.push({type: kind, key: converted.pair.key, value: converted.pair.value, revision, ...(before ? {previous: before.value} : {})})
  }
}
