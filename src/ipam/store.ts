// Typed access to the IPAM objects (and the pools, reservations and nodes IPAM reads) over a Backend.
// Every write of an existing object is compare-and-swap on the revision it was read at.
import type {Backend, KVPair} from '../datastore/backend.js'
import {ResourceAlreadyExistsError, ResourceDoesNotExistError, ResourceUpdateConflictError} from '../api/errors.js'
import {resourceId} from '../api/resource.js'
import type {Resource} from '../api/resource.js'
import type {Labels} from '../api/selector.js'
import {reservationFilter} from './addrfilter.js'
import type {CIDRFilter} from './addrfilter.js'
import {nextSequenceNumber} from './block.js'
import {BadHandleError, BadSequenceNumberError} from './errors.js'
import {
  affinityKey,
  affinityPrefix,
  blockKey,
  CONFIG_KEY,
  handleKey,
  KIND_AFFINITY,
  KIND_BLOCK,
  KIND_HANDLE,
  parseAffinityName,
} from './model.js'
import type {AffinityConfig, AllocationBlock, BlockAffinityValue, IPAMConfigValue, IPAMHandleValue} from './model.js'
import {parseCIDR} from './net.js'
import type {IPVersion} from './net.js'
import {poolFromResource} from './pools.js'
import type {Pool} from './pools.js'

export interface AffinityEntry extends AffinityConfig {
  cidr: string
  pair: KVPair<BlockAffinityValue>
}

/** The block with its fields in model.AllocationBlock's order, so stored JSON reads like Calico's. */
function goOrder(v: AllocationBlock): AllocationBlock {
  const out: AllocationBlock = {
    cidr: v.cidr,
    affinity: v.affinity,
    ...(v.affinity_claim_time !== undefined ? {affinity_claim_time: v.affinity_claim_time} : {}),
    allocations: v.allocations,
    unallocated: v.unallocated,
    attributes: v.attributes,
    sequenceNumber: v.sequenceNumber,
    sequenceNumberForAllocation: v.sequenceNumberForAllocation,
    deleted: v.deleted,
  }
  if (v.hostAffinity !== undefined) out.hostAffinity = v.hostAffinity
  return out
}

/** A compare-and-swap lost to a concurrent writer (not a rejected release, which subclasses the conflict). */
export function isConflict(e: unknown): boolean {
  return e instanceof ResourceUpdateConflictError && !(e instanceof BadHandleError || e instanceof BadSequenceNumberError)
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ResourceDoesNotExistError
}

export function isAlreadyExists(e: unknown): boolean {
  return e instanceof ResourceAlreadyExistsError
}

/** KDD soft-deletes IPAM objects (`deleted: true` then a hard delete); such rows count as absent. */
function isSoftDeleted(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as {deleted?: unknown}).deleted === true
}

function notFound(kind: string, name: string): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(resourceId(kind, name), 'not found')
}

export class IPAMStore {
  constructor(readonly backend: Backend) {}

  private async getLive<V>(kind: string, name: string): Promise<KVPair<V>> {
    const kv = await this.backend.get<V>({kind, name})
    if (isSoftDeleted(kv.value)) throw notFound(kind, name)
    return kv
  }

  // Blocks

  getBlock(cidr: string): Promise<KVPair<AllocationBlock>> {
    return this.getLive<AllocationBlock>(KIND_BLOCK, cidr)
  }

  createBlock(value: AllocationBlock): Promise<KVPair<AllocationBlock>> {
    return this.backend.create(blockKey(value.cidr), goOrder(value))
  }

  /** Bumps the block's sequence number and writes it if the revision is unchanged. */
  updateBlock(kv: KVPair<AllocationBlock>, value: AllocationBlock = kv.value): Promise<KVPair<AllocationBlock>> {
    const next = goOrder({...value, sequenceNumber: nextSequenceNumber(value.sequenceNumber)})
    return this.backend.update(blockKey(value.cidr), next, kv.revision)
  }

  async deleteBlock(kv: KVPair<AllocationBlock>): Promise<void> {
    await this.backend.delete(kv.key, kv.revision)
  }

  async listBlocks(version?: IPVersion): Promise<KVPair<AllocationBlock>[]> {
    const {items} = await this.backend.list<AllocationBlock>({kind: KIND_BLOCK})
    return items.filter((kv) => {
      if (isSoftDeleted(kv.value)) return false
      if (version === undefined) return true
      return parseCIDR(kv.value.cidr)?.version === version
    })
  }

