// FelixConfiguration: the Go field tags and struct checks, then the CRD enums, patterns and CEL rules.

import type {Obj} from './collector.js'
import {
  arr, at, cel, Collector, crdEnum, crdItems, crdMaxLength, crdPattern, crdRange, isSet, join, num, obj, objs, str,
  strMap, strs,
} from './collector.js'
import {isDNS1123Label, INTERFACE_RE} from './names.js'
import {parseCIDROrIP, parseIP} from './cnet.js'
import type {Port} from './ports.js'
import {checkPort, checkPorts} from './ports.js'
import {validateProtoPort} from './endpoints.js'

const IFACE_FILTER_RE = /^[a-zA-Z0-9:._+-]{1,15}$/
const PROMETHEUS_HOST_RE = /^[a-zA-Z0-9:._+-]{1,64}$/
const KV_ITEM_RE = /^\s*(\w+)=(.*)$/
const HTO_NAME_RE = /^[a-zA-Z0-9_ -]+$/
const ROUTE_TABLE_MAX = 0xffffffff
const ROUTE_TABLE_MAX_DESIGNATED = 0xffff
const OPENSTACK_REGION_MAX = 63 - 'openstack-region-'.length
const LOG_SEVERITY = '^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$'

/** Address fields: JSON name, Go field name, required family. */
const ADDRESS_FIELDS = [
  ['natOutgoingAddress', 'NATOutgoingAddress', 4],
  ['deviceRouteSourceAddress', 'DeviceRouteSourceAddress', 4],
  ['deviceRouteSourceAddressIPv6', 'DeviceRouteSourceAddressIPv6', 6],
] as const

type Check =
  | {oneof: readonly string[]}
  | {min?: number; max?: number; gt?: number; lt?: number}
  | 'regexp' | 'interface' | 'ifaceFilter' | 'ifaceFilterSlice' | 'prometheusHost' | 'keyValueList' | 'cidrs'

