// The push side of a Watcher: backends push events (or a terminal error) as they arrive; the consumer
// pulls them with for-await. Unbounded, because backends deliver from one source in revision order
// and a consumer that stops reading should close() rather than be throttled.

import type {WatchEvent, Watcher} from './backend.js'

export class WatchQueue implements Watcher {
  private readonly events: WatchEvent[] = []
  private waiter: (() => void) | undefined
  private error: Error | undefined
  private closed = false

  /** @param onClose releases the backend's resources (stream, timer); called once. */
  constructor(private readonly onClose: () => void) {}

  push(event: WatchEvent): void {
    if (this.closed || this.error) return
    this.events.push(event)
    this.wake()
  }

  /** Ends iteration with `err` once the already queued events are consumed. */
  fail(err: Error): void {
    if (this.closed || this.error) return
    this.error = err
    this.onClose()
    this.wake()
  }

  get isClosed(): boolean {
    return this.closed
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    if (!this.error) this.onClose()
    this.wake()
  }

  private wake(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    try {
      for (;;) {
        if (this.closed) return
        const next = this.events.shift()
        if (next) {
          yield next
          continue
        }
        if (this.error) throw this.error
        await new Promise<void>((resolve) => (this.waiter = resolve))
      }
    } finally {
      // A consumer that breaks out of for-await closes the watch.
      this.close()
    }
  }
}
