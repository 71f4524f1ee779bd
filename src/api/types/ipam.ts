// IP pools, reservations and the IPAM configuration kind.
import type {Resource} from '../resource.js'
import type {Condition} from './meta.js'

export type AssignmentMode = 'Automatic' | 'Manual'
export type IPIPMode = 'Never' | 'Always' | 'CrossSubnet'
export type IPPoolAllowedUse = 'Workload' | 'Tunnel' | 'LoadBalancer'
export type VMAddressPersistence = 'Enabled' | 'Disabled'
export type VXLANMode = 'Never' | 'Always' | 'CrossSubnet'

export type IPAMConfiguration = Resource<IPAMConfigurationSpec>

export interface IPAMConfigurationSpec {
  strictAffinity: boolean
  maxBlocksPerHost?: number
  autoAllocateBlocks: boolean
  kubeVirtVMAddressPersistence?: VMAddressPersistence
  ipCooldownSeconds?: number
}

export type IPPool = Resource<IPPoolSpec, IPPoolStatus>

export interface IPPoolStatus {
  conditions?: Condition[]
}

export interface IPPoolSpec {
  cidr: string
  vxlanMode?: VXLANMode
  ipipMode?: IPIPMode
  natOutgoing?: boolean
  disabled?: boolean
  disableBGPExport?: boolean
  blockSize?: number
  nodeSelector?: string
  namespaceSelector?: string
  allowedUses?: IPPoolAllowedUse[]
  assignmentMode?: AssignmentMode
}

export type IPReservation = Resource<IPReservationSpec>

export interface IPReservationSpec {
  reservedCIDRs?: string[]
}
