// Policy kinds and their shared rule structures (api/pkg/apis/projectcalico/v3 policy_common.go, networkpolicy.go, ...).
import type {Resource} from '../resource.js'
import type {Port, Protocol} from './common.js'
import type {Condition, LabelSelector, NetworkPolicyEgressRule, NetworkPolicyIngressRule} from './meta.js'

export type Action = 'Allow' | 'Deny' | 'Log' | 'Pass'
export type PolicyPerformanceHint = 'AssumeNeededOnEveryNode'
export type PolicyType = 'Ingress' | 'Egress'
export type StagedAction = 'Set' | 'Delete' | 'Learn' | 'Ignore'

export type GlobalNetworkPolicy = Resource<GlobalNetworkPolicySpec>

export interface GlobalNetworkPolicySpec {
  tier?: string
  order?: number
  ingress?: Rule[]
  egress?: Rule[]
  selector?: string
  types?: PolicyType[]
  doNotTrack?: boolean
  preDNAT?: boolean
  applyOnForward?: boolean
  serviceAccountSelector?: string
  namespaceSelector?: string
  performanceHints?: PolicyPerformanceHint[]
}

export type NetworkPolicy = Resource<NetworkPolicySpec>

export interface NetworkPolicySpec {
  tier?: string
  order?: number
  ingress?: Rule[]
  egress?: Rule[]
  selector?: string
  types?: PolicyType[]
  serviceAccountSelector?: string
  performanceHints?: PolicyPerformanceHint[]
}

export interface Rule {
  action: Action
  ipVersion?: number
  protocol?: Protocol
  icmp?: ICMPFields
  notProtocol?: Protocol
  notICMP?: ICMPFields
  source?: EntityRule
  destination?: EntityRule
  http?: HTTPMatch
  metadata?: RuleMetadata
}

export interface HTTPPath {
  exact?: string
  prefix?: string
}

export interface HTTPMatch {
  methods?: string[]
  paths?: HTTPPath[]
}

export interface ICMPFields {
  type?: number
  code?: number
}

export interface EntityRule {
  nets?: string[]
  selector?: string
  namespaceSelector?: string
  services?: ServiceMatch
  ports?: Port[]
  notNets?: string[]
  notSelector?: string
  notPorts?: Port[]
  serviceAccounts?: ServiceAccountMatch
}

export interface ServiceMatch {
  name?: string
  namespace?: string
}

export interface ServiceAccountMatch {
  names?: string[]
  selector?: string
}

export interface RuleMetadata {
  annotations?: Record<string, string>
}

export type Profile = Resource<ProfileSpec>

export interface ProfileSpec {
  ingress?: Rule[]
  egress?: Rule[]
  labelsToApply?: Record<string, string>
}

export type StagedGlobalNetworkPolicy = Resource<StagedGlobalNetworkPolicySpec>

export interface StagedGlobalNetworkPolicySpec {
  stagedAction?: StagedAction
  tier?: string
  order?: number
  ingress?: Rule[]
  egress?: Rule[]
  selector?: string
  types?: PolicyType[]
  doNotTrack?: boolean
  preDNAT?: boolean
  applyOnForward?: boolean
  serviceAccountSelector?: string
  namespaceSelector?: string
  performanceHints?: PolicyPerformanceHint[]
}

export type StagedKubernetesNetworkPolicy = Resource<StagedKubernetesNetworkPolicySpec>

export interface StagedKubernetesNetworkPolicySpec {
  stagedAction?: StagedAction
  podSelector?: LabelSelector
  ingress?: NetworkPolicyIngressRule[]
  egress?: NetworkPolicyEgressRule[]
  policyTypes?: Array<'Ingress' | 'Egress'>
}

export type StagedNetworkPolicy = Resource<StagedNetworkPolicySpec>

export interface StagedNetworkPolicySpec {
  stagedAction?: StagedAction
  tier?: string
  order?: number
  ingress?: Rule[]
  egress?: Rule[]
  selector?: string
  types?: PolicyType[]
  serviceAccountSelector?: string
  performanceHints?: PolicyPerformanceHint[]
}

export type Tier = Resource<TierSpec, TierStatus>

export interface TierStatus {
  conditions?: Condition[]
}

export interface TierSpec {
  order?: number
  defaultAction?: Extract<Action, 'Pass' | 'Deny'>
}
