// FelixConfiguration: every field of FelixConfigurationSpec, in Go struct order.
import type {Resource} from '../resource.js'
import type {DSCP, Duration, Port} from './common.js'

export type AWSSrcDstCheckOption = 'DoNothing' | 'Enable' | 'Disable'
export type BPFAttachOption = 'TC' | 'TCX' | 'Netkit'
export type BPFConnectTimeLBType = 'TCP' | 'Enabled' | 'Disabled'
export type BPFConntrackMode = 'Auto' | 'Userspace' | 'BPFProgram'
export type BPFHostNetworkedNATType = 'Enabled' | 'Disabled'
export type BPFJITHardeningType = 'Auto' | 'Strict'
export type BPFOverlayHostSourceIPType = 'TunnelAddress' | 'HostAddress'
export type FloatingIPType = 'Enabled' | 'Disabled'
export type FlowLogsPolicyEvaluationModeType = 'None' | 'Continuous'
export type IptablesBackend = 'Legacy' | 'NFT' | 'Auto'
export type IstioAmbientMode = 'Enabled' | 'Disabled'
export type LocalSubnetL2ReachabilityMode = 'Disabled' | 'PodsAndLoadBalancers'
export type NATOutgoingExclusionsType = 'IPPoolsOnly' | 'IPPoolsAndHostIPs'
export type NFTablesFlowTableOffload = 'All' | 'Disabled'
export type NFTablesMode = 'Disabled' | 'Enabled' | 'Auto'
export type PrometheusMetricsClientAuthType = 'RequireAndVerifyClientCert' | 'RequireAnyClientCert' | 'VerifyClientCertIfGiven' | 'NoClientCert'
export type WindowsManageFirewallRulesMode = 'Enabled' | 'Disabled'

export type FelixConfiguration = Resource<FelixConfigurationSpec>

