// IP pools as IPAM sees them: the fields it needs from v3 IPPool resources, which pools serve a
// request (ipam.go determinePools, filterPoolsByUse; pools.go SelectsNode/SelectsNamespace), and
// the order in which a pool's blocks are tried (ipam_block_reader_writer.go block generators).
import type {Resource} from '../api/resource.js'
import {parseSelector} from '../api/selector.js'
import type {Labels} from '../api/selector.js'
import {IPAMError, NoQualifiedPoolError} from './errors.js'
import type {HostReservedAttr} from './block.js'
import {addressBits, cidrContainsIP, cidrSize, formatCIDR, maskIP, parseCIDR} from './net.js'
import type {CIDR, IPAddr, IPVersion} from './net.js'

export type IPPoolUse = 'Workload' | 'Tunnel' | 'LoadBalancer'
export type AssignmentMode = 'Automatic' | 'Manual'

/** The IPAM-relevant fields of a v3 IPPool, with clientv3's read defaults applied. */
export interface Pool {
  name: string
  cidr: CIDR
  /** Canonical CIDR text. */
  cidrText: string
  blockSize: number
  nodeSelector: string
  namespaceSelector: string
  allowedUses: IPPoolUse[]
  assignmentMode: AssignmentMode
  disabled: boolean
  /** Has a deletionTimestamp or an `Allocatable=False` status condition. */
  unallocatable: boolean
}

/** The subset of IPPool's spec read here (engineer B owns the full type). */
interface IPPoolSpecView {
  cidr?: string
  blockSize?: number
  nodeSelector?: string
  namespaceSelector?: string
  allowedUses?: string[]
  assignmentMode?: string
  disabled?: boolean
}

interface ConditionView {
  type?: string
  status?: string
}

export const DEFAULT_BLOCK_SIZE: Readonly<Record<IPVersion, number>> = {4: 26, 6: 122}

/** Reads an IPPool resource; undefined when its CIDR does not parse (such pools are skipped). */
export function poolFromResource(r: Resource): Pool | undefined {
  const spec = (r.spec ?? {}) as IPPoolSpecView
  const cidr = spec.cidr ? parseCIDR(spec.cidr) : undefined
  if (!cidr) return undefined
  const uses = (spec.allowedUses ?? []).filter((u): u is IPPoolUse => u === 'Workload' || u === 'Tunnel' || u === 'LoadBalancer')
  const conditions = ((r.status ?? {}) as {conditions?: ConditionView[]}).conditions ?? []
  return {
    name: r.metadata.name ?? '',
    cidr,
    cidrText: formatCIDR(cidr),
    blockSize: spec.blockSize || DEFAULT_BLOCK_SIZE[cidr.version],
    nodeSelector: spec.nodeSelector ?? '',
    namespaceSelector: spec.namespaceSelector ?? '',
    allowedUses: uses.length > 0 ? uses : ['Workload', 'Tunnel'],
    assignmentMode: spec.assignmentMode === 'Manual' ? 'Manual' : 'Automatic',
    disabled: spec.disabled === true,
    unallocatable:
      r.metadata.deletionTimestamp !== undefined || conditions.some((c) => c.type === 'Allocatable' && c.status === 'False'),
  }
}

/** Pools usable for new allocations of one IP version, in name order (clientv3 filterIPPool). */
export function enabledPools(pools: readonly Pool[], version: IPVersion): Pool[] {
  return pools.filter((p) => p.cidr.version === version && !p.disabled && !p.unallocatable).sort(byName)
}

export function byName(a: Pool, b: Pool): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

function selects(selector: string, labels: Labels): boolean {
  // An empty selector matches everything; otherwise Calico's selector language decides.
  if (selector.trim() === '') return true
  return parseSelector(selector).matches(labels)
}

export function selectsNode(pool: Pool, nodeLabels: Labels): boolean {
  return selects(pool.nodeSelector, nodeLabels)
}

/** A request without a namespace is evaluated against no labels. */
export function selectsNamespace(pool: Pool, namespaceLabels: Labels | undefined): boolean {
  return selects(pool.namespaceSelector, namespaceLabels ?? {})
}

export function findContainingPool(pools: readonly Pool[], ip: IPAddr): Pool | undefined {
  return pools.find((p) => cidrContainsIP(p.cidr, ip))
}

/** The block of `pool` containing `ip`. */
export function blockCIDRFor(ip: IPAddr, pool: Pool): CIDR {
  return maskIP(ip, pool.blockSize)
}

/**
 * The largest usable block prefix length: host-reserved addresses need room, e.g. Windows reserves
 * 3 + 1 addresses, which rules out /30../32 (ipam.go getMaxPrefixLen).
 */
