// The IPAM client: Calico's allocation algorithm (libcalico-go/lib/ipam/ipam.go and
// ipam_block_reader_writer.go) over the Backend. Every change is compare-and-swap on the revision the
// object was read at, retried a bounded number of times, so allocators on many hosts sharing one
// datastore never hand out an address twice.
import {hostname as osHostname} from 'node:os'
import {isDeepStrictEqual} from 'node:util'
import type {Backend, KVPair} from '../datastore/backend.js'
import {CalicoError, ResourceAlreadyExistsError, ResourceDoesNotExistError, ValidationError} from '../api/errors.js'
import type {Labels} from '../api/selector.js'
import type {AddrFilter} from './addrfilter.js'
import {Block} from './block.js'
import type {HostReservedAttr, OwnerAttributePreconditions, OwnerAttributeUpdates, ReleaseOptions} from './block.js'
import {
  BlockClaimConflictError,
  BlockLimitError,
  BlockNotEmptyError,
  InsufficientIPsByHandleError,
  InvalidSizeError,
  IPAMError,
  MaxAllocReachedError,
  MaxRetriesError,
  NoFreeBlocksError,
  NoQualifiedPoolError,
  StaleAffinityError,
  StrictAffinityRequiredError,
  UseRequiredError,
} from './errors.js'
import {
  configFromStored,
  configToStored,
  DEFAULT_IPAM_CONFIG,
  parseAffinity,
  sanitizeHandle,
} from './model.js'
import type {AffinityConfig, AffinityType, AllocationAttribute, AllocationBlock, IPAMConfig} from './model.js'
import {cidrBaseIP, cidrContainsIP, cidrsOverlap, formatCIDR, formatIP, mustParseCIDR, mustParseIP, parseCIDR, textVersion} from './net.js'
import type {CIDR, IPVersion} from './net.js'
import {
  blockCIDRFor,
  blocksIn,
  determinePools,
  enabledPools,
  filterPoolsByUse,
  findContainingPool,
  maxPrefixLen,
  randomBlocks,
  selectsNode,
} from './pools.js'
import type {IPPoolUse, Pool} from './pools.js'
import {IPAMStore, isConflict, isNotFound} from './store.js'
import {BlockClaims} from './claims.js'
import type {ReleaseAffinityOpts} from './claims.js'
import {HandleCounts} from './handles.js'
import {borrowedIPs, computeUtilization} from './utilization.js'
import type {BorrowedIP, PoolUtilization} from './utilization.js'
import {nodeTunnelIPs, workloadIPs} from './check.js'
import type {CheckInput, InUseIP} from './check.js'
import type {Resource} from '../api/resource.js'

/** libcalico-go's datastoreRetries. */
export const DATASTORE_RETRIES = 100
/** Used when neither the request nor the IPAM configuration limits blocks per host. */
export const DEFAULT_MAX_BLOCKS_PER_HOST = 20

export interface AutoAssignArgs {
  num4: number
  num6: number
  handleID?: string
  /** Owner attributes stored with the allocation (pod, namespace, node, type, ...). */
  attrs?: Record<string, string>
  /** Defaults to the OS host name. */
  hostname?: string
  /** Pool CIDRs to use instead of selector-based pool choice. */
  ipv4Pools?: string[]
  ipv6Pools?: string[]
  /** Per-request block limit; the stricter of this and the IPAM configuration applies. */
  maxBlocksPerHost?: number
  hostReservedAttrIPv4s?: HostReservedAttr
  hostReservedAttrIPv6s?: HostReservedAttr
  intendedUse: IPPoolUse
  /** Labels of the workload's namespace, for pools with a namespaceSelector. */
  namespaceLabels?: Labels
  /** When > 0 a handle may hold at most this many addresses per IP version (KubeVirt persistence). */
  maxAllocPerIPVersion?: number
}

export interface IPAMAssignments {
  /** `ip/<block prefix>`, e.g. `10.0.0.5/26`, as Calico returns them. */
  ips: string[]
  ipVersion: IPVersion
  numRequested: number
  hostReservedAttr?: HostReservedAttr
  /** Why fewer addresses than requested were assigned. */
  msgs: string[]
}

export interface AutoAssignResult {
  v4?: IPAMAssignments
  v6?: IPAMAssignments
}

/**
 * AutoAssign failed; `cause` is the Calico error (BlockLimitError, NoQualifiedPoolError, ...) and
 * v4/v6 hold the addresses assigned before it, which the caller owns and must release.
 */
export class AutoAssignError extends CalicoError {
  constructor(override readonly cause: Error, readonly v4?: IPAMAssignments, readonly v6?: IPAMAssignments) {
    super(cause.message)
  }
}

/** `Assigned X out of Y requested IPvN addresses; <msgs>` when the request was not met, else undefined. */
export function partialFulfillmentError(ia: IPAMAssignments): string | undefined {
  if (ia.ips.length >= ia.numRequested) return undefined
  let s = `Assigned ${ia.ips.length} out of ${ia.numRequested} requested IPv${ia.ipVersion} addresses`
  for (const m of ia.msgs) s += `; ${m}`
  if (ia.hostReservedAttr) s += `; HostReservedAttr: ${ia.hostReservedAttr.handle}`
  return s
}

export interface AssignIPArgs {
  ip: string
  handleID?: string
  attrs?: Record<string, string>
  hostname?: string
  intendedUse?: IPPoolUse
  hostReservedAttr?: HostReservedAttr
  maxAllocPerIPVersion?: number
}

export interface ReleaseResult {
  /** Addresses that were not allocated (idempotent release). */
  unallocated: string[]
  /** The options whose blocks were processed without error. */
  released: ReleaseOptions[]
}

export interface ClaimResult {
  claimed: string[]
  /** Blocks already affine to another host. */
  failed: string[]
}

