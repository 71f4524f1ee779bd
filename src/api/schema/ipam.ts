// IP pools, reservations and the IPAM configuration kind.
// Field facts (JSON/Go names, types, omitempty, kubebuilder constraints) follow the Go structs in Go order.
import {bool, f, int, list, named, obj, str, struct} from './dsl.js'
import {ConditionSchema, ObjectMetaSchema} from './meta.js'

export const IPAMConfigurationSchema = struct('IPAMConfiguration', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => IPAMConfigurationSpecSchema), {keep: true}),
])

export const IPAMConfigurationSpecSchema = struct('IPAMConfigurationSpec', 'v3', [
  f('strictAffinity', 'StrictAffinity', bool, {keep: true, default: false}),
  f('maxBlocksPerHost', 'MaxBlocksPerHost', int('int32'), {default: 0, minimum: 0, maximum: 1000000}),
  f('autoAllocateBlocks', 'AutoAllocateBlocks', bool, {keep: true, default: true}),
  f('kubeVirtVMAddressPersistence', 'KubeVirtVMAddressPersistence', named('v3.VMAddressPersistence', ['Enabled', 'Disabled']), {pointer: true}),
  f('ipCooldownSeconds', 'IPCooldownSeconds', int('int32'), {minimum: 0, maximum: 1200}),
])

export const IPPoolSchema = struct('IPPool', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => IPPoolSpecSchema), {keep: true}),
  f('status', 'Status', obj(() => IPPoolStatusSchema), {pointer: true}),
])

export const IPPoolStatusSchema = struct('IPPoolStatus', 'v3', [
  f('conditions', 'Conditions', list(obj(() => ConditionSchema))),
])

export const IPPoolSpecSchema = struct('IPPoolSpec', 'v3', [
  f('cidr', 'CIDR', str, {keep: true, maxLength: 48}),
  f('vxlanMode', 'VXLANMode', named('v3.VXLANMode', ['Never', 'Always', 'CrossSubnet'])),
  f('ipipMode', 'IPIPMode', named('v3.IPIPMode', ['Never', 'Always', 'CrossSubnet'])),
  f('natOutgoing', 'NATOutgoing', bool),
  f('disabled', 'Disabled', bool),
  f('disableBGPExport', 'DisableBGPExport', bool),
  f('blockSize', 'BlockSize', int(), {minimum: 0, maximum: 128}),
  f('nodeSelector', 'NodeSelector', str, {default: 'all()', maxLength: 1024}),
  f('namespaceSelector', 'NamespaceSelector', str, {maxLength: 1024}),
  f('allowedUses', 'AllowedUses', list(named('v3.IPPoolAllowedUse', ['Workload', 'Tunnel', 'LoadBalancer'])), {maxItems: 10}),
  f('assignmentMode', 'AssignmentMode', named('v3.AssignmentMode', ['Automatic', 'Manual']), {pointer: true, default: 'Automatic'}),
])

export const IPReservationSchema = struct('IPReservation', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => IPReservationSpecSchema), {keep: true}),
])

export const IPReservationSpecSchema = struct('IPReservationSpec', 'v3', [
  f('reservedCIDRs', 'ReservedCIDRs', list(str)),
])
