// IP pools and reservations, plus the checks that need other stored objects (pool overlap, immutability, existing
// IPAM blocks): those are pure functions here that the resource client calls with what it read.

import type {ErroredField} from '../errors.js'
import type {Obj} from './collector.js'
import {
  at, bool, cel, Collector, crdEnum, crdItems, crdMaxLength, crdRange, crdUniqueSet, goValue, isSet, join, num, str,
  strs,
} from './collector.js'
import type {IPNet} from '../net.js'
import {cidrContainsIP, cidrsOverlap, formatCIDR, isMasked} from '../net.js'
import {parseCIDR, parseCIDROrIP} from './cnet.js'
import {checkSelector} from './selectors.js'

const ENCAP_MODES = ['Never', 'Always', 'CrossSubnet'] as const
const ALLOWED_USES = ['Workload', 'Tunnel', 'LoadBalancer'] as const
const ASSIGNMENT_MODES = ['Automatic', 'Manual'] as const
const LINK_LOCAL_V4 = parseCIDR('169.254.0.0/16') as IPNet
const LINK_LOCAL_V6 = parseCIDR('fe80::/10') as IPNet

/** Default block size when a pool does not set one. */
export function defaultBlockSize(version: 4 | 6): number {
  return version === 4 ? 26 : 122
}

