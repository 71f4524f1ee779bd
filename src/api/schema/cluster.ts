// Cluster-wide kinds: ClusterInformation, KubeControllersConfiguration, CalicoNodeStatus.
// Field facts (JSON/Go names, types, omitempty, kubebuilder constraints) follow the Go structs in Go order.
import {bool, duration, enumOf, f, int, list, map, named, obj, str, struct, time} from './dsl.js'
import {ObjectMetaSchema} from './meta.js'

export const ClusterInformationSchema = struct('ClusterInformation', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => ClusterInformationSpecSchema), {keep: true}),
])

export const ClusterInformationSpecSchema = struct('ClusterInformationSpec', 'v3', [
  f('clusterGUID', 'ClusterGUID', str),
  f('clusterType', 'ClusterType', str),
  f('calicoVersion', 'CalicoVersion', str),
  f('datastoreReady', 'DatastoreReady', bool, {pointer: true}),
  f('variant', 'Variant', str),
])

export const KubeControllersConfigurationSchema = struct('KubeControllersConfiguration', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => KubeControllersConfigurationSpecSchema), {keep: true}),
  f('status', 'Status', obj(() => KubeControllersConfigurationStatusSchema), {keep: true}),
])

export const KubeControllersConfigurationSpecSchema = struct('KubeControllersConfigurationSpec', 'v3', [
  f('logSeverityScreen', 'LogSeverityScreen', enumOf(['None', 'Debug', 'Info', 'Warning', 'Error', 'Fatal', 'Panic'])),
  f('healthChecks', 'HealthChecks', enumOf(['Enabled', 'Disabled']), {default: 'Enabled'}),
  f('etcdV3CompactionPeriod', 'EtcdV3CompactionPeriod', duration, {pointer: true}),
  f('prometheusMetricsPort', 'PrometheusMetricsPort', int(), {pointer: true, minimum: 0, maximum: 65535}),
  f('controllers', 'Controllers', obj(() => ControllersConfigSchema), {keep: true}),
  f('debugProfilePort', 'DebugProfilePort', int('int32'), {pointer: true, minimum: 0, maximum: 65535}),
])

export const ControllersConfigSchema = struct('ControllersConfig', 'v3', [
  f('node', 'Node', obj(() => NodeControllerConfigSchema), {pointer: true}),
  f('policy', 'Policy', obj(() => PolicyControllerConfigSchema), {pointer: true}),
  f('workloadEndpoint', 'WorkloadEndpoint', obj(() => WorkloadEndpointControllerConfigSchema), {pointer: true}),
  f('serviceAccount', 'ServiceAccount', obj(() => ServiceAccountControllerConfigSchema), {pointer: true}),
  f('namespace', 'Namespace', obj(() => NamespaceControllerConfigSchema), {pointer: true}),
  f('loadBalancer', 'LoadBalancer', obj(() => LoadBalancerControllerConfigSchema), {pointer: true}),
  f('migration', 'Migration', obj(() => MigrationControllerConfigSchema), {pointer: true}),
])

export const MigrationControllerConfigSchema = struct('MigrationControllerConfig', 'v3', [
  f('policyNameMigrator', 'PolicyNameMigrator', named('v3.ControllerMode', ['Disabled', 'Enabled']), {default: 'Enabled'}),
])

export const NodeControllerConfigSchema = struct('NodeControllerConfig', 'v3', [
  f('reconcilerPeriod', 'ReconcilerPeriod', duration, {pointer: true}),
  f('syncLabels', 'SyncLabels', enumOf(['Enabled', 'Disabled'])),
  f('hostEndpoint', 'HostEndpoint', obj(() => AutoHostEndpointConfigSchema), {pointer: true}),
  f('leakGracePeriod', 'LeakGracePeriod', duration, {pointer: true}),
])

export const AutoHostEndpointConfigSchema = struct('AutoHostEndpointConfig', 'v3', [
  f('autoCreate', 'AutoCreate', enumOf(['Enabled', 'Disabled'])),
  f('createDefaultHostEndpoint', 'CreateDefaultHostEndpoint', named('v3.DefaultHostEndpointMode', ['Enabled', 'Disabled'])),
  f('templates', 'Templates', list(obj(() => TemplateSchema))),
])

export const TemplateSchema = struct('Template', 'v3', [
  f('generateName', 'GenerateName', str, {maxLength: 253}),
  f('interfaceCIDRs', 'InterfaceCIDRs', list(str)),
  f('interfacePattern', 'InterfacePattern', str),
  f('labels', 'Labels', map(str)),
  f('annotations', 'Annotations', map(str)),
  f('nodeSelector', 'NodeSelector', str),
])

export const PolicyControllerConfigSchema = struct('PolicyControllerConfig', 'v3', [
  f('reconcilerPeriod', 'ReconcilerPeriod', duration, {pointer: true}),
])

export const WorkloadEndpointControllerConfigSchema = struct('WorkloadEndpointControllerConfig', 'v3', [
  f('reconcilerPeriod', 'ReconcilerPeriod', duration, {pointer: true}),
])

