// BGP kinds: BGPConfiguration, BGPPeer, BGPFilter.
// Field facts (JSON/Go names, types, omitempty, kubebuilder constraints) follow the Go structs in Go order.
import {asNumber, bool, duration, enumOf, f, int, list, named, obj, str, struct} from './dsl.js'
import {ObjectMetaSchema, SecretKeySelectorSchema} from './meta.js'

export const BGPConfigurationSchema = struct('BGPConfiguration', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => BGPConfigurationSpecSchema), {keep: true}),
])

export const BGPConfigurationSpecSchema = struct('BGPConfigurationSpec', 'v3', [
  f('logSeverityScreen', 'LogSeverityScreen', str, {default: 'Info'}),
  f('nodeToNodeMeshEnabled', 'NodeToNodeMeshEnabled', bool, {pointer: true}),
  f('asNumber', 'ASNumber', asNumber, {pointer: true}),
  f('serviceLoadBalancerIPs', 'ServiceLoadBalancerIPs', list(obj(() => ServiceLoadBalancerIPBlockSchema))),
  f('serviceExternalIPs', 'ServiceExternalIPs', list(obj(() => ServiceExternalIPBlockSchema))),
  f('serviceClusterIPs', 'ServiceClusterIPs', list(obj(() => ServiceClusterIPBlockSchema))),
  f('serviceLoadBalancerAggregation', 'ServiceLoadBalancerAggregation', named('v3.ServiceLoadBalancerAggregation', ['Enabled', 'Disabled']), {pointer: true, default: 'Enabled'}),
  f('communities', 'Communities', list(obj(() => CommunitySchema)), {maxItems: 500}),
  f('prefixAdvertisements', 'PrefixAdvertisements', list(obj(() => PrefixAdvertisementSchema)), {maxItems: 500}),
  f('listenPort', 'ListenPort', int('uint16')),
  f('nodeMeshPassword', 'NodeMeshPassword', obj(() => BGPPasswordSchema), {pointer: true}),
  f('nodeMeshMaxRestartTime', 'NodeMeshMaxRestartTime', duration, {pointer: true}),
  f('bindMode', 'BindMode', named('v3.BindMode', ['None', 'NodeIP']), {pointer: true}),
  f('ignoredInterfaces', 'IgnoredInterfaces', list(str)),
  f('localWorkloadPeeringIPV4', 'LocalWorkloadPeeringIPV4', str),
  f('localWorkloadPeeringIPV6', 'LocalWorkloadPeeringIPV6', str),
  f('programClusterRoutes', 'ProgramClusterRoutes', enumOf(['Enabled', 'Disabled', 'EnabledIPIPOnly', 'EnabledNoEncapOnly']), {pointer: true}),
  f('ipv4NormalRoutePriority', 'IPv4NormalRoutePriority', int(), {pointer: true, minimum: 1, maximum: 2147483646}),
  f('ipv6NormalRoutePriority', 'IPv6NormalRoutePriority', int(), {pointer: true, minimum: 1, maximum: 2147483646}),
])

export const ServiceLoadBalancerIPBlockSchema = struct('ServiceLoadBalancerIPBlock', 'v3', [
  f('cidr', 'CIDR', str),
])

export const ServiceExternalIPBlockSchema = struct('ServiceExternalIPBlock', 'v3', [
  f('cidr', 'CIDR', str),
])

export const ServiceClusterIPBlockSchema = struct('ServiceClusterIPBlock', 'v3', [
  f('cidr', 'CIDR', str),
])

export const CommunitySchema = struct('Community', 'v3', [
  f('name', 'Name', str, {maxLength: 253}),
  f('value', 'Value', str, {maxLength: 40}),
])

export const PrefixAdvertisementSchema = struct('PrefixAdvertisement', 'v3', [
  f('cidr', 'CIDR', str),
  f('communities', 'Communities', list(str), {maxItems: 50}),
])

export const BGPFilterSchema = struct('BGPFilter', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => BGPFilterSpecSchema), {keep: true}),
])

export const BGPFilterSpecSchema = struct('BGPFilterSpec', 'v3', [
  f('exportV4', 'ExportV4', list(obj(() => BGPFilterRuleV4Schema))),
  f('importV4', 'ImportV4', list(obj(() => BGPFilterRuleV4Schema))),
  f('exportV6', 'ExportV6', list(obj(() => BGPFilterRuleV6Schema))),
  f('importV6', 'ImportV6', list(obj(() => BGPFilterRuleV6Schema))),
])

export const BGPFilterRuleV4Schema = struct('BGPFilterRuleV4', 'v3', [
  f('cidr', 'CIDR', str, {maxLength: 18}),
  f('prefixLength', 'PrefixLength', obj(() => BGPFilterPrefixLengthV4Schema), {pointer: true}),
  f('source', 'Source', named('v3.BGPFilterMatchSource', ['RemotePeers'])),
  f('interface', 'Interface', str, {maxLength: 15}),
  f('matchOperator', 'MatchOperator', named('v3.BGPFilterMatchOperator', ['Equal', 'NotEqual', 'In', 'NotIn'])),
  f('peerType', 'PeerType', named('v3.BGPFilterPeerType', ['eBGP', 'iBGP'])),
  f('communities', 'Communities', obj(() => BGPFilterCommunityMatchSchema), {pointer: true}),
  f('asPathPrefix', 'ASPathPrefix', list(asNumber)),
  f('priority', 'Priority', int(), {pointer: true, minimum: 1, maximum: 2147483646}),
  f('action', 'Action', named('v3.BGPFilterAction', ['Accept', 'Reject']), {keep: true}),
  f('operations', 'Operations', list(obj(() => BGPFilterOperationSchema)), {minItems: 1, maxItems: 10}),
])