export interface AssignmentAttributes {
  handleID?: string
  attrs: Record<string, string>
  alternateOwnerAttrs?: Record<string, string>
}

export interface IPAMClientOptions {
  /** The clock (tests age claims and cooldowns with it). */
  now?: () => Date
  /** Windows hosts require strict affinity (GetIPAMConfig's ErrStrictAffinity). */
  windows?: boolean
  /** CAS retries per loop; libcalico-go uses 100. */
  retries?: number
}

interface AssignState {
  version: IPVersion
  affinity: AffinityConfig
  pools: Pool[]
  remainingAffineBlocks: string[]
  hostReserved?: HostReservedAttr
  allowNewClaim: boolean
  reservations: AddrFilter
}


/** How many blocks releaseIPs works on at once. */
const RELEASE_PARALLELISM = 8

/** Promise.allSettled over `items`, running at most `width` of them at a time. */
async function settleInBatches<T, R>(items: T[], width: number, run: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = []
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.allSettled(items.slice(i, i + width).map(run))))
  return out
}

function affinityFor(host: string, use?: IPPoolUse): AffinityConfig {
  return {affinityType: use === 'LoadBalancer' ? 'virtual' : 'host', host}
}

export class IPAMClient {
  readonly store: IPAMStore
  private readonly now: () => Date
  private readonly windows: boolean
  private readonly retries: number
  private readonly claims: BlockClaims
  private readonly handles: HandleCounts

  constructor(backend: Backend, options: IPAMClientOptions = {}) {
    this.store = new IPAMStore(backend)
    this.now = options.now ?? (() => new Date())
    this.windows = options.windows ?? false
    this.retries = options.retries ?? DATASTORE_RETRIES
    this.claims = new BlockClaims(this.store, this.now)
    this.handles = new HandleCounts(this.store, this.retries)
  }

  // ---------------------------------------------------------------- configuration

  async getIPAMConfig(): Promise<IPAMConfig> {
    const stored = await this.store.getConfig()
    const config = stored ? configFromStored(stored.value) : {...DEFAULT_IPAM_CONFIG}
    if (this.windows && !config.strictAffinity) throw new StrictAffinityRequiredError()
    return config
  }

  async setIPAMConfig(config: IPAMConfig): Promise<void> {
    if (!config.strictAffinity && !config.autoAllocateBlocks) {
      throw new IPAMError("Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time")
    }
    if (config.maxBlocksPerHost > 0 && !config.strictAffinity) {
      throw new IPAMError('MaxBlocksPerHost requires StrictAffinity to be enabled')
    }
    const stored = await this.store.getConfig()
    const next = configToStored(config)
    if (stored && isDeepStrictEqual(stored.value, next)) return
    await this.store.putConfig(next, stored?.revision)
  }

  // ---------------------------------------------------------------- auto-assign

  /** Assigns num4 IPv4 then num6 IPv6 addresses; throws AutoAssignError (with partial results) on failure. */
  async autoAssign(args: AutoAssignArgs): Promise<AutoAssignResult> {
    const host = args.hostname || osHostname()
    const result: AutoAssignResult = {}
    const wanted: [IPVersion, number, string[] | undefined, HostReservedAttr | undefined][] = [
      [4, args.num4, args.ipv4Pools, args.hostReservedAttrIPv4s],
      [6, args.num6, args.ipv6Pools, args.hostReservedAttrIPv6s],
    ]
    for (const [version, num, requested, reserved] of wanted) {
      if (!num) continue
      try {
        const cidrs = (requested ?? []).map(mustParseCIDR)
        if (cidrs.some((c) => c.version !== version)) {
          throw new IPAMError(`provided IPv${version} IPPools list contains one or more IPv${version === 4 ? 6 : 4} IPPools`)
        }
        await this.autoAssignVersion(args, host, version, num, cidrs, reserved, result)
      } catch (e) {
        throw new AutoAssignError(e as Error, result.v4, result.v6)
      }
    }
    return result
  }

