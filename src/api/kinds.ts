// Every kind the project stores, with the names calicoctl accepts for it and where it lives.

export interface KindInfo {
  kind: string
  /** Path segment in etcd (`/calico/resources/v3/projectcalico.org/<plural>/...`) and CRD plural. */
  plural: string
  namespaced: boolean
  /** Lower-case names accepted on the calicoctl command line (kind match is case-insensitive). */
  aliases: string[]
  /** False for the IPAM library's internal objects, which calicoctl does not manage directly. */
  cli: boolean
}

function k(kind: string, plural: string, namespaced: boolean, aliases: string[], cli = true): KindInfo {
  return {kind, plural, namespaced, aliases, cli}
}

export const KINDS: readonly KindInfo[] = [
  k('BGPConfiguration', 'bgpconfigurations', false, ['bgpconfiguration', 'bgpconfigurations', 'bgpconfig', 'bgpconfigs']),
  k('BGPFilter', 'bgpfilters', false, ['bgpfilter', 'bgpfilters', 'bgpf', 'bgpfs', 'bf', 'bfs']),
  k('BGPPeer', 'bgppeers', false, ['bgppeer', 'bgppeers', 'bgpp', 'bgpps', 'bp', 'bps']),
  k('CalicoNodeStatus', 'caliconodestatuses', false, ['caliconodestatus', 'caliconodestatuses', 'nodestatus', 'nodestatuses']),
  k('ClusterInformation', 'clusterinformations', false, ['clusterinformation', 'clusterinformations', 'clusterinfo', 'clusterinfos']),
  k('FelixConfiguration', 'felixconfigurations', false, ['felixconfiguration', 'felixconfigurations', 'felixconfig', 'felixconfigs']),
  k('GlobalNetworkPolicy', 'globalnetworkpolicies', false, ['globalnetworkpolicy', 'globalnetworkpolicies', 'gnp', 'gnps']),
  k('GlobalNetworkSet', 'globalnetworksets', false, ['globalnetworkset', 'globalnetworksets', 'gnetsets']),
  k('HostEndpoint', 'hostendpoints', false, ['hostendpoint', 'hostendpoints', 'hep', 'heps']),
  k('IPAMConfiguration', 'ipamconfigurations', false, ['ipamconfiguration', 'ipamconfigurations', 'ipamconfig', 'ipamconfigs']),
  k('IPPool', 'ippools', false, ['ippool', 'ippools', 'ipp', 'ipps', 'pool', 'pools']),
  k('IPReservation', 'ipreservations', false, ['ipreservation', 'ipreservations', 'reservation', 'reservations']),
  k('KubeControllersConfiguration', 'kubecontrollersconfigurations', false, [
    'kubecontrollersconfiguration', 'kubecontrollersconfigurations', 'kubecontrollersconfig', 'kubecontrollersconfigs',
  ]),
  k('NetworkPolicy', 'networkpolicies', true, ['networkpolicy', 'networkpolicies', 'policy', 'np', 'policies', 'pol', 'pols']),
  k('NetworkSet', 'networksets', true, ['networkset', 'networksets', 'netsets']),
  k('Node', 'nodes', false, ['node', 'nodes', 'no', 'nos']),
  k('Profile', 'profiles', false, ['profile', 'profiles', 'pro', 'pros']),
  k('StagedGlobalNetworkPolicy', 'stagedglobalnetworkpolicies', false, [
    'stagedglobalnetworkpolicy', 'stagedglobalnetworkpolicies', 'sgnp', 'sgnps',
  ]),
  k('StagedKubernetesNetworkPolicy', 'stagedkubernetesnetworkpolicies', true, [
    'stagedkubernetesnetworkpolicy', 'stagedkubernetesnetworkpolicies', 'stagedkubernetespolicy', 'stagedkubernetespolicies',
    'sknp', 'skpol', 'skpols',
  ]),
  k('StagedNetworkPolicy', 'stagednetworkpolicies', true, [
    'stagednetworkpolicy', 'stagednetworkpolicies', 'stagedpolicy', 'stagedpolicies', 'snp', 'spol', 'spols',
  ]),
  k('Tier', 'tiers', false, ['tier', 'tiers']),
  k('WorkloadEndpoint', 'workloadendpoints', true, ['workloadendpoint', 'workloadendpoints', 'wep', 'weps']),
  // IPAM library objects (ipam-model.md): stored by the Backend, not managed by calicoctl's CRUD commands.
  k('IPAMBlock', 'ipamblocks', false, [], false),
  k('BlockAffinity', 'blockaffinities', false, [], false),
  k('IPAMHandle', 'ipamhandles', false, [], false),
  k('IPAMConfig', 'ipamconfigs', false, [], false),
]

const byKind = new Map(KINDS.map((i) => [i.kind, i]))
const byAlias = new Map(KINDS.flatMap((i) => i.aliases.map((a) => [a, i] as const)))

export function kindInfo(kind: string): KindInfo | undefined {
  return byKind.get(kind)
}

/** Resolve a kind as typed on the command line (`ippools`, `GNP`, ...). */
export function kindFromAlias(alias: string): KindInfo | undefined {
  return byAlias.get(alias.toLowerCase())
}

/** The names calicoctl lists under "Valid resource types are:" (lower-cased kinds, sorted). */
export function cliKindNames(): string[] {
  return KINDS.filter((i) => i.cli).map((i) => i.kind.toLowerCase()).sort()
}

export const POLICY_KINDS = new Set(['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy'])
