// One allocation block: pure ordinal arithmetic and the allocate/release/garbage-collect rules of
// libcalico-go's ipam_block.go, over the stored JSON shape. The clock is a parameter.
import {isDeepStrictEqual} from 'node:util'
import {NO_FILTER} from './addrfilter.js'
import type {AddrFilter} from './addrfilter.js'
import {BadHandleError, BadSequenceNumberError, IPAMError, IPInCooldownError} from './errors.js'
import {ResourceAlreadyExistsError, ResourceDoesNotExistError, ResourceUpdateConflictError} from '../api/errors.js'
import {metav1Time} from '../api/gotime.js'
import {affinityString, parseAffinity, sanitizeHandle, WINDOWS_RESERVED_HANDLE} from './model.js'
import type {AffinityConfig, AllocationAttribute, AllocationBlock} from './model.js'
import {cidrContainsIP, cidrSize, formatCIDR, formatIP, nthIP, parseCIDR, parseIP} from './net.js'
import type {CIDR, IPAddr} from './net.js'

/** Addresses kept out of use at both ends of every block (Windows: 3 at the start, 1 at the end). */
export interface HostReservedAttr {
  startOfBlock: number
  endOfBlock: number
  handle: string
  note: string
}

export interface ReleaseOptions {
  address: string
  /** When set, the address must be allocated to this handle. */
  handle?: string
  /** When set, must equal the allocation's sequence number (protects against release-after-reuse). */
  sequenceNumber?: number
}

/** A pod (namespace and name) expected to own an allocation; both empty means "no owner". */
export interface AttributeOwner {
  namespace: string
  name: string
}

/** New owner attributes for an allocation (KubeVirt live migration moves the owner between pods). */
export interface OwnerAttributeUpdates {
  activeOwnerAttrs?: Record<string, string>
  alternateOwnerAttrs?: Record<string, string>
  clearActiveOwner?: boolean
  clearAlternateOwner?: boolean
}

/** Conditions on the current owners that must hold for the update to apply. */
export interface OwnerAttributePreconditions {
  expectedActiveOwner?: AttributeOwner
  expectedAlternateOwner?: AttributeOwner
  verifyActiveOwnerEmpty?: boolean
  verifyAlternateOwnerEmpty?: boolean
}

/** Whether `attrs` name `owner` as their pod (AttributeOwner.Matches); the empty owner matches no attributes. */
export function ownerMatches(owner: AttributeOwner, attrs: Record<string, string> | undefined): boolean {
  const a = attrs ?? {}
  if (owner.namespace === '' && owner.name === '') return Object.keys(a).length === 0
  return a.pod === owner.name && a.namespace === owner.namespace && a.pod !== undefined && a.namespace !== undefined
}

function verifyOwner(current: Record<string, string> | undefined, expected: AttributeOwner | undefined, ip: string, field: string): void {
  if (!expected || ownerMatches(expected, current)) return
  const err = new ResourceUpdateConflictError(ip)
  err.cause = `cannot set ${field}: expected pod=${expected.name} namespace=${expected.namespace} but found pod=${current?.pod ?? ''} namespace=${current?.namespace ?? ''}`
  throw err
}

/**
 * The next block sequence number. Calico seeds blocks with a nanosecond timestamp, beyond 2^53, where
 * `n + 1` rounds back to `n` in a double; step to the next representable integer so a write always
 * changes the number.
 */
export function nextSequenceNumber(n: number): number {
  let step = 1
  while (n + step === n) step *= 2
  return n + step
}

/** Go's time.Now().UnixNano(), as precisely as a double allows. */
export function unixNanos(now: Date): number {
  return Number(BigInt(now.getTime()) * 1_000_000n)
}

function ordinalKey(ordinal: number): string {
  return String(ordinal)
}

function sameOwner(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  // Go stores an empty map as an omitted field, so absent and empty are the same owner.
  return isDeepStrictEqual(a ?? {}, b ?? {})
}