export function maxPrefixLen(version: IPVersion, reserved?: HostReservedAttr): number {
  if (!reserved) return addressBits(version)
  const n = reserved.startOfBlock + reserved.endOfBlock
  const len = n > 0 ? addressBits(version) - n.toString(2).length : 0
  if (len <= 0) throw new IPAMError('HostReservedAttr has wrong parameters')
  return len
}

export interface PoolRequest {
  version: IPVersion
  /** Enabled pools of this version (see enabledPools). */
  enabled: readonly Pool[]
  /** Explicitly requested pool CIDRs; when given they are used as-is, ignoring selectors and assignmentMode. */
  requested: readonly CIDR[]
  nodeLabels: Labels
  namespaceLabels?: Labels
  maxPrefixLen: number
}

/** The pools that may serve a request, before the allowed-use filter (ipam.go determinePools). */
export function determinePools(req: PoolRequest): Pool[] {
  const byCIDR = new Map<string, Pool>()
  for (const p of req.enabled) {
    if (p.blockSize > req.maxPrefixLen) continue
    byCIDR.set(p.cidrText, p)
  }
  if (byCIDR.size === 0) throw new NoQualifiedPoolError()
  if (req.requested.length > 0) {
    return req.requested.map((c) => {
      const p = byCIDR.get(formatCIDR(c))
      if (!p) throw new IPAMError(`the given pool (${formatCIDR(c)}) does not exist, or is not enabled`)
      return p
    })
  }
  // Calico skips too-small blocks only for the checks above; excluding them here as well keeps
  // host-reserved addresses from being carved out of blocks that cannot hold them.
  return [...byCIDR.values()].filter(
    (p) => p.assignmentMode === 'Automatic' && selectsNode(p, req.nodeLabels) && selectsNamespace(p, req.namespaceLabels),
  )
}

export function filterPoolsByUse(pools: readonly Pool[], use: IPPoolUse): Pool[] {
  return pools.filter((p) => p.allowedUses.includes(use))
}

/** The blocks of `pool`'s block size inside `cidr`, in address order (blockGenerator). */
export function* blocksIn(pool: Pool, cidr: CIDR): Generator<CIDR> {
  const step = 1n << BigInt(addressBits(cidr.version) - pool.blockSize)
  const end = cidr.base + cidrSize(cidr)
  for (let base = cidr.base; base < end; base += step) yield {version: cidr.version, base, prefix: pool.blockSize}
}

/** FNV-1 (not 1a) 32-bit, as Go's hash/fnv New32 used to seed the block search. */
export function fnv1_32(text: string): number {
  let h = 0x811c9dc5
  for (const byte of Buffer.from(text, 'utf8')) {
    h = Math.imul(h, 0x01000193) >>> 0
    h = (h ^ byte) >>> 0
  }
  return h
}

/** splitmix64: spreads a 32-bit seed over 64 bits. */
function mix64(seed: bigint): bigint {
  const m = (1n << 64n) - 1n
  let z = (seed + 0x9e3779b97f4a7c15n) & m
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & m
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & m
  return z ^ (z >> 31n)
}

/**
 * Every block of a pool exactly once, starting at a position derived from the host name and then
 * wrapping around, so hosts spread over a pool but each host retries the same order
 * (randomBlockGenerator). Calico draws the start from Go's math/rand; the order differs, the
 * properties do not.
 */
export function* randomBlocks(pool: Pool, hostname: string): Generator<CIDR> {
  const shift = BigInt(addressBits(pool.cidr.version) - pool.blockSize)
  const numBlocks = cidrSize(pool.cidr) >> shift
  if (numBlocks === 0n) return
  const seed = BigInt(fnv1_32(hostname))
  const r = (mix64(seed) << 64n) | mix64(seed + 1n)
  const start = r % numBlocks
  for (let n = 0n; n < numBlocks; n++) {
    const i = (start + n) % numBlocks
    yield {version: pool.cidr.version, base: pool.cidr.base + (i << shift), prefix: pool.blockSize}
  }
}


/**
 * The CIDRs `calicoctl ipam split` turns a pool into: `parts` (a power of two, at least 2) equal
 * consecutive subnets (split.go splitCIDR).
 */
export function splitCIDR(text: string, parts: number): string[] {
  const power = Math.log2(parts)
  if (!Number.isInteger(parts) || parts < 2 || !Number.isInteger(power)) {
    throw new IPAMError(`number to split CIDR into is not a valid power of 2: ${parts}`)
  }
  const cidr = parseCIDR(text)
  if (!cidr) throw new IPAMError(`error reading CIDR ${text} before attempting to split it`)
  if (cidr.prefix + power > addressBits(cidr.version)) {
    throw new IPAMError(`the CIDR ${text} is not large enough to be split into ${parts} parts`)
  }
  const prefix = cidr.prefix + power
  const step = 1n << BigInt(addressBits(cidr.version) - prefix)
  return Array.from({length: parts}, (_, i) => formatCIDR({version: cidr.version, base: cidr.base + BigInt(i) * step, prefix}))
}
