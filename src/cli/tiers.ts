// The order calicoctl lists tiers in, for `get` and for every output format. Pure.
import type {Resource} from '../api/resource.js'

/**
 * Tiers in policy evaluation order: ascending spec.order, tiers without an order last. Stable (Array.prototype.sort
 * is, like Go's sort.SliceStable), so equal orders keep the datastore's name order.
 */
export function sortTiers(items: readonly Resource[]): Resource[] {
  const order = (t: Resource): number | undefined => {
    const o = (t.spec as {order?: unknown} | undefined)?.order
    return typeof o === 'number' ? o : undefined
  }
  return [...items].sort((a, b) => {
    const oa = order(a)
    const ob = order(b)
    if (oa === undefined) return ob === undefined ? 0 : 1
    if (ob === undefined) return -1
    return oa - ob
  })
}