  private async autoAssignVersion(
    args: AutoAssignArgs,
    host: string,
    version: IPVersion,
    num: number,
    requested: CIDR[],
    reserved: HostReservedAttr | undefined,
    result: AutoAssignResult,
  ): Promise<void> {
    if (!args.intendedUse) throw new UseRequiredError()
    const affinity = affinityFor(host, args.intendedUse)
    const config = await this.getIPAMConfig()
    const reservations = await this.store.reservations()
    const {pools, affineBlocks} = await this.prepareAffinityBlocksForHost(config, requested, version, affinity, reserved, args.intendedUse, args.namespaceLabels)

    let numBlocksOwned = affineBlocks.length
    let maxBlocks = args.maxBlocksPerHost ?? 0
    if (config.maxBlocksPerHost > 0 && maxBlocks > 0 && maxBlocks > config.maxBlocksPerHost) maxBlocks = config.maxBlocksPerHost
    else if (maxBlocks === 0) maxBlocks = config.maxBlocksPerHost
    if (maxBlocks === 0) maxBlocks = DEFAULT_MAX_BLOCKS_PER_HOST

    const ia: IPAMAssignments = {ips: [], ipVersion: version, numRequested: num, msgs: []}
    if (reserved) ia.hostReservedAttr = reserved
    // Published before any address is taken so a failure still reports what was assigned.
    if (version === 4) result.v4 = ia
    else result.v6 = ia
    const addMsg = (m: string) => {
      if (!ia.msgs.includes(m)) ia.msgs.push(m)
    }
    const state: AssignState = {version, affinity, pools, remainingAffineBlocks: affineBlocks, allowNewClaim: true, reservations}
    if (reserved) state.hostReserved = reserved
    const maxAlloc = args.maxAllocPerIPVersion ?? 0

    while (ia.ips.length < num) {
      if (numBlocksOwned >= maxBlocks) state.allowNewClaim = false
      let found: {block: KVPair<AllocationBlock>; newlyClaimed: boolean}
      try {
        found = await this.findOrClaimBlock(state, config, 1)
      } catch (e) {
        if (e instanceof NoFreeBlocksError) {
          if (config.strictAffinity) addMsg('No more free affine blocks and strict affinity enabled')
          break
        }
        if (e instanceof BlockLimitError) {
          addMsg(`Need to allocate an IPAM block but could not - limit of ${maxBlocks} blocks reached for this node`)
        }
        throw e
      }
      if (found.newlyClaimed) numBlocksOwned++
      let block = found.block
      for (let i = 0; i < this.retries; i++) {
        const rem = num - ia.ips.length
        try {
          ia.ips.push(...(await this.assignFromExistingBlock(config, block, rem, args.handleID, args.attrs, affinity, config.strictAffinity, reservations, maxAlloc)))
          break
        } catch (e) {
          if (isConflict(e)) {
            try {
              block = await this.store.getBlock(block.value.cidr)
            } catch (e2) {
              if (isNotFound(e2)) break
              throw e2
            }
            continue
          }
          if (e instanceof MaxAllocReachedError && args.handleID !== undefined) {
            try {
              ia.ips.push(...(await this.existingIPsOfHandle(args.handleID, num, version)))
              return
            } catch (e2) {
              // Another request on this handle is half-way through: look again.
              if (!(e2 instanceof InsufficientIPsByHandleError)) throw e2
              block = await this.store.getBlock(block.value.cidr)
              continue
            }
          }
          addMsg('Failed to assign IPs in newly allocated block')
          break
        }
      }
    }

    // Last resort without strict affinity: any existing block with room, including other hosts'.
    if (!config.strictAffinity && ia.ips.length < num) {
      const exhausted: string[] = []
      for (const pool of pools) {
        const blocks = randomBlocks(pool, host)
        while (ia.ips.length < num) {
          const next = blocks.next()
          if (next.done) {
            exhausted.push(pool.cidrText)
            break
          }
          if (reservations.matchesWholeCIDR(next.value)) continue
          const cidr = formatCIDR(next.value)
          for (let i = 0; i < this.retries; i++) {
            let block: KVPair<AllocationBlock>
            try {
              block = await this.store.getBlock(cidr)
            } catch (e) {
              // Blocks nobody has claimed yet cannot be borrowed from.
              if (isNotFound(e)) break
              throw e
            }
            try {
              const ips = await this.assignFromExistingBlock(config, block, num - ia.ips.length, args.handleID, args.attrs, affinity, false, reservations, maxAlloc)
              ia.ips.push(...ips)
              break
            } catch (e) {
              if (isConflict(e)) continue
              if (e instanceof MaxAllocReachedError && args.handleID !== undefined) {
                try {
                  ia.ips.push(...(await this.existingIPsOfHandle(args.handleID, num, version)))
                  return
                } catch (e2) {
                  if (e2 instanceof InsufficientIPsByHandleError) continue
                  throw e2
                }
              }
              break
            }
          }
        }
      }
      if (exhausted.length > 0) addMsg(`No IPs available in pools: [${exhausted.join(' ')}]`)
    }
  }

  /**
   * Makes sure the host owns a block of each version whose host-reserved attribute is given, claiming
   * one if needed, without allocating (Windows nodes carve their reserved addresses this way).
   * Returns the block CIDRs.
   */
  async ensureBlock(args: {
    hostname?: string
    hostReservedAttrIPv4s?: HostReservedAttr
    hostReservedAttrIPv6s?: HostReservedAttr
    ipv4Pools?: string[]
    ipv6Pools?: string[]
  }): Promise<{v4?: string; v6?: string}> {
    const affinity: AffinityConfig = {affinityType: 'host', host: args.hostname || osHostname()}
    const out: {v4?: string; v6?: string} = {}
    const wanted: [IPVersion, HostReservedAttr | undefined, string[] | undefined][] = [
      [4, args.hostReservedAttrIPv4s, args.ipv4Pools],
      [6, args.hostReservedAttrIPv6s, args.ipv6Pools],
    ]
    for (const [version, reserved, requested] of wanted) {
      if (!reserved) continue
      const cidrs = (requested ?? []).map(mustParseCIDR)
      if (cidrs.some((c) => c.version !== version)) {
        throw new IPAMError(`provided IPv${version} IPPools list contains one or more IPv${version === 4 ? 6 : 4} IPPools`)
      }
      const config = await this.getIPAMConfig()
      const {pools, affineBlocks} = await this.prepareAffinityBlocksForHost(config, cidrs, version, affinity, reserved, 'Workload', undefined)
      const state: AssignState = {
        version,
        affinity,
        pools,
        remainingAffineBlocks: affineBlocks,
        hostReserved: reserved,
        allowNewClaim: true,
        reservations: await this.store.reservations(),
      }
      const {block} = await this.findOrClaimBlock(state, config, 0)
      if (version === 4) out.v4 = block.value.cidr
      else out.v6 = block.value.cidr
    }
    return out
  }

