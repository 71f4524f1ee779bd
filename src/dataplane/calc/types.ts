// Inputs (the subset of projectcalico.org/v3 fields the policy calculation reads, with Calico's JSON names) and
// outputs (Felix's calc-graph results: per-endpoint ordered tiers, active policies/profiles, IP sets).
// Narrow structural types on purpose: any fuller v3 type with these fields is assignable.
import type {Resource} from '../../api/resource.js'

// ---------------------------------------------------------------------------------------------------------------
// Inputs

export type PortSpec = number | string

export interface ICMPFields {
  type?: number
  code?: number
}

export interface ServiceAccountMatch {
  names?: string[]
  selector?: string
}

export interface EntityRule {
  nets?: string[]
  notNets?: string[]
  selector?: string
  notSelector?: string
  namespaceSelector?: string
  serviceAccounts?: ServiceAccountMatch
  ports?: PortSpec[]
  notPorts?: PortSpec[]
}

export type RuleAction = 'Allow' | 'Deny' | 'Pass' | 'Log'

export interface Rule {
  action: RuleAction | string
  ipVersion?: number
  protocol?: number | string
  notProtocol?: number | string
  icmp?: ICMPFields
  notICMP?: ICMPFields
  source?: EntityRule
  destination?: EntityRule
  metadata?: {annotations?: Record<string, string>}
}

export interface PolicySpec {
  tier?: string
  order?: number
  selector?: string
  /** GlobalNetworkPolicy only: limits the endpoints it applies to by namespace labels. */
  namespaceSelector?: string
  serviceAccountSelector?: string
  types?: string[]
  ingress?: Rule[]
  egress?: Rule[]
  doNotTrack?: boolean
  preDNAT?: boolean
  applyOnForward?: boolean
}

export interface TierSpec {
  order?: number
  defaultAction?: 'Deny' | 'Pass' | string
}

export interface ProfileSpec {
  ingress?: Rule[]
  egress?: Rule[]
  labelsToApply?: Record<string, string>
}

export interface EndpointPort {
  name: string
  protocol?: number | string
  port: number
}

export interface WorkloadEndpointSpec {
  node?: string
  orchestrator?: string
  workload?: string
  pod?: string
  endpoint?: string
  interfaceName?: string
  ipNetworks?: string[]
  profiles?: string[]
  serviceAccountName?: string
  ports?: EndpointPort[]
  /** Source prefixes the workload may send from besides its own addresses (exempt from the RPF check). */
  allowSpoofedSourcePrefixes?: string[]
}

export interface HostEndpointSpec {
  node?: string
  interfaceName?: string
  expectedIPs?: string[]
  profiles?: string[]
  ports?: EndpointPort[]
}

export interface NetworkSetSpec {
  nets?: string[]
}

/** The FelixConfiguration fields the policy dataplane uses (Calico's JSON names). */
export interface FelixConfigurationSpec {
  defaultEndpointToHostAction?: string
  failsafeInboundHostPorts?: ProtoPortSpec[]
  failsafeOutboundHostPorts?: ProtoPortSpec[]
  logPrefix?: string
  iptablesFilterDenyAction?: string
  nftablesFilterDenyAction?: string
  disableConntrackInvalidCheck?: boolean
  allowVXLANPacketsFromWorkloads?: boolean
  allowIPIPPacketsFromWorkloads?: boolean
  vxlanPort?: number
  /** Forces VXLAN on or off; unset, the pools decide (a pool with vxlanMode Always or CrossSubnet turns it on). */
  vxlanEnabled?: boolean
  interfacePrefix?: string
  ipv6Support?: boolean
  workloadSourceSpoofing?: string
}

/** The IPPool fields the calculation reads: natOutgoing (masquerade), and whether the pool turns VXLAN on. */
export interface IPPoolSpec {
  cidr?: string
  natOutgoing?: boolean
  disabled?: boolean
  allowedUses?: string[]
  vxlanMode?: string
}

/** The Node fields the calculation reads: other nodes' addresses, as VXLAN peers when they have a VTEP address. */
export interface NodeSpec {
  bgp?: {ipv4Address?: string}
  ipv4VXLANTunnelAddr?: string
}

export interface ProtoPortSpec {
  protocol?: string
  port: number
  net?: string
}

