// A node state that exercises every rendering feature at once (host endpoints incl. `*`, doNotTrack, preDNAT,
// applyOnForward, tiers, network sets with overlaps, IPv6, ICMP, named ports, service accounts, missing profile,
// FelixConfiguration, IP pools with natOutgoing and VXLAN, Nodes), used by the nft syntax and kernel tests.
import {namespaceProfile, serviceAccountProfile, type CalcResource, type IPPoolSpec, type Rule} from '../../src/dataplane/calc/index.js'

export const RICH_NODE = 'node1'

const v3 = 'projectcalico.org/v3'

function wep(ns: string, pod: string, iface: string, ips: string[], labels: Record<string, string>, extra: {sa?: string; node?: string} = {}): CalcResource {
  const profiles = [`kns.${ns}`]
  if (extra.sa) profiles.push(`ksa.${ns}.${extra.sa}`)
  return {
    apiVersion: v3,
    kind: 'WorkloadEndpoint',
    metadata: {name: `${extra.node ?? RICH_NODE}-k8s-${pod}-eth0`, namespace: ns, labels: {...labels, 'projectcalico.org/namespace': ns, 'projectcalico.org/orchestrator': 'k8s'}},
    spec: {
      node: extra.node ?? RICH_NODE,
      orchestrator: 'k8s',
      pod,
      endpoint: 'eth0',
      interfaceName: iface,
      ipNetworks: ips,
      profiles,
      ...(extra.sa ? {serviceAccountName: extra.sa, allowSpoofedSourcePrefixes: ['192.0.2.0/24', '2001:db8:2::/48']} : {}),
      ports: [
        {name: 'http', protocol: 'TCP', port: 8080},
        {name: 'dns', protocol: 'UDP', port: 5353},
      ],
    },
  }
}

function pool(name: string, spec: IPPoolSpec): CalcResource {
  return {apiVersion: v3, kind: 'IPPool', metadata: {name}, spec}
}

function node(name: string, address: string, vtep: string | undefined): CalcResource {
  return {apiVersion: v3, kind: 'Node', metadata: {name}, spec: {bgp: {ipv4Address: address}, ...(vtep ? {ipv4VXLANTunnelAddr: vtep} : {})}}
}