/** A newly created block: every ordinal free, in order, except host-reserved ones (ipam_block.go newBlock). */
export function newBlock(cidr: CIDR, now: Date, reserved?: HostReservedAttr): AllocationBlock {
  const n = Number(cidrSize(cidr))
  const block: AllocationBlock = {
    cidr: formatCIDR(cidr),
    affinity: null,
    allocations: new Array<number | null>(n).fill(null),
    unallocated: Array.from({length: n}, (_, i) => i),
    attributes: [],
    sequenceNumber: unixNanos(now),
    sequenceNumberForAllocation: {},
    deleted: false,
  }
  if (reserved) {
    block.unallocated = block.unallocated.slice(reserved.startOfBlock, n - reserved.endOfBlock)
    for (let i = 0; i < reserved.startOfBlock; i++) block.allocations[i] = 0
    for (let i = 1; i <= reserved.endOfBlock; i++) block.allocations[n - i] = 0
    block.attributes.push({handle_id: reserved.handle, secondary: {note: reserved.note}})
  }
  return block
}

/**
 * A working copy of a stored block. Mutating methods change only this copy; the caller writes
 * `value` back with compare-and-swap.
 */
export class Block {
  readonly value: AllocationBlock
  readonly cidr: CIDR

  private constructor(value: AllocationBlock, cidr: CIDR) {
    this.value = value
    this.cidr = cidr
  }

  /** Deep-copies and normalises a stored value (Go writes nil slices as null). */
  static fromStored(stored: AllocationBlock): Block {
    const raw = structuredClone(stored) as Partial<AllocationBlock> & {cidr: string}
    const cidr = parseCIDR(raw.cidr)
    if (!cidr) throw new IPAMError(`invalid block CIDR ${JSON.stringify(raw.cidr)}`)
    const n = Number(cidrSize(cidr))
    const value: AllocationBlock = {
      ...raw,
      cidr: raw.cidr,
      affinity: raw.affinity ?? (raw.hostAffinity ? `host:${raw.hostAffinity}` : null),
      allocations: raw.allocations ?? new Array<number | null>(n).fill(null),
      unallocated: raw.unallocated ?? [],
      attributes: raw.attributes ?? [],
      sequenceNumber: raw.sequenceNumber ?? 0,
      sequenceNumberForAllocation: raw.sequenceNumberForAllocation ?? {},
      deleted: raw.deleted ?? false,
    }
    return new Block(value, cidr)
  }

  get numAddresses(): number {
    return this.value.allocations.length
  }

  get affinity(): AffinityConfig | undefined {
    return parseAffinity(this.value.affinity)
  }

  /** The host (or virtual owner) this block is affine to, '' when unaffine. */
  get host(): string {
    return this.affinity?.host ?? ''
  }

  ordinalToIP(ordinal: number): IPAddr {
    return nthIP(this.cidr, ordinal)
  }

  /** Throws when the address is outside the block. */
  ipToOrdinal(ip: IPAddr): number {
    if (!cidrContainsIP(this.cidr, ip)) throw new IPAMError(`IP ${formatIP(ip)} not in block ${this.value.cidr}`)
    return Number(ip.value - this.cidr.base)
  }

  /** `ip/<block prefix>`: Calico returns assigned addresses with the block's mask. */
  private ipNet(ordinal: number): string {
    return `${formatIP(this.ordinalToIP(ordinal))}/${this.cidr.prefix}`
  }

  sequenceNumberFor(ordinal: number): number {
    return this.value.sequenceNumberForAllocation[ordinalKey(ordinal)] ?? 0
  }

  private setSequenceNumberFor(ordinal: number): void {
    this.value.sequenceNumberForAllocation[ordinalKey(ordinal)] = this.value.sequenceNumber
  }

  /** Called before every write, which also guarantees the stored revision changes. */
  bumpSequenceNumber(): void {
    this.value.sequenceNumber = nextSequenceNumber(this.value.sequenceNumber)
  }

  private checkAffinity(affinityCheck: boolean, affinity: AffinityConfig, mismatch: string): void {
    if (this.value.affinity === null) {
      if (affinityCheck) throw new IPAMError(`Attempt to assign from block ${this.value.cidr} with no affinity`)
    } else if (affinityCheck && this.value.affinity !== affinityString(affinity)) {
      throw new IPAMError(mismatch)
    }
  }

