// Endpoints and addresses: WorkloadEndpoint, HostEndpoint, Node, network sets, Profile, and the port types
// they carry (WorkloadEndpointPort, EndpointPort, ProtoPort, IPNAT).

import type {Obj} from './collector.js'
import {
  at, cel, Collector, crdMaxLength, crdRange, crdRequired, crdUniqueSet, isSet, join, num, obj, objs, str, strMap, strs,
} from './collector.js'
import {checkLabelsTag} from './meta.js'
import type {MetaParts} from './meta.js'
import {CONTAINER_ID_RE, INTERFACE_RE, isValidPortName} from './names.js'
import {cidrContainsIP, type IPNet} from '../net.js'
import {parseCIDROrIP, parseIP} from './cnet.js'
import {checkProtocol, supportsPorts} from './ports.js'
import {validateProfileRules} from './rules.js'
import {checkIPTag, checkMAC, checkNameList, checkNameTag, isStrictNet} from './tags.js'

const IP_TYPES = ['CalicoNodeIP', 'InternalIP', 'ExternalIP']

/** A port number field (uint16 in Go, `gt=0`). */
function checkPortNumber(c: Collector, o: Obj, key: string, path: string): number {
  const p = num(c, o, key, path) ?? 0
  if (!Number.isInteger(p) || p < 0 || p > 65535) c.type(join(path, key), 'uint16', p)
  else if (p === 0) c.bound(join(path, key), 'Port', p, 'gt', 0)
  return p
}

export function validateIPNAT(c: Collector, nat: Obj, path: string): void {
  const internal = checkIPTag(c, nat, 'internalIP', 'InternalIP', path)
  const external = checkIPTag(c, nat, 'externalIP', 'ExternalIP', path)
  const i = isSet(internal) ? parseCIDROrIP(internal) : undefined
  const e = isSet(external) ? parseCIDROrIP(external) : undefined
  // Go reports both parse failures under InternalIP with the external value; kept for output parity.
  if (isSet(internal) && !i) c.go(join(path, 'internalIP'), 'InternalIP', external, 'invalid IP address')
  if (isSet(external) && !e) c.go(join(path, 'externalIP'), 'InternalIP', external, 'invalid IP address')
  if (i && e && i.ip.version !== e.ip.version) c.go(join(path, 'externalIP'), 'ExternalIP', external, 'mismatched IP versions')
}

export function validateWorkloadEndpointPort(c: Collector, port: Obj, path: string): void {
  const name = str(c, port, 'name', path) ?? ''
  if (name !== '' && isValidPortName(name).length > 0) c.tag(join(path, 'name'), 'Name', name, 'portName')
  checkPortNumber(c, port, 'port', path)
  const hostPort = num(c, port, 'hostPort', path) ?? 0
  const hostIP = str(c, port, 'hostIP', path)
  if (isSet(hostIP) && !isStrictNet(hostIP)) c.tag(join(path, 'hostIP'), 'HostIP', hostIP, 'net')
  const protocol = checkProtocol(c, join(path, 'protocol'), port.protocol)
  if (!protocol || !supportsPorts(protocol)) {
    c.go(join(path, 'protocol'), 'WorkloadEndpointPort.Protocol', port.protocol,
      'WorkloadEndpointPort protocol does not support ports.')
  }
  if (name === '' && hostPort === 0) {
    c.go(join(path, 'name'), 'WorkloadEndpointPort.Name', name,
      'WorkloadEndpointPort name must not be empty if no HostPort is specified')
  }
}

/** WorkloadEndpointSpec's `validate:"name"` fields: JSON and Go names. */
const WEP_NAME_FIELDS = [
  ['orchestrator', 'Orchestrator'], ['workload', 'Workload'], ['node', 'Node'], ['pod', 'Pod'], ['endpoint', 'Endpoint'],
  ['serviceAccountName', 'ServiceAccountName'],
] as const

/** The gateway fields: JSON name, Go name, IP version. */
const WEP_GATEWAYS = [['ipv4Gateway', 'IPv4Gateway', 4], ['ipv6Gateway', 'IPv6Gateway', 6]] as const