export function validateIPPoolSpec(c: Collector, spec: Obj, path: string): void {
  const cidrStr = str(c, spec, 'cidr', path)
  const cidrPath = join(path, 'cidr')
  const cidr = isSet(cidrStr) ? parseCIDROrIP(cidrStr) : undefined
  const allowedUses = strs(c, spec, 'allowedUses', path) ?? []
  const nodeSelector = str(c, spec, 'nodeSelector', path)
  const namespaceSelector = str(c, spec, 'namespaceSelector', path)

  // Field tags first, then the IPPoolSpec struct checks, as Go's validator orders them.
  if (isSet(cidrStr) && (!cidr || !isMasked(cidr))) c.tag(cidrPath, 'CIDR', cidrStr, 'net')
  checkSelector(c, join(path, 'nodeSelector'), 'NodeSelector', nodeSelector)
  checkSelector(c, join(path, 'namespaceSelector'), 'NamespaceSelector', namespaceSelector)

  if (!isSet(cidrStr)) c.go(cidrPath, 'IPpool.CIDR', '', 'IPPool CIDR must be specified')
  else if (!cidr) c.go(cidrPath, 'IPpool.CIDR', cidrStr, 'IPPool CIDR must be a valid subnet')
  else if (!isMasked(cidr)) c.go(cidrPath, 'IPpool.CIDR', cidrStr, 'IP pool CIDR is not strictly masked')
  for (const u of allowedUses) {
    if (!(ALLOWED_USES as readonly string[]).includes(u)) {
      c.go(join(path, 'allowedUses'), 'IPpool.AllowedUses', allowedUses, `unknown use: ${u}`)
    }
  }

  if (cidrStr === undefined) c.schema(cidrPath, 'Required value')
  crdMaxLength(c, cidrPath, cidrStr, 48)
  allowedUses.forEach((u, i) => crdEnum(c, at(join(path, 'allowedUses'), i), u, ALLOWED_USES))
  crdItems(c, join(path, 'allowedUses'), allowedUses, undefined, 10)
  crdUniqueSet(c, join(path, 'allowedUses'), allowedUses)
  crdMaxLength(c, join(path, 'nodeSelector'), nodeSelector, 1024)
  crdMaxLength(c, join(path, 'namespaceSelector'), namespaceSelector, 1024)

  const ipipMode = str(c, spec, 'ipipMode', path)
  const vxlanMode = str(c, spec, 'vxlanMode', path)
  // Both are plain omitempty strings in Go: "" never reaches the schema.
  crdEnum(c, join(path, 'ipipMode'), ipipMode || undefined, ENCAP_MODES)
  crdEnum(c, join(path, 'vxlanMode'), vxlanMode || undefined, ENCAP_MODES)
  // assignmentMode is a pointer in Go, so an explicit "" is kept and refused.
  crdEnum(c, join(path, 'assignmentMode'), str(c, spec, 'assignmentMode', path), ASSIGNMENT_MODES)
  const blockSize = num(c, spec, 'blockSize', path)
  crdRange(c, join(path, 'blockSize'), blockSize, 0, 128)
  const disabled = bool(c, spec, 'disabled', path) ?? false
  const disableBGPExport = bool(c, spec, 'disableBGPExport', path) ?? false
  bool(c, spec, 'natOutgoing', path)

  const encap = (m: string | undefined): boolean => isSet(m) && m !== 'Never'
  const lb = allowedUses.includes('LoadBalancer')
  cel(c, path, !encap(ipipMode) || !encap(vxlanMode), 'ipipMode and vxlanMode cannot both be enabled')
  cel(c, path, !lb || (!encap(ipipMode) && !encap(vxlanMode)), 'LoadBalancer IP pool cannot have IPIP or VXLAN enabled')
  cel(c, path, !lb || !allowedUses.some((u) => u === 'Workload' || u === 'Tunnel'),
    'LoadBalancer cannot be combined with Workload or Tunnel allowed uses')
  cel(c, path, !lb || !disableBGPExport, 'LoadBalancer IP pools cannot disable BGP export')
  // The schema defaults nodeSelector to all() before this rule runs.
  cel(c, path, !lb || (nodeSelector ?? 'all()') === 'all()',
    'IP Pool with AllowedUse LoadBalancer must have nodeSelector set to all()')
  cel(c, path, !allowedUses.includes('Tunnel') || !isSet(namespaceSelector),
    'IP Pool with AllowedUse Tunnel cannot have namespaceSelector')
  cel(c, path, !nodeSelector?.includes('global('), 'global() selector is not valid for IPPool nodeSelector')
  cel(c, path, !namespaceSelector?.includes('global('), 'global() selector is not valid for IPPool namespaceSelector')
  if (!cidr) return
  const v = cidr.ip.version
  cel(c, path, v !== 6 || !encap(ipipMode), 'IPIP is not supported on IPv6 pools')
  cel(c, path, isMasked(cidr), 'IPPool CIDR must be strictly masked')
  if (v === 4) {
    cel(c, path, !cidrContainsIP(LINK_LOCAL_V4.cidr, cidr.ip) && !cidrContainsIP(cidr.cidr, LINK_LOCAL_V4.ip),
      'IPPool CIDR overlaps with IPv4 link local range 169.254.0.0/16')
  } else {
    cel(c, path, !cidrContainsIP(LINK_LOCAL_V6.cidr, cidr.ip) && !cidrContainsIP(cidr.cidr, LINK_LOCAL_V6.ip),
      'IPPool CIDR overlaps with IPv6 link local range fe80::/10')
  }
  const bs = blockSize ?? 0
  cel(c, path, bs === 0 || (v === 4 ? bs >= 20 && bs <= 32 : bs >= 116 && bs <= 128),
    'blockSize must be between 20 and 32 for IPv4 pools, and between 116 and 128 for IPv6 pools')
  cel(c, path, disabled || cidr.cidr.prefix <= (bs !== 0 ? bs : defaultBlockSize(v)),
    'IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.')
}

export function validateIPReservationSpec(c: Collector, spec: Obj, path: string): void {
  const cidrs = strs(c, spec, 'reservedCIDRs', path)
  if (!cidrs) return
  if (cidrs.some((s) => !parseCIDROrIP(s))) c.tag(join(path, 'reservedCIDRs'), 'ReservedCIDRs', cidrs, 'cidrs')
  crdUniqueSet(c, join(path, 'reservedCIDRs'), cidrs)
}

// ---- Checks that need datastore state. Each returns the fields to report (empty when fine). ----

export interface PoolRef {
  name: string
  cidr: string
  blockSize?: number
  allowedUses?: readonly string[]
}