  private findOrAddAttribute(handleID: string | undefined, attrs: Record<string, string> | undefined): number {
    const idx = this.value.attributes.findIndex(
      (a) => a.handle_id === handleID && sameOwner(a.secondary, attrs) && a.alternateOwnerAttrs === undefined && a.releasedAt === undefined,
    )
    if (idx >= 0) return idx
    const attr: AllocationAttribute = {}
    if (handleID !== undefined) attr.handle_id = handleID
    if (attrs && Object.keys(attrs).length > 0) attr.secondary = {...attrs}
    this.value.attributes.push(attr)
    return this.value.attributes.length - 1
  }

  /**
   * Takes up to `num` free addresses in `unallocated` order, skipping reserved ones (which stay
   * queued); all share one attribute entry. Returns `ip/blockprefix` strings.
   */
  autoAssign(
    num: number,
    handleID: string | undefined,
    attrs: Record<string, string> | undefined,
    affinity: AffinityConfig,
    affinityCheck: boolean,
    reservations: AddrFilter = NO_FILTER,
  ): string[] {
    this.checkAffinity(
      affinityCheck,
      affinity,
      `Block affinity (${this.value.affinity}) does not match provided (${affinity.host}:${affinity.affinityType})`,
    )
    const ips: string[] = []
    const remaining: number[] = []
    let attrIndex: number | undefined
    for (let i = 0; i < this.value.unallocated.length; i++) {
      const ordinal = this.value.unallocated[i]
      if (ips.length >= num) {
        remaining.push(...this.value.unallocated.slice(i))
        break
      }
      if (reservations.matchesIP(this.ordinalToIP(ordinal))) {
        remaining.push(ordinal)
        continue
      }
      attrIndex ??= this.findOrAddAttribute(handleID, attrs)
      this.value.allocations[ordinal] = attrIndex
      this.setSequenceNumberFor(ordinal)
      ips.push(this.ipNet(ordinal))
    }
    this.value.unallocated = remaining
    return ips
  }

  /** Allocates one specific address (ipam_block.go assign). */
  assign(ip: IPAddr, handleID: string | undefined, attrs: Record<string, string> | undefined, affinity: AffinityConfig, affinityCheck: boolean): void {
    this.checkAffinity(affinityCheck, affinity, 'Block host affinity does not match')
    const ordinal = this.ipToOrdinal(ip)
    if (this.value.allocations[ordinal] !== null) {
      throw new ResourceAlreadyExistsError(formatIP(ip), 'Address already assigned in block')
    }
    this.setSequenceNumberFor(ordinal)
    this.value.allocations[ordinal] = this.findOrAddAttribute(handleID, attrs)
    const at = this.value.unallocated.indexOf(ordinal)
    if (at >= 0) this.value.unallocated.splice(at, 1)
  }

  /** Free addresses that are not reserved. */
  numFreeAddresses(reservations: AddrFilter = NO_FILTER): number {
    if (reservations.matchesWholeCIDR(this.cidr)) return 0
    if (!reservations.matchesSome(this.cidr)) return this.value.unallocated.length
    return this.value.unallocated.filter((o) => !reservations.matchesIP(this.ordinalToIP(o))).length
  }

  /** Empty means no allocations other than Windows host-reserved ones. */
  empty(): boolean {
    return this.value.allocations.every((idx) => {
      if (idx === null) return true
      const h = this.value.attributes[idx]?.handle_id
      return h !== undefined && h.toLowerCase() === WINDOWS_RESERVED_HANDLE
    })
  }

  inUseIPs(): string[] {
    const out: string[] = []
    this.value.allocations.forEach((idx, o) => {
      if (idx !== null) out.push(formatIP(this.ordinalToIP(o)))
    })
    return out
  }

  private addCooldownAttribute(now: Date): number {
    this.value.attributes.push({releasedAt: metav1Time(now)})
    return this.value.attributes.length - 1
  }