export function validateWorkloadEndpointSpec(c: Collector, spec: Obj, path: string): void {
  // Field tags and nested structs (ports, NATs) first.
  // Indexed loops without destructuring here and below: this runs for every endpoint, mostly as cold code, where
  // each iterator is an allocation.
  for (let f = 0; f < WEP_NAME_FIELDS.length; f++) {
    const k = WEP_NAME_FIELDS[f]![0]
    const v = str(c, spec, k, path)
    if (v !== undefined) checkNameTag(c, join(path, k), WEP_NAME_FIELDS[f]![1], v)
  }
  const containerID = str(c, spec, 'containerID', path)
  if (isSet(containerID) && !CONTAINER_ID_RE.test(containerID)) c.tag(join(path, 'containerID'), 'ContainerID', containerID, 'containerID')
  const ipNetworks = strs(c, spec, 'ipNetworks', path) ?? []
  for (let i = 0; i < ipNetworks.length; i++) {
    const n = ipNetworks[i]!
    if (!isStrictNet(n)) c.tag(at(join(path, 'ipNetworks'), i), `IPNetworks[${i}]`, n, 'net')
  }
  const nats = objs(c, spec, 'ipNATs', path)
  for (let k = 0; k < nats.length; k++) validateIPNAT(c, nats[k]![0], at(join(path, 'ipNATs'), nats[k]![1]))
  const gateways = [checkIPTag(c, spec, 'ipv4Gateway', 'IPv4Gateway', path, 4), checkIPTag(c, spec, 'ipv6Gateway', 'IPv6Gateway', path, 6)]
  checkNameList(c, spec, 'profiles', 'Profiles', path)
  const iface = str(c, spec, 'interfaceName', path) ?? ''
  if (!(iface === '*' || INTERFACE_RE.test(iface))) c.tag(join(path, 'interfaceName'), 'InterfaceName', iface, 'interface')
  checkMAC(c, spec, 'mac', 'MAC', path)
  const ports = objs(c, spec, 'ports', path)
  for (let k = 0; k < ports.length; k++) validateWorkloadEndpointPort(c, ports[k]![0], at(join(path, 'ports'), ports[k]![1]))
  const prefixes = strs(c, spec, 'allowSpoofedSourcePrefixes', path) ?? []
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!
    if (!parseCIDROrIP(p)) c.tag(at(join(path, 'allowSpoofedSourcePrefixes'), i), `AllowSpoofedSourcePrefixes[${i}]`, p, 'cidr')
  }

  // Then the WorkloadEndpointSpec struct checks. Endpoints carry single addresses (/32 or /128) only.
  const networks = new Array<IPNet | undefined>(ipNetworks.length)
  for (let i = 0; i < ipNetworks.length; i++) {
    const n = ipNetworks[i]!
    const parsed = parseCIDROrIP(n)
    if (!parsed) c.go(at(join(path, 'ipNetworks'), i), 'IPNetworks', n, 'invalid CIDR')
    else if (parsed.cidr.prefix !== (parsed.ip.version === 4 ? 32 : 128)) {
      c.go(join(path, 'ipNetworks'), 'IPNetworks', ipNetworks, 'IP network contains multiple addresses')
    }
    networks[i] = parsed
  }
  for (let g = 0; g < WEP_GATEWAYS.length; g++) {
    const gw = gateways[g]
    if (!isSet(gw)) continue
    const [key, goName, version] = WEP_GATEWAYS[g]!
    const parsed = parseCIDROrIP(gw)
    if (!parsed) c.go(join(path, key), goName, gw, 'invalid CIDR')
    else if (parsed.ip.version !== version) c.go(join(path, key), goName, gw, `invalid IPv${version} gateway address specified`)
  }
  if (nats.length > 0) {
    // Every NAT's internal address must be one of the endpoint's networks; Go stops at the first that is not.
    let valid = false
    for (const [n, i] of nats) {
      const internal = typeof n.internalIP === 'string' ? parseCIDROrIP(n.internalIP) : undefined
      if (!internal) c.go(at(join(path, 'ipNATs'), i), 'IPNATs', n.internalIP, 'invalid InternalIP CIDR')
      valid = internal !== undefined && networks.some((nw) => nw !== undefined && cidrContainsIP(nw.cidr, internal.ip))
      if (!valid) break
    }
    if (!valid) c.go(join(path, 'ipNATs'), 'IPNATs', nats.map(([n]) => n), 'NAT is not in the endpoint networks')
  }
}