  /** The pools that may serve the request and this host's affine blocks inside them (prepareAffinityBlocksForHost). */
  private async prepareAffinityBlocksForHost(
    config: IPAMConfig,
    requested: CIDR[],
    version: IPVersion,
    affinity: AffinityConfig,
    reserved: HostReservedAttr | undefined,
    use: IPPoolUse,
    namespaceLabels: Labels | undefined,
  ): Promise<{pools: Pool[]; affineBlocks: string[]}> {
    // LoadBalancer addresses belong to a synthetic node without labels.
    const nodeLabels = use === 'LoadBalancer' ? {} : await this.store.nodeLabels(affinity.host)
    const enabled = enabledPools(await this.store.listPools(), version)
    const req = {version, enabled, requested, nodeLabels, maxPrefixLen: maxPrefixLen(version, reserved)}
    const selecting = determinePools(namespaceLabels ? {...req, namespaceLabels} : req)
    if (selecting.length === 0) throw new IPAMError(`no configured Calico pools for node ${affinity.host}`)
    const allowed = filterPoolsByUse(selecting, use)
    if (allowed.length === 0) throw new NoQualifiedPoolError(`no pools match the required use (${use})`)

    const inAny = (pools: Pool[], cidr: string) => findContainingPool(pools, cidrBaseIP(mustParseCIDR(cidr))) !== undefined
    const affine = (await this.store.listAffinities(affinity, version)).map((a) => a.cidr)
    const usable = affine.filter((c) => inAny(allowed, c))
    // Best effort: give up empty blocks of pools that no longer select this node.
    for (const cidr of affine.filter((c) => !inAny(allowed, c) && !inAny(selecting, c))) {
      const pool = findContainingPool(enabled, cidrBaseIP(mustParseCIDR(cidr)))
      if (!pool || selectsNode(pool, nodeLabels)) continue
      await this.releaseAffinityRetrying(config, affinity, cidr, {requireEmpty: true}, 'ignore')
    }
    return {pools: allowed, affineBlocks: usable}
  }

  /**
   * releaseBlockAffinity retried on CAS conflicts: a block another host owns or one already gone is fine, and so is
   * a non-empty block when `notEmpty` is 'ignore' ('throw': the caller asked for an empty block, BlockNotEmptyError).
   */
  private async releaseAffinityRetrying(config: IPAMConfig, affinity: AffinityConfig, cidr: string, opts: ReleaseAffinityOpts, notEmpty: 'ignore' | 'throw'): Promise<void> {
    for (let i = 0; i < this.retries; i++) {
      try {
        await this.claims.releaseBlockAffinity(config, affinity, cidr, opts)
        return
      } catch (e) {
        if (isConflict(e)) continue
        if (e instanceof BlockClaimConflictError || isNotFound(e) || (e instanceof BlockNotEmptyError && notEmpty === 'ignore')) return
        throw e
      }
    }
    throw new MaxRetriesError()
  }

  /** A block of this host with at least minFree free addresses, claiming a new one if needed. */
  private async findOrClaimBlock(s: AssignState, config: IPAMConfig, minFree: number): Promise<{block: KVPair<AllocationBlock>; newlyClaimed: boolean}> {
    while (s.remainingAffineBlocks.length > 0) {
      const cidr = s.remainingAffineBlocks.shift() as string
      if (s.reservations.matchesWholeCIDR(mustParseCIDR(cidr))) continue
      for (let i = 0; i < this.retries; i++) {
        let block: KVPair<AllocationBlock>
        try {
          const aff = await this.store.getAffinity(s.affinity, cidr)
          block = await this.claims.getBlockFromAffinity(aff, cidr, s.hostReserved, s.affinity)
        } catch (e) {
          if (isConflict(e)) continue
          break
        }
        if (this.claims.loadBlock(config, block).numFreeAddresses(s.reservations) >= minFree) return {block, newlyClaimed: false}
        break
      }
    }
    if (!s.allowNewClaim) throw new BlockLimitError()
    if (!config.autoAllocateBlocks) throw new IPAMError('failed to find or claim a block')

    for (let i = 0; i < this.retries; i++) {
      const {cidr: subnet, ours} = await this.claims.findUsableBlock(s.affinity, s.version, s.pools, s.reservations, config)
      for (let j = 0; j < this.retries; j++) {
        let block: KVPair<AllocationBlock>
        try {
          const pending = await this.claims.getPendingAffinity(s.affinity, subnet)
          block = await this.claims.getBlockFromAffinity(pending, subnet, s.hostReserved, s.affinity)
        } catch (e) {
          // A concurrent claimer may have replaced or removed what we just read: start over.
          if (isConflict(e) || isNotFound(e)) continue
          if (e instanceof BlockClaimConflictError || e instanceof StaleAffinityError) break
          throw e
        }
        // Calico counts every block found here as new; one this host already owned is not, so the
        // per-host block limit is not reached early when a host's allocators race.
        if (this.claims.loadBlock(config, block).numFreeAddresses(s.reservations) >= minFree) return {block, newlyClaimed: !ours}
        // Another process of this host filled the block between our search and claim. Calico fails
        // the request here; looking for another block is what the caller wants.
        break
      }
    }
    throw new MaxRetriesError()
  }

  /** Allocates up to num addresses from one block: handle first, then the block CAS (undoing the handle on failure). */
  private async assignFromExistingBlock(
    config: IPAMConfig,
    kv: KVPair<AllocationBlock>,
    num: number,
    handleID: string | undefined,
    attrs: Record<string, string> | undefined,
    affinity: AffinityConfig,
    affinityCheck: boolean,
    reservations: AddrFilter,
    maxAlloc: number,
  ): Promise<string[]> {
    const b = this.claims.loadBlock(config, kv)
    const ips = b.autoAssign(num, handleID, attrs, affinity, affinityCheck, reservations)
    if (ips.length === 0) return []
    // Count what was taken (Calico counts what was asked for, which over-counts a nearly full block).
    if (handleID !== undefined) await this.handles.incrementHandle(handleID, kv.value.cidr, ips.length, maxAlloc)
    try {
      await this.store.updateBlock(kv, b.value)
    } catch (e) {
      if (handleID !== undefined) await this.handles.decrementHandle(handleID, kv.value.cidr, ips.length).catch(() => undefined)
      throw e
    }
    return ips
  }