export interface FelixConfigurationSpec {
  nodeSelector?: string
  useInternalDataplaneDriver?: boolean
  dataplaneDriver?: string
  dataplaneWatchdogTimeout?: Duration
  ipv6Support?: boolean
  routeRefreshInterval?: Duration
  interfaceRefreshInterval?: Duration
  iptablesRefreshInterval?: Duration
  iptablesPostWriteCheckInterval?: Duration
  iptablesLockProbeInterval?: Duration
  featureDetectOverride?: string
  featureGates?: string
  ipsetsRefreshInterval?: Duration
  maxIpsetSize?: number
  iptablesBackend?: IptablesBackend
  xdpRefreshInterval?: Duration
  netlinkTimeout?: Duration
  metadataAddr?: string
  metadataPort?: number
  openstackRegion?: string
  interfacePrefix?: string
  interfaceExclude?: string
  chainInsertMode?: string
  defaultEndpointToHostAction?: string
  iptablesFilterAllowAction?: string
  iptablesMangleAllowAction?: string
  iptablesFilterDenyAction?: string
  logPrefix?: string
  logActionRateLimit?: string
  logActionRateLimitBurst?: number
  logFilePath?: string
  logSeverityFile?: string
  logSeverityScreen?: string
  logSeveritySys?: string
  logDebugFilenameRegex?: string
  ipipEnabled?: boolean
  ipipMTU?: number
  vxlanEnabled?: boolean
  vxlanMTU?: number
  vxlanMTUV6?: number
  vxlanPort?: number
  vxlanVNI?: number
  allowVXLANPacketsFromWorkloads?: boolean
  allowIPIPPacketsFromWorkloads?: boolean
  reportingInterval?: Duration
  reportingTTL?: Duration
  endpointReportingEnabled?: boolean
  endpointReportingDelay?: Duration
  endpointStatusPathPrefix?: string
  iptablesMarkMask?: number
  disableConntrackInvalidCheck?: boolean
  healthEnabled?: boolean
  healthHost?: string
  healthPort?: number
  healthTimeoutOverrides?: HealthTimeoutOverride[]
  prometheusMetricsEnabled?: boolean
  prometheusMetricsHost?: string
  prometheusMetricsPort?: number
  prometheusGoMetricsEnabled?: boolean
  prometheusProcessMetricsEnabled?: boolean
  prometheusWireGuardMetricsEnabled?: boolean
  prometheusMetricsCAFile?: string
  prometheusMetricsCertFile?: string
  prometheusMetricsKeyFile?: string
  prometheusMetricsClientAuth?: PrometheusMetricsClientAuthType
  failsafeInboundHostPorts?: ProtoPort[]
  failsafeOutboundHostPorts?: ProtoPort[]
  kubeNodePortRanges?: Port[]
  policySyncPathPrefix?: string
  usageReportingEnabled?: boolean
  usageReportingInitialDelay?: Duration
  usageReportingInterval?: Duration
  natPortRange?: Port
  natOutgoingAddress?: string
  natOutgoingExclusions?: NATOutgoingExclusionsType
  deviceRouteSourceAddress?: string
  deviceRouteSourceAddressIPv6?: string
  deviceRouteProtocol?: number
  removeExternalRoutes?: boolean
  programClusterRoutes?: 'Enabled' | 'Disabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly'
  ipForwarding?: 'Enabled' | 'Disabled'
  externalNodesList?: string[]
  debugMemoryProfilePath?: string
  debugDisableLogDropping?: boolean
  debugSimulateCalcGraphHangAfter?: Duration
  debugSimulateDataplaneHangAfter?: Duration
  debugSimulateDataplaneApplyDelay?: Duration
  debugHost?: string
  debugPort?: number
  iptablesNATOutgoingInterfaceFilter?: string
  sidecarAccelerationEnabled?: boolean
  xdpEnabled?: boolean
  genericXDPEnabled?: boolean
  nftablesMode?: NFTablesMode
  nftablesFlowTableOffload?: NFTablesFlowTableOffload
  nftablesFlowTableDataIfacePattern?: string
  nftablesRefreshInterval?: Duration
  nftablesFilterAllowAction?: string
  nftablesMangleAllowAction?: string
  nftablesFilterDenyAction?: string
  nftablesMarkMask?: number
  bpfEnabled?: boolean
  bpfOverlayHostSourceIP?: BPFOverlayHostSourceIPType
  bpfDisableUnprivileged?: boolean
  bpfJITHardening?: BPFJITHardeningType
  bpfLogLevel: string
  bpfConntrackLogLevel?: 'Off' | 'Debug'
  bpfConntrackMode?: BPFConntrackMode
  bpfConntrackTimeouts?: BPFConntrackTimeouts
  bpfIPFragTimeout?: Duration
  bpfLogFilters?: Record<string, string>
  bpfCTLBLogFilter?: string
  bpfDataIfacePattern?: string
  bpfL3IfacePattern?: string
  bpfConnectTimeLoadBalancingEnabled?: boolean
  bpfConnectTimeLoadBalancing?: BPFConnectTimeLBType
  bpfHostNetworkedNATWithoutCTLB?: BPFHostNetworkedNATType
  bpfExternalServiceMode?: string
  bpfDSROptoutCIDRs?: string[]
  bpfExtToServiceConnmark?: number
  bpfKubeProxyIptablesCleanupEnabled?: boolean
  bpfKubeProxyMinSyncPeriod?: Duration
  bpfKubeProxyHealthzPort?: number
  bpfPSNATPorts?: Port
  bpfMapSizeNATFrontend?: number
  bpfMapSizeNATBackend?: number
  bpfMapSizeNATAffinity?: number
  bpfMapSizeRoute?: number
  bpfMapSizeConntrack?: number
  bpfMapSizePerCpuConntrack?: number
  bpfMapSizeConntrackScaling?: string
  bpfMapSizeConntrackCleanupQueue?: number
  bpfMapSizeIPSets?: number
  bpfMapSizeIfState?: number
  bpfHostConntrackBypass?: boolean
  bpfIPFragmentReassemblyEnabled?: boolean
  bpfEnforceRPF?: string
  bpfPolicyDebugEnabled?: boolean
  bpfForceTrackPacketsFromIfaces?: string[]
  bpfDisableGROForIfaces?: string
  bpfExcludeCIDRsFromNAT?: string[]
  bpfExportBufferSizeMB?: number
  istioAmbientMode?: IstioAmbientMode
  istioDSCPMark?: DSCP
  cgroupV2Path?: string
  flowLogsPolicyEvaluationMode?: FlowLogsPolicyEvaluationModeType
  bpfRedirectToPeer?: 'Enabled' | 'Disabled'
  bpfAttachType?: BPFAttachOption
  flowLogsFlushInterval?: Duration
  flowLogsCollectorDebugTrace?: boolean
  flowLogsGoldmaneServer?: string
  flowLogsLocalReporter?: 'Disabled' | 'Enabled'
  bpfProfiling?: 'Enabled' | 'Disabled'
  routeSource?: string
  routeTableRanges?: RouteTableIDRange[]
  routeTableRange?: RouteTableRange
  routeSyncDisabled?: boolean
  ipv4NormalRoutePriority?: number
  ipv4ElevatedRoutePriority?: number
  ipv6NormalRoutePriority?: number
  ipv6ElevatedRoutePriority?: number
  liveMigrationRouteConvergenceTime?: Duration
  wireguardEnabled?: boolean
  wireguardEnabledV6?: boolean
  wireguardThreadingEnabled?: boolean
  wireguardListeningPort?: number
  wireguardListeningPortV6?: number
  wireguardRoutingRulePriority?: number
  wireguardInterfaceName?: string
  wireguardInterfaceNameV6?: string
  wireguardMTU?: number
  wireguardMTUV6?: number
  wireguardHostEncryptionEnabled?: boolean
  wireguardKeepAlive?: Duration
  awsSrcDstCheck?: AWSSrcDstCheckOption
  serviceLoopPrevention?: string
  workloadSourceSpoofing?: string
  mtuIfacePattern?: string
  floatingIPs?: FloatingIPType
  localSubnetL2Reachability?: LocalSubnetL2ReachabilityMode
  localSubnetL2ReachabilityRefreshInterval?: Duration
  windowsManageFirewallRules?: WindowsManageFirewallRulesMode
  goGCThreshold?: number
  goMemoryLimitMB?: number
  goMaxProcs?: number
  requireMTUFile?: boolean
  bpfMaglevMaxEndpointsPerService?: number
  bpfMaglevMaxServices?: number
}

export interface HealthTimeoutOverride {
  name: string
  timeout?: Duration
}

export interface RouteTableRange {
  min: number
  max: number
}

export interface RouteTableIDRange {
  min: number
  max: number
}

export interface ProtoPort {
  protocol?: string
  port: number
  net?: string
}

export interface BPFConntrackTimeouts {
  creationGracePeriod?: string
  tcpSynSent?: string
  tcpEstablished?: string
  tcpFinsSeen?: string
  tcpResetSeen?: string
  udpTimeout?: string
  genericTimeout?: string
  icmpTimeout?: string
}
