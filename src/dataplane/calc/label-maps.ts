// Equal label maps shared by every endpoint and network set that has them. Clusters repeat a few label sets across
// many pods (every replica of a deployment), and the calculation keeps two maps per endpoint (its own labels, and those
// over its profiles' labels): sharing them is ~30% of the calculation's memory at 10,000 endpoints. Refcounted, so the
// maps of endpoints that are gone are dropped.
import type {Labels} from '../../api/selector.js'

export class SharedLabelMaps {
  private readonly maps = new Map<string, {labels: Labels; refs: number}>()

  /** The shared map equal to `labels` (the caller hands `labels` over and must not change it). */
  acquire(labels: Labels): Labels {
    const key = JSON.stringify(labels)
    const entry = this.maps.get(key)
    if (entry) {
      entry.refs++
      return entry.labels
    }
    this.maps.set(key, {labels, refs: 1})
    return labels
  }

  /** Gives back a map acquire() returned. */
  release(labels: Labels): void {
    const key = JSON.stringify(labels)
    const entry = this.maps.get(key)
    if (entry && --entry.refs <= 0) this.maps.delete(key)
  }

  /** Distinct maps held (tests). */
  get size(): number {
    return this.maps.size
  }
}
