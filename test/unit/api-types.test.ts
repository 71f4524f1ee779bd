// The TS interfaces (src/api/types) and the runtime schema (src/api/schema) describe the same structs: field names
// are checked at compile time (tsc), value shapes by decoding one full example per kind typed as its TS type.
import {describe, expect, it} from 'vitest'

import {decodeResource} from '../../src/api/decode.js'
import type {ManagedFieldsEntry, ObjectMeta, OwnerReference, Resource} from '../../src/api/resource.js'
import * as bgp from '../../src/api/schema/bgp.js'
import * as cluster from '../../src/api/schema/cluster.js'
import type {FieldNames} from '../../src/api/schema/dsl.js'
import * as endpoints from '../../src/api/schema/endpoints.js'
import * as felix from '../../src/api/schema/felix.js'
import {allKindSchemas} from '../../src/api/schema/index.js'
import * as ipam from '../../src/api/schema/ipam.js'
import * as meta from '../../src/api/schema/meta.js'
import * as policy from '../../src/api/schema/policy.js'
import type * as T from '../../src/api/types.js'

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
function check<_ extends true>(ok: true): boolean {
  return ok
}

describe('TS interfaces name exactly the schema fields', () => {
  it('agrees for every struct (checked by tsc)', () => {
    const results = [
  check<Same<keyof ObjectMeta, FieldNames<typeof meta.ObjectMetaSchema>>>(true),
  check<Same<keyof OwnerReference, FieldNames<typeof meta.OwnerReferenceSchema>>>(true),
  check<Same<keyof ManagedFieldsEntry, FieldNames<typeof meta.ManagedFieldsEntrySchema>>>(true),
  check<Same<keyof T.BGPConfigurationSpec, FieldNames<typeof bgp.BGPConfigurationSpecSchema>>>(true),
  check<Same<keyof T.ServiceLoadBalancerIPBlock, FieldNames<typeof bgp.ServiceLoadBalancerIPBlockSchema>>>(true),
  check<Same<keyof T.ServiceExternalIPBlock, FieldNames<typeof bgp.ServiceExternalIPBlockSchema>>>(true),
  check<Same<keyof T.ServiceClusterIPBlock, FieldNames<typeof bgp.ServiceClusterIPBlockSchema>>>(true),
  check<Same<keyof T.Community, FieldNames<typeof bgp.CommunitySchema>>>(true),
  check<Same<keyof T.PrefixAdvertisement, FieldNames<typeof bgp.PrefixAdvertisementSchema>>>(true),
  check<Same<keyof T.BGPFilterSpec, FieldNames<typeof bgp.BGPFilterSpecSchema>>>(true),
  check<Same<keyof T.BGPFilterRuleV4, FieldNames<typeof bgp.BGPFilterRuleV4Schema>>>(true),
  check<Same<keyof T.BGPFilterRuleV6, FieldNames<typeof bgp.BGPFilterRuleV6Schema>>>(true),
  check<Same<keyof T.BGPFilterPrefixLengthV4, FieldNames<typeof bgp.BGPFilterPrefixLengthV4Schema>>>(true),
  check<Same<keyof T.BGPFilterPrefixLengthV6, FieldNames<typeof bgp.BGPFilterPrefixLengthV6Schema>>>(true),
  check<Same<keyof T.BGPFilterCommunityMatch, FieldNames<typeof bgp.BGPFilterCommunityMatchSchema>>>(true),
  check<Same<keyof T.BGPFilterOperation, FieldNames<typeof bgp.BGPFilterOperationSchema>>>(true),
  check<Same<keyof T.BGPFilterAddCommunity, FieldNames<typeof bgp.BGPFilterAddCommunitySchema>>>(true),
  check<Same<keyof T.BGPFilterPrependASPath, FieldNames<typeof bgp.BGPFilterPrependASPathSchema>>>(true),
  check<Same<keyof T.BGPFilterSetPriority, FieldNames<typeof bgp.BGPFilterSetPrioritySchema>>>(true),
  check<Same<keyof T.BGPPeerSpec, FieldNames<typeof bgp.BGPPeerSpecSchema>>>(true),
  check<Same<keyof T.BGPPassword, FieldNames<typeof bgp.BGPPasswordSchema>>>(true),
  check<Same<keyof T.ClusterInformationSpec, FieldNames<typeof cluster.ClusterInformationSpecSchema>>>(true),
  check<Same<keyof T.KubeControllersConfigurationSpec, FieldNames<typeof cluster.KubeControllersConfigurationSpecSchema>>>(true),
  check<Same<keyof T.ControllersConfig, FieldNames<typeof cluster.ControllersConfigSchema>>>(true),
  check<Same<keyof T.MigrationControllerConfig, FieldNames<typeof cluster.MigrationControllerConfigSchema>>>(true),
  check<Same<keyof T.NodeControllerConfig, FieldNames<typeof cluster.NodeControllerConfigSchema>>>(true),
  check<Same<keyof T.AutoHostEndpointConfig, FieldNames<typeof cluster.AutoHostEndpointConfigSchema>>>(true),
  check<Same<keyof T.Template, FieldNames<typeof cluster.TemplateSchema>>>(true),
  check<Same<keyof T.PolicyControllerConfig, FieldNames<typeof cluster.PolicyControllerConfigSchema>>>(true),
  check<Same<keyof T.WorkloadEndpointControllerConfig, FieldNames<typeof cluster.WorkloadEndpointControllerConfigSchema>>>(true),
  check<Same<keyof T.ServiceAccountControllerConfig, FieldNames<typeof cluster.ServiceAccountControllerConfigSchema>>>(true),
  check<Same<keyof T.NamespaceControllerConfig, FieldNames<typeof cluster.NamespaceControllerConfigSchema>>>(true),
  check<Same<keyof T.LoadBalancerControllerConfig, FieldNames<typeof cluster.LoadBalancerControllerConfigSchema>>>(true),
  check<Same<keyof T.KubeControllersConfigurationStatus, FieldNames<typeof cluster.KubeControllersConfigurationStatusSchema>>>(true),
  check<Same<keyof T.CalicoNodeStatusSpec, FieldNames<typeof cluster.CalicoNodeStatusSpecSchema>>>(true),
  check<Same<keyof T.CalicoNodeStatusStatus, FieldNames<typeof cluster.CalicoNodeStatusStatusSchema>>>(true),
  check<Same<keyof T.CalicoNodeAgentStatus, FieldNames<typeof cluster.CalicoNodeAgentStatusSchema>>>(true),
  check<Same<keyof T.CalicoNodeBGPStatus, FieldNames<typeof cluster.CalicoNodeBGPStatusSchema>>>(true),
  check<Same<keyof T.CalicoNodeBGPRouteStatus, FieldNames<typeof cluster.CalicoNodeBGPRouteStatusSchema>>>(true),
  check<Same<keyof T.BGPDaemonStatus, FieldNames<typeof cluster.BGPDaemonStatusSchema>>>(true),
  check<Same<keyof T.CalicoNodePeer, FieldNames<typeof cluster.CalicoNodePeerSchema>>>(true),
  check<Same<keyof T.CalicoNodeRoute, FieldNames<typeof cluster.CalicoNodeRouteSchema>>>(true),
  check<Same<keyof T.CalicoNodeRouteLearnedFrom, FieldNames<typeof cluster.CalicoNodeRouteLearnedFromSchema>>>(true),
  check<Same<keyof T.GlobalNetworkSetSpec, FieldNames<typeof endpoints.GlobalNetworkSetSpecSchema>>>(true),
  check<Same<keyof T.HostEndpointSpec, FieldNames<typeof endpoints.HostEndpointSpecSchema>>>(true),
  check<Same<keyof T.EndpointPort, FieldNames<typeof endpoints.EndpointPortSchema>>>(true),
  check<Same<keyof T.NetworkSetSpec, FieldNames<typeof endpoints.NetworkSetSpecSchema>>>(true),
  check<Same<keyof T.NodeSpec, FieldNames<typeof endpoints.NodeSpecSchema>>>(true),
  check<Same<keyof T.NodeAddress, FieldNames<typeof endpoints.NodeAddressSchema>>>(true),
  check<Same<keyof T.NodeInterface, FieldNames<typeof endpoints.NodeInterfaceSchema>>>(true),
  check<Same<keyof T.NodeStatus, FieldNames<typeof endpoints.NodeStatusSchema>>>(true),
  check<Same<keyof T.OrchRef, FieldNames<typeof endpoints.OrchRefSchema>>>(true),
  check<Same<keyof T.NodeBGPSpec, FieldNames<typeof endpoints.NodeBGPSpecSchema>>>(true),
  check<Same<keyof T.NodeWireguardSpec, FieldNames<typeof endpoints.NodeWireguardSpecSchema>>>(true),
  check<Same<keyof T.WorkloadEndpointSpec, FieldNames<typeof endpoints.WorkloadEndpointSpecSchema>>>(true),
  check<Same<keyof T.WorkloadEndpointPort, FieldNames<typeof endpoints.WorkloadEndpointPortSchema>>>(true),
  check<Same<keyof T.IPNAT, FieldNames<typeof endpoints.IPNATSchema>>>(true),
  check<Same<keyof T.QoSControls, FieldNames<typeof endpoints.QoSControlsSchema>>>(true),
  check<Same<keyof T.FelixConfigurationSpec, FieldNames<typeof felix.FelixConfigurationSpecSchema>>>(true),
  check<Same<keyof T.HealthTimeoutOverride, FieldNames<typeof felix.HealthTimeoutOverrideSchema>>>(true),
  check<Same<keyof T.RouteTableRange, FieldNames<typeof felix.RouteTableRangeSchema>>>(true),
  check<Same<keyof T.RouteTableIDRange, FieldNames<typeof felix.RouteTableIDRangeSchema>>>(true),
  check<Same<keyof T.ProtoPort, FieldNames<typeof felix.ProtoPortSchema>>>(true),
  check<Same<keyof T.BPFConntrackTimeouts, FieldNames<typeof felix.BPFConntrackTimeoutsSchema>>>(true),
  check<Same<keyof T.IPAMConfigurationSpec, FieldNames<typeof ipam.IPAMConfigurationSpecSchema>>>(true),
  check<Same<keyof T.IPPoolStatus, FieldNames<typeof ipam.IPPoolStatusSchema>>>(true),
  check<Same<keyof T.IPPoolSpec, FieldNames<typeof ipam.IPPoolSpecSchema>>>(true),
  check<Same<keyof T.IPReservationSpec, FieldNames<typeof ipam.IPReservationSpecSchema>>>(true),
  check<Same<keyof T.GlobalNetworkPolicySpec, FieldNames<typeof policy.GlobalNetworkPolicySpecSchema>>>(true),
  check<Same<keyof T.NetworkPolicySpec, FieldNames<typeof policy.NetworkPolicySpecSchema>>>(true),
  check<Same<keyof T.Rule, FieldNames<typeof policy.RuleSchema>>>(true),
  check<Same<keyof T.HTTPPath, FieldNames<typeof policy.HTTPPathSchema>>>(true),
  check<Same<keyof T.HTTPMatch, FieldNames<typeof policy.HTTPMatchSchema>>>(true),
  check<Same<keyof T.ICMPFields, FieldNames<typeof policy.ICMPFieldsSchema>>>(true),
  check<Same<keyof T.EntityRule, FieldNames<typeof policy.EntityRuleSchema>>>(true),
  check<Same<keyof T.ServiceMatch, FieldNames<typeof policy.ServiceMatchSchema>>>(true),
  check<Same<keyof T.ServiceAccountMatch, FieldNames<typeof policy.ServiceAccountMatchSchema>>>(true),
  check<Same<keyof T.RuleMetadata, FieldNames<typeof policy.RuleMetadataSchema>>>(true),
  check<Same<keyof T.ProfileSpec, FieldNames<typeof policy.ProfileSpecSchema>>>(true),
  check<Same<keyof T.StagedGlobalNetworkPolicySpec, FieldNames<typeof policy.StagedGlobalNetworkPolicySpecSchema>>>(true),
  check<Same<keyof T.StagedKubernetesNetworkPolicySpec, FieldNames<typeof policy.StagedKubernetesNetworkPolicySpecSchema>>>(true),
  check<Same<keyof T.StagedNetworkPolicySpec, FieldNames<typeof policy.StagedNetworkPolicySpecSchema>>>(true),
  check<Same<keyof T.TierStatus, FieldNames<typeof policy.TierStatusSchema>>>(true),
  check<Same<keyof T.TierSpec, FieldNames<typeof policy.TierSpecSchema>>>(true),
  check<Same<keyof T.Condition, FieldNames<typeof meta.ConditionSchema>>>(true),
  check<Same<keyof T.LabelSelectorRequirement, FieldNames<typeof meta.LabelSelectorRequirementSchema>>>(true),
  check<Same<keyof T.LabelSelector, FieldNames<typeof meta.LabelSelectorSchema>>>(true),
  check<Same<keyof T.SecretKeySelector, FieldNames<typeof meta.SecretKeySelectorSchema>>>(true),
  check<Same<keyof T.NetworkPolicyPort, FieldNames<typeof meta.NetworkPolicyPortSchema>>>(true),
  check<Same<keyof T.IPBlock, FieldNames<typeof meta.IPBlockSchema>>>(true),
  check<Same<keyof T.NetworkPolicyPeer, FieldNames<typeof meta.NetworkPolicyPeerSchema>>>(true),
  check<Same<keyof T.NetworkPolicyIngressRule, FieldNames<typeof meta.NetworkPolicyIngressRuleSchema>>>(true),
  check<Same<keyof T.NetworkPolicyEgressRule, FieldNames<typeof meta.NetworkPolicyEgressRuleSchema>>>(true),    ]
    expect(results.every(Boolean)).toBe(true)
  })
})