export const BGPFilterRuleV6Schema = struct('BGPFilterRuleV6', 'v3', [
  f('cidr', 'CIDR', str, {maxLength: 43}),
  f('prefixLength', 'PrefixLength', obj(() => BGPFilterPrefixLengthV6Schema), {pointer: true}),
  f('source', 'Source', named('v3.BGPFilterMatchSource', ['RemotePeers'])),
  f('interface', 'Interface', str, {maxLength: 15}),
  f('matchOperator', 'MatchOperator', named('v3.BGPFilterMatchOperator', ['Equal', 'NotEqual', 'In', 'NotIn'])),
  f('peerType', 'PeerType', named('v3.BGPFilterPeerType', ['eBGP', 'iBGP'])),
  f('communities', 'Communities', obj(() => BGPFilterCommunityMatchSchema), {pointer: true}),
  f('asPathPrefix', 'ASPathPrefix', list(asNumber)),
  f('priority', 'Priority', int(), {pointer: true, minimum: 1, maximum: 2147483646}),
  f('action', 'Action', named('v3.BGPFilterAction', ['Accept', 'Reject']), {keep: true}),
  f('operations', 'Operations', list(obj(() => BGPFilterOperationSchema)), {minItems: 1, maxItems: 10}),
])

export const BGPFilterPrefixLengthV4Schema = struct('BGPFilterPrefixLengthV4', 'v3', [
  f('min', 'Min', int('int32'), {pointer: true, minimum: 0, maximum: 32}),
  f('max', 'Max', int('int32'), {pointer: true, minimum: 0, maximum: 32}),
])

export const BGPFilterPrefixLengthV6Schema = struct('BGPFilterPrefixLengthV6', 'v3', [
  f('min', 'Min', int('int32'), {pointer: true, minimum: 0, maximum: 128}),
  f('max', 'Max', int('int32'), {pointer: true, minimum: 0, maximum: 128}),
])

export const BGPFilterCommunityMatchSchema = struct('BGPFilterCommunityMatch', 'v3', [
  f('values', 'Values', list(named('v3.BGPCommunityValue')), {keep: true, minItems: 1, maxItems: 1}),
])

export const BGPFilterOperationSchema = struct('BGPFilterOperation', 'v3', [
  f('addCommunity', 'AddCommunity', obj(() => BGPFilterAddCommunitySchema), {pointer: true}),
  f('prependASPath', 'PrependASPath', obj(() => BGPFilterPrependASPathSchema), {pointer: true}),
  f('setPriority', 'SetPriority', obj(() => BGPFilterSetPrioritySchema), {pointer: true}),
])

export const BGPFilterAddCommunitySchema = struct('BGPFilterAddCommunity', 'v3', [
  f('value', 'Value', named('v3.BGPCommunityValue'), {pointer: true, keep: true}),
])

export const BGPFilterPrependASPathSchema = struct('BGPFilterPrependASPath', 'v3', [
  f('prefix', 'Prefix', list(asNumber), {keep: true, minItems: 1, maxItems: 10}),
])

export const BGPFilterSetPrioritySchema = struct('BGPFilterSetPriority', 'v3', [
  f('value', 'Value', int(), {pointer: true, keep: true, minimum: 1, maximum: 2147483646}),
])

export const BGPPeerSchema = struct('BGPPeer', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => BGPPeerSpecSchema), {keep: true}),
])

export const BGPPeerSpecSchema = struct('BGPPeerSpec', 'v3', [
  f('node', 'Node', str, {maxLength: 253}),
  f('nodeSelector', 'NodeSelector', str, {maxLength: 1024}),
  f('peerIP', 'PeerIP', str, {maxLength: 64}),
  f('asNumber', 'ASNumber', asNumber),
  f('localASNumber', 'LocalASNumber', asNumber, {pointer: true}),
  f('peerSelector', 'PeerSelector', str, {maxLength: 1024}),
  f('keepOriginalNextHop', 'KeepOriginalNextHop', bool),
  f('nextHopMode', 'NextHopMode', named('v3.NextHopMode', ['Auto', 'Self', 'Keep']), {pointer: true}),
  f('password', 'Password', obj(() => BGPPasswordSchema), {pointer: true}),
  f('sourceAddress', 'SourceAddress', named('v3.SourceAddress', ['UseNodeIP', 'None'])),
  f('maxRestartTime', 'MaxRestartTime', duration, {pointer: true}),
  f('keepaliveTime', 'KeepaliveTime', duration, {pointer: true}),
  f('numAllowedLocalASNumbers', 'NumAllowedLocalASNumbers', int('int32'), {pointer: true}),
  f('ttlSecurity', 'TTLSecurity', int('uint8'), {pointer: true}),
  f('reachableBy', 'ReachableBy', str, {maxLength: 64}),
  f('filters', 'Filters', list(str)),
  f('localWorkloadSelector', 'LocalWorkloadSelector', str, {maxLength: 1024}),
  f('reversePeering', 'ReversePeering', named('v3.ReversePeering', ['Auto', 'Manual']), {pointer: true}),
])

export const BGPPasswordSchema = struct('BGPPassword', 'v3', [
  f('secretKeyRef', 'SecretKeyRef', obj(() => SecretKeySelectorSchema), {pointer: true}),
])