export function richResources(variant: 1 | 2 = 1): CalcResource[] {
  const webRules: Rule[] = [
    {action: 'Log', protocol: 'TCP', destination: {ports: [22]}},
    {action: 'Deny', protocol: 'TCP', source: {nets: ['192.0.2.0/24', '2001:db8::/32']}, destination: {ports: [22]}},
    {action: 'Allow', protocol: 'TCP', source: {selector: "role == 'frontend'"}, destination: {ports: ['http', 80, '8000:8100']}},
    {action: 'Allow', protocol: 'UDP', source: {serviceAccounts: {names: ['api']}}, destination: {notPorts: ['dns', 53]}},
    {action: 'Allow', protocol: 'ICMP', icmp: {type: 8, code: 0}},
    {action: 'Allow', protocol: 'ICMPv6', notICMP: {type: 128}},
    {action: 'Allow', protocol: 132, notProtocol: undefined, source: {namespaceSelector: "team == 'blue'", notSelector: "quarantine == 'true'"}},
    {action: 'Pass', notProtocol: 'UDP', source: {notNets: ['10.0.0.0/8'], selector: 'has(external)'}},
    {action: 'Allow', ipVersion: 6, source: {nets: ['fd00::/8']}, metadata: {annotations: {owner: 'netops', ticket: 'NET-1'}}},
    {action: 'Allow', protocol: 'TCP', source: {ports: ['http']}, destination: {selector: 'all()'}},
  ]
  const rs: CalcResource[] = [
    {apiVersion: v3, kind: 'FelixConfiguration', metadata: {name: 'default'}, spec: {defaultEndpointToHostAction: 'Accept', nftablesFilterDenyAction: 'Reject', workloadSourceSpoofing: 'Any'}},
    {
      apiVersion: v3,
      kind: 'FelixConfiguration',
      metadata: {name: `node.${RICH_NODE}`},
      spec: {failsafeInboundHostPorts: [{protocol: 'TCP', port: 22, net: '10.0.0.0/8'}, {protocol: 'UDP', port: 68}], failsafeOutboundHostPorts: [{protocol: 'UDP', port: 53}]},
    },
    {apiVersion: v3, kind: 'Tier', metadata: {name: 'security'}, spec: {order: 100, defaultAction: 'Pass'}},
    {apiVersion: v3, kind: 'Tier', metadata: {name: 'platform'}, spec: {order: 200}},
    namespaceProfile('prod', {team: 'blue'}),
    namespaceProfile('dev', {team: 'red'}),
    serviceAccountProfile('prod', 'api', {tier: 'backend'}),
    wep('prod', 'web-1', 'calia1b2c3d4e5f', ['10.65.0.10/32', 'fd00:65::10/128'], {app: 'web', role: 'frontend'}),
    wep('prod', 'api-1', 'calib1b2c3d4e5f', ['10.65.0.11/32'], {app: 'api'}, {sa: 'api'}),
    wep('dev', 'web-2', 'calic1b2c3d4e5f', ['10.65.0.12/32'], {app: 'web', external: 'yes'}),
    // Remote endpoints only contribute IP-set members.
    wep('prod', 'web-9', 'calid1b2c3d4e5f', ['10.65.9.10/32'], {app: 'web', role: 'frontend'}, {node: 'node2'}),
    {apiVersion: v3, kind: 'WorkloadEndpoint', metadata: {name: 'node1-k8s-orphan-eth0', namespace: 'prod'}, spec: {node: RICH_NODE, interfaceName: 'calie1b2c3d4e5f', ipNetworks: ['10.65.0.13/32'], profiles: ['does-not-exist']}},
    {apiVersion: v3, kind: 'NetworkSet', metadata: {name: 'partners', namespace: 'prod', labels: {role: 'frontend'}}, spec: {nets: ['198.51.100.0/24', '198.51.100.7/32', '2001:db8:1::/48']}},
    {apiVersion: v3, kind: 'GlobalNetworkSet', metadata: {name: 'bad-actors', labels: {external: 'true'}}, spec: {nets: variant === 1 ? ['203.0.113.0/24', '203.0.113.128/25'] : ['203.0.113.0/25']}},
    {
      apiVersion: v3,
      kind: 'HostEndpoint',
      metadata: {name: 'node1-eth0', labels: {'host-endpoint': 'true'}},
      spec: {node: RICH_NODE, interfaceName: 'eth0', expectedIPs: ['10.0.0.1'], ports: [{name: 'ssh', protocol: 'TCP', port: 22}]},
    },
    {apiVersion: v3, kind: 'HostEndpoint', metadata: {name: 'node1-all', labels: {'host-endpoint': 'true', all: 'yes'}}, spec: {node: RICH_NODE, interfaceName: '*'}},
    {
      apiVersion: v3,
      kind: 'NetworkPolicy',
      metadata: {name: 'web', namespace: 'prod'},
      spec: {tier: 'default', order: 10, selector: "app == 'web'", types: ['Ingress', 'Egress'], ingress: webRules, egress: [{action: 'Allow', destination: {selector: "app == 'api'"}}]},
    },
    {
      apiVersion: v3,
      kind: 'GlobalNetworkPolicy',
      metadata: {name: 'security.quarantine'},
      spec: {tier: 'security', order: 1, selector: 'all()', namespaceSelector: 'has(team)', ingress: [{action: 'Deny', source: {selector: "quarantine == 'true'"}}], egress: [{action: 'Pass'}]},
    },
    {
      apiVersion: v3,
      kind: 'GlobalNetworkPolicy',
      metadata: {name: 'platform.hosts'},
      spec: {tier: 'platform', selector: "host-endpoint == 'true'", ingress: [{action: 'Allow', protocol: 'TCP', destination: {ports: [variant === 1 ? 6443 : 6444]}}], egress: [{action: 'Allow'}]},
    },
    {
      apiVersion: v3,
      kind: 'GlobalNetworkPolicy',
      metadata: {name: 'untracked'},
      spec: {selector: "host-endpoint == 'true'", doNotTrack: true, applyOnForward: true, ingress: [{action: 'Deny', source: {nets: ['10.0.0.66/32']}}, {action: 'Allow', source: {nets: ['10.0.0.0/24']}}], egress: [{action: 'Allow', destination: {nets: ['10.0.0.0/24']}}]},
    },
    {
      apiVersion: v3,
      kind: 'GlobalNetworkPolicy',
      metadata: {name: 'pre-dnat'},
      spec: {selector: "has(all)", preDNAT: true, applyOnForward: true, types: ['Ingress'], ingress: [{action: 'Deny', protocol: 'TCP', destination: {ports: ['30000:32767']}}]},
    },
    {
      apiVersion: v3,
      kind: 'GlobalNetworkPolicy',
      metadata: {name: 'forward'},
      spec: {selector: "host-endpoint == 'true'", applyOnForward: true, ingress: [{action: 'Allow', protocol: 'UDP'}]},
    },
    {apiVersion: v3, kind: 'StagedGlobalNetworkPolicy', metadata: {name: 'staged-deny'}, spec: {selector: 'all()', ingress: [{action: 'Deny'}]}},
    // natOutgoing: masqueraded pools in both families, a disabled pool (never masqueraded to) and a LoadBalancer-only
    // pool (left out of the pool set); variant 2 turns the IPv6 pool's natOutgoing off and adds an IPv4 one.
    pool('default-ipv4-ippool', {cidr: '10.65.0.0/16', natOutgoing: true, vxlanMode: 'Always'}),
    pool('default-ipv6-ippool', {cidr: 'fd00:65::/64', natOutgoing: variant === 1}),
    pool('external', {cidr: '172.16.0.0/16', disabled: true}),
    pool('lb', {cidr: '10.96.100.0/24', allowedUses: ['LoadBalancer']}),
    ...(variant === 2 ? [pool('second', {cidr: '10.66.0.0/16', natOutgoing: true})] : []),
    // VXLAN (the VXLAN pool above): the other nodes with a VTEP address are the hosts VXLAN may come from; variant 2
    // gives node3 one.
    node(RICH_NODE, '10.0.0.1/24', '10.65.0.1'),
    node('node2', '10.0.0.2/24', '10.65.1.1'),
    node('node3', '10.0.0.3/24', variant === 2 ? '10.65.2.1' : undefined),
  ]
  if (variant === 2) {
    // Variant 2: one endpoint gone, one new, a policy removed, a set change, a rule change.
    return rs
      .filter((r) => r.metadata.name !== 'node1-k8s-web-2-eth0' && r.metadata.name !== 'forward')
      .concat([wep('prod', 'db-1', 'calif1b2c3d4e5f', ['10.65.0.14/32'], {app: 'db', quarantine: 'true'})])
  }
  return rs
}