  /** The addresses a handle already holds when MaxAllocPerIPVersion stops a new allocation (idempotent retries). */
  private async existingIPsOfHandle(handleID: string, num: number, version: IPVersion): Promise<string[]> {
    const ips = (await this.ipsByHandle(handleID)).filter((ip) => textVersion(ip) === version)
    if (ips.length < num) throw new InsufficientIPsByHandleError(handleID, ips.length, num)
    return ips.slice(0, num).map((ip) => `${ip}/${version === 4 ? 32 : 128}`)
  }

  // ---------------------------------------------------------------- specific address

  /** Assigns one given address (claiming its block for this host if it does not exist). */
  async assignIP(args: AssignIPArgs): Promise<void> {
    const host = args.hostname || osHostname()
    const affinity = affinityFor(host, args.intendedUse)
    const ip = mustParseIP(args.ip)
    const pool = findContainingPool(enabledPools(await this.store.listPools(), ip.version), ip)
    if (!pool) throw new IPAMError('The provided IP address is not in a configured pool\n')
    if (args.intendedUse && !pool.allowedUses.includes(args.intendedUse)) {
      throw new IPAMError(
        `IP address ${formatIP(ip)} is in IP pool "${pool.name}", which is not allowed for use "${args.intendedUse}" (allowedUses: [${pool.allowedUses.join(' ')}])`,
      )
    }
    let config = await this.getIPAMConfig()
    const blockCIDR = formatCIDR(blockCIDRFor(ip, pool))
    const maxAlloc = args.maxAllocPerIPVersion ?? 0
    for (let i = 0; i < this.retries; i++) {
      let kv: KVPair<AllocationBlock>
      try {
        kv = await this.store.getBlock(blockCIDR)
      } catch (e) {
        if (!isNotFound(e)) throw e
        config = await this.getIPAMConfig()
        try {
          const pending = await this.claims.getPendingAffinity(affinity, blockCIDR)
          kv = await this.claims.claimAffineBlock(pending, blockCIDR, args.hostReservedAttr, affinity)
        } catch (e2) {
          if (isConflict(e2) || isNotFound(e2) || e2 instanceof BlockClaimConflictError) continue
          throw e2
        }
      }
      const block = this.claims.loadBlock(config, kv)
      try {
        block.assign(ip, args.handleID, args.attrs, affinity, config.strictAffinity)
      } catch (e) {
        if (e instanceof ResourceAlreadyExistsError && args.handleID !== undefined && maxAlloc > 0) {
          const existing = block.value.allocations[block.ipToOrdinal(ip)]
          const owner = existing === null ? undefined : block.value.attributes[existing]?.handle_id
          if (owner !== undefined && sanitizeHandle(owner) === args.handleID) return
        }
        throw e
      }
      if (args.handleID !== undefined) {
        try {
          await this.handles.incrementHandle(args.handleID, blockCIDR, 1, maxAlloc)
        } catch (e) {
          if (!(e instanceof MaxAllocReachedError)) throw new IPAMError(`failed to increment handle: ${(e as Error).message}`)
          let held: string[]
          try {
            held = await this.existingIPsOfHandle(args.handleID, 1, ip.version)
          } catch (e2) {
            if (e2 instanceof InsufficientIPsByHandleError) continue
            throw e2
          }
          if (held.some((h) => h.startsWith(`${formatIP(ip)}/`))) return
          throw new IPAMError(
            `handle ${args.handleID} already has IP(s) allocated, cannot assign additional IP ${formatIP(ip)} (maxAllocPerIPVersion=${maxAlloc})`,
          )
        }
      }
      try {
        await this.store.updateBlock(kv, block.value)
        return
      } catch (e) {
        if (args.handleID !== undefined) await this.handles.decrementHandle(args.handleID, blockCIDR, 1).catch(() => undefined)
        if (isConflict(e)) continue
        throw e
      }
    }
    throw new MaxRetriesError()
  }

  // ---------------------------------------------------------------- release

  /**
   * Releases addresses. Addresses that were not allocated are returned in `unallocated`; a stale
   * sequence number or wrong handle fails the call (BadSequenceNumberError / BadHandleError).
   */
  async releaseIPs(options: readonly ReleaseOptions[]): Promise<ReleaseResult> {
    const opts = options.map((o) => {
      if (!o.address) throw new IPAMError(`No IP address specified in options: ${JSON.stringify(o)}`)
      return o.handle === undefined ? {...o} : {...o, handle: sanitizeHandle(o.handle)}
    })
    const unallocated: string[] = []
    const allPools = await this.store.listPools()
    let blocks: KVPair<AllocationBlock>[] | undefined
    const byBlock = new Map<string, ReleaseOptions[]>()
    for (const o of opts) {
      const ip = mustParseIP(o.address)
      const pool = findContainingPool(allPools, ip)
      let cidr: string | undefined
      if (pool) {
        cidr = formatCIDR(blockCIDRFor(ip, pool))
      } else {
        // Outside every pool (e.g. the pool was deleted): the block may still exist.
        blocks ??= await this.store.listBlocks()
        const found = blocks.find((kv) => {
          const c = parseCIDR(kv.value.cidr)
          return c !== undefined && cidrContainsIP(c, ip)
        })
        cidr = found?.value.cidr
      }
      if (cidr === undefined) {
        unallocated.push(formatIP(ip))
        continue
      }
      byBlock.set(cidr, [...(byBlock.get(cidr) ?? []), o])
    }
    const config = await this.getIPAMConfig()
    // Blocks are independent; a few at a time, as Calico bounds its goroutines.
    const results = await settleInBatches([...byBlock], RELEASE_PARALLELISM, async ([cidr, ips]) => ({
      ips,
      unallocated: await this.releaseIPsFromBlock(config, ips, cidr),
    }))
    const released: ReleaseOptions[] = []
    let firstError: unknown
    for (const r of results) {
      if (r.status === 'fulfilled') {
        unallocated.push(...r.value.unallocated)
        released.push(...r.value.ips)
      } else {
        firstError ??= r.reason
      }
    }
    if (firstError !== undefined) throw firstError
    return {unallocated, released}
  }

