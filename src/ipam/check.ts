// Consistency checks over IPAM data, as `calicoctl ipam check` makes them (commands/ipam/check.go):
// which allocations nothing uses (leaks), which used addresses IPAM does not know, handles without
// addresses, addresses whose handle is missing, and structurally invalid blocks. Pure.
import type {Resource} from '../api/resource.js'
import {Block} from './block.js'
import type {AllocationAttribute, AllocationBlock} from './model.js'
import {WINDOWS_RESERVED_HANDLE} from './model.js'
import {cidrContainsIP, cidrSize, compareAddressText, formatIP, parseCIDR, parseCIDROrIP, parseIP} from './net.js'
import type {CIDR} from './net.js'

/** One allocation as the check report lists it (JSON field names of check.go's Allocation). */
export interface CheckAllocation {
  ip: string
  /** The block it lives in (not in the JSON report). */
  block: string
  handle?: string
  sequenceNumber?: number
  pod?: string
  namespace?: string
  node?: string
  type?: string
  creationTimestamp?: string
  inUse: boolean
  /** The allocation's node differs from the block's host. */
  borrowed?: boolean
  coolingDown?: boolean
  owners: string[]
  /** `Main:<handle> Extra:k=v,...` for the "leaked; attrs" lines. */
  attrs: string
}

/** An address something is using, with calicoctl's friendly owner name (`Workload(ns/name)`, `Node(n)`). */
export interface InUseIP {
  ip: string
  owner: string
}

export interface CheckInput {
  blocks: readonly AllocationBlock[]
  /** CIDRs of enabled pools. */
  activePools: readonly string[]
  handles: readonly string[]
  inUse: readonly InUseIP[]
  now: Date
}

export interface CheckResult {
  /** By address, sorted. */
  allocations: Map<string, CheckAllocation[]>
  /** By node ('' for unaffine blocks without a node attribute). */
  allocationsByNode: Map<string, CheckAllocation[]>
  inUseIPs: Map<string, string[]>
  /** Allocated, not cooling down, and not used by anything. */
  leakedIPs: string[]
  multipleOwners: string[]
  /** In use, not allocated and outside every active pool. */
  notInActivePools: string[]
  /** In use inside an active pool but without an allocation. */
  inUseNotAllocated: string[]
  handlesWithoutIPs: string[]
  handlesWithIPs: number
  /** Referenced by block attributes but with no handle object. */
  missingHandles: string[]
  invalidBlocks: {cidr: string; reason: string}[]
  problems: number
}