/** Kinds that carry Calico policy. Staged kinds are tracked but never enforced. */
export const POLICY_KINDS = [
  'NetworkPolicy',
  'GlobalNetworkPolicy',
  'KubernetesNetworkPolicy',
  'StagedNetworkPolicy',
  'StagedGlobalNetworkPolicy',
  'StagedKubernetesNetworkPolicy',
] as const
export type PolicyKind = (typeof POLICY_KINDS)[number]

export type CalcResource =
  | (Resource<WorkloadEndpointSpec> & {kind: 'WorkloadEndpoint'})
  | (Resource<HostEndpointSpec> & {kind: 'HostEndpoint'})
  | (Resource<ProfileSpec> & {kind: 'Profile'})
  | (Resource<TierSpec> & {kind: 'Tier'})
  | (Resource<PolicySpec> & {kind: PolicyKind})
  | (Resource<NetworkSetSpec> & {kind: 'NetworkSet' | 'GlobalNetworkSet'})
  | (Resource<FelixConfigurationSpec> & {kind: 'FelixConfiguration'})
  | (Resource<IPPoolSpec> & {kind: 'IPPool'})
  | (Resource<NodeSpec> & {kind: 'Node'})

export type CalcKind = CalcResource['kind']

/** A datastore change as the syncer reports it: the full new object, or a deletion by identity. */
export type CalcEvent =
  | {type: 'set'; resource: CalcResource}
  | {type: 'delete'; kind: CalcKind; name: string; namespace?: string}

// ---------------------------------------------------------------------------------------------------------------
// Outputs

export type Action = 'allow' | 'deny' | 'pass' | 'log'

/** Inclusive port range. */
export interface PortRange {
  first: number
  last: number
}

export interface ParsedICMP {
  type: number
  code?: number
}

/**
 * One Calico rule with selectors resolved to IP set IDs (Felix's proto.Rule). Every listed field must match (AND);
 * within a list of nets, any may match (OR); within ports, a packet matches when its port is in `ports` OR its
 * (address, protocol, port) is in one of the named-port sets.
 */
export interface ParsedRule {
  action: Action
  /** Restricts the rule to one IP family (from ipVersion, the ICMP protocol, or the families of its nets). */
  ipVersion?: 4 | 6
  protocol?: number
  notProtocol?: number
  srcNets: string[]
  notSrcNets: string[]
  dstNets: string[]
  notDstNets: string[]
  srcIPSets: string[]
  notSrcIPSets: string[]
  dstIPSets: string[]
  notDstIPSets: string[]
  srcPorts: PortRange[]
  notSrcPorts: PortRange[]
  dstPorts: PortRange[]
  notDstPorts: PortRange[]
  srcNamedPortSets: string[]
  notSrcNamedPortSets: string[]
  dstNamedPortSets: string[]
  notDstNamedPortSets: string[]
  icmp?: ParsedICMP
  notICMP?: ParsedICMP
  annotations?: Record<string, string>
}

/** Felix's short policy kinds, used in chain names and policy IDs. */
export type PolicyKindShort = 'np' | 'gnp' | 'knp'

export interface PolicyID {
  kind: PolicyKindShort
  namespace?: string
  name: string
}

export interface ActivePolicy {
  id: PolicyID
  /** `np/<ns>/<name>`, `gnp/<name>`, `knp/<ns>/<name>`. */
  key: string
  /** Human form for the first rule's comment: `NetworkPolicy ns/name`. */
  description: string
  tier: string
  inbound: ParsedRule[]
  outbound: ParsedRule[]
  doNotTrack: boolean
  preDNAT: boolean
  applyOnForward: boolean
}

export interface ActiveProfile {
  name: string
  inbound: ParsedRule[]
  outbound: ParsedRule[]
  /** True when an endpoint names a profile that does not exist: Felix fails closed with deny-all rules. */
  missing: boolean
}

export type TierDefaultAction = 'deny' | 'pass'

export interface TierInfo {
  name: string
  defaultAction: TierDefaultAction
  ingressPolicies: string[]
  egressPolicies: string[]
}

