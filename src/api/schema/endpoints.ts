// Endpoints, network sets and nodes (HostEndpoint, WorkloadEndpoint, (Global)NetworkSet, Node).
// Field facts (JSON/Go names, types, omitempty, kubebuilder constraints) follow the Go structs in Go order.
import {asNumber, dscp, f, int, list, obj, protocol, str, struct} from './dsl.js'
import {ObjectMetaSchema} from './meta.js'

export const GlobalNetworkSetSchema = struct('GlobalNetworkSet', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => GlobalNetworkSetSpecSchema), {keep: true}),
])

export const GlobalNetworkSetSpecSchema = struct('GlobalNetworkSetSpec', 'v3', [
  f('nets', 'Nets', list(str)),
])

export const HostEndpointSchema = struct('HostEndpoint', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => HostEndpointSpecSchema), {keep: true}),
])

export const HostEndpointSpecSchema = struct('HostEndpointSpec', 'v3', [
  f('node', 'Node', str, {maxLength: 253}),
  f('interfaceName', 'InterfaceName', str, {maxLength: 15}),
  f('expectedIPs', 'ExpectedIPs', list(str)),
  f('profiles', 'Profiles', list(str)),
  f('ports', 'Ports', list(obj(() => EndpointPortSchema))),
])

export const EndpointPortSchema = struct('EndpointPort', 'v3', [
  f('name', 'Name', str, {keep: true}),
  f('protocol', 'Protocol', protocol, {keep: true}),
  f('port', 'Port', int('uint16'), {keep: true, minimum: 1, maximum: 65535}),
])

export const NetworkSetSchema = struct('NetworkSet', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => NetworkSetSpecSchema), {keep: true}),
])

export const NetworkSetSpecSchema = struct('NetworkSetSpec', 'v3', [
  f('nets', 'Nets', list(str)),
])

export const NodeSchema = struct('Node', 'internalapi', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => NodeSpecSchema), {keep: true}),
  f('status', 'Status', obj(() => NodeStatusSchema), {keep: true}),
])

export const NodeSpecSchema = struct('NodeSpec', 'internalapi', [
  f('bgp', 'BGP', obj(() => NodeBGPSpecSchema), {pointer: true}),
  f('ipv4VXLANTunnelAddr', 'IPv4VXLANTunnelAddr', str),
  f('vxlanTunnelMACAddr', 'VXLANTunnelMACAddr', str),
  f('ipv6VXLANTunnelAddr', 'IPv6VXLANTunnelAddr', str),
  f('vxlanTunnelMACAddrV6', 'VXLANTunnelMACAddrV6', str),
  f('orchRefs', 'OrchRefs', list(obj(() => OrchRefSchema))),
  f('wireguard', 'Wireguard', obj(() => NodeWireguardSpecSchema), {pointer: true}),
  f('addresses', 'Addresses', list(obj(() => NodeAddressSchema))),
  f('interfaces', 'Interfaces', list(obj(() => NodeInterfaceSchema))),
])

export const NodeAddressSchema = struct('NodeAddress', 'internalapi', [
  f('address', 'Address', str, {keep: true}),
  f('type', 'Type', str),
])

export const NodeInterfaceSchema = struct('NodeInterface', 'internalapi', [
  f('name', 'Name', str),
  f('addresses', 'Addresses', list(str)),
])

export const NodeStatusSchema = struct('NodeStatus', 'internalapi', [
  f('wireguardPublicKey', 'WireguardPublicKey', str),
  f('wireguardPublicKeyV6', 'WireguardPublicKeyV6', str),
  f('podCIDRs', 'PodCIDRs', list(str)),
])

export const OrchRefSchema = struct('OrchRef', 'internalapi', [
  f('nodeName', 'NodeName', str),
  f('orchestrator', 'Orchestrator', str, {keep: true}),
])

export const NodeBGPSpecSchema = struct('NodeBGPSpec', 'internalapi', [
  f('asNumber', 'ASNumber', asNumber, {pointer: true}),
  f('ipv4Address', 'IPv4Address', str),
  f('ipv6Address', 'IPv6Address', str),
  f('ipv4IPIPTunnelAddr', 'IPv4IPIPTunnelAddr', str),
  f('routeReflectorClusterID', 'RouteReflectorClusterID', str),
])

export const NodeWireguardSpecSchema = struct('NodeWireguardSpec', 'internalapi', [
  f('interfaceIPv4Address', 'InterfaceIPv4Address', str),
  f('interfaceIPv6Address', 'InterfaceIPv6Address', str),
])

export const WorkloadEndpointSchema = struct('WorkloadEndpoint', 'internalapi', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => WorkloadEndpointSpecSchema), {keep: true}),
])

export const WorkloadEndpointSpecSchema = struct('WorkloadEndpointSpec', 'internalapi', [
  f('orchestrator', 'Orchestrator', str),
  f('workload', 'Workload', str),
  f('node', 'Node', str),
  f('containerID', 'ContainerID', str),
  f('pod', 'Pod', str),
  f('endpoint', 'Endpoint', str),
  f('serviceAccountName', 'ServiceAccountName', str),
  f('ipNetworks', 'IPNetworks', list(str)),
  f('ipNATs', 'IPNATs', list(obj(() => IPNATSchema))),
  f('ipv4Gateway', 'IPv4Gateway', str),
  f('ipv6Gateway', 'IPv6Gateway', str),
  f('profiles', 'Profiles', list(str)),
  f('interfaceName', 'InterfaceName', str),
  f('mac', 'MAC', str),
  f('ports', 'Ports', list(obj(() => WorkloadEndpointPortSchema))),
  f('allowSpoofedSourcePrefixes', 'AllowSpoofedSourcePrefixes', list(str)),
  f('qosControls', 'QoSControls', obj(() => QoSControlsSchema), {pointer: true}),
])

export const WorkloadEndpointPortSchema = struct('WorkloadEndpointPort', 'internalapi', [
  f('name', 'Name', str, {keep: true}),
  f('protocol', 'Protocol', protocol, {keep: true}),
  f('port', 'Port', int('uint16'), {keep: true}),
  f('hostPort', 'HostPort', int('uint16'), {keep: true}),
  f('hostIP', 'HostIP', str, {keep: true}),
])

export const IPNATSchema = struct('IPNAT', 'internalapi', [
  f('internalIP', 'InternalIP', str, {keep: true}),
  f('externalIP', 'ExternalIP', str, {keep: true}),
])

export const QoSControlsSchema = struct('QoSControls', 'internalapi', [
  f('ingressBandwidth', 'IngressBandwidth', int('int64')),
  f('ingressBurst', 'IngressBurst', int('int64')),
  f('ingressPeakrate', 'IngressPeakrate', int('int64')),
  f('ingressMinburst', 'IngressMinburst', int('int64')),
  f('egressBandwidth', 'EgressBandwidth', int('int64')),
  f('egressBurst', 'EgressBurst', int('int64')),
  f('egressPeakrate', 'EgressPeakrate', int('int64')),
  f('egressMinburst', 'EgressMinburst', int('int64')),
  f('ingressPacketRate', 'IngressPacketRate', int('int64')),
  f('ingressPacketBurst', 'IngressPacketBurst', int('int64')),
  f('egressPacketRate', 'EgressPacketRate', int('int64')),
  f('egressPacketBurst', 'EgressPacketBurst', int('int64')),
  f('ingressMaxConnections', 'IngressMaxConnections', int('int64')),
  f('egressMaxConnections', 'EgressMaxConnections', int('int64')),
  f('dscp', 'DSCP', dscp, {pointer: true}),
])
