// Kubernetes structs embedded in Calico resources (k8s.io/apimachinery meta/v1, core/v1, networking/v1).
import {bool, f, int, intOrString, list, map, named, obj, raw, str, struct, time} from './dsl.js'

export const OwnerReferenceSchema = struct('OwnerReference', 'v1', [
  f('apiVersion', 'APIVersion', str, {keep: true}),
  f('kind', 'Kind', str, {keep: true}),
  f('name', 'Name', str, {keep: true}),
  f('uid', 'UID', named('types.UID'), {keep: true}),
  f('controller', 'Controller', bool, {pointer: true}),
  f('blockOwnerDeletion', 'BlockOwnerDeletion', bool, {pointer: true}),
])

export const ManagedFieldsEntrySchema = struct('ManagedFieldsEntry', 'v1', [
  f('manager', 'Manager', str),
  f('operation', 'Operation', named('v1.ManagedFieldsOperationType', ['Apply', 'Update'])),
  f('apiVersion', 'APIVersion', str),
  f('time', 'Time', time, {pointer: true}),
  f('fieldsType', 'FieldsType', str),
  f('fieldsV1', 'FieldsV1', raw('v1.FieldsV1'), {pointer: true}),
  f('subresource', 'Subresource', str),
])

/** metav1.ObjectMeta, in Go struct order (which is also the JSON output order). */
export const ObjectMetaSchema = struct('ObjectMeta', 'v1', [
  f('name', 'Name', str),
  f('generateName', 'GenerateName', str),
  f('namespace', 'Namespace', str),
  f('selfLink', 'SelfLink', str),
  f('uid', 'UID', named('types.UID')),
  f('resourceVersion', 'ResourceVersion', str),
  f('generation', 'Generation', int('int64')),
  f('creationTimestamp', 'CreationTimestamp', time),
  f('deletionTimestamp', 'DeletionTimestamp', time, {pointer: true}),
  f('deletionGracePeriodSeconds', 'DeletionGracePeriodSeconds', int('int64'), {pointer: true}),
  f('labels', 'Labels', map(str)),
  f('annotations', 'Annotations', map(str)),
  f('ownerReferences', 'OwnerReferences', list(obj(() => OwnerReferenceSchema))),
  f('finalizers', 'Finalizers', list(str)),
  f('managedFields', 'ManagedFields', list(obj(() => ManagedFieldsEntrySchema))),
])

/** metav1.ListMeta of `<Kind>List` objects. */
export const ListMetaSchema = struct('ListMeta', 'v1', [
  f('selfLink', 'SelfLink', str),
  f('resourceVersion', 'ResourceVersion', str),
  f('continue', 'Continue', str),
  f('remainingItemCount', 'RemainingItemCount', int('int64'), {pointer: true}),
])

export const ConditionSchema = struct('Condition', 'v1', [
  f('type', 'Type', str, {keep: true, maxLength: 316}),
  f('status', 'Status', named('v1.ConditionStatus', ['True', 'False', 'Unknown']), {keep: true}),
  f('observedGeneration', 'ObservedGeneration', int('int64'), {minimum: 0}),
  f('lastTransitionTime', 'LastTransitionTime', time, {keep: true}),
  f('reason', 'Reason', str, {keep: true, maxLength: 1024}),
  f('message', 'Message', str, {keep: true, maxLength: 32768}),
])

export const LabelSelectorRequirementSchema = struct('LabelSelectorRequirement', 'v1', [
  f('key', 'Key', str, {keep: true}),
  f('operator', 'Operator', named('v1.LabelSelectorOperator', ['In', 'NotIn', 'Exists', 'DoesNotExist']), {keep: true}),
  f('values', 'Values', list(str)),
])

export const LabelSelectorSchema = struct('LabelSelector', 'v1', [
  f('matchLabels', 'MatchLabels', map(str)),
  f('matchExpressions', 'MatchExpressions', list(obj(() => LabelSelectorRequirementSchema))),
])

export const SecretKeySelectorSchema = struct('SecretKeySelector', 'v1', [
  f('name', 'Name', str, {default: ''}),
  f('key', 'Key', str, {keep: true}),
  f('optional', 'Optional', bool, {pointer: true}),
])

// networking.k8s.io/v1 rule types used by StagedKubernetesNetworkPolicy.
export const NetworkPolicyPortSchema = struct('NetworkPolicyPort', 'v1', [
  f('protocol', 'Protocol', named('v1.Protocol', ['TCP', 'UDP', 'SCTP']), {pointer: true}),
  f('port', 'Port', intOrString, {pointer: true}),
  f('endPort', 'EndPort', int('int32'), {pointer: true}),
])

export const IPBlockSchema = struct('IPBlock', 'v1', [
  f('cidr', 'CIDR', str, {keep: true}),
  f('except', 'Except', list(str)),
])

export const NetworkPolicyPeerSchema = struct('NetworkPolicyPeer', 'v1', [
  f('podSelector', 'PodSelector', obj(() => LabelSelectorSchema), {pointer: true}),
  f('namespaceSelector', 'NamespaceSelector', obj(() => LabelSelectorSchema), {pointer: true}),
  f('ipBlock', 'IPBlock', obj(() => IPBlockSchema), {pointer: true}),
])

export const NetworkPolicyIngressRuleSchema = struct('NetworkPolicyIngressRule', 'v1', [
  f('ports', 'Ports', list(obj(() => NetworkPolicyPortSchema))),
  f('from', 'From', list(obj(() => NetworkPolicyPeerSchema))),
])

export const NetworkPolicyEgressRuleSchema = struct('NetworkPolicyEgressRule', 'v1', [
  f('ports', 'Ports', list(obj(() => NetworkPolicyPortSchema))),
  f('to', 'To', list(obj(() => NetworkPolicyPeerSchema))),
])