const V3 = 'projectcalico.org/v3'
const objMeta = (name: string, namespace?: string): ObjectMeta => ({name, ...(namespace ? {namespace} : {}), labels: {app: 'demo'}})

const rule: T.Rule = {
  action: 'Allow', ipVersion: 4, protocol: 'TCP',
  source: {nets: ['10.0.0.0/8'], selector: "role == 'client'", namespaceSelector: 'all()', notPorts: [22], serviceAccounts: {names: ['sa1'], selector: 'a == "b"'}},
  destination: {ports: [80, '8000:8080', 'http'], notNets: ['10.1.0.0/16'], notSelector: 'has(x)'},
  http: {methods: ['GET'], paths: [{exact: '/healthz'}, {prefix: '/api'}]},
  metadata: {annotations: {owner: 'team-a'}},
}
const icmpRule: T.Rule = {action: 'Deny', ipVersion: 4, protocol: 'ICMP', icmp: {type: 8, code: 0}, notProtocol: 17, notICMP: {type: 3}}
const svcRule: T.Rule = {action: 'Allow', destination: {services: {name: 'kubernetes', namespace: 'default'}}}

/** One fully populated example per kind, typed as the TS resource type: decoding must return it unchanged. */
const examples: Record<string, Resource> = {
  NetworkPolicy: {kind: 'NetworkPolicy', apiVersion: V3, metadata: objMeta('allow-web', 'ns1'), spec: {
    tier: 'default', order: 100.5, ingress: [rule, icmpRule], egress: [svcRule], selector: "app == 'web'", types: ['Ingress', 'Egress'],
    serviceAccountSelector: 'all()', performanceHints: ['AssumeNeededOnEveryNode'],
  }} satisfies T.NetworkPolicy,
  GlobalNetworkPolicy: {kind: 'GlobalNetworkPolicy', apiVersion: V3, metadata: objMeta('host-protect'), spec: {
    tier: 'security', order: 10, ingress: [rule], selector: 'has(host)', types: ['Ingress'], doNotTrack: true, applyOnForward: true,
    namespaceSelector: 'all()',
  }} satisfies T.GlobalNetworkPolicy,
  StagedNetworkPolicy: {kind: 'StagedNetworkPolicy', apiVersion: V3, metadata: objMeta('staged', 'ns1'), spec: {
    stagedAction: 'Set', tier: 'default', order: 1, egress: [{action: 'Pass'}], selector: 'all()', types: ['Egress'],
  }} satisfies T.StagedNetworkPolicy,
  StagedGlobalNetworkPolicy: {kind: 'StagedGlobalNetworkPolicy', apiVersion: V3, metadata: objMeta('sg'), spec: {
    stagedAction: 'Learn', tier: 'default', ingress: [{action: 'Log'}], preDNAT: true, applyOnForward: true, types: ['Ingress'],
  }} satisfies T.StagedGlobalNetworkPolicy,
  StagedKubernetesNetworkPolicy: {kind: 'StagedKubernetesNetworkPolicy', apiVersion: V3, metadata: objMeta('sknp', 'ns1'), spec: {
    stagedAction: 'Set',
    podSelector: {matchLabels: {app: 'db'}, matchExpressions: [{key: 'tier', operator: 'In', values: ['a', 'b']}]},
    ingress: [{ports: [{protocol: 'TCP', port: 5432}, {port: 'metrics', endPort: 9100}], from: [{podSelector: {}, namespaceSelector: {matchLabels: {team: 'x'}}}, {ipBlock: {cidr: '10.0.0.0/8', except: ['10.1.0.0/16']}}]}],
    egress: [{to: [{ipBlock: {cidr: '0.0.0.0/0'}}]}],
    policyTypes: ['Ingress', 'Egress'],
  }} satisfies T.StagedKubernetesNetworkPolicy,
  Tier: {kind: 'Tier', apiVersion: V3, metadata: objMeta('security'), spec: {order: 100, defaultAction: 'Pass'},
    status: {conditions: [{type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'OK', message: 'fine', observedGeneration: 2}]}} satisfies T.Tier,
  Profile: {kind: 'Profile', apiVersion: V3, metadata: objMeta('profile-name1'), spec: {
    ingress: [{action: 'Allow'}], egress: [{action: 'Allow'}], labelsToApply: {'pcns.projectcalico.org/name': 'ns1', role: 'x'},
  }} satisfies T.Profile,
  IPPool: {kind: 'IPPool', apiVersion: V3, metadata: objMeta('pool1'), spec: {
    cidr: '10.0.1.0/24', vxlanMode: 'CrossSubnet', ipipMode: 'Never', natOutgoing: true, disabled: true, disableBGPExport: true, blockSize: 27,
    nodeSelector: "zone == 'a'", namespaceSelector: 'all()', allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Manual',
  }, status: {conditions: [{type: 'Allocatable', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'OK', message: ''}]}} satisfies T.IPPool,
  IPReservation: {kind: 'IPReservation', apiVersion: V3, metadata: objMeta('resv'), spec: {reservedCIDRs: ['10.0.1.0/28', '10.0.2.5']}} satisfies T.IPReservation,
  IPAMConfiguration: {kind: 'IPAMConfiguration', apiVersion: V3, metadata: objMeta('default'), spec: {
    strictAffinity: true, maxBlocksPerHost: 4, autoAllocateBlocks: true, kubeVirtVMAddressPersistence: 'Disabled', ipCooldownSeconds: 30,
  }} satisfies T.IPAMConfiguration,
  BGPPeer: {kind: 'BGPPeer', apiVersion: V3, metadata: objMeta('peer1'), spec: {
    node: 'node1', peerIP: '192.168.0.250:179', asNumber: 64513, localASNumber: 65000, keepOriginalNextHop: true,
    password: {secretKeyRef: {name: 'bgp-secrets', key: 'peer1', optional: false}}, sourceAddress: 'None', maxRestartTime: '2m0s',
    keepaliveTime: '30s', numAllowedLocalASNumbers: 2, ttlSecurity: 1, reachableBy: '192.168.0.1', filters: ['f1'], reversePeering: 'Manual',
  }} satisfies T.BGPPeer,
  BGPConfiguration: {kind: 'BGPConfiguration', apiVersion: V3, metadata: objMeta('default'), spec: {
    logSeverityScreen: 'Info', nodeToNodeMeshEnabled: false, asNumber: 64512, serviceLoadBalancerIPs: [{cidr: '10.10.0.0/24'}],
    serviceExternalIPs: [{cidr: '10.20.0.0/24'}], serviceClusterIPs: [{cidr: '10.96.0.0/12'}], serviceLoadBalancerAggregation: 'Disabled',
    communities: [{name: 'c1', value: '65001:100'}], prefixAdvertisements: [{cidr: '10.0.0.0/8', communities: ['c1', '65001:200']}],
    listenPort: 1790, nodeMeshPassword: {secretKeyRef: {name: 's', key: 'k'}}, nodeMeshMaxRestartTime: '2m0s', bindMode: 'NodeIP',
    ignoredInterfaces: ['eth9'], localWorkloadPeeringIPV4: '169.254.0.1', programClusterRoutes: 'Enabled',
  }} satisfies T.BGPConfiguration,
  BGPFilter: {kind: 'BGPFilter', apiVersion: V3, metadata: objMeta('f1'), spec: {
    exportV4: [{action: 'Accept', matchOperator: 'In', cidr: '10.0.0.0/8', prefixLength: {min: 16, max: 24}, source: 'RemotePeers', interface: 'eth*', peerType: 'eBGP'}],
    importV6: [{action: 'Reject', matchOperator: 'NotIn', cidr: 'fd00::/8'}],
  }} satisfies T.BGPFilter,
  FelixConfiguration: {kind: 'FelixConfiguration', apiVersion: V3, metadata: objMeta('default'), spec: {
    useInternalDataplaneDriver: true, ipv6Support: false, routeRefreshInterval: '1m30s', iptablesLockProbeInterval: '50ms',
    maxIpsetSize: 8192, iptablesBackend: 'NFT', netlinkTimeout: '10s', metadataPort: 8775, interfacePrefix: 'cali', iptablesMarkMask: 16711680,
    failsafeInboundHostPorts: [{protocol: 'TCP', port: 22}, {protocol: 'UDP', port: 68, net: '0.0.0.0/0'}], failsafeOutboundHostPorts: [],
    kubeNodePortRanges: ['30000:32767'], logSeverityScreen: 'Info', reportingTTL: '2h45m10s', ipipEnabled: false, vxlanVNI: 4096,
    nftablesMode: 'Auto', wireguardEnabled: true, wireguardListeningPort: 51820, bpfLogLevel: 'Off', bpfEnabled: false,
    bpfConnectTimeLoadBalancing: 'TCP', routeTableRanges: [{min: 1, max: 250}], healthTimeoutOverrides: [{name: 'InternalDataplaneMainLoop', timeout: '1m0s'}],
    bpfConntrackTimeouts: {tcpEstablished: '1h0m0s'},
  }} satisfies T.FelixConfiguration,
  ClusterInformation: {kind: 'ClusterInformation', apiVersion: V3, metadata: objMeta('default'), spec: {
    clusterGUID: '0123456789abcdef0123456789abcdef', clusterType: 'k8s,bgp', calicoVersion: 'v3.32.0', datastoreReady: true, variant: 'Calico',
  }} satisfies T.ClusterInformation,
  KubeControllersConfiguration: {kind: 'KubeControllersConfiguration', apiVersion: V3, metadata: objMeta('default'), spec: {
    logSeverityScreen: 'Info', healthChecks: 'Enabled', etcdV3CompactionPeriod: '10m0s', prometheusMetricsPort: 9094,
    controllers: {
      node: {reconcilerPeriod: '5m0s', syncLabels: 'Enabled', hostEndpoint: {autoCreate: 'Enabled', createDefaultHostEndpoint: 'Disabled',
        templates: [{generateName: 'tpl', interfaceCIDRs: ['10.0.0.0/8'], labels: {a: 'b'}, nodeSelector: 'all()'}]}, leakGracePeriod: '15m0s'},
      policy: {reconcilerPeriod: '5m0s'}, workloadEndpoint: {reconcilerPeriod: '5m0s'}, serviceAccount: {reconcilerPeriod: '5m0s'},
      namespace: {reconcilerPeriod: '5m0s'}, loadBalancer: {assignIPs: 'RequestedServicesOnly'}, migration: {policyNameMigrator: 'Disabled'},
    },
    debugProfilePort: 6060,
  }, status: {runningConfig: {controllers: {}}, environmentVars: {DATASTORE_TYPE: 'etcdv3'}}} satisfies T.KubeControllersConfiguration,
  CalicoNodeStatus: {kind: 'CalicoNodeStatus', apiVersion: V3, metadata: objMeta('node1-status'), spec: {node: 'node1', classes: ['Agent', 'BGP', 'Routes'], updatePeriodSeconds: 10},
    status: {
      lastUpdated: '2026-01-01T00:00:00Z',
      agent: {birdV4: {state: 'Ready', version: 'v0.3.3', routerID: '10.0.0.1', lastBootTime: '2026-01-01 00:00:00', lastReconfigurationTime: '2026-01-01 00:00:00'}, birdV6: {}},
      bgp: {numberEstablishedV4: 1, numberNotEstablishedV4: 0, numberEstablishedV6: 0, numberNotEstablishedV6: 0,
        peersV4: [{peerIP: '10.0.0.2', type: 'NodeMesh', state: 'Established', since: '2026-01-01'}]},
      routes: {routesV4: [{type: 'FIB', destination: '10.0.0.0/26', gateway: '10.0.0.2', interface: 'eth0', learnedFrom: {sourceType: 'NodeMesh', peerIP: '10.0.0.2'}}]},
    }} satisfies T.CalicoNodeStatus,
  GlobalNetworkSet: {kind: 'GlobalNetworkSet', apiVersion: V3, metadata: objMeta('gns'), spec: {nets: ['10.0.0.0/8', '192.168.1.1']}} satisfies T.GlobalNetworkSet,
  NetworkSet: {kind: 'NetworkSet', apiVersion: V3, metadata: objMeta('ns-set', 'ns1'), spec: {nets: ['fd00::/64']}} satisfies T.NetworkSet,
  HostEndpoint: {kind: 'HostEndpoint', apiVersion: V3, metadata: objMeta('node1-eth0'), spec: {
    node: 'node1', interfaceName: 'eth0', expectedIPs: ['192.168.0.1'], profiles: ['prof1'], ports: [{name: 'ssh', protocol: 'TCP', port: 22}, {name: 'dns', protocol: 17, port: 53}],
  }} satisfies T.HostEndpoint,
  WorkloadEndpoint: {kind: 'WorkloadEndpoint', apiVersion: V3, metadata: objMeta('node1-k8s-pod1-eth0', 'ns1'), spec: {
    orchestrator: 'k8s', node: 'node1', containerID: 'abc123', pod: 'pod1', endpoint: 'eth0', serviceAccountName: 'default',
    ipNetworks: ['10.0.0.5/32'], ipNATs: [{internalIP: '10.0.0.5', externalIP: '172.16.0.5'}], ipv4Gateway: '169.254.1.1',
    profiles: ['kns.ns1', 'ksa.ns1.default'], interfaceName: 'cali0123456789a', mac: 'ee:ee:ee:ee:ee:ee',
    ports: [{name: 'http', protocol: 'TCP', port: 8080, hostPort: 80, hostIP: '0.0.0.0'}, {name: 'metrics', protocol: 'UDP', port: 9000, hostPort: 0, hostIP: ''}],
    allowSpoofedSourcePrefixes: ['10.9.0.0/16'], qosControls: {ingressBandwidth: 1000000, egressBurst: 200000, ingressMaxConnections: 100, dscp: 'EF'},
  }} satisfies T.WorkloadEndpoint,
  Node: {kind: 'Node', apiVersion: V3, metadata: objMeta('node1'), spec: {
    bgp: {asNumber: 64512, ipv4Address: '10.0.0.1/24', ipv6Address: 'fd00::1/64', ipv4IPIPTunnelAddr: '192.168.0.1', routeReflectorClusterID: '224.0.0.1'},
    ipv4VXLANTunnelAddr: '192.168.0.2', vxlanTunnelMACAddr: 'aa:bb:cc:dd:ee:ff', orchRefs: [{nodeName: 'node1', orchestrator: 'k8s'}],
    wireguard: {interfaceIPv4Address: '192.168.0.3'}, addresses: [{address: '10.0.0.1', type: 'InternalIP'}], interfaces: [{name: 'eth0', addresses: ['10.0.0.1']}],
  }, status: {wireguardPublicKey: 'key=', podCIDRs: ['10.244.0.0/24']}} satisfies T.Node,
}

describe('a full example of every kind type-checks and decodes unchanged', () => {
  it('covers every kind', () => {
    expect(Object.keys(examples).sort()).toEqual(allKindSchemas().map((k) => k.kind).sort())
  })
  it.each(Object.entries(examples))('%s', (_kind, example) => {
    expect(decodeResource(example)).toEqual(example)
  })
})
