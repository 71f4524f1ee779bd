// Cluster-wide kinds: ClusterInformation, KubeControllersConfiguration, CalicoNodeStatus.
import type {Resource} from '../resource.js'
import type {Duration} from './common.js'

export type AssignIPs = 'AllServices' | 'RequestedServicesOnly'
export type BGPDaemonState = 'Ready' | 'NotReady'
export type BGPPeerType = 'NodeMesh' | 'NodePeer' | 'GlobalPeer'
export type BGPSessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established' | 'Close'
export type CalicoNodeRouteSourceType = 'Kernel' | 'Static' | 'Direct' | 'NodeMesh' | 'BGPPeer'
export type CalicoNodeRouteType = 'FIB' | 'RIB'
export type ControllerMode = 'Disabled' | 'Enabled'
export type DefaultHostEndpointMode = 'Enabled' | 'Disabled'
export type NodeStatusClassType = 'Agent' | 'BGP' | 'Routes'

export type ClusterInformation = Resource<ClusterInformationSpec>

export interface ClusterInformationSpec {
  clusterGUID?: string
  clusterType?: string
  calicoVersion?: string
  datastoreReady?: boolean
  variant?: string
}

export type KubeControllersConfiguration = Resource<KubeControllersConfigurationSpec, KubeControllersConfigurationStatus>

export interface KubeControllersConfigurationSpec {
  logSeverityScreen?: 'None' | 'Debug' | 'Info' | 'Warning' | 'Error' | 'Fatal' | 'Panic'
  healthChecks?: 'Enabled' | 'Disabled'
  etcdV3CompactionPeriod?: Duration
  prometheusMetricsPort?: number
  controllers?: ControllersConfig
  debugProfilePort?: number
}

export interface ControllersConfig {
  node?: NodeControllerConfig
  policy?: PolicyControllerConfig
  workloadEndpoint?: WorkloadEndpointControllerConfig
  serviceAccount?: ServiceAccountControllerConfig
  namespace?: NamespaceControllerConfig
  loadBalancer?: LoadBalancerControllerConfig
  migration?: MigrationControllerConfig
}

export interface MigrationControllerConfig {
  policyNameMigrator?: ControllerMode
}

export interface NodeControllerConfig {
  reconcilerPeriod?: Duration
  syncLabels?: 'Enabled' | 'Disabled'
  hostEndpoint?: AutoHostEndpointConfig
  leakGracePeriod?: Duration
}

export interface AutoHostEndpointConfig {
  autoCreate?: 'Enabled' | 'Disabled'
  createDefaultHostEndpoint?: DefaultHostEndpointMode
  templates?: Template[]
}

export interface Template {
  generateName?: string
  interfaceCIDRs?: string[]
  interfacePattern?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  nodeSelector?: string
}

export interface PolicyControllerConfig {
  reconcilerPeriod?: Duration
}

export interface WorkloadEndpointControllerConfig {
  reconcilerPeriod?: Duration
}

export interface ServiceAccountControllerConfig {
  reconcilerPeriod?: Duration
}

export interface NamespaceControllerConfig {
  reconcilerPeriod?: Duration
}

export interface LoadBalancerControllerConfig {
  assignIPs?: AssignIPs
}

export interface KubeControllersConfigurationStatus {
  runningConfig?: KubeControllersConfigurationSpec
  environmentVars?: Record<string, string>
}

export type CalicoNodeStatus = Resource<CalicoNodeStatusSpec, CalicoNodeStatusStatus>

export interface CalicoNodeStatusSpec {
  node?: string
  classes?: NodeStatusClassType[]
  updatePeriodSeconds?: number
}

export interface CalicoNodeStatusStatus {
  lastUpdated?: string
  agent?: CalicoNodeAgentStatus
  bgp?: CalicoNodeBGPStatus
  routes?: CalicoNodeBGPRouteStatus
}

export interface CalicoNodeAgentStatus {
  birdV4?: BGPDaemonStatus
  birdV6?: BGPDaemonStatus
}

export interface CalicoNodeBGPStatus {
  numberEstablishedV4: number
  numberNotEstablishedV4: number
  numberEstablishedV6: number
  numberNotEstablishedV6: number
  peersV4?: CalicoNodePeer[]
  peersV6?: CalicoNodePeer[]
}

export interface CalicoNodeBGPRouteStatus {
  routesV4?: CalicoNodeRoute[]
  routesV6?: CalicoNodeRoute[]
}

export interface BGPDaemonStatus {
  state?: BGPDaemonState
  version?: string
  routerID?: string
  lastBootTime?: string
  lastReconfigurationTime?: string
}

export interface CalicoNodePeer {
  peerIP?: string
  type?: BGPPeerType
  state?: BGPSessionState
  since?: string
}

export interface CalicoNodeRoute {
  type?: CalicoNodeRouteType
  destination?: string
  gateway?: string
  interface?: string
  learnedFrom?: CalicoNodeRouteLearnedFrom
}

export interface CalicoNodeRouteLearnedFrom {
  sourceType?: CalicoNodeRouteSourceType
  peerIP?: string
}