/** api.EndpointPort (host endpoint ports): a named port with a port-carrying protocol. */
export function validateEndpointPort(c: Collector, port: Obj, path: string): void {
  const name = str(c, port, 'name', path) ?? ''
  if (name === '' || isValidPortName(name).length > 0) c.tag(join(path, 'name'), 'Name', name, 'portName')
  checkPortNumber(c, port, 'port', path)
  crdRequired(c, port, 'name', path)
  crdRequired(c, port, 'port', path)
  crdRequired(c, port, 'protocol', path)
  crdRange(c, join(path, 'port'), num(c, port, 'port', path), 1, 65535)
  const protocol = checkProtocol(c, join(path, 'protocol'), port.protocol)
  if (!protocol || !supportsPorts(protocol)) {
    c.go(join(path, 'protocol'), 'EndpointPort.Protocol', port.protocol, 'EndpointPort protocol does not support ports.')
  }
}

export function validateHostEndpointSpec(c: Collector, spec: Obj, path: string): void {
  const node = str(c, spec, 'node', path)
  checkNameTag(c, join(path, 'node'), 'Node', node)
  crdMaxLength(c, join(path, 'node'), node, 253)
  const iface = str(c, spec, 'interfaceName', path)
  if (isSet(iface) && !(iface === '*' || INTERFACE_RE.test(iface))) c.tag(join(path, 'interfaceName'), 'InterfaceName', iface, 'interface')
  crdMaxLength(c, join(path, 'interfaceName'), iface, 15)
  const expectedIPs = strs(c, spec, 'expectedIPs', path) ?? []
  expectedIPs.forEach((ip, i) => {
    if (!parseIP(ip)) c.tag(at(join(path, 'expectedIPs'), i), `ExpectedIPs[${i}]`, ip, 'ip')
  })
  crdUniqueSet(c, join(path, 'expectedIPs'), expectedIPs)
  checkNameList(c, spec, 'profiles', 'Profiles', path)
  crdUniqueSet(c, join(path, 'profiles'), strs(c, spec, 'profiles', path))
  for (const [p, i] of objs(c, spec, 'ports', path)) validateEndpointPort(c, p, at(join(path, 'ports'), i))
  cel(c, path, isSet(iface) || expectedIPs.length > 0, 'at least one of interfaceName or expectedIPs must be specified')
  cel(c, path, isSet(node), 'node must be specified')
}

/** api.ProtoPort (Felix failsafe ports). */
export function validateProtoPort(c: Collector, pp: Obj, path: string): void {
  const protocol = str(c, pp, 'protocol', path)
  if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') {
    c.go(join(path, 'protocol'), 'ProtoPort.Protocol', protocol, "protocol must be 'TCP' or 'UDP' or 'SCTP'.")
  }
  const port = num(c, pp, 'port', path)
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) c.type(join(path, 'port'), 'uint16', port)
  crdRequired(c, pp, 'port', path)
  const net = str(c, pp, 'net', path)
  if (isSet(net) && !parseCIDROrIP(net)) c.tag(join(path, 'net'), 'Net', net, 'cidr')
}

