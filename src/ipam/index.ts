// Calico IPAM: the public surface used by the CNI plugin, the node agent and `calicoctl ipam`.
export {IPAMClient, AutoAssignError, partialFulfillmentError, DATASTORE_RETRIES, DEFAULT_MAX_BLOCKS_PER_HOST} from './ipam.js'
export type {
  AssignIPArgs,
  AssignmentAttributes,
  AutoAssignArgs,
  AutoAssignResult,
  ClaimResult,
  IPAMAssignments,
  IPAMClientOptions,
  ReleaseResult,
} from './ipam.js'
export type {AttributeOwner, HostReservedAttr, OwnerAttributePreconditions, OwnerAttributeUpdates, ReleaseOptions} from './block.js'
export {ownerMatches} from './block.js'
export {EMPTY_BLOCK_MIN_RECLAIM_AGE_MS} from './claims.js'
export {checkIPAM, formatAttrs, nodeTunnelIPs, validateBlock, workloadIPs} from './check.js'
export type {CheckAllocation, CheckInput, CheckResult, InUseIP} from './check.js'
export {borrowedIPs, computeUtilization, ORPHANED_BLOCKS} from './utilization.js'
export type {BlockUtilization, BorrowedIP, PoolUtilization} from './utilization.js'
export {splitCIDR} from './pools.js'
export type {IPPoolUse, Pool} from './pools.js'
export {CNI_HANDLE_PREFIX, DEFAULT_IPAM_CONFIG, sanitizeHandle, VIRTUAL_LOAD_BALANCER, WINDOWS_RESERVED_HANDLE} from './model.js'
export type {AffinityType, AllocationBlock, IPAMConfig, VMAddressPersistence} from './model.js'
export * from './errors.js'
export {canonicalCIDR, formatCIDR, formatIP, parseCIDR, parseCIDROrIP, parseIP} from './net.js'
export type {CIDR, IPAddr, IPVersion} from './net.js'
