// Policy kinds and their shared rule structures (api/pkg/apis/projectcalico/v3 policy_common.go, networkpolicy.go, ...).
// Field facts (JSON/Go names, types, omitempty, kubebuilder constraints) follow the Go structs in Go order.
import {bool, f, float, int, list, map, named, obj, port, protocol, str, struct} from './dsl.js'
import {ConditionSchema, LabelSelectorSchema, NetworkPolicyEgressRuleSchema, NetworkPolicyIngressRuleSchema, ObjectMetaSchema} from './meta.js'

export const GlobalNetworkPolicySchema = struct('GlobalNetworkPolicy', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => GlobalNetworkPolicySpecSchema), {keep: true}),
])

// Staged policies carry exactly the enforced policy's fields after stagedAction (Go struct order), so they share the lists.
const globalNetworkPolicyFields = [
  f('tier', 'Tier', str, {default: 'default'}),
  f('order', 'Order', float, {pointer: true}),
  f('ingress', 'Ingress', list(obj(() => RuleSchema)), {maxItems: 1024}),
  f('egress', 'Egress', list(obj(() => RuleSchema)), {maxItems: 1024}),
  f('selector', 'Selector', str, {maxLength: 1024}),
  f('types', 'Types', list(named('v3.PolicyType', ['Ingress', 'Egress'])), {minItems: 1, maxItems: 2}),
  f('doNotTrack', 'DoNotTrack', bool),
  f('preDNAT', 'PreDNAT', bool),
  f('applyOnForward', 'ApplyOnForward', bool),
  f('serviceAccountSelector', 'ServiceAccountSelector', str, {maxLength: 1024}),
  f('namespaceSelector', 'NamespaceSelector', str, {maxLength: 1024}),
  f('performanceHints', 'PerformanceHints', list(named('v3.PolicyPerformanceHint', ['AssumeNeededOnEveryNode']))),
]

export const GlobalNetworkPolicySpecSchema = struct('GlobalNetworkPolicySpec', 'v3', globalNetworkPolicyFields)

export const NetworkPolicySchema = struct('NetworkPolicy', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => NetworkPolicySpecSchema), {keep: true}),
])

const networkPolicyFields = [
  f('tier', 'Tier', str, {default: 'default'}),
  f('order', 'Order', float, {pointer: true}),
  f('ingress', 'Ingress', list(obj(() => RuleSchema)), {maxItems: 1024}),
  f('egress', 'Egress', list(obj(() => RuleSchema)), {maxItems: 1024}),
  f('selector', 'Selector', str, {maxLength: 1024}),
  f('types', 'Types', list(named('v3.PolicyType', ['Ingress', 'Egress'])), {minItems: 1, maxItems: 2}),
  f('serviceAccountSelector', 'ServiceAccountSelector', str, {maxLength: 1024}),
  f('performanceHints', 'PerformanceHints', list(named('v3.PolicyPerformanceHint', ['AssumeNeededOnEveryNode']))),
]

export const NetworkPolicySpecSchema = struct('NetworkPolicySpec', 'v3', networkPolicyFields)

export const RuleSchema = struct('Rule', 'v3', [
  f('action', 'Action', named('v3.Action', ['Allow', 'Deny', 'Log', 'Pass']), {keep: true}),
  f('ipVersion', 'IPVersion', int('int', [4, 6]), {pointer: true}),
  f('protocol', 'Protocol', protocol, {pointer: true}),
  f('icmp', 'ICMP', obj(() => ICMPFieldsSchema), {pointer: true}),
  f('notProtocol', 'NotProtocol', protocol, {pointer: true}),
  f('notICMP', 'NotICMP', obj(() => ICMPFieldsSchema), {pointer: true}),
  f('source', 'Source', obj(() => EntityRuleSchema), {omitZero: true}),
  f('destination', 'Destination', obj(() => EntityRuleSchema), {omitZero: true}),
  f('http', 'HTTP', obj(() => HTTPMatchSchema), {pointer: true}),
  f('metadata', 'Metadata', obj(() => RuleMetadataSchema), {pointer: true}),
])

export const HTTPPathSchema = struct('HTTPPath', 'v3', [
  f('exact', 'Exact', str, {maxLength: 1024}),
  f('prefix', 'Prefix', str, {maxLength: 1024}),
])

export const HTTPMatchSchema = struct('HTTPMatch', 'v3', [
  f('methods', 'Methods', list(str), {maxItems: 20}),
  f('paths', 'Paths', list(obj(() => HTTPPathSchema)), {maxItems: 20}),
])

