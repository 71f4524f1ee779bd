// Kubernetes structs embedded in Calico resources (see ../schema/meta.ts for the runtime description).
import type {IntOrString} from './common.js'

export interface Condition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  observedGeneration?: number
  lastTransitionTime?: string
  reason: string
  message: string
}

export interface LabelSelectorRequirement {
  key: string
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'
  values?: string[]
}

export interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: LabelSelectorRequirement[]
}

export interface SecretKeySelector {
  name?: string
  key: string
  optional?: boolean
}

export interface NetworkPolicyPort {
  protocol?: 'TCP' | 'UDP' | 'SCTP'
  port?: IntOrString
  endPort?: number
}

export interface IPBlock {
  cidr: string
  except?: string[]
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector
  namespaceSelector?: LabelSelector
  ipBlock?: IPBlock
}

export interface NetworkPolicyIngressRule {
  ports?: NetworkPolicyPort[]
  from?: NetworkPolicyPeer[]
}

export interface NetworkPolicyEgressRule {
  ports?: NetworkPolicyPort[]
  to?: NetworkPolicyPeer[]
}
