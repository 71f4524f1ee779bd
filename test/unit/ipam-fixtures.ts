// IPAM blocks for the IPAM and `calicoctl ipam` unit tests, built through the real Block so they hold exactly what
// Calico's allocator would have stored.
import {Block, newBlock} from '../../src/ipam/block.js'
import type {AllocationBlock} from '../../src/ipam/model.js'
import {parseCIDR} from '../../src/ipam/net.js'

/** The clock of every fixture block (creation and allocation times). */
export const NOW = new Date('2026-03-04T05:06:07Z')

/**
 * A block of `cidr` affine to `host` (null: no affinity), with `fill` applied in order: each entry auto-assigns
 * that many addresses to a handle with the given attributes.
 */
export function block(cidr: string, host: string | null, fill: [number, string | undefined, Record<string, string>?][] = []): AllocationBlock {
  const c = parseCIDR(cidr)
  if (!c) throw new Error(cidr)
  const v = newBlock(c, NOW)
  v.affinity = host ? `host:${host}` : null
  const b = Block.fromStored(v)
  for (const [n, handle, attrs] of fill) b.autoAssign(n, handle, attrs, {affinityType: 'host', host: host ?? ''}, false)
  return b.value
}