export interface LocalEndpoint {
  /** `wep/<ns>/<name>` or `hep/<name>`. */
  key: string
  kind: 'workload' | 'host'
  /** Interface name; `*` for an all-interfaces host endpoint. */
  iface: string
  ipv4Nets: string[]
  ipv6Nets: string[]
  /** Workload endpoints: canonical CIDRs exempt from the anti-spoofing (RPF) check. */
  allowSpoofedSourcePrefixes: string[]
  profileIds: string[]
  /** Normal (filter) tiers. Workload endpoints only ever have these. */
  tiers: TierInfo[]
  /** Host endpoints: doNotTrack policies (raw table), default action forced to pass. */
  untrackedTiers: TierInfo[]
  /** Host endpoints: preDNAT policies (ingress only), default action forced to pass. */
  preDnatTiers: TierInfo[]
  /** Host endpoints: applyOnForward policies, for forwarded traffic. */
  forwardTiers: TierInfo[]
}

export type IPSetType = 'net' | 'ip-port'

export interface IPSetState {
  id: string
  type: IPSetType
  /** Sorted, deduplicated: CIDRs/IPs for `net`; `ip,proto:port` (proto number) for `ip-port`. */
  members: string[]
}

export type EndpointToHostAction = 'accept' | 'drop' | 'return'

export interface ProtoPort {
  protocol: 'tcp' | 'udp'
  port: number
  net?: string
}

/** Dataplane settings derived from FelixConfiguration `default` overlaid with `node.<nodeName>`. */
export interface DataplaneSettings {
  defaultEndpointToHostAction: EndpointToHostAction
  failsafeInbound: ProtoPort[]
  failsafeOutbound: ProtoPort[]
  logPrefix: string
  denyAction: 'drop' | 'reject'
  disableConntrackInvalidCheck: boolean
  allowVXLANPacketsFromWorkloads: boolean
  allowIPIPPacketsFromWorkloads: boolean
  vxlanPort: number
  interfacePrefixes: string[]
  ipv6Support: boolean
  /** Whether workload endpoints may carry allowSpoofedSourcePrefixes (WorkloadSourceSpoofing; Felix's default Disabled). */
  workloadSourceSpoofing: WorkloadSourceSpoofing
}

export type WorkloadSourceSpoofing = 'Disabled' | 'Any'

/**
 * Felix's IP set IDs for natOutgoing: every IP pool's CIDR (destinations that are never masqueraded; LoadBalancer-only
 * pools excluded), and the CIDRs of the pools with natOutgoing (the sources that are).
 */
export const NETWORK_POOLS_SET = 'network-ip-pools'
export const MASQ_POOLS_SET = 'masq-ipam-pools'
/**
 * Felix's IP set of the hosts VXLAN may come from and go to: the other nodes that have a VTEP address (their
 * addresses). Present only while IPv4 VXLAN is enabled, which is what asks for the VXLAN host rules.
 */
export const VXLAN_HOSTS_SET = 'all-vxlan-net'
/** Felix's VXLAN device, which the overlay (src/dataplane/routing, a layer the rules cannot import) programs. */
export const VXLAN_TUNNEL_DEVICE = 'vxlan.calico'

/** The full desired policy state for one node. */
export interface PolicyState {
  endpoints: LocalEndpoint[]
  policies: Map<string, ActivePolicy>
  profiles: Map<string, ActiveProfile>
  /**
   * Policy IP sets by ID, and, only while some pool has natOutgoing, the pool sets NETWORK_POOLS_SET and
   * MASQ_POOLS_SET (whose presence is what asks for the masquerade rule); likewise VXLAN_HOSTS_SET.
   */
  ipSets: Map<string, IPSetState>
  settings: DataplaneSettings
  /**
   * IPv4 VXLAN is enabled and this node has a VTEP address (on vxlan.calico): host traffic sent through the device
   * from another local address is masqueraded to it (Felix's tunnel rule in nat POSTROUTING).
   */
  vxlanTunnel: boolean
}

const CALC_KINDS: ReadonlySet<string> = new Set<string>([
  'WorkloadEndpoint', 'HostEndpoint', 'Profile', 'Tier', 'NetworkSet', 'GlobalNetworkSet', 'FelixConfiguration', 'IPPool', 'Node', ...POLICY_KINDS,
])

/**
 * Narrows a decoded v3 resource (src/api/types) to the calculator's input, or undefined for kinds the policy
 * calculation ignores (BGPPeer, IPAMBlock, ...). The spec types here are structural subsets of the api types.
 */
export function asCalcResource(r: Resource<object, object>): CalcResource | undefined {
  return CALC_KINDS.has(r.kind) ? (r as CalcResource) : undefined
}