  /**
   * Releases addresses (ipam_block.go release). Validates every option before changing anything.
   * Returns the addresses that were not allocated and the number released per handle.
   */
  release(addresses: readonly ReleaseOptions[], now: Date, cooldownSeconds: number): {unallocated: string[]; countByHandle: Map<string, number>} {
    const unique = new Map<string, ReleaseOptions>()
    for (const opt of addresses) unique.set(opt.address, opt)
    const unallocated: string[] = []
    const countByHandle = new Map<string, number>()
    const ordinals: number[] = []
    for (const [text, opt] of unique) {
      const ip = parseIP(text)
      if (!ip) throw new IPAMError(`failed to parse the given IP: ${text}`)
      const ordinal = this.ipToOrdinal(ip)
      if (opt.sequenceNumber !== undefined && opt.sequenceNumber !== this.sequenceNumberFor(ordinal)) {
        throw new BadSequenceNumberError(text, opt.sequenceNumber, this.sequenceNumberFor(ordinal))
      }
      const idx = this.value.allocations[ordinal]
      if (idx === null || this.value.attributes[idx]?.releasedAt !== undefined) {
        unallocated.push(formatIP(ip))
        continue
      }
      ordinals.push(ordinal)
      const stored = this.value.attributes[idx]?.handle_id
      const handle = stored === undefined ? '' : sanitizeHandle(stored)
      if (opt.handle && handle !== opt.handle) throw new BadHandleError(text, opt.handle, handle)
      if (handle !== '') countByHandle.set(handle, (countByHandle.get(handle) ?? 0) + 1)
    }
    if (ordinals.length > 0) {
      const cooling = this.addCooldownAttribute(now)
      for (const o of ordinals) {
        this.value.allocations[o] = cooling
        this.setSequenceNumberFor(o)
      }
      this.garbageCollect(now, cooldownSeconds)
    }
    return {unallocated, countByHandle}
  }

  private attributeIndexesByHandle(handleID: string): Set<number> {
    const out = new Set<number>()
    this.value.attributes.forEach((a, i) => {
      if (a.handle_id !== undefined && sanitizeHandle(a.handle_id) === handleID) out.add(i)
    })
    return out
  }

  /** Releases every address of a handle (optionally only the one with this sequence number); returns the count. */
  releaseByHandle(handleID: string, now: Date, cooldownSeconds: number, sequenceNumber?: number): number {
    const indexes = this.attributeIndexesByHandle(handleID)
    if (indexes.size === 0) return 0
    let cooling: number | undefined
    let count = 0
    this.value.allocations.forEach((idx, o) => {
      if (idx === null || !indexes.has(idx)) return
      if (sequenceNumber !== undefined && sequenceNumber !== this.sequenceNumberFor(o)) return
      cooling ??= this.addCooldownAttribute(now)
      this.value.allocations[o] = cooling
      count++
    })
    this.garbageCollect(now, cooldownSeconds)
    return count
  }

  /**
   * Frees addresses whose cooldown has passed (appending them to the tail of `unallocated`) and
   * compacts attributes nothing refers to. Returns whether anything changed.
   */
  garbageCollect(now: Date, cooldownSeconds: number): boolean {
    let changed = false
    const used = new Set<number>()
    const cutoff = now.getTime() - cooldownSeconds * 1000
    const n = this.numAddresses
    for (let o = 0; o < n; o++) {
      const idx = this.value.allocations[o]
      if (idx === null) continue
      const releasedAt = this.value.attributes[idx]?.releasedAt
      if (releasedAt !== undefined && Date.parse(releasedAt) <= cutoff) {
        this.value.allocations[o] = null
        this.value.unallocated.push(o)
        delete this.value.sequenceNumberForAllocation[ordinalKey(o)]
        changed = true
      } else {
        used.add(idx)
      }
    }
    if (used.size !== this.value.attributes.length) {
      const remap = new Map<number, number>()
      const kept: AllocationAttribute[] = []
      this.value.attributes.forEach((a, i) => {
        if (used.has(i)) {
          remap.set(i, kept.length)
          kept.push(a)
        }
      })
      this.value.attributes = kept
      for (let o = 0; o < n; o++) {
        const idx = this.value.allocations[o]
        if (idx !== null) this.value.allocations[o] = remap.get(idx) ?? null
      }
      changed = true
    }
    return changed
  }

  /** Addresses (no mask) allocated to a handle. */
  ipsByHandle(handleID: string): string[] {
    const indexes = this.attributeIndexesByHandle(handleID)
    const out: string[] = []
    this.value.allocations.forEach((idx, o) => {
      if (idx !== null && indexes.has(idx)) out.push(formatIP(this.ordinalToIP(o)))
    })
    return out
  }