export function validateNodeSpec(c: Collector, spec: Obj, path: string): void {
  const bgp = obj(c, spec, 'bgp', path)
  if (bgp) {
    const bp = join(path, 'bgp')
    const v4 = str(c, bgp, 'ipv4Address', bp)
    const v6 = str(c, bgp, 'ipv6Address', bp)
    if (isSet(v4) && parseCIDROrIP(v4)?.ip.version !== 4) c.tag(join(bp, 'ipv4Address'), 'IPv4Address', v4, 'cidrv4')
    if (isSet(v6) && parseCIDROrIP(v6)?.ip.version !== 6) c.tag(join(bp, 'ipv6Address'), 'IPv6Address', v6, 'cidrv6')
    checkIPTag(c, bgp, 'ipv4IPIPTunnelAddr', 'IPv4IPIPTunnelAddr', bp, 4)
    checkIPTag(c, bgp, 'routeReflectorClusterID', 'RouteReflectorClusterID', bp, 4)
  }
  checkIPTag(c, spec, 'ipv4VXLANTunnelAddr', 'IPv4VXLANTunnelAddr', path, 4)
  checkIPTag(c, spec, 'ipv6VXLANTunnelAddr', 'IPv6VXLANTunnelAddr', path, 6)
  checkMAC(c, spec, 'vxlanTunnelMACAddr', 'VXLANTunnelMACAddr', path)
  checkMAC(c, spec, 'vxlanTunnelMACAddrV6', 'VXLANTunnelMACAddrV6', path)
  const wg = obj(c, spec, 'wireguard', path)
  if (wg) {
    checkIPTag(c, wg, 'interfaceIPv4Address', 'InterfaceIPv4Address', join(path, 'wireguard'), 4)
    checkIPTag(c, wg, 'interfaceIPv6Address', 'InterfaceIPv6Address', join(path, 'wireguard'), 6)
  }
  for (const [a, i] of objs(c, spec, 'addresses', path)) {
    const ap = at(join(path, 'addresses'), i)
    const address = str(c, a, 'address', ap) ?? ''
    if (!isStrictNet(address)) c.tag(join(ap, 'address'), 'Address', address, 'net')
    const type = str(c, a, 'type', ap)
    if (isSet(type) && !IP_TYPES.includes(type)) c.tag(join(ap, 'type'), 'Type', type, 'ipType')
  }
  for (const [itf, i] of objs(c, spec, 'interfaces', path)) {
    checkNameTag(c, join(at(join(path, 'interfaces'), i), 'name'), 'Name', str(c, itf, 'name', at(join(path, 'interfaces'), i)))
  }
  // NodeSpec struct check, after the fields: a bgp section must say something.
  if (bgp && Object.values(bgp).every((v) => v === undefined || v === null || v === '')) {
    c.go(join(path, 'bgp'), 'BGP', bgp, 'Spec.BGP should not be empty')
  }
}

/** A WireGuard public key: base64 of exactly 32 bytes. */
export function isWireguardKey(k: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(k) && Buffer.from(k, 'base64').length === 32
}

export function validateNodeStatus(c: Collector, status: Obj, path: string): void {
  for (const [k, goName] of [['wireguardPublicKey', 'WireguardPublicKey'], ['wireguardPublicKeyV6', 'WireguardPublicKeyV6']] as const) {
    const v = str(c, status, k, path)
    if (isSet(v) && !isWireguardKey(v)) c.tag(join(path, k), goName, v, 'wireguardPublicKey')
  }
}

/** GlobalNetworkSet / NetworkSet: CIDRs or addresses, and no reserved namespace label. */
export function validateNetworkSetSpec(c: Collector, spec: Obj, path: string): void {
  const nets = strs(c, spec, 'nets', path) ?? []
  nets.forEach((n, i) => {
    if (!parseCIDROrIP(n)) c.tag(at(join(path, 'nets'), i), `Nets[${i}]`, n, 'cidr')
  })
  crdUniqueSet(c, join(path, 'nets'), nets)
}

export function checkReservedNamespaceLabel(c: Collector, meta: MetaParts): void {
  if (meta.labels && 'projectcalico.org/namespace' in meta.labels) {
    c.go('metadata.labels', 'Metadata.Labels (label)', 'projectcalico.org/namespace',
      'projectcalico.org/namespace is not a valid label name')
  }
}

export function validateProfileSpec(c: Collector, spec: Obj, path: string): void {
  validateProfileRules(c, spec, path)
  checkLabelsTag(c, join(path, 'labelsToApply'), 'LabelsToApply', strMap(c, spec, 'labelsToApply', path))
}
