// Address accounting per pool and block, as `calicoctl ipam show` reports it (ipam.go GetUtilization,
// reserved.go countPoolSpace). Pure: takes pools, blocks and reservations, returns counts.
import type {CIDRFilter} from './addrfilter.js'
import {Block} from './block.js'
import type {AllocationBlock} from './model.js'
import {cidrLast, cidrsOverlap, cidrSize, parseCIDR} from './net.js'
import type {CIDR} from './net.js'
import type {Pool} from './pools.js'

/** InUse and Reserved may overlap (an address allocated before a reservation covered it); Available excludes both. */
export interface BlockUtilization {
  cidr: string
  capacity: number
  inUse: number
  reserved: number
  available: number
}

/** Pool counts cover the whole pool CIDR, including space no block has been carved from yet. */
export interface PoolUtilization {
  name: string
  cidr: string
  /** Clamped to Go's MaxInt64 like Calico's clampToInt. */
  capacity: bigint
  inUse: bigint
  reserved: bigint
  available: bigint
  blocks: BlockUtilization[]
}

/** Name of the pseudo-pool that collects blocks no pool covers. */
export const ORPHANED_BLOCKS = 'orphaned allocation blocks'

const MAX_INT64 = (1n << 63n) - 1n

function clamp(n: bigint): bigint {
  return n > MAX_INT64 ? MAX_INT64 : n
}

type Interval = [bigint, bigint]

/** `from` minus every CIDR in `cut` (same IP version), as disjoint inclusive intervals. */
function subtract(from: Interval[], cut: readonly CIDR[]): Interval[] {
  let out = from
  for (const c of cut) {
    const lo = c.base
    const hi = cidrLast(c)
    const next: Interval[] = []
    for (const [a, b] of out) {
      if (hi < a || lo > b) {
        next.push([a, b])
        continue
      }
      if (a < lo) next.push([a, lo - 1n])
      if (b > hi) next.push([hi + 1n, b])
    }
    out = next
  }
  return out
}

function count(intervals: Interval[]): bigint {
  return intervals.reduce((n, [a, b]) => n + (b - a + 1n), 0n)
}

function blockUtilization(value: AllocationBlock, reservations: CIDRFilter): BlockUtilization {
  const b = Block.fromStored(value)
  const capacity = b.numAddresses
  let reserved = 0
  if (reservations.matchesWholeCIDR(b.cidr)) reserved = capacity
  else if (reservations.matchesSome(b.cidr)) {
    for (let o = 0; o < capacity; o++) if (reservations.matchesIP(b.ordinalToIP(o))) reserved++
  }
  return {
    cidr: value.cidr,
    capacity,
    inUse: capacity - b.value.unallocated.length,
    reserved,
    available: b.numFreeAddresses(reservations),
  }
}

/**
 * Utilization of the pools named (by name or CIDR) in `wanted`, or of every pool plus an
 * "orphaned allocation blocks" entry when `wanted` is empty.
 */
export function computeUtilization(
  pools: readonly Pool[],
  blocks: readonly AllocationBlock[],
  reservations: CIDRFilter,
  wanted: readonly string[] = [],
): PoolUtilization[] {
  const rows: {pool: Pool | undefined; cidr: CIDR | undefined; use: PoolUtilization}[] = []
  for (const p of pools) {
    if (wanted.length > 0 && !wanted.includes(p.name) && !wanted.includes(p.cidrText)) continue
    rows.push({pool: p, cidr: p.cidr, use: {name: p.name, cidr: p.cidrText, capacity: 0n, inUse: 0n, reserved: 0n, available: 0n, blocks: []}})
  }
  if (wanted.length === 0) {
    rows.push({pool: undefined, cidr: undefined, use: {name: ORPHANED_BLOCKS, cidr: '0.0.0.0/0', capacity: 0n, inUse: 0n, reserved: 0n, available: 0n, blocks: []}})
  }
  for (const value of blocks) {
    const bc = parseCIDR(value.cidr)
    if (!bc) continue
    // The orphan row (no CIDR) takes whatever the real pools did not.
    const row = rows.find((r) => (r.cidr ? cidrsOverlap(r.cidr, bc) : true))
    row?.use.blocks.push(blockUtilization(value, reservations))
  }
  for (const {pool, use} of rows) {
    if (!pool) continue
    for (const b of use.blocks) {
      use.inUse += BigInt(b.inUse)
      use.available += BigInt(b.available)
    }
    const whole: Interval[] = [[pool.cidr.base, cidrLast(pool.cidr)]]
    const sameFamily = reservations.cidrs.filter((c) => c.version === pool.cidr.version)
    const assignable = subtract(whole, sameFamily)
    const blockCIDRs = use.blocks.map((b) => parseCIDR(b.cidr)).filter((c): c is CIDR => c !== undefined)
    const outsideBlocks = subtract(assignable, blockCIDRs)
    const size = cidrSize(pool.cidr)
    use.capacity = clamp(size)
    use.reserved = clamp(size - count(assignable))
    use.available = clamp(use.available + count(outsideBlocks))
  }
  return rows.map((r) => r.use)
}

/** An address allocated to a node other than its block's owner (`ipam show --show-borrowed`). */
export interface BorrowedIP {
  ip: string
  borrowingNode: string
  block: string
  /** The block's host ('' when unaffine). */
  blockOwner: string
  /** `pod`, `vmi`, or the allocation's `type` attribute (tunnel addresses); '' when unknown. */
  allocationType: string
  /** `<namespace>/<pod or vmi>`; '' for other allocations. */
  allocatedTo: string
}

/**
 * Borrowed addresses in block order, and how many allocations have no `node` attribute (those
 * cannot be classified) (show.go getBorrowedIPs).
 */
export function borrowedIPs(blocks: readonly AllocationBlock[]): {borrowed: BorrowedIP[]; unclassified: number} {
  const borrowed: BorrowedIP[] = []
  let unclassified = 0
  for (const value of blocks) {
    const b = Block.fromStored(value)
    // calicoctl takes what follows the single ':' of `host:<name>`.
    const parts = (value.affinity ?? '').split(':')
    const blockOwner = value.affinity ? (parts.length === 2 ? parts[1] : parts[0]) : ''
    for (const {ip, attribute} of b.allocations()) {
      const attrs = attribute?.secondary ?? {}
      if (attrs.node === undefined) {
        unclassified++
        continue
      }
      if (attrs.node === blockOwner) continue
      const ns = attrs.namespace ?? ''
      let allocationType = ''
      let allocatedTo = ''
      if (attrs['vmi-name'] !== undefined) {
        allocationType = 'vmi'
        allocatedTo = `${ns}/${attrs['vmi-name']}`
      } else if (attrs.pod !== undefined) {
        allocationType = 'pod'
        allocatedTo = `${ns}/${attrs.pod}`
      } else if (attrs.type !== undefined) {
        allocationType = attrs.type
      }
      borrowed.push({ip, borrowingNode: attrs.node, block: value.cidr, blockOwner, allocationType, allocatedTo})
    }
  }
  return {borrowed, unclassified}
}