export const ServiceAccountControllerConfigSchema = struct('ServiceAccountControllerConfig', 'v3', [
  f('reconcilerPeriod', 'ReconcilerPeriod', duration, {pointer: true}),
])

export const NamespaceControllerConfigSchema = struct('NamespaceControllerConfig', 'v3', [
  f('reconcilerPeriod', 'ReconcilerPeriod', duration, {pointer: true}),
])

export const LoadBalancerControllerConfigSchema = struct('LoadBalancerControllerConfig', 'v3', [
  f('assignIPs', 'AssignIPs', named('v3.AssignIPs', ['AllServices', 'RequestedServicesOnly']), {default: 'AllServices'}),
])

export const KubeControllersConfigurationStatusSchema = struct('KubeControllersConfigurationStatus', 'v3', [
  f('runningConfig', 'RunningConfig', obj(() => KubeControllersConfigurationSpecSchema), {pointer: true}),
  f('environmentVars', 'EnvironmentVars', map(str)),
])

export const CalicoNodeStatusSchema = struct('CalicoNodeStatus', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => CalicoNodeStatusSpecSchema), {keep: true}),
  f('status', 'Status', obj(() => CalicoNodeStatusStatusSchema), {keep: true}),
])

export const CalicoNodeStatusSpecSchema = struct('CalicoNodeStatusSpec', 'v3', [
  f('node', 'Node', str),
  f('classes', 'Classes', list(named('v3.NodeStatusClassType', ['Agent', 'BGP', 'Routes']))),
  f('updatePeriodSeconds', 'UpdatePeriodSeconds', int('uint32'), {pointer: true}),
])

export const CalicoNodeStatusStatusSchema = struct('CalicoNodeStatusStatus', 'v3', [
  f('lastUpdated', 'LastUpdated', time, {keep: true}),
  f('agent', 'Agent', obj(() => CalicoNodeAgentStatusSchema), {keep: true}),
  f('bgp', 'BGP', obj(() => CalicoNodeBGPStatusSchema), {keep: true}),
  f('routes', 'Routes', obj(() => CalicoNodeBGPRouteStatusSchema), {keep: true}),
])

export const CalicoNodeAgentStatusSchema = struct('CalicoNodeAgentStatus', 'v3', [
  f('birdV4', 'BIRDV4', obj(() => BGPDaemonStatusSchema), {keep: true}),
  f('birdV6', 'BIRDV6', obj(() => BGPDaemonStatusSchema), {keep: true}),
])

export const CalicoNodeBGPStatusSchema = struct('CalicoNodeBGPStatus', 'v3', [
  f('numberEstablishedV4', 'NumberEstablishedV4', int(), {keep: true}),
  f('numberNotEstablishedV4', 'NumberNotEstablishedV4', int(), {keep: true}),
  f('numberEstablishedV6', 'NumberEstablishedV6', int(), {keep: true}),
  f('numberNotEstablishedV6', 'NumberNotEstablishedV6', int(), {keep: true}),
  f('peersV4', 'PeersV4', list(obj(() => CalicoNodePeerSchema))),
  f('peersV6', 'PeersV6', list(obj(() => CalicoNodePeerSchema))),
])

export const CalicoNodeBGPRouteStatusSchema = struct('CalicoNodeBGPRouteStatus', 'v3', [
  f('routesV4', 'RoutesV4', list(obj(() => CalicoNodeRouteSchema))),
  f('routesV6', 'RoutesV6', list(obj(() => CalicoNodeRouteSchema))),
])

export const BGPDaemonStatusSchema = struct('BGPDaemonStatus', 'v3', [
  f('state', 'State', named('v3.BGPDaemonState', ['Ready', 'NotReady'])),
  f('version', 'Version', str),
  f('routerID', 'RouterID', str),
  f('lastBootTime', 'LastBootTime', str),
  f('lastReconfigurationTime', 'LastReconfigurationTime', str),
])

export const CalicoNodePeerSchema = struct('CalicoNodePeer', 'v3', [
  f('peerIP', 'PeerIP', str),
  f('type', 'Type', named('v3.BGPPeerType', ['NodeMesh', 'NodePeer', 'GlobalPeer'])),
  f('state', 'State', named('v3.BGPSessionState', ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established', 'Close'])),
  f('since', 'Since', str),
])

export const CalicoNodeRouteSchema = struct('CalicoNodeRoute', 'v3', [
  f('type', 'Type', named('v3.CalicoNodeRouteType', ['FIB', 'RIB'])),
  f('destination', 'Destination', str),
  f('gateway', 'Gateway', str),
  f('interface', 'Interface', str),
  f('learnedFrom', 'LearnedFrom', obj(() => CalicoNodeRouteLearnedFromSchema), {keep: true}),
])

export const CalicoNodeRouteLearnedFromSchema = struct('CalicoNodeRouteLearnedFrom', 'v3', [
  f('sourceType', 'SourceType', named('v3.CalicoNodeRouteSourceType', ['Kernel', 'Static', 'Direct', 'NodeMesh', 'BGPPeer'])),
  f('peerIP', 'PeerIP', str),
])