function field(name: string, value: unknown, reason: string, path: string): ErroredField {
  return {name, value: goValue(value), reason, path}
}

/** The CIDR as Calico stores it (network address and prefix), or undefined when it does not parse. */
export function canonicalPoolCIDR(cidr: string): string | undefined {
  const n = parseCIDR(cidr)
  return n ? formatCIDR(n.cidr) : undefined
}

/** On Create, a pool may not overlap any other pool (a pool with the same name is left to the datastore). */
export function checkPoolOverlap(pool: PoolRef, others: readonly PoolRef[]): ErroredField[] {
  const mine = parseCIDR(pool.cidr)
  if (!mine) return []
  const out: ErroredField[] = []
  for (const o of others) {
    if (o.name === pool.name) continue
    const theirs = parseCIDR(o.cidr)
    if (theirs && cidrsOverlap(mine.cidr, theirs.cidr)) {
      out.push(field('IPPool.Spec.CIDR', pool.cidr, `IPPool(${pool.name}) CIDR overlaps with IPPool(${o.name}) CIDR ${o.cidr}`, 'spec.cidr'))
    }
  }
  return out
}

/** Whether the new CIDR text is an acceptable restatement of the old one (same network, canonical form). */
function cidrChangeOK(oldCIDR: string, newCIDR: string): boolean {
  if (oldCIDR === newCIDR) return true
  const o = parseCIDR(oldCIDR)
  const n = parseCIDR(newCIDR)
  if (!o || !n) return false
  const same = o.ip.version === n.ip.version && o.cidr.prefix === n.cidr.prefix && formatCIDR(o.cidr) === formatCIDR(n.cidr)
  return same && newCIDR === formatCIDR(n.cidr)
}

/**
 * On Update: the CIDR and block size are immutable (changing them would corrupt IPAM), and a LoadBalancer pool
 * may not be switched to Workload or Tunnel use. Pass both pools after defaults were applied.
 */
export function checkIPPoolUpdate(oldPool: PoolRef, newPool: PoolRef): ErroredField[] {
  const out: ErroredField[] = []
  if (!cidrChangeOK(oldPool.cidr, newPool.cidr)) {
    out.push(field('IPPool.Spec.CIDR', newPool.cidr, 'IPPool CIDR cannot be modified', 'spec.cidr'))
  }
  const oldLB = (oldPool.allowedUses ?? []).includes('LoadBalancer')
  if (oldLB && (newPool.allowedUses ?? []).some((u) => u !== 'LoadBalancer')) {
    return [field('IPPool.Spec.AllowedUses', newPool.allowedUses, 'IPPool allowed use cannot be changed from LoadBalacer to Workload or Tunnel', 'spec.allowedUses')]
  }
  const version = parseCIDR(newPool.cidr)?.ip.version ?? 4
  const oldBS = oldPool.blockSize || defaultBlockSize(version)
  const newBS = newPool.blockSize || defaultBlockSize(version)
  if (oldBS !== newBS) {
    out.push(field('IPPool.Spec.BlockSize', newPool.blockSize, 'IPPool BlockSize cannot be modified', 'spec.blockSize'))
  }
  return out
}

/**
 * On Create (etcd): existing IPAM blocks inside the new pool must have the pool's block size, or allocations
 * would be corrupted. `blockCIDRs` are the CIDRs of the stored blocks.
 */
export function checkBlockSizeConflict(pool: PoolRef, blockCIDRs: readonly string[]): ErroredField[] {
  const mine = parseCIDR(pool.cidr)
  if (!mine) return []
  const size = pool.blockSize || defaultBlockSize(mine.ip.version)
  for (const b of blockCIDRs) {
    const block = parseCIDR(b)
    if (block && block.cidr.prefix !== size && cidrsOverlap(block.cidr, mine.cidr)) {
      return [field('IPPool.Spec.BlockSize', pool.blockSize ?? 0, 'IPPool blocksSize conflicts with existing allocations that use a different blockSize', 'spec.blockSize')]
    }
  }
  return []
}