  private async releaseIPsFromBlock(config: IPAMConfig, ips: ReleaseOptions[], cidr: string): Promise<string[]> {
    const edited = await this.editBlock(config, cidr, (b) => {
      const released = b.release(ips, this.now(), config.ipCooldownSeconds)
      return {write: ips.length !== released.unallocated.length, result: released}
    }, {deleteWhenEmpty: true})
    // No block: none of the addresses is allocated.
    if (!edited) return ips.map((o) => formatIP(mustParseIP(o.address)))
    const {unallocated, countByHandle} = edited.result
    if (!edited.written) return unallocated
    for (const [handle, count] of countByHandle) {
      // The block write is what releases the address; a handle left over-counted is reported by `ipam check`.
      await this.handles.decrementHandle(handle, cidr, count).catch(() => undefined)
    }
    await this.ensureConsistentAffinity(config, edited.block.value).catch(() => undefined)
    return unallocated
  }

  /**
   * Frees every address whose cooldown has ended, block by block (GarbageCollectColdIPs). Readers
   * already treat such addresses as free; this persists it. Returns how many blocks were rewritten.
   */
  async garbageCollectColdIPs(): Promise<number> {
    const config = await this.getIPAMConfig()
    let written = 0
    for (const kv of await this.store.listBlocks()) {
      const b = Block.fromStored(kv.value)
      if (!b.garbageCollect(this.now(), config.ipCooldownSeconds)) continue
      try {
        await this.store.updateBlock(kv, b.value)
        written++
      } catch (e) {
        // Whoever changed the block meanwhile ran the same collection on it.
        if (!isConflict(e) && !isNotFound(e)) throw e
      }
    }
    return written
  }

  /** Releases every address of a handle; ResourceDoesNotExistError if the handle does not exist. */
  async releaseByHandle(handleID: string): Promise<void> {
    const id = sanitizeHandle(handleID)
    const handle = await this.store.getHandle(id)
    const config = await this.getIPAMConfig()
    for (const cidr of Object.keys(handle.value.block ?? {})) {
      await this.releaseByHandleInBlock(config, cidr, id)
    }
  }

  private async releaseByHandleInBlock(config: IPAMConfig, cidr: string, handleID: string, sequenceNumber?: number): Promise<void> {
    const edited = await this.editBlock(config, cidr, (b) => {
      const count = b.releaseByHandle(handleID, this.now(), config.ipCooldownSeconds, sequenceNumber)
      return {write: count > 0, result: count}
    }, {deleteWhenEmpty: true, goneOnWrite: 'done', maxRetries: 'Hit max retries'})
    // No block, or none of its addresses is the handle's: nothing left to release.
    if (!edited?.written) return
    await this.handles.decrementHandle(handleID, cidr, edited.result).catch(() => undefined)
    await this.ensureConsistentAffinity(config, edited.block.value).catch(() => undefined)
  }

  /** Addresses (without mask) held by a handle. */
  async ipsByHandle(handleID: string): Promise<string[]> {
    const id = sanitizeHandle(handleID)
    const handle = await this.store.getHandle(id)
    const config = await this.getIPAMConfig()
    const out: string[] = []
    for (const cidr of Object.keys(handle.value.block ?? {})) {
      try {
        out.push(...this.claims.loadBlock(config, await this.store.getBlock(cidr)).ipsByHandle(id))
      } catch (e) {
        // The handle may still count a block that has since been deleted.
        if (!isNotFound(e)) throw e
      }
    }
    return out
  }

  /** The handle and owner attributes of an allocated address. */
  async getAssignmentAttributes(address: string): Promise<AssignmentAttributes> {
    const ip = mustParseIP(address)
    const pool = findContainingPool(enabledPools(await this.store.listPools(), ip.version), ip)
    // Not-exists, like an unassigned address, so `ipam show --ip` says "is not assigned".
    if (!pool) throw new ResourceDoesNotExistError(formatIP(ip), 'No valid IPPool')
    const config = await this.getIPAMConfig()
    const kv = await this.store.getBlock(formatCIDR(blockCIDRFor(ip, pool)))
    const attr: AllocationAttribute = this.claims.loadBlock(config, kv).attributesForIP(ip)
    const out: AssignmentAttributes = {attrs: attr.secondary ?? {}}
    if (attr.handle_id !== undefined) out.handleID = attr.handle_id
    if (attr.alternateOwnerAttrs) out.alternateOwnerAttrs = attr.alternateOwnerAttrs
    return out
  }

  /**
   * Changes the owners recorded for an address of `handleID` (KubeVirt live migration); a precondition
   * that does not hold fails with ResourceUpdateConflictError.
   */
  async setOwnerAttributes(
    address: string,
    handleID: string,
    updates: OwnerAttributeUpdates,
    preconditions: OwnerAttributePreconditions = {},
  ): Promise<void> {
    if (updates.clearActiveOwner && updates.activeOwnerAttrs) {
      throw new IPAMError('cannot set both ClearActiveOwner=true and ActiveOwnerAttrs: these are mutually exclusive')
    }
    if (updates.clearAlternateOwner && updates.alternateOwnerAttrs) {
      throw new IPAMError('cannot set both ClearAlternateOwner=true and AlternateOwnerAttrs: these are mutually exclusive')
    }
    if (preconditions.expectedActiveOwner && preconditions.verifyActiveOwnerEmpty) {
      throw new IPAMError('cannot set both ExpectedActiveOwner and VerifyActiveOwnerEmpty: these are mutually exclusive')
    }
    if (preconditions.expectedAlternateOwner && preconditions.verifyAlternateOwnerEmpty) {
      throw new IPAMError('cannot set both ExpectedAlternateOwner and VerifyAlternateOwnerEmpty: these are mutually exclusive')
    }
    const ip = mustParseIP(address)
    const pool = findContainingPool(enabledPools(await this.store.listPools(), ip.version), ip)
    if (!pool) throw new IPAMError(`the provided IP address ${formatIP(ip)} is not in a configured pool`)
    const config = await this.getIPAMConfig()
    const cidr = formatCIDR(blockCIDRFor(ip, pool))
    await this.editBlock(config, cidr, (b) => {
      b.setOwnerAttributes(ip, sanitizeHandle(handleID), updates, preconditions)
      return {write: true, result: undefined}
    }, {missing: 'throw', maxRetries: 'max retries hit - excessive concurrent IPAM requests'})
  }