  // Affinities

  getAffinity(a: AffinityConfig, cidr: string): Promise<KVPair<BlockAffinityValue>> {
    return this.getLive<BlockAffinityValue>(KIND_AFFINITY, affinityKey(a, cidr).name)
  }

  createAffinity(a: AffinityConfig, cidr: string, value: BlockAffinityValue): Promise<KVPair<BlockAffinityValue>> {
    return this.backend.create(affinityKey(a, cidr), value)
  }

  updateAffinity(kv: KVPair<BlockAffinityValue>, value: BlockAffinityValue): Promise<KVPair<BlockAffinityValue>> {
    return this.backend.update(kv.key, value, kv.revision)
  }

  async deleteAffinity(kv: KVPair<BlockAffinityValue>): Promise<void> {
    await this.backend.delete(kv.key, kv.revision)
  }

  /** Affinities of one host (all hosts when undefined), optionally of one IP version. */
  async listAffinities(a?: AffinityConfig, version?: IPVersion): Promise<AffinityEntry[]> {
    const {items} = await this.backend.list<BlockAffinityValue>(
      a ? {kind: KIND_AFFINITY, namePrefix: affinityPrefix(a)} : {kind: KIND_AFFINITY},
    )
    const out: AffinityEntry[] = []
    for (const pair of items) {
      if (isSoftDeleted(pair.value)) continue
      const parsed = parseAffinityName(pair.key.name)
      if (!parsed) continue
      if (a && (parsed.host !== a.host || parsed.affinityType !== a.affinityType)) continue
      if (version !== undefined && parseCIDR(parsed.cidr)?.version !== version) continue
      out.push({...parsed, pair})
    }
    return out
  }

  // Handles

  getHandle(handleID: string): Promise<KVPair<IPAMHandleValue>> {
    return this.getLive<IPAMHandleValue>(KIND_HANDLE, handleID)
  }

  createHandle(handleID: string, value: IPAMHandleValue): Promise<KVPair<IPAMHandleValue>> {
    return this.backend.create(handleKey(handleID), value)
  }

  updateHandle(kv: KVPair<IPAMHandleValue>, value: IPAMHandleValue): Promise<KVPair<IPAMHandleValue>> {
    return this.backend.update(kv.key, value, kv.revision)
  }

  async deleteHandle(kv: KVPair<IPAMHandleValue>): Promise<void> {
    await this.backend.delete(kv.key, kv.revision)
  }

  async listHandles(): Promise<KVPair<IPAMHandleValue>[]> {
    const {items} = await this.backend.list<IPAMHandleValue>({kind: KIND_HANDLE})
    return items.filter((kv) => !isSoftDeleted(kv.value))
  }

  // Configuration

  /** The stored IPAM configuration, undefined when none is stored. */
  async getConfig(): Promise<KVPair<IPAMConfigValue> | undefined> {
    try {
      return await this.backend.get<IPAMConfigValue>(CONFIG_KEY)
    } catch (e) {
      if (e instanceof ResourceDoesNotExistError) return undefined
      throw e
    }
  }

  async putConfig(value: IPAMConfigValue, revision?: string): Promise<void> {
    if (revision === undefined) await this.backend.create(CONFIG_KEY, value)
    else await this.backend.update(CONFIG_KEY, value, revision)
  }

  // What IPAM reads but does not own

  /** Every IP pool whose CIDR parses, in name order. */
  async listPools(): Promise<Pool[]> {
    const {items} = await this.backend.list<Resource>({kind: 'IPPool'})
    return items
      .map((kv) => poolFromResource(kv.value))
      .filter((p): p is Pool => p !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  async reservations(): Promise<CIDRFilter> {
    const {items} = await this.backend.list<Resource>({kind: 'IPReservation'})
    const cidrs: string[] = []
    for (const kv of items) {
      const reserved = (kv.value.spec as {reservedCIDRs?: unknown} | undefined)?.reservedCIDRs
      if (Array.isArray(reserved)) cidrs.push(...reserved.filter((c): c is string => typeof c === 'string'))
    }
    return reservationFilter(cidrs)
  }

  /** The labels of a Calico Node; ResourceDoesNotExistError when there is no such node. */
  async nodeLabels(host: string): Promise<Labels> {
    const kv = await this.backend.get<Resource>({kind: 'Node', name: host})
    return kv.value.metadata?.labels ?? {}
  }
}
