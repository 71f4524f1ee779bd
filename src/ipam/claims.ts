// The block claim state machine (libcalico-go ipam_block_reader_writer.go): affinities move
// pending → confirmed → pendingDeletion → gone, blocks are created with create-if-absent and changed
// with compare-and-swap, so two hosts racing for a block always agree on a single owner.
import type {KVPair} from '../datastore/backend.js'
import type {AddrFilter} from './addrfilter.js'
import {Block, newBlock} from './block.js'
import type {HostReservedAttr} from './block.js'
import {BlockClaimConflictError, BlockNotEmptyError, IPAMError, NoFreeBlocksError, StaleAffinityError} from './errors.js'
import {metav1Time} from '../api/gotime.js'
import {affinityString} from './model.js'
import type {AffinityConfig, AllocationBlock, BlockAffinityValue, IPAMConfig} from './model.js'
import {formatCIDR, mustParseCIDR} from './net.js'
import type {IPVersion} from './net.js'
import {randomBlocks} from './pools.js'
import type {Pool} from './pools.js'
import type {IPAMStore} from './store.js'
import {isAlreadyExists, isNotFound} from './store.js'

/** An empty block claimed by another host may be reclaimed only after this long (EmptyBlockMinReclaimAge). */
export const EMPTY_BLOCK_MIN_RECLAIM_AGE_MS = 60_000

export interface ReleaseAffinityOpts {
  requireEmpty?: boolean
  /** Release only if the block's sequence number is still this one. */
  requiredBlockSequenceNumber?: number
}

export class BlockClaims {
  constructor(
    private readonly store: IPAMStore,
    private readonly now: () => Date,
  ) {}

  /** Reads a block and applies the cooldown garbage collection every reader applies (blockFromBackend). */
  loadBlock(config: IPAMConfig, kv: KVPair<AllocationBlock>): Block {
    const b = Block.fromStored(kv.value)
    b.garbageCollect(this.now(), config.ipCooldownSeconds)
    return b
  }

  /**
   * The block an affinity points at: created if missing, the affinity deleted if stale, and confirmed
   * (pending → block touched → confirmed) if it was not yet.
   */
  async getBlockFromAffinity(
    aff: KVPair<BlockAffinityValue>,
    cidr: string,
    reserved: HostReservedAttr | undefined,
    affinity: AffinityConfig,
  ): Promise<KVPair<AllocationBlock>> {
    let block: KVPair<AllocationBlock>
    try {
      block = await this.store.getBlock(cidr)
    } catch (e) {
      if (!isNotFound(e)) throw e
      const pending = await this.store.updateAffinity(aff, {...aff.value, state: 'pending'})
      return this.claimAffineBlock(pending, cidr, reserved, affinity)
    }
    if (block.value.affinity !== affinityString(affinity)) {
      await this.store.deleteAffinity(aff).catch((e: unknown) => {
        if (!isNotFound(e)) throw e
      })
      throw new StaleAffinityError(`Affinity is stale: ${affinityString(affinity)}:${cidr}`)
    }
    const state = aff.value.state ?? ''
    if (state !== 'confirmed' && state !== '') {
      const pending = await this.store.updateAffinity(aff, {...aff.value, state: 'pending'})
      // Touching the block invalidates anyone else working from the revision we read.
      block = await this.store.updateBlock(block)
      await this.store.updateAffinity(pending, {...pending.value, state: 'confirmed'})
    }
    return block
  }

  /** Creates a pending affinity, or moves an unconfirmed existing one back to pending. */
  async getPendingAffinity(affinity: AffinityConfig, cidr: string): Promise<KVPair<BlockAffinityValue>> {
    try {
      return await this.store.createAffinity(affinity, cidr, {state: 'pending', deleted: false})
    } catch (e) {
      if (!isAlreadyExists(e)) throw e
    }
    const aff = await this.store.getAffinity(affinity, cidr)
    if (aff.value.state === 'confirmed') return aff
    return this.store.updateAffinity(aff, {...aff.value, state: 'pending'})
  }

  /** Creates the block for a pending affinity and confirms it; BlockClaimConflictError if another host won. */
  async claimAffineBlock(
    aff: KVPair<BlockAffinityValue>,
    cidr: string,
    reserved: HostReservedAttr | undefined,
    affinity: AffinityConfig,
  ): Promise<KVPair<AllocationBlock>> {
    const now = this.now()
    const value = newBlock(mustParseCIDR(cidr), now, reserved)
    value.affinity = affinityString(affinity)
    value.affinity_claim_time = metav1Time(now)
    let created: KVPair<AllocationBlock>
    try {
      created = await this.store.createBlock(value)
    } catch (e) {
      if (!isAlreadyExists(e)) throw e
      const existing = await this.store.getBlock(cidr)
      if (existing.value.affinity === affinityString(affinity)) {
        await this.confirmAffinity(aff, affinity, cidr)
        return existing
      }
      await this.store.deleteAffinity(aff).catch(() => undefined)
      throw new BlockClaimConflictError(cidr, existing.value.affinity)
    }
    await this.confirmAffinity(aff, affinity, cidr)
    return created
  }

