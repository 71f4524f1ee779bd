// Storage shapes of Calico's IPAM objects (libcalico-go model, etcd JSON field names) and their Backend keys.
import type {Key} from '../datastore/backend.js'

export const KIND_BLOCK = 'IPAMBlock'
export const KIND_AFFINITY = 'BlockAffinity'
export const KIND_HANDLE = 'IPAMHandle'
export const KIND_CONFIG = 'IPAMConfig'

/** model.AllocationAttribute. */
export interface AllocationAttribute {
  handle_id?: string
  /** Attributes of the active owner (pod, namespace, node, type, timestamp...). */
  secondary?: Record<string, string>
  alternateOwnerAttrs?: Record<string, string>
  /** RFC 3339; set while the address is cooling down after release. */
  releasedAt?: string
}

/** model.AllocationBlock as stored under /calico/ipam/v2/assignment/ipvN/block/<cidr>. */
export interface AllocationBlock {
  cidr: string
  /** `host:<node>` or `virtual:<name>`; null when the block is not affine. */
  affinity: string | null
  affinity_claim_time?: string
  /** One entry per address: index into `attributes`, or null when free. */
  allocations: (number | null)[]
  /** Free ordinals, handed out in order (FIFO). */
  unallocated: number[]
  attributes: AllocationAttribute[]
  /** Bumped on every write; see nextSequenceNumber. */
  sequenceNumber: number
  sequenceNumberForAllocation: Record<string, number>
  deleted: boolean
  /** Deprecated form of `affinity` written by very old releases. */
  hostAffinity?: string
}

export type AffinityState = '' | 'pending' | 'confirmed' | 'pendingDeletion'

/** model.BlockAffinity. */
export interface BlockAffinityValue {
  state: AffinityState
  deleted: boolean
}

/** model.IPAMHandle: per-block allocation counts for one handle id. */
export interface IPAMHandleValue {
  block: Record<string, number>
  deleted: boolean
}

/** model.IPAMConfig as stored (every field omitempty). */
export interface IPAMConfigValue {
  strict_affinity?: boolean
  auto_allocate_blocks?: boolean
  maxBlocksPerHost?: number
  kubeVirtVMAddressPersistence?: string
  ipCooldownSeconds?: number
}

export type AffinityType = 'host' | 'virtual'

export interface AffinityConfig {
  affinityType: AffinityType
  host: string
}

/** The synthetic node that owns LoadBalancer blocks (v3.VirtualLoadBalancer). */
export const VIRTUAL_LOAD_BALANCER = 'load-balancer'

export function affinityString(a: AffinityConfig): string {
  return `${a.affinityType}:${a.host}`
}

/** Parses a block's `affinity` field. */
export function parseAffinity(affinity: string | null | undefined): AffinityConfig | undefined {
  if (!affinity) return undefined
  for (const t of ['host', 'virtual'] as const) {
    if (affinity.startsWith(`${t}:`)) return {affinityType: t, host: affinity.slice(t.length + 1)}
  }
  return undefined
}

export function blockKey(cidr: string): Key {
  return {kind: KIND_BLOCK, name: cidr}
}

export function affinityKey(a: AffinityConfig, cidr: string): Key {
  return {kind: KIND_AFFINITY, name: `${affinityString(a)}:${cidr}`}
}

/** Name prefix that lists one host's affinities. */
export function affinityPrefix(a: AffinityConfig): string {
  return `${affinityString(a)}:`
}

/**
 * Splits a BlockAffinity key name `<type>:<host>:<cidr>`. Host names cannot contain ':' and the CIDR
 * always contains '/', so the CIDR is whatever follows the second ':'.
 */
export function parseAffinityName(name: string): (AffinityConfig & {cidr: string}) | undefined {
  const first = name.indexOf(':')
  const second = name.indexOf(':', first + 1)
  if (first < 0 || second < 0) return undefined
  const type = name.slice(0, first)
  if (type !== 'host' && type !== 'virtual') return undefined
  return {affinityType: type, host: name.slice(first + 1, second), cidr: name.slice(second + 1)}
}

export function handleKey(handleID: string): Key {
  return {kind: KIND_HANDLE, name: handleID}
}

export const CONFIG_KEY: Key = {kind: KIND_CONFIG, name: 'default'}

export type VMAddressPersistence = 'Enabled' | 'Disabled'

/** ipam.IPAMConfig: the effective configuration. */
export interface IPAMConfig {
  strictAffinity: boolean
  autoAllocateBlocks: boolean
  /** 0 means the default limit (20). */
  maxBlocksPerHost: number
  kubeVirtVMAddressPersistence?: VMAddressPersistence
  ipCooldownSeconds: number
}

/** Used when no IPAMConfig is stored; not persisted on read (ipam.go GetIPAMConfig). */
export const DEFAULT_IPAM_CONFIG: Readonly<IPAMConfig> = {
  strictAffinity: false,
  autoAllocateBlocks: true,
  maxBlocksPerHost: 0,
  kubeVirtVMAddressPersistence: 'Enabled',
  ipCooldownSeconds: 0,
}

export function configFromStored(v: IPAMConfigValue): IPAMConfig {
  const out: IPAMConfig = {
    strictAffinity: v.strict_affinity === true,
    autoAllocateBlocks: v.auto_allocate_blocks === true,
    maxBlocksPerHost: v.maxBlocksPerHost ?? 0,
    ipCooldownSeconds: v.ipCooldownSeconds ?? 0,
  }
  if (v.kubeVirtVMAddressPersistence === 'Enabled' || v.kubeVirtVMAddressPersistence === 'Disabled') {
    out.kubeVirtVMAddressPersistence = v.kubeVirtVMAddressPersistence
  }
  return out
}

export function configToStored(c: IPAMConfig): IPAMConfigValue {
  // Mirrors Go's omitempty: false/zero fields are left out.
  const out: IPAMConfigValue = {}
  if (c.strictAffinity) out.strict_affinity = true
  if (c.autoAllocateBlocks) out.auto_allocate_blocks = true
  if (c.maxBlocksPerHost) out.maxBlocksPerHost = c.maxBlocksPerHost
  if (c.kubeVirtVMAddressPersistence) out.kubeVirtVMAddressPersistence = c.kubeVirtVMAddressPersistence
  if (c.ipCooldownSeconds) out.ipCooldownSeconds = c.ipCooldownSeconds
  return out
}

/** Handle ids are cut at the first carriage return (ipam_block.go sanitizeHandle). */
export function sanitizeHandle(handleID: string): string {
  const cr = handleID.indexOf('\r')
  return cr < 0 ? handleID : handleID.slice(0, cr)
}

/** Handle conventions used by Calico components (design/ipam/ipam-core-library.md). */
export const WINDOWS_RESERVED_HANDLE = 'windows-reserved-ipam-handle'
export const CNI_HANDLE_PREFIX = 'k8s-pod-network.'
