// Endpoints, network sets and nodes (HostEndpoint, WorkloadEndpoint, (Global)NetworkSet, Node).
import type {Resource} from '../resource.js'
import type {DSCP, Protocol} from './common.js'


export type GlobalNetworkSet = Resource<GlobalNetworkSetSpec>

export interface GlobalNetworkSetSpec {
  nets?: string[]
}

export type HostEndpoint = Resource<HostEndpointSpec>

export interface HostEndpointSpec {
  node?: string
  interfaceName?: string
  expectedIPs?: string[]
  profiles?: string[]
  ports?: EndpointPort[]
}

export interface EndpointPort {
  name: string
  protocol: Protocol
  port: number
}

export type NetworkSet = Resource<NetworkSetSpec>

export interface NetworkSetSpec {
  nets?: string[]
}

export type Node = Resource<NodeSpec, NodeStatus>

export interface NodeSpec {
  bgp?: NodeBGPSpec
  ipv4VXLANTunnelAddr?: string
  vxlanTunnelMACAddr?: string
  ipv6VXLANTunnelAddr?: string
  vxlanTunnelMACAddrV6?: string
  orchRefs?: OrchRef[]
  wireguard?: NodeWireguardSpec
  addresses?: NodeAddress[]
  interfaces?: NodeInterface[]
}

export interface NodeAddress {
  address: string
  type?: string
}

export interface NodeInterface {
  name?: string
  addresses?: string[]
}

export interface NodeStatus {
  wireguardPublicKey?: string
  wireguardPublicKeyV6?: string
  podCIDRs?: string[]
}

export interface OrchRef {
  nodeName?: string
  orchestrator: string
}

export interface NodeBGPSpec {
  asNumber?: number
  ipv4Address?: string
  ipv6Address?: string
  ipv4IPIPTunnelAddr?: string
  routeReflectorClusterID?: string
}

export interface NodeWireguardSpec {
  interfaceIPv4Address?: string
  interfaceIPv6Address?: string
}

export type WorkloadEndpoint = Resource<WorkloadEndpointSpec>

export interface WorkloadEndpointSpec {
  orchestrator?: string
  workload?: string
  node?: string
  containerID?: string
  pod?: string
  endpoint?: string
  serviceAccountName?: string
  ipNetworks?: string[]
  ipNATs?: IPNAT[]
  ipv4Gateway?: string
  ipv6Gateway?: string
  profiles?: string[]
  interfaceName?: string
  mac?: string
  ports?: WorkloadEndpointPort[]
  allowSpoofedSourcePrefixes?: string[]
  qosControls?: QoSControls
}

export interface WorkloadEndpointPort {
  name: string
  protocol: Protocol
  port: number
  hostPort: number
  hostIP: string
}

export interface IPNAT {
  internalIP: string
  externalIP: string
}

export interface QoSControls {
  ingressBandwidth?: number
  ingressBurst?: number
  ingressPeakrate?: number
  ingressMinburst?: number
  egressBandwidth?: number
  egressBurst?: number
  egressPeakrate?: number
  egressMinburst?: number
  ingressPacketRate?: number
  ingressPacketBurst?: number
  egressPacketRate?: number
  egressPacketBurst?: number
  ingressMaxConnections?: number
  egressMaxConnections?: number
  dscp?: DSCP
}