  /** Marks an affinity confirmed; losing the CAS is fine if someone else already confirmed it. */
  async confirmAffinity(aff: KVPair<BlockAffinityValue>, affinity: AffinityConfig, cidr: string): Promise<void> {
    try {
      await this.store.updateAffinity(aff, {...aff.value, state: 'confirmed'})
    } catch (e) {
      const current = await this.store.getAffinity(affinity, cidr).catch(() => undefined)
      if (current?.value.state === 'confirmed') return
      throw e
    }
  }

  /**
   * The first block of the pools (in each host's own pseudo-random order) that does not exist yet or
   * is ours with room; failing that, an empty block of another host claimed long enough ago.
   * `ours` tells whether the block already belonged to this host (another of its allocators claimed
   * it since the caller listed its affinities).
   */
  async findUsableBlock(
    affinity: AffinityConfig,
    version: IPVersion,
    pools: Pool[],
    reservations: AddrFilter,
    config: IPAMConfig,
  ): Promise<{cidr: string; ours: boolean}> {
    if (pools.length === 0) throw new IPAMError(`no configured Calico pools for ${affinity.affinityType}:${affinity.host}`)
    interface Info {
      numFree: number
      owner: string | null
      empty: boolean
      claimTime: Date
      seq: number
      affinity: AffinityConfig | undefined
    }
    const existing = new Map<string, Info>()
    for (const kv of await this.store.listBlocks(version)) {
      const b = this.loadBlock(config, kv)
      existing.set(formatCIDR(b.cidr), {
        numFree: b.numFreeAddresses(reservations),
        owner: kv.value.affinity,
        empty: b.empty(),
        claimTime: b.affinityClaimTime(),
        seq: b.value.sequenceNumber,
        affinity: b.affinity,
      })
    }
    const mine = affinityString(affinity)
    const emptyBlocks: [string, Info][] = []
    for (const pool of pools) {
      for (const subnet of randomBlocks(pool, affinity.host)) {
        if (reservations.matchesWholeCIDR(subnet)) continue
        const cidr = formatCIDR(subnet)
        const info = existing.get(cidr)
        if (!info) return {cidr, ours: false}
        if (info.owner === mine && info.numFree !== 0) return {cidr, ours: true}
        if (info.empty && info.numFree !== 0) emptyBlocks.push([cidr, info])
      }
    }
    const now = this.now().getTime()
    for (const [cidr, info] of emptyBlocks) {
      if (now - info.claimTime.getTime() < EMPTY_BLOCK_MIN_RECLAIM_AGE_MS || !info.affinity) continue
      try {
        await this.releaseBlockAffinity(config, info.affinity, cidr, {requireEmpty: true, requiredBlockSequenceNumber: info.seq})
        return {cidr, ours: false}
      } catch {
        // Changed, used or reclaimed by someone else since we listed it: try the next one.
        continue
      }
    }
    throw new NoFreeBlocksError()
  }

  /**
   * Releases a block's affinity: pendingDeletion, then the block is deleted if empty or made
   * unaffine, then the affinity is deleted.
   */
  async releaseBlockAffinity(config: IPAMConfig, affinity: AffinityConfig, cidr: string, opts: ReleaseAffinityOpts): Promise<void> {
    if (!affinity.host) throw new IPAMError('Hostname must be specified to release block affinity')
    const aff = await this.store.getAffinity(affinity, cidr)
    const kv = await this.store.getBlock(cidr)
    const b = this.loadBlock(config, kv)
    if (opts.requiredBlockSequenceNumber !== undefined && opts.requiredBlockSequenceNumber !== b.value.sequenceNumber) {
      throw new IPAMError('IPAM block updated since we last read it')
    }
    if (b.value.affinity !== null && b.value.affinity !== affinityString(affinity)) {
      await this.store.deleteAffinity(aff).catch(() => undefined)
      throw new BlockClaimConflictError(cidr, b.value.affinity)
    }
    if (opts.requireEmpty && !b.empty()) throw new BlockNotEmptyError(cidr)
    const pendingDeletion = await this.store.updateAffinity(aff, {...aff.value, state: 'pendingDeletion'})
    if (b.empty()) {
      try {
        await this.store.deleteBlock(kv)
      } catch (e) {
        if (!isNotFound(e)) throw e
      }
    } else {
      b.value.affinity = null
      delete b.value.affinity_claim_time
      await this.store.updateBlock(kv, b.value)
    }
    try {
      await this.store.deleteAffinity(pendingDeletion)
    } catch (e) {
      if (!isNotFound(e)) throw e
    }
  }
}