  /** The attributes of an allocated address (handle sanitised), as GetAssignmentAttributes reports them. */
  attributesForIP(ip: IPAddr): AllocationAttribute {
    const idx = this.value.allocations[this.ipToOrdinal(ip)]
    if (idx === null) throw new ResourceDoesNotExistError(formatIP(ip), 'IP is unassigned')
    const attr = this.value.attributes[idx]
    if (attr.releasedAt !== undefined) throw new IPInCooldownError(formatIP(ip))
    const out: AllocationAttribute = {}
    if (attr.handle_id !== undefined) out.handle_id = sanitizeHandle(attr.handle_id)
    if (attr.secondary) out.secondary = attr.secondary
    if (attr.alternateOwnerAttrs) out.alternateOwnerAttrs = attr.alternateOwnerAttrs
    return out
  }

  /**
   * Changes the active and/or alternate owner of an address allocated to `handleID`, after checking
   * the preconditions (ipam_block.go setOwnerAttributes). The attribute entry is changed in place, so
   * every address sharing it changes too, as in Calico.
   */
  setOwnerAttributes(ip: IPAddr, handleID: string, updates: OwnerAttributeUpdates, preconditions: OwnerAttributePreconditions = {}): void {
    const idx = this.value.allocations[this.ipToOrdinal(ip)]
    const text = formatIP(ip)
    if (idx === null) throw new ResourceDoesNotExistError(text, 'IP is unassigned')
    const attr = this.value.attributes[idx]
    if (attr.handle_id === undefined || sanitizeHandle(attr.handle_id) !== handleID) {
      throw new IPAMError(`IP ${text} is not assigned to handle ${handleID}`)
    }
    const active = updates.activeOwnerAttrs !== undefined || updates.clearActiveOwner === true
    const alternate = updates.alternateOwnerAttrs !== undefined || updates.clearAlternateOwner === true
    const empty: AttributeOwner = {namespace: '', name: ''}
    if (active) verifyOwner(attr.secondary, preconditions.verifyActiveOwnerEmpty ? empty : preconditions.expectedActiveOwner, text, 'ActiveOwnerAttrs')
    if (alternate) {
      const expected = preconditions.verifyAlternateOwnerEmpty ? empty : preconditions.expectedAlternateOwner
      verifyOwner(attr.alternateOwnerAttrs, expected, text, 'AlternateOwnerAttrs')
    }
    if (active) {
      if (updates.clearActiveOwner || !updates.activeOwnerAttrs || Object.keys(updates.activeOwnerAttrs).length === 0) delete attr.secondary
      else attr.secondary = {...updates.activeOwnerAttrs}
    }
    if (alternate) {
      if (updates.clearAlternateOwner || !updates.alternateOwnerAttrs || Object.keys(updates.alternateOwnerAttrs).length === 0) delete attr.alternateOwnerAttrs
      else attr.alternateOwnerAttrs = {...updates.alternateOwnerAttrs}
    }
  }

  /** Every allocated ordinal with its attribute (undefined when the index is dangling). */
  allocations(): {ordinal: number; ip: string; attribute: AllocationAttribute | undefined}[] {
    const out: {ordinal: number; ip: string; attribute: AllocationAttribute | undefined}[] = []
    this.value.allocations.forEach((idx, o) => {
      if (idx !== null) out.push({ordinal: o, ip: formatIP(this.ordinalToIP(o)), attribute: this.value.attributes[idx]})
    })
    return out
  }

  /** Allocations whose `node` attribute is not this block's host (borrowed addresses). */
  nonAffineAllocations(): {ip: string; host: string}[] {
    const mine = this.host
    return this.allocations()
      .filter((a) => a.attribute !== undefined)
      .map((a) => ({ip: a.ip, host: a.attribute?.secondary?.node ?? ''}))
      .filter((a) => !(mine !== '' && a.host === mine))
  }

  /** The time the affinity was claimed; epoch for old blocks without one. */
  affinityClaimTime(): Date {
    return new Date(this.value.affinity_claim_time ? Date.parse(this.value.affinity_claim_time) : 0)
  }
}
