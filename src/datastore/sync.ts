// List-then-watch that never gives up: the loop long-running components (node agent, controllers)
// build on. It re-lists when the watch's start revision was compacted and retries with backoff while
// the datastore is unreachable, so consumers only ever see "here is the full state" followed by
// changes after it.

import {DatastoreError} from '../api/errors.js'
import {WatchExpiredError, type Backend, type KVPair, type WatchEvent, type Watcher} from './backend.js'
import {sleep} from '../lib/sleep.js'

/** The complete current state of the watched kinds; replaces whatever the consumer held before. */
export interface SnapshotEvent {
  type: 'snapshot'
  items: KVPair[]
  /** The state is complete up to this revision. */
  revision: string
}

export type SyncEvent = SnapshotEvent | WatchEvent

export interface SyncOptions {
  kinds: string[]
  /** Ends the stream (the current watch is closed). */
  signal?: AbortSignal
  /** First retry delay after a datastore error; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number
  maxRetryDelayMs?: number
  /** Told about every error the loop recovers from (for logs and health reporting). */
  onError?: (err: Error) => void
}

/**
 * Yields a snapshot, then every change to `kinds`; after a compaction or an outage, a fresh snapshot.
 * Lists of several kinds are read at different revisions, so each kind's events are only passed on
 * once they are newer than that kind's list.
 */
export async function* watchForever(backend: Backend, opts: SyncOptions): AsyncGenerator<SyncEvent, void, undefined> {
  const base = opts.retryDelayMs ?? 500
  const max = opts.maxRetryDelayMs ?? 30_000
  let delay = base
  while (!opts.signal?.aborted) {
    let watcher: Watcher | undefined
    const abort = () => watcher?.close()
    opts.signal?.addEventListener('abort', abort, {once: true})
    try {
      const listedAt = new Map<string, number>()
      const items: KVPair[] = []
      for (const kind of opts.kinds) {
        const res = await backend.list({kind})
        listedAt.set(kind, Number(res.revision))
        items.push(...res.items)
      }
      const revisions = [...listedAt.values()]
      const from = revisions.length > 0 ? Math.min(...revisions) : 0
      if (opts.signal?.aborted) return
      watcher = backend.watch({kinds: opts.kinds, fromRevision: String(from)})
      // splice(0) hands the listing over: this frame lives as long as the watch and must not keep it alive.
      yield {type: 'snapshot', items: items.splice(0), revision: String(revisions.length > 0 ? Math.max(...revisions) : 0)}
      delay = base
      for await (const ev of watcher) {
        if (Number(ev.revision) <= (listedAt.get(ev.key.kind) ?? 0)) continue
        yield ev
      }
      // The watch ended without an error: it was closed (abort), so stop.
      return
    } catch (err) {
      if (err instanceof WatchExpiredError) {
        opts.onError?.(err)
        continue
      }
      if (err instanceof DatastoreError) {
        opts.onError?.(err)
        await sleep(delay, opts.signal)
        delay = Math.min(delay * 2, max)
        continue
      }
      throw err
    } finally {
      opts.signal?.removeEventListener('abort', abort)
      watcher?.close()
    }
  }
}