/** Fields carrying a Go `validate:` tag: JSON name, Go field name, check. */
const GO_TAGS: ReadonlyArray<readonly [string, string, Check]> = [
  ['featureDetectOverride', 'FeatureDetectOverride', 'keyValueList'],
  ['featureGates', 'FeatureGates', 'keyValueList'],
  ['logDebugFilenameRegex', 'LogDebugFilenameRegex', 'regexp'],
  ['prometheusMetricsHost', 'PrometheusMetricsHost', 'prometheusHost'],
  ['prometheusMetricsClientAuth', 'PrometheusMetricsClientAuth',
    {oneof: ['RequireAndVerifyClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'NoClientCert']}],
  ['natOutgoingExclusions', 'NATOutgoingExclusions', {oneof: ['IPPoolsOnly', 'IPPoolsAndHostIPs']}],
  ['debugPort', 'DebugPort', {min: 0, max: 65535}],
  ['iptablesNATOutgoingInterfaceFilter', 'IptablesNATOutgoingInterfaceFilter', 'ifaceFilter'],
  ['nftablesFlowTableDataIfacePattern', 'NFTablesFlowTableDataIfacePattern', 'regexp'],
  ['bpfOverlayHostSourceIP', 'BPFOverlayHostSourceIP', {oneof: ['TunnelAddress', 'HostAddress']}],
  ['bpfJITHardening', 'BPFJITHardening', {oneof: ['Auto', 'Strict']}],
  ['bpfConntrackLogLevel', 'BPFConntrackLogLevel', {oneof: ['Off', 'Debug']}],
  ['bpfConntrackMode', 'BPFConntrackCleanupMode', {oneof: ['Auto', 'Userspace', 'BPFProgram']}],
  ['bpfDataIfacePattern', 'BPFDataIfacePattern', 'regexp'],
  ['bpfL3IfacePattern', 'BPFL3IfacePattern', 'regexp'],
  ['bpfConnectTimeLoadBalancing', 'BPFConnectTimeLoadBalancing', {oneof: ['TCP', 'Enabled', 'Disabled']}],
  ['bpfHostNetworkedNATWithoutCTLB', 'BPFHostNetworkedNATWithoutCTLB', {oneof: ['Enabled', 'Disabled']}],
  ['bpfDSROptoutCIDRs', 'BPFDSROptoutCIDRs', 'cidrs'],
  ['bpfExtToServiceConnmark', 'BPFExtToServiceConnmark', {min: 0, max: 4294967295}],
  ['bpfKubeProxyHealthzPort', 'BPFKubeProxyHealthzPort', {min: 0, max: 65535}],
  ['bpfMapSizeConntrackCleanupQueue', 'BPFMapSizeConntrackCleanupQueue', {min: 1}],
  ['bpfForceTrackPacketsFromIfaces', 'BPFForceTrackPacketsFromIfaces', 'ifaceFilterSlice'],
  ['bpfDisableGROForIfaces', 'BPFDisableGROForIfaces', 'regexp'],
  ['bpfExcludeCIDRsFromNAT', 'BPFExcludeCIDRsFromNAT', 'cidrs'],
  ['bpfAttachType', 'BPFAttachType', {oneof: ['TC', 'TCX', 'Netkit']}],
  ['ipv4NormalRoutePriority', 'IPv4NormalRoutePriority', {min: 1, max: 2147483646}],
  ['ipv4ElevatedRoutePriority', 'IPv4ElevatedRoutePriority', {min: 1, max: 2147483646}],
  ['ipv6NormalRoutePriority', 'IPv6NormalRoutePriority', {min: 1, max: 2147483646}],
  ['ipv6ElevatedRoutePriority', 'IPv6ElevatedRoutePriority', {min: 1, max: 2147483646}],
  ['wireguardListeningPort', 'WireguardListeningPort', {gt: 0, max: 65535}],
  ['wireguardListeningPortV6', 'WireguardListeningPortV6', {gt: 0, max: 65535}],
  ['wireguardRoutingRulePriority', 'WireguardRoutingRulePriority', {gt: 0, lt: 32766}],
  ['wireguardInterfaceName', 'WireguardInterfaceName', 'interface'],
  ['wireguardInterfaceNameV6', 'WireguardInterfaceNameV6', 'interface'],
  ['awsSrcDstCheck', 'AWSSrcDstCheck', {oneof: ['DoNothing', 'Enable', 'Disable']}],
  ['serviceLoopPrevention', 'ServiceLoopPrevention', {oneof: ['Drop', 'Reject', 'Disabled']}],
  ['workloadSourceSpoofing', 'WorkloadSourceSpoofing', {oneof: ['Disabled', 'Any']}],
  ['mtuIfacePattern', 'MTUIfacePattern', 'regexp'],
  ['localSubnetL2Reachability', 'LocalSubnetL2Reachability', {oneof: ['Disabled', 'PodsAndLoadBalancers']}],
  ['windowsManageFirewallRules', 'WindowsManageFirewallRules', {oneof: ['Enabled', 'Disabled']}],
  ['goGCThreshold', 'GoGCThreshold', {min: -1}],
  ['goMemoryLimitMB', 'GoMemoryLimitMB', {min: -1}],
  ['goMaxProcs', 'GoMaxProcs', {min: -1}],
  ['bpfMaglevMaxEndpointsPerService', 'BPFMaglevMaxEndpointsPerService', {gt: 0, max: 3000}],
  ['bpfMaglevMaxServices', 'BPFMaglevMaxServices', {gt: 0, max: 3000}],
]

/** CRD enums (exact) on FelixConfiguration spec fields. */
const CRD_ENUMS: Readonly<Record<string, readonly string[]>> = {
  awsSrcDstCheck: ['DoNothing', 'Enable', 'Disable'],
  bpfAttachType: ['TC', 'TCX', 'Netkit'],
  bpfConnectTimeLoadBalancing: ['TCP', 'Enabled', 'Disabled'],
  bpfConntrackLogLevel: ['Off', 'Debug'],
  bpfConntrackMode: ['Auto', 'Userspace', 'BPFProgram'],
  bpfHostNetworkedNATWithoutCTLB: ['Enabled', 'Disabled'],
  bpfJITHardening: ['Auto', 'Strict'],
  bpfOverlayHostSourceIP: ['TunnelAddress', 'HostAddress'],
  bpfProfiling: ['Enabled', 'Disabled'],
  bpfRedirectToPeer: ['Enabled', 'Disabled'],
  floatingIPs: ['Enabled', 'Disabled'],
  flowLogsLocalReporter: ['Disabled', 'Enabled'],
  flowLogsPolicyEvaluationMode: ['None', 'Continuous'],
  ipForwarding: ['Enabled', 'Disabled'],
  iptablesBackend: ['Legacy', 'NFT', 'Auto'],
  istioAmbientMode: ['Enabled', 'Disabled'],
  localSubnetL2Reachability: ['Disabled', 'PodsAndLoadBalancers'],
  natOutgoingExclusions: ['IPPoolsOnly', 'IPPoolsAndHostIPs'],
  nftablesFlowTableOffload: ['All', 'Disabled'],
  nftablesMode: ['Disabled', 'Enabled', 'Auto'],
  programClusterRoutes: ['Enabled', 'Disabled', 'EnabledIPIPOnly', 'EnabledNoEncapOnly'],
  prometheusMetricsClientAuth: ['RequireAndVerifyClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'NoClientCert'],
  windowsManageFirewallRules: ['Enabled', 'Disabled'],
}

/** CRD patterns on FelixConfiguration spec fields (`(?i)` ones are case-insensitive). */
const CRD_PATTERNS: Readonly<Record<string, string>> = {
  bpfEnforceRPF: '^(?i)(Disabled|Strict|Loose)?$',
  bpfExternalServiceMode: '^(?i)(Tunnel|DSR)?$',
  bpfLogLevel: '^(?i)(Off|Info|Debug)?$',
  bpfMapSizeConntrackScaling: '^(?i)(Disabled|DoubleIfFull)?$',
  chainInsertMode: '^(?i)(Insert|Append)?$',
  defaultEndpointToHostAction: '^(?i)(Drop|Accept|Return)?$',
  featureDetectOverride: '^([a-zA-Z0-9-_]+=(true|false|),)*([a-zA-Z0-9-_]+=(true|false|))?$',
  featureGates: '^([a-zA-Z0-9-_]+=([^=]+),)*([a-zA-Z0-9-_]+=([^=]+))?$',
  iptablesBackend: '^(?i)(Auto|Legacy|NFT)?$',
  iptablesFilterAllowAction: '^(?i)(Accept|Return)?$',
  iptablesFilterDenyAction: '^(?i)(Drop|Reject)?$',
  iptablesMangleAllowAction: '^(?i)(Accept|Return)?$',
  logActionRateLimit: '^[1-9]\\d{0,3}/(?:second|minute|hour|day)$',
  logPrefix: '^([a-zA-Z0-9%: /_-])*$',
  logSeverityFile: LOG_SEVERITY,
  logSeverityScreen: LOG_SEVERITY,
  logSeveritySys: LOG_SEVERITY,
  nftablesFilterAllowAction: '^(?i)(Accept|Return)?$',
  nftablesFilterDenyAction: '^(?i)(Drop|Reject)?$',
  nftablesMangleAllowAction: '^(?i)(Accept|Return)?$',
  routeSource: '^(?i)(WorkloadIPs|CalicoIPAM)?$',
  serviceLoopPrevention: '^(?i)(Drop|Reject|Disabled)?$',
  workloadSourceSpoofing: '^(?i)(Disabled|Any)?$',
}

const CRD_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  bpfMapSizeConntrackCleanupQueue: [1, Number.MAX_SAFE_INTEGER],
  iptablesMarkMask: [0, 4294967295],
  nftablesMarkMask: [0, 4294967295],
  logActionRateLimitBurst: [0, 9999],
}

function regexpCompiles(s: string): boolean {
  try {
    new RegExp(s)
    return true
  } catch {
    return false
  }
}

function keyValueListOK(s: string): boolean {
  if (s.trim() === '') return true
  return s.split(',').every((item) => item === '' || KV_ITEM_RE.test(item))
}

function runGoTag(c: Collector, spec: Obj, path: string, key: string, goName: string, check: Check): void {
  const p = join(path, key)
  if (check === 'ifaceFilterSlice') {
    const list = strs(c, spec, key, path)
    if (list && !list.every((s) => IFACE_FILTER_RE.test(s))) c.tag(p, goName, list, check)
    return
  }
  if (check === 'cidrs') {
    const list = strs(c, spec, key, path)
    if (list && !list.every((s) => parseCIDROrIP(s))) c.tag(p, goName, list, check)
    return
  }
  if (typeof check === 'object' && !('oneof' in check)) {
    const v = num(c, spec, key, path)
    if (v === undefined) return
    if (check.min !== undefined && v < check.min) c.bound(p, goName, v, 'gte', check.min)
    if (check.gt !== undefined && v <= check.gt) c.bound(p, goName, v, 'gt', check.gt)
    if (check.max !== undefined && v > check.max) c.bound(p, goName, v, 'lte', check.max)
    if (check.lt !== undefined && v >= check.lt) c.bound(p, goName, v, 'lt', check.lt)
    return
  }
  const v = str(c, spec, key, path)
  if (!isSet(v)) return
  if (typeof check === 'object') {
    if (!check.oneof.includes(v)) c.oneOf(p, goName, v, check.oneof)
    return
  }
  let ok: boolean
  if (check === 'regexp') ok = regexpCompiles(v)
  else if (check === 'interface') ok = v === '*' || INTERFACE_RE.test(v)
  else if (check === 'ifaceFilter') ok = IFACE_FILTER_RE.test(v)
  else if (check === 'prometheusHost') ok = PROMETHEUS_HOST_RE.test(v)
  else ok = keyValueListOK(v)
  if (!ok) c.tag(p, goName, v, check)
}

/** Felix's RouteTableRange (routeTableRange, deprecated): indices within 1..250. */
function checkRouteTableRange(c: Collector, r: Obj, path: string): void {
  const min = num(c, r, 'min', path) ?? 0
  const max = num(c, r, 'max', path) ?? 0
  const ok = min >= 1 && max >= min && max <= 250
  if (!ok) c.go(path, 'RouteTableRange', r, 'must be a range of route table indices within 1..250')
  cel(c, path, ok, 'must be a range of route table indices within 1..250')
}

/** One routeTableRanges entry (RouteTableIDRange). */
function checkRouteTableIDRange(c: Collector, r: Obj, path: string): number {
  const min = num(c, r, 'min', path) ?? 0
  const max = num(c, r, 'max', path) ?? 0
  if (min > max) c.go(path, 'RouteTableRange', r, 'min value cannot be greater than max value')
  if (min <= 0) c.go(path, 'RouteTableRange', r, 'cannot target indices < 1')
  if (max > ROUTE_TABLE_MAX) c.go(path, 'RouteTableRange', r, 'max index too high')
  cel(c, path, min >= 1, 'min must be >= 1')
  cel(c, path, min <= max, 'min must not be greater than max')
  return max >= min ? max - min + 1 : 0
}

export function validateFelixConfigurationSpec(c: Collector, spec: Obj, path: string, name?: string): void {
  const {rawRanges, ports, designated} = felixFields(c, spec, path)
  felixStruct(c, spec, path, rawRanges, ports, designated)
  felixSchema(c, spec, path, name)
}

/** Field tags and nested struct checks (health overrides, ports, route table ranges, failsafe ports). */
function felixFields(c: Collector, spec: Obj, path: string): {rawRanges?: readonly unknown[]; ports: Port[]; designated: number} {
  for (const [key, goName, check] of GO_TAGS) runGoTag(c, spec, path, key, goName, check)

  for (const [h, i] of objs(c, spec, 'healthTimeoutOverrides', path)) {
    const hp = at(join(path, 'healthTimeoutOverrides'), i)
    const hname = str(c, h, 'name', hp) ?? ''
    if (!HTO_NAME_RE.test(hname)) c.go(hp, 'HealthTimeoutOverride.Name', h, `name should match regex ${HTO_NAME_RE.source}`)
    const timeout = str(c, h, 'timeout', hp)
    if (timeout !== undefined && timeout.trim().startsWith('-')) c.go(hp, 'HealthTimeoutOverride.Timeout', h, 'Timeout should not be negative')
  }

  const rawRanges = arr(c, spec, 'kubeNodePortRanges', path)
  const ports = rawRanges ? checkPorts(c, join(path, 'kubeNodePortRanges'), rawRanges) : []
  // Single numorstring.Port fields get the same struct check as ports in lists.
  for (const key of ['natPortRange', 'bpfPSNATPorts'] as const) {
    const v = spec[key]
    if (v !== undefined && v !== null) checkPort(c, join(path, key), v)
  }

  const rtr = obj(c, spec, 'routeTableRange', path)
  if (rtr) checkRouteTableRange(c, rtr, join(path, 'routeTableRange'))
  let designated = 0
  for (const [r, i] of objs(c, spec, 'routeTableRanges', path)) {
    designated += checkRouteTableIDRange(c, r, at(join(path, 'routeTableRanges'), i))
  }

  const bpfLogFilters = strMap(c, spec, 'bpfLogFilters', path)
  if (bpfLogFilters && !Object.keys(bpfLogFilters).every((k) => INTERFACE_RE.test(k))) {
    c.tag(join(path, 'bpfLogFilters'), 'BPFLogFilters', bpfLogFilters, 'bpfLogFilters')
  }
  for (const key of ['failsafeInboundHostPorts', 'failsafeOutboundHostPorts'] as const) {
    for (const [pp, i] of objs(c, spec, key, path)) validateProtoPort(c, pp, at(join(path, key), i))
  }
  return {rawRanges, ports, designated}
}

/** Go's validateFelixConfigSpec (struct level). */
function felixStruct(c: Collector, spec: Obj, path: string, rawRanges: readonly unknown[] | undefined, ports: Port[], designated: number): void {
  if (rawRanges) {
    // iptables multiport takes at most 15 ports and a range uses two.
    const rp = join(path, 'kubeNodePortRanges')
    if (rawRanges.length > 7) c.go(rp, 'KubeNodePortRanges', rawRanges, 'node port ranges list is too long (max 7)')
    if (ports.some((p) => p.name !== '')) c.go(rp, 'KubeNodePortRanges', rawRanges, 'node port ranges should not contain named ports')
  }

  for (const [i, cidr] of (strs(c, spec, 'externalNodesList', path) ?? []).entries()) {
    const cp = at(join(path, 'externalNodesList'), i)
    const n = parseCIDROrIP(cidr)
    if (!n) c.go(cp, 'ExternalNodesCIDRList', cidr, 'has invalid CIDR(s)')
    else if (n.ip.version !== 4) c.go(cp, 'ExternalNodesCIDRList', cidr, 'has invalid IPv6 CIDR')
  }

  // The region becomes part of a namespace name.
  const region = str(c, spec, 'openstackRegion', path) ?? ''
  if (region.length > OPENSTACK_REGION_MAX) c.go(join(path, 'openstackRegion'), 'OpenstackRegion', region, 'is too long')
  else if (region.length > 0 && isDNS1123Label(region).length > 0) {
    c.go(join(path, 'openstackRegion'), 'OpenstackRegion', region, 'must be a valid DNS label')
  }

  for (const [key, goName] of ADDRESS_FIELDS) {
    const v = str(c, spec, key, path)
    if (isSet(v) && !parseIP(v)) c.go(join(path, key), goName, v, 'is not a valid IP address')
  }

  if (designated > ROUTE_TABLE_MAX_DESIGNATED) {
    c.go(join(path, 'routeTableRanges'), 'RouteTableRanges', spec.routeTableRanges, 'targets too many tables')
  }
}

/** CRD enums, patterns, ranges and CEL rules of FelixConfiguration. */
function felixSchema(c: Collector, spec: Obj, path: string, name: string | undefined): void {
  for (const [key, allowed] of Object.entries(CRD_ENUMS)) crdEnum(c, join(path, key), str(c, spec, key, path) || undefined, allowed)
  for (const [key, pattern] of Object.entries(CRD_PATTERNS)) crdPattern(c, join(path, key), str(c, spec, key, path), pattern)
  for (const [key, [min, max]] of Object.entries(CRD_RANGES)) crdRange(c, join(path, key), num(c, spec, key, path), min, max)
  for (const [key] of ADDRESS_FIELDS) crdMaxLength(c, join(path, key), str(c, spec, key, path), 45)
  crdMaxLength(c, join(path, 'nodeSelector'), str(c, spec, 'nodeSelector', path), 1024)
  crdItems(c, join(path, 'kubeNodePortRanges'), arr(c, spec, 'kubeNodePortRanges', path), undefined, 7)

  for (const [key, , family] of ADDRESS_FIELDS) {
    const v = str(c, spec, key, path)
    if (isSet(v)) cel(c, path, parseIP(v)?.version === family, `${key} must be a valid IPv${family} address`)
  }
  cel(c, path, spec.routeTableRange === undefined || spec.routeTableRange === null ||
    spec.routeTableRanges === undefined || spec.routeTableRanges === null,
  'routeTableRange and routeTableRanges cannot both be set')

  // A rule on the whole object (it reads metadata.name), so it is reported under the kind, as Calico does.
  if (name !== undefined && (name === 'default' || name.startsWith('node.')) && spec.nodeSelector !== undefined) {
    c.schema('', "nodeSelector must not be set on the 'default' or per-node ('node.*') FelixConfiguration", null, 'FelixConfiguration')
  }
}