  /**
   * Calico's read-change-write of one block: reads it, lets `edit` change it, and compare-and-swaps it back,
   * rereading and editing afresh while other writers win the swap. `edit` says whether there is anything to write
   * and what the caller gets back. `deleteWhenEmpty` (after releases) deletes a block left empty and without
   * affinity instead of updating it. A missing block resolves undefined unless `missing: 'throw'`; a block gone by
   * the time of the write fails the call unless `goneOnWrite: 'done'` (someone else removed it: nothing left to do).
   */
  private async editBlock<T>(
    config: IPAMConfig,
    cidr: string,
    edit: (block: Block) => {write: boolean; result: T},
    opts: {deleteWhenEmpty?: boolean; missing?: 'throw'; goneOnWrite?: 'done'; maxRetries?: string} = {},
  ): Promise<{block: Block; written: boolean; result: T} | undefined> {
    for (let i = 0; i < this.retries; i++) {
      let kv: KVPair<AllocationBlock>
      try {
        kv = await this.store.getBlock(cidr)
      } catch (e) {
        if (isNotFound(e) && opts.missing !== 'throw') return undefined
        throw e
      }
      const block = this.claims.loadBlock(config, kv)
      const {write, result} = edit(block)
      if (!write) return {block, written: false, result}
      try {
        if (opts.deleteWhenEmpty && block.empty() && block.value.affinity === null) await this.store.deleteBlock(kv)
        else await this.store.updateBlock(kv, block.value)
      } catch (e) {
        if (isConflict(e)) continue
        if (!(isNotFound(e) && opts.goneOnWrite === 'done')) throw e
      }
      return {block, written: true, result}
    }
    throw new MaxRetriesError(opts.maxRetries)
  }

  // ---------------------------------------------------------------- handles

  // ---------------------------------------------------------------- affinities

  /** After a release: drop the block's affinity if its pool no longer selects the block's node (and it is empty). */
  private async ensureConsistentAffinity(config: IPAMConfig, block: AllocationBlock): Promise<void> {
    const affinity = parseAffinity(block.affinity)
    if (!affinity || !affinity.host) return
    let labels: Labels
    try {
      labels = await this.store.nodeLabels(affinity.host)
    } catch (e) {
      if (isNotFound(e)) return
      throw e
    }
    const cidr = mustParseCIDR(block.cidr)
    const pool = findContainingPool(enabledPools(await this.store.listPools(), cidr.version), cidrBaseIP(cidr))
    if (!pool || selectsNode(pool, labels)) return
    try {
      await this.claims.releaseBlockAffinity(config, affinity, block.cidr, {requireEmpty: true})
    } catch (e) {
      if (e instanceof BlockClaimConflictError || e instanceof BlockNotEmptyError || isNotFound(e)) return
      throw e
    }
  }

  /** Claims every block of `cidr` for a host; blocks owned by other hosts are reported as failed. */
  async claimAffinity(cidrText: string, host: string, affinityType: AffinityType = 'host'): Promise<ClaimResult> {
    const cidr = mustParseCIDR(cidrText)
    const pool = findContainingPool(enabledPools(await this.store.listPools(), cidr.version), cidrBaseIP(cidr))
    if (!pool) throw new IPAMError(`The requested CIDR (${formatCIDR(cidr)}) is not within any configured pools.`)
    if (cidr.prefix > pool.blockSize) throw new InvalidSizeError(`The requested CIDR (${formatCIDR(cidr)}) is smaller than the minimum.`)
    const affinity: AffinityConfig = {affinityType, host: host || osHostname()}
    const result: ClaimResult = {claimed: [], failed: []}
    for (const blockCIDR of blocksIn(pool, cidr)) {
      const block = formatCIDR(blockCIDR)
      for (let i = 0; ; i++) {
        if (i >= this.retries) throw new MaxRetriesError()
        try {
          const pending = await this.claims.getPendingAffinity(affinity, block)
          await this.claims.claimAffineBlock(pending, block, undefined, affinity)
          result.claimed.push(block)
        } catch (e) {
          if (isConflict(e) || isNotFound(e)) continue
          if (!(e instanceof BlockClaimConflictError)) throw e
          result.failed.push(block)
        }
        break
      }
    }
    return result
  }

  /** Releases a host's affinity for every block of `cidr` (optionally only empty blocks). */
  async releaseAffinity(cidrText: string, host: string, mustBeEmpty: boolean): Promise<void> {
    const cidr = mustParseCIDR(cidrText)
    const pool = findContainingPool(enabledPools(await this.store.listPools(), cidr.version), cidrBaseIP(cidr))
    if (!pool) throw new IPAMError(`The requested CIDR (${formatCIDR(cidr)}) is not within any configured pools.`)
    if (cidr.prefix > pool.blockSize) throw new InvalidSizeError(`The requested CIDR (${formatCIDR(cidr)}) is smaller than the minimum.`)
    const config = await this.getIPAMConfig()
    const affinity: AffinityConfig = {affinityType: 'host', host: host || osHostname()}
    for (const blockCIDR of blocksIn(pool, cidr)) {
      await this.releaseAffinityRetrying(config, affinity, formatCIDR(blockCIDR), {requireEmpty: mustBeEmpty}, 'throw')
    }
  }