function kvs(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${(m ?? {})[k]}`)
    .join(',')
}

/** check.go formatAttrs. */
export function formatAttrs(a: AllocationAttribute | undefined): string {
  if (!a) return '<missing>'
  let s = `Main:${a.handle_id ?? '<none>'} Extra:${kvs(a.secondary)}`
  if (a.alternateOwnerAttrs && Object.keys(a.alternateOwnerAttrs).length > 0) s += ` Alternate:${kvs(a.alternateOwnerAttrs)}`
  return s
}

/** Structural invariants of a block (check.go validateBlock); the first violation, or undefined. */
export function validateBlock(value: AllocationBlock, now: Date): string | undefined {
  const b = Block.fromStored(value)
  // Calico would crash on this one; report it instead.
  const size = Number(cidrSize(b.cidr))
  if (b.numAddresses !== size) return `block has ${b.numAddresses} allocation entries but its CIDR holds ${size} addresses`
  const usedAttrs = new Set<number>()
  const allocated = new Set<number>()
  for (let o = 0; o < b.numAddresses; o++) {
    const idx = b.value.allocations[o]
    if (idx === null) continue
    if (idx < 0 || idx >= b.value.attributes.length) return `allocation ${o} indexes a nonexistent attribute ${idx}`
    usedAttrs.add(idx)
    allocated.add(o)
  }
  for (let i = 0; i < b.value.attributes.length; i++) {
    if (!usedAttrs.has(i)) return `attribute index ${i} exists but is not indexed by an allocation`
    const releasedAt = b.value.attributes[i].releasedAt
    if (releasedAt !== undefined && Date.parse(releasedAt) > now.getTime()) {
      return `attribute index ${i} has releasedAt in the future, suggesting clock skew`
    }
  }
  const seen = new Set<number>()
  for (const o of b.value.unallocated) {
    if (o < 0 || o >= b.numAddresses) return `ordinal ${o} appears in the Unallocated array but is out of the block`
    if (seen.has(o)) return `ordinal ${o} appears more than once in Unallocated array`
    if (allocated.has(o)) return `ordinal ${o} is allocated but appears in Unallocated`
    seen.add(o)
  }
  const total = b.value.unallocated.length + allocated.size
  if (total !== b.numAddresses) {
    return `expected ${b.numAddresses} addresses in this block, but Unallocated (${b.value.unallocated.length}) + Allocated (${allocated.size}) = ${total}`
  }
  return undefined
}

function normalise(addr: string): string | undefined {
  const c = parseCIDROrIP(addr)
  return c ? formatIP({version: c.version, value: c.base}) : undefined
}

/** Tunnel addresses recorded on a v3 Node (check.go getNodeIPs). */
export function nodeTunnelIPs(node: Resource): string[] {
  const spec = (node.spec ?? {}) as {
    ipv4VXLANTunnelAddr?: string
    wireguard?: {interfaceIPv4Address?: string}
    bgp?: {ipv4IPIPTunnelAddr?: string}
  }
  return [spec.ipv4VXLANTunnelAddr, spec.wireguard?.interfaceIPv4Address, spec.bgp?.ipv4IPIPTunnelAddr]
    .filter((a): a is string => typeof a === 'string' && a !== '')
    .map((a) => normalise(a))
    .filter((a): a is string => a !== undefined)
}

/** Addresses of a v3 WorkloadEndpoint (spec.ipNetworks). */
export function workloadIPs(wep: Resource): string[] {
  const nets = ((wep.spec ?? {}) as {ipNetworks?: unknown}).ipNetworks
  if (!Array.isArray(nets)) return []
  return nets
    .filter((n): n is string => typeof n === 'string')
    .map((n) => normalise(n))
    .filter((a): a is string => a !== undefined)
}

export function checkIPAM(input: CheckInput): CheckResult {
  const allocations = new Map<string, CheckAllocation[]>()
  const allocationsByNode = new Map<string, CheckAllocation[]>()
  const inUseIPs = new Map<string, string[]>()
  const inUseHandles = new Set<string>()
  const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => m.set(k, [...(m.get(k) ?? []), v])

  for (const value of input.blocks) {
    const b = Block.fromStored(value)
    const blockHost = b.affinity?.affinityType === 'host' ? b.affinity.host : ''
    for (const {ordinal, ip, attribute} of b.allocations()) {
      const alloc: CheckAllocation = {ip, block: value.cidr, inUse: false, owners: [], attrs: formatAttrs(attribute), sequenceNumber: b.sequenceNumberFor(ordinal)}
      let node = blockHost
      if (attribute) {
        if (attribute.handle_id === WINDOWS_RESERVED_HANDLE) push(inUseIPs, ip, 'Reserved for Windows')
        else if (attribute.handle_id !== undefined) {
          alloc.handle = attribute.handle_id
          inUseHandles.add(attribute.handle_id)
        }
        if (attribute.releasedAt !== undefined) alloc.coolingDown = true
        const s = attribute.secondary ?? {}
        if (s.node) node = s.node
        if (s.pod) alloc.pod = s.pod
        if (s.namespace) alloc.namespace = s.namespace
        if (s.type) alloc.type = s.type
        if (s.timestamp) alloc.creationTimestamp = s.timestamp
      }
      if (node) alloc.node = node
      if (node !== blockHost) alloc.borrowed = true
      push(allocations, ip, alloc)
      push(allocationsByNode, node, alloc)
    }
  }
  for (const u of input.inUse) push(inUseIPs, u.ip, u.owner)
  for (const [ip, owners] of inUseIPs) {
    for (const a of allocations.get(ip) ?? []) {
      a.inUse = true
      a.owners.push(...owners)
    }
  }

  const leakedIPs: string[] = []
  for (const [ip, allocs] of allocations) {
    if (!inUseIPs.has(ip) && !allocs.some((a) => a.coolingDown)) leakedIPs.push(ip)
  }
  const pools = input.activePools.map((c) => parseCIDR(c)).filter((c): c is CIDR => c !== undefined)
  const multipleOwners: string[] = []
  const notInActivePools: string[] = []
  const inUseNotAllocated: string[] = []
  for (const [ip, owners] of inUseIPs) {
    if (owners.length > 1) multipleOwners.push(ip)
    if (allocations.has(ip)) continue
    const addr = parseIP(ip)
    if (addr && pools.some((p) => cidrContainsIP(p, addr))) inUseNotAllocated.push(ip)
    else notInActivePools.push(ip)
  }
  const handles = new Set(input.handles)
  const handlesWithoutIPs = input.handles.filter((h) => !inUseHandles.has(h))
  const missingHandles = [...inUseHandles].filter((h) => !handles.has(h))
  const invalidBlocks: {cidr: string; reason: string}[] = []
  for (const value of input.blocks) {
    const reason = validateBlock(value, input.now)
    if (reason) invalidBlocks.push({cidr: value.cidr, reason})
  }
  leakedIPs.sort(compareAddressText)
  multipleOwners.sort(compareAddressText)
  notInActivePools.sort(compareAddressText)
  inUseNotAllocated.sort(compareAddressText)
  handlesWithoutIPs.sort()
  missingHandles.sort()
  return {
    allocations: new Map([...allocations].sort(([a], [b]) => compareAddressText(a, b))),
    allocationsByNode,
    inUseIPs,
    leakedIPs,
    multipleOwners,
    notInActivePools,
    inUseNotAllocated,
    handlesWithoutIPs,
    handlesWithIPs: input.handles.length - handlesWithoutIPs.length,
    missingHandles,
    invalidBlocks,
    // check.go reports multiple owners and missing handles but does not count them as problems.
    problems: leakedIPs.length + notInActivePools.length + inUseNotAllocated.length + handlesWithoutIPs.length + invalidBlocks.length,
  }
}
