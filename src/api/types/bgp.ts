// BGP kinds: BGPConfiguration, BGPPeer, BGPFilter.
import type {Resource} from '../resource.js'
import type {Duration} from './common.js'
import type {SecretKeySelector} from './meta.js'

export type BGPFilterAction = 'Accept' | 'Reject'
export type BGPFilterMatchOperator = 'Equal' | 'NotEqual' | 'In' | 'NotIn'
export type BGPFilterMatchSource = 'RemotePeers'
export type BGPFilterPeerType = 'eBGP' | 'iBGP'
export type BindMode = 'None' | 'NodeIP'
export type NextHopMode = 'Auto' | 'Self' | 'Keep'
export type ReversePeering = 'Auto' | 'Manual'
export type ServiceLoadBalancerAggregation = 'Enabled' | 'Disabled'
export type SourceAddress = 'UseNodeIP' | 'None'

export type BGPConfiguration = Resource<BGPConfigurationSpec>

export interface BGPConfigurationSpec {
  logSeverityScreen?: string
  nodeToNodeMeshEnabled?: boolean
  asNumber?: number
  serviceLoadBalancerIPs?: ServiceLoadBalancerIPBlock[]
  serviceExternalIPs?: ServiceExternalIPBlock[]
  serviceClusterIPs?: ServiceClusterIPBlock[]
  serviceLoadBalancerAggregation?: ServiceLoadBalancerAggregation
  communities?: Community[]
  prefixAdvertisements?: PrefixAdvertisement[]
  listenPort?: number
  nodeMeshPassword?: BGPPassword
  nodeMeshMaxRestartTime?: Duration
  bindMode?: BindMode
  ignoredInterfaces?: string[]
  localWorkloadPeeringIPV4?: string
  localWorkloadPeeringIPV6?: string
  programClusterRoutes?: 'Enabled' | 'Disabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly'
  ipv4NormalRoutePriority?: number
  ipv6NormalRoutePriority?: number
}

export interface ServiceLoadBalancerIPBlock {
  cidr?: string
}

export interface ServiceExternalIPBlock {
  cidr?: string
}

export interface ServiceClusterIPBlock {
  cidr?: string
}

export interface Community {
  name?: string
  value?: string
}

export interface PrefixAdvertisement {
  cidr?: string
  communities?: string[]
}

export type BGPFilter = Resource<BGPFilterSpec>

export interface BGPFilterSpec {
  exportV4?: BGPFilterRuleV4[]
  importV4?: BGPFilterRuleV4[]
  exportV6?: BGPFilterRuleV6[]
  importV6?: BGPFilterRuleV6[]
}

export interface BGPFilterRuleV4 {
  cidr?: string
  prefixLength?: BGPFilterPrefixLengthV4
  source?: BGPFilterMatchSource
  interface?: string
  matchOperator?: BGPFilterMatchOperator
  peerType?: BGPFilterPeerType
  communities?: BGPFilterCommunityMatch
  asPathPrefix?: number[]
  priority?: number
  action: BGPFilterAction
  operations?: BGPFilterOperation[]
}

export interface BGPFilterRuleV6 {
  cidr?: string
  prefixLength?: BGPFilterPrefixLengthV6
  source?: BGPFilterMatchSource
  interface?: string
  matchOperator?: BGPFilterMatchOperator
  peerType?: BGPFilterPeerType
  communities?: BGPFilterCommunityMatch
  asPathPrefix?: number[]
  priority?: number
  action: BGPFilterAction
  operations?: BGPFilterOperation[]
}

export interface BGPFilterPrefixLengthV4 {
  min?: number
  max?: number
}

export interface BGPFilterPrefixLengthV6 {
  min?: number
  max?: number
}

export interface BGPFilterCommunityMatch {
  values?: string[]
}

export interface BGPFilterOperation {
  addCommunity?: BGPFilterAddCommunity
  prependASPath?: BGPFilterPrependASPath
  setPriority?: BGPFilterSetPriority
}

export interface BGPFilterAddCommunity {
  value?: string
}

export interface BGPFilterPrependASPath {
  prefix?: number[]
}

export interface BGPFilterSetPriority {
  value?: number
}

export type BGPPeer = Resource<BGPPeerSpec>

export interface BGPPeerSpec {
  node?: string
  nodeSelector?: string
  peerIP?: string
  asNumber?: number
  localASNumber?: number
  peerSelector?: string
  keepOriginalNextHop?: boolean
  nextHopMode?: NextHopMode
  password?: BGPPassword
  sourceAddress?: SourceAddress
  maxRestartTime?: Duration
  keepaliveTime?: Duration
  numAllowedLocalASNumbers?: number
  ttlSecurity?: number
  reachableBy?: string
  filters?: string[]
  localWorkloadSelector?: string
  reversePeering?: ReversePeering
}

export interface BGPPassword {
  secretKeyRef?: SecretKeySelector
}