  /** Releases the affinity of the block's owner. */
  async releaseBlockAffinityOf(block: AllocationBlock, mustBeEmpty: boolean): Promise<void> {
    const affinity = parseAffinity(block.affinity)
    if (!affinity) return
    const config = await this.getIPAMConfig()
    try {
      await this.claims.releaseBlockAffinity(config, affinity, block.cidr, {requireEmpty: mustBeEmpty})
    } catch (e) {
      if (e instanceof BlockClaimConflictError || isNotFound(e)) return
      throw e
    }
  }

  /** Releases all of a host's affinities, IPv4 and IPv6; the last error (if any) is thrown after trying all. */
  async releaseHostAffinities(host: string, mustBeEmpty: boolean, affinityType: AffinityType = 'host'): Promise<void> {
    const affinity: AffinityConfig = {affinityType, host: host || osHostname()}
    const config = await this.getIPAMConfig()
    let stored: unknown
    for (const a of await this.store.listAffinities(affinity)) {
      try {
        await this.releaseAffinityRetrying(config, affinity, a.cidr, {requireEmpty: mustBeEmpty}, 'throw')
      } catch (e) {
        stored = e
      }
    }
    if (stored !== undefined) throw stored
  }

  /** Releases every affinity (any host) for blocks inside a pool CIDR, as IPPool deletion does. */
  async releasePoolAffinities(poolCIDR: string): Promise<void> {
    const pool = mustParseCIDR(poolCIDR)
    const config = await this.getIPAMConfig()
    for (let round = 0; round < this.retries; round++) {
      let retry = false
      const entries = (await this.store.listAffinities()).filter((a) => {
        const c = parseCIDR(a.cidr)
        return c !== undefined && cidrContainsIP(pool, {version: c.version, value: c.base})
      })
      if (entries.length === 0) return
      for (const a of entries) {
        for (let i = 0; ; i++) {
          if (i >= this.retries) throw new MaxRetriesError()
          try {
            await this.claims.releaseBlockAffinity(config, a, a.cidr, {})
          } catch (e) {
            if (isConflict(e)) continue
            if (e instanceof BlockClaimConflictError) retry = true
            else if (!isNotFound(e)) throw e
          }
          break
        }
      }
      if (!retry) return
    }
    throw new MaxRetriesError()
  }

  /** Removes a host from IPAM: all its block affinities are released (blocks keep their allocations). */
  async removeIPAMHost(host: string): Promise<void> {
    await this.releaseHostAffinities(host, false)
  }

  /**
   * The check clientv3 makes before creating an IPPool: existing blocks overlapping the pool must
   * have the pool's block size. Returns the validation error to raise, or undefined.
   */
  async poolBlockSizeConflict(poolCIDR: string, blockSize: number): Promise<ValidationError | undefined> {
    const pool = mustParseCIDR(poolCIDR)
    for (const kv of await this.store.listBlocks(pool.version)) {
      const c = parseCIDR(kv.value.cidr)
      if (c && c.prefix !== blockSize && cidrsOverlap(c, pool)) {
        return new ValidationError([
          {name: 'IPPool.Spec.BlockSize', value: blockSize, reason: 'IPPool blocksSize conflicts with existing allocations that use a different blockSize'},
        ])
      }
    }
    return undefined
  }

  /** Per-pool and per-block address counts (`ipam show`); `pools` filters by pool name or CIDR. */
  async getUtilization(pools: readonly string[] = []): Promise<PoolUtilization[]> {
    const blocks = (await this.store.listBlocks()).map((kv) => kv.value)
    return computeUtilization(await this.store.listPools(), blocks, await this.store.reservations(), pools)
  }

  /**
   * Everything `ipam check` compares, read from the datastore: blocks, active pools, handles, and the
   * addresses Nodes (tunnels) and WorkloadEndpoints use. Callers may add other users (LoadBalancer
   * services) to `inUse` before calling checkIPAM.
   */
  async loadCheckInput(): Promise<CheckInput> {
    const backend = this.store.backend
    const inUse: InUseIP[] = []
    for (const kv of (await backend.list<Resource>({kind: 'Node'})).items) {
      for (const ip of nodeTunnelIPs(kv.value)) inUse.push({ip, owner: `Node(${kv.value.metadata.name ?? kv.key.name})`})
    }
    for (const kv of (await backend.list<Resource>({kind: 'WorkloadEndpoint'})).items) {
      const {namespace, name} = kv.value.metadata
      for (const ip of workloadIPs(kv.value)) inUse.push({ip, owner: `Workload(${namespace ?? kv.key.namespace}/${name ?? kv.key.name})`})
    }
    const pools = await this.store.listPools()
    return {
      blocks: (await this.store.listBlocks()).map((kv) => kv.value),
      activePools: pools.filter((p) => !p.disabled).map((p) => p.cidrText),
      handles: (await this.store.listHandles()).map((kv) => kv.key.name),
      inUse,
      now: this.now(),
    }
  }

  /** Addresses borrowed from other hosts' blocks (`ipam show --show-borrowed`). */
  async borrowedIPs(): Promise<{borrowed: BorrowedIP[]; unclassified: number}> {
    return borrowedIPs((await this.store.listBlocks()).map((kv) => kv.value))
  }

  /** Blocks affine to a host (both IP versions), as `ipam show --show-blocks` lists them. */
  async hostBlocks(host: string, affinityType: AffinityType = 'host'): Promise<string[]> {
    return (await this.store.listAffinities({affinityType, host})).map((a) => a.cidr)
  }
}