export const ICMPFieldsSchema = struct('ICMPFields', 'v3', [
  f('type', 'Type', int(), {pointer: true, minimum: 0, maximum: 254}),
  f('code', 'Code', int(), {pointer: true, minimum: 0, maximum: 255}),
])

export const EntityRuleSchema = struct('EntityRule', 'v3', [
  f('nets', 'Nets', list(str), {maxItems: 256}),
  f('selector', 'Selector', str, {maxLength: 1024}),
  f('namespaceSelector', 'NamespaceSelector', str, {maxLength: 1024}),
  f('services', 'Services', obj(() => ServiceMatchSchema), {pointer: true}),
  f('ports', 'Ports', list(port), {maxItems: 50}),
  f('notNets', 'NotNets', list(str), {maxItems: 256}),
  f('notSelector', 'NotSelector', str, {maxLength: 1024}),
  f('notPorts', 'NotPorts', list(port), {maxItems: 50}),
  f('serviceAccounts', 'ServiceAccounts', obj(() => ServiceAccountMatchSchema), {pointer: true}),
])

export const ServiceMatchSchema = struct('ServiceMatch', 'v3', [
  f('name', 'Name', str, {maxLength: 253}),
  f('namespace', 'Namespace', str, {maxLength: 253}),
])

export const ServiceAccountMatchSchema = struct('ServiceAccountMatch', 'v3', [
  f('names', 'Names', list(str)),
  f('selector', 'Selector', str),
])

export const RuleMetadataSchema = struct('RuleMetadata', 'v3', [
  f('annotations', 'Annotations', map(str)),
])

export const ProfileSchema = struct('Profile', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => ProfileSpecSchema), {keep: true}),
])

export const ProfileSpecSchema = struct('ProfileSpec', 'v3', [
  f('ingress', 'Ingress', list(obj(() => RuleSchema)), {maxItems: 1024}),
  f('egress', 'Egress', list(obj(() => RuleSchema)), {maxItems: 1024}),
  f('labelsToApply', 'LabelsToApply', map(str)),
])

export const StagedGlobalNetworkPolicySchema = struct('StagedGlobalNetworkPolicy', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => StagedGlobalNetworkPolicySpecSchema), {keep: true}),
])

const stagedActionField = f('stagedAction', 'StagedAction', named('v3.StagedAction', ['Set', 'Delete', 'Learn', 'Ignore']), {default: 'Set'})

export const StagedGlobalNetworkPolicySpecSchema = struct('StagedGlobalNetworkPolicySpec', 'v3', [stagedActionField, ...globalNetworkPolicyFields])

export const StagedKubernetesNetworkPolicySchema = struct('StagedKubernetesNetworkPolicy', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => StagedKubernetesNetworkPolicySpecSchema), {keep: true}),
])

export const StagedKubernetesNetworkPolicySpecSchema = struct('StagedKubernetesNetworkPolicySpec', 'v3', [
  f('stagedAction', 'StagedAction', named('v3.StagedAction', ['Set', 'Delete', 'Learn', 'Ignore']), {default: 'Set'}),
  f('podSelector', 'PodSelector', obj(() => LabelSelectorSchema), {keep: true}),
  f('ingress', 'Ingress', list(obj(() => NetworkPolicyIngressRuleSchema))),
  f('egress', 'Egress', list(obj(() => NetworkPolicyEgressRuleSchema))),
  f('policyTypes', 'PolicyTypes', list(named('v1.PolicyType', ['Ingress', 'Egress'])), {minItems: 1, maxItems: 2}),
])

export const StagedNetworkPolicySchema = struct('StagedNetworkPolicy', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => StagedNetworkPolicySpecSchema), {keep: true}),
])

export const StagedNetworkPolicySpecSchema = struct('StagedNetworkPolicySpec', 'v3', [stagedActionField, ...networkPolicyFields])

export const TierSchema = struct('Tier', 'v3', [
  f('kind', 'Kind', str),
  f('apiVersion', 'APIVersion', str),
  f('metadata', 'ObjectMeta', obj(() => ObjectMetaSchema), {keep: true}),
  f('spec', 'Spec', obj(() => TierSpecSchema), {keep: true}),
  f('status', 'Status', obj(() => TierStatusSchema), {keep: true}),
])

export const TierStatusSchema = struct('TierStatus', 'v3', [
  f('conditions', 'Conditions', list(obj(() => ConditionSchema))),
])

export const TierSpecSchema = struct('TierSpec', 'v3', [
  f('order', 'Order', float, {pointer: true}),
  f('defaultAction', 'DefaultAction', named('v3.Action', ['Pass', 'Deny']), {pointer: true, default: 'Deny'}),
])
