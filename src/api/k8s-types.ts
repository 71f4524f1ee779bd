// Kubernetes networking.k8s.io/v1 NetworkPolicy as it appears in a manifest or API response (JSON field names
// of k8s.io/api/networking/v1 and the metav1 label selector).

import type {ObjectMeta} from './resource.js'

export const K8S_NETWORKING_API_VERSION = 'networking.k8s.io/v1'

export type K8sLabelSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'

export interface K8sLabelSelectorRequirement {
  key: string
  operator: K8sLabelSelectorOperator
  /** Non-empty for In/NotIn, empty for Exists/DoesNotExist (the API server enforces this). */
  values?: string[]
}

/** metav1.LabelSelector: matchLabels and matchExpressions ANDed; `{}` selects everything. */
export interface K8sLabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: K8sLabelSelectorRequirement[]
}

export interface K8sIPBlock {
  cidr: string
  except?: string[]
}

/** One peer: either ipBlock alone, or podSelector and/or namespaceSelector. */
export interface K8sNetworkPolicyPeer {
  podSelector?: K8sLabelSelector
  namespaceSelector?: K8sLabelSelector
  ipBlock?: K8sIPBlock
}

export type K8sProtocol = 'TCP' | 'UDP' | 'SCTP'

export interface K8sNetworkPolicyPort {
  /** Defaults to TCP. */
  protocol?: K8sProtocol
  /** A port number or a named container port; absent means every port of the protocol. */
  port?: number | string
  /** Inclusive end of a numeric port range starting at `port`. */
  endPort?: number
}

export interface K8sNetworkPolicyIngressRule {
  ports?: K8sNetworkPolicyPort[]
  from?: K8sNetworkPolicyPeer[]
}

export interface K8sNetworkPolicyEgressRule {
  ports?: K8sNetworkPolicyPort[]
  to?: K8sNetworkPolicyPeer[]
}

export type K8sPolicyType = 'Ingress' | 'Egress'

export interface K8sNetworkPolicySpec {
  /** Required by the API; `{}` selects every pod of the namespace. */
  podSelector: K8sLabelSelector
  ingress?: K8sNetworkPolicyIngressRule[]
  egress?: K8sNetworkPolicyEgressRule[]
  policyTypes?: K8sPolicyType[]
}

export interface K8sNetworkPolicy {
  apiVersion: typeof K8S_NETWORKING_API_VERSION
  kind: 'NetworkPolicy'
  metadata: ObjectMeta
  spec: K8sNetworkPolicySpec
}
