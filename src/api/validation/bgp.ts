// BGP resources: BGPPeer, BGPConfiguration and BGPFilter.

import type {Obj} from './collector.js'
import {
  arr, at, bool, cel, Collector, crdEnum, crdItems, crdMaxLength, crdPattern, crdRange, crdRequired, crdUniqueSet, isSet,
  join, num, obj, objs, str, strs,
} from './collector.js'
import {isMasked} from '../net.js'
import {parseCIDROrIP, parseIP} from './cnet.js'
import {NAME_RE} from './names.js'
import {checkNameTag} from './tags.js'
import {checkSelector} from './selectors.js'

const IPV4_PORT_RE = /^(\d+).(\d+).(\d+).(\d+):(\d+)$/
const IPV6_PORT_RE = /^\[[0-9a-fA-F:.]+\]:(\d+)$/
const LOG_SEVERITY_PATTERN = '^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$'
const IGNORED_INTERFACE_RE = /^[a-zA-Z0-9_.*-]{1,15}$/
const BGP_FILTER_INTERFACE_RE = /^[a-zA-Z0-9_.*-]{1,15}$/
const STANDARD_COMMUNITY = /^(\d+):(\d+)$/
const LARGE_COMMUNITY = /^(\d+):(\d+):(\d+)$/
const COMMUNITY_PATTERN = '^(\\d+):(\\d+)$|^(\\d+):(\\d+):(\\d+)$'
const MAX_PRIORITY = 2147483646

/** A BGP peer address: `<ip>`, `<ipv4>:<port>` or `[<ipv6>]:<port>`. Returns the address part when valid. */
export function parsePeerIP(s: string): string | undefined {
  if (s === '') return undefined
  let ip = s
  if (IPV4_PORT_RE.test(s) || IPV6_PORT_RE.test(s)) {
    const colon = s.lastIndexOf(':')
    ip = s.slice(0, colon)
    const port = Number(s.slice(colon + 1))
    if (ip.startsWith('[')) ip = ip.slice(1, -1)
    if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined
  }
  return parseIP(ip) ? ip : undefined
}

/** numorstring.ASNumber: a 32-bit number, or a string in plain or dotted (`1.10`) notation. */
function asNumber(c: Collector, v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v
  if (typeof v === 'string') {
    if (/^\d+$/.test(v) && Number(v) <= 0xffffffff) return Number(v)
    const m = /^(\d+)\.(\d+)$/.exec(v)
    if (m && Number(m[1]) <= 0xffff && Number(m[2]) <= 0xffff) return Number(m[1]) * 65536 + Number(m[2])
  }
  c.type(path, 'AS number (0-4294967295, or <n>.<n>)', v)
  return undefined
}

function checkASNumber(c: Collector, o: Obj, key: string, path: string): number | undefined {
  return asNumber(c, o[key], join(path, key))
}

function checkASNumbers(c: Collector, list: readonly unknown[] | undefined, path: string): void {
  ;(list ?? []).forEach((v, i) => asNumber(c, v, at(path, i)))
}

function checkSecretKeyRef(c: Collector, o: Obj, key: string, path: string): void {
  const pw = obj(c, o, key, path)
  if (!pw) return
  const ref = obj(c, pw, 'secretKeyRef', join(path, key))
  if (ref) crdRequired(c, ref, 'key', join(join(path, key), 'secretKeyRef'))
}

export function validateBGPPeerSpec(c: Collector, spec: Obj, path: string): void {
  const node = str(c, spec, 'node', path)
  checkNameTag(c, join(path, 'node'), 'Node', node)
  crdMaxLength(c, join(path, 'node'), node, 253)
  const nodeSelector = str(c, spec, 'nodeSelector', path)
  const peerSelector = str(c, spec, 'peerSelector', path)
  const localWorkloadSelector = str(c, spec, 'localWorkloadSelector', path)
  checkSelector(c, join(path, 'nodeSelector'), 'NodeSelector', nodeSelector)
  checkSelector(c, join(path, 'peerSelector'), 'PeerSelector', peerSelector)
  checkSelector(c, join(path, 'localWorkloadSelector'), 'LocalWorkloadSelector', localWorkloadSelector)
  for (const k of ['nodeSelector', 'peerSelector', 'localWorkloadSelector'] as const) {
    crdMaxLength(c, join(path, k), str(c, spec, k, path), 1024)
  }

  const peerIP = str(c, spec, 'peerIP', path)
  const peerAddr = isSet(peerIP) ? parsePeerIP(peerIP) : undefined
  if (isSet(peerIP) && !peerAddr) c.tag(join(path, 'peerIP'), 'PeerIP', peerIP, 'IP:port')
  crdMaxLength(c, join(path, 'peerIP'), peerIP, 64)
  const reachableBy = str(c, spec, 'reachableBy', path)
  const reachableAddr = isSet(reachableBy) ? parseIP(reachableBy) : undefined
  if (isSet(reachableBy) && !reachableAddr) c.tag(join(path, 'reachableBy'), 'ReachableBy', reachableBy, 'reachableBy')
  crdMaxLength(c, join(path, 'reachableBy'), reachableBy, 64)

  const filters = strs(c, spec, 'filters', path) ?? []
  filters.forEach((f, i) => {
    if (!NAME_RE.test(f)) c.tag(at(join(path, 'filters'), i), `Filters[${i}]`, f, 'name')
  })
  const peerAS = checkASNumber(c, spec, 'asNumber', path)
  checkASNumber(c, spec, 'localASNumber', path)
  checkSecretKeyRef(c, spec, 'password', path)
  crdEnum(c, join(path, 'sourceAddress'), str(c, spec, 'sourceAddress', path) || undefined, ['UseNodeIP', 'None'])
  const nextHopMode = str(c, spec, 'nextHopMode', path)
  crdEnum(c, join(path, 'nextHopMode'), nextHopMode, ['Auto', 'Self', 'Keep'])
  const keepOriginalNextHop = bool(c, spec, 'keepOriginalNextHop', path) ?? false
  str(c, spec, 'maxRestartTime', path)

  // Spec level (after the field tags): the gateway must be of the peer's address family.
  if (reachableAddr && peerAddr) {
    const peer = parseIP(peerAddr)
    if (peer && peer.version !== reachableAddr.version) {
      c.go(join(path, 'reachableBy'), 'ReachableBy', reachableBy, 'ReachableBy and PeerIP address family mismatched')
    }
  }

  cel(c, path, !isSet(node) || !isSet(nodeSelector), 'node and nodeSelector cannot both be set')
  cel(c, path, !isSet(peerIP) || !isSet(peerSelector), 'peerIP and peerSelector cannot both be set')
  cel(c, path, !isSet(peerSelector) || !peerAS, 'asNumber must be empty when peerSelector is set')
  cel(c, path, !isSet(localWorkloadSelector) || !isSet(peerIP), 'peerIP must be empty when localWorkloadSelector is set')
  cel(c, path, !isSet(localWorkloadSelector) || !isSet(peerSelector), 'peerSelector must be empty when localWorkloadSelector is set')
  cel(c, path, !isSet(localWorkloadSelector) || !!peerAS, 'asNumber is required when localWorkloadSelector is set')
  cel(c, path, !isSet(reachableBy) || isSet(peerIP), 'reachableBy must be empty when peerIP is empty')
  cel(c, path, !keepOriginalNextHop || nextHopMode === undefined,
    'keepOriginalNextHop and nextHopMode cannot both be set; keepOriginalNextHop is deprecated, use nextHopMode instead')
}

/** Standard (`aa:nn`, 16-bit parts) or large (`aa:nn:mm`, 32-bit parts) community; reports out-of-range parts. */
function isValidCommunity(c: Collector, value: string, fieldName: string, path: string): boolean {
  const large = LARGE_COMMUNITY.test(value)
  if (!large && !STANDARD_COMMUNITY.test(value)) return false
  const bits = large ? 32 : 16
  for (const part of value.split(':')) {
    if (BigInt(part) >= 1n << BigInt(bits)) {
      c.go(path, fieldName, value, `invalid community value, expected ${bits} bit value`)
    }
  }
  return true
}

function checkServiceIPBlocks(c: Collector, spec: Obj, key: string, path: string): void {
  for (const [b, i] of objs(c, spec, key, path)) {
    const bp = at(join(path, key), i)
    const cidr = str(c, b, 'cidr', bp)
    if (isSet(cidr)) {
      const n = parseCIDROrIP(cidr)
      if (!n || !isMasked(n)) c.tag(join(bp, 'cidr'), 'CIDR', cidr, 'net')
    }
  }
}

export function validateBGPConfigurationSpec(c: Collector, spec: Obj, path: string): void {
  crdPattern(c, join(path, 'logSeverityScreen'), str(c, spec, 'logSeverityScreen', path), LOG_SEVERITY_PATTERN)
  const nodeToNodeMeshEnabled = bool(c, spec, 'nodeToNodeMeshEnabled', path)
  checkASNumber(c, spec, 'asNumber', path)
  for (const k of ['serviceLoadBalancerIPs', 'serviceExternalIPs', 'serviceClusterIPs']) checkServiceIPBlocks(c, spec, k, path)
  crdEnum(c, join(path, 'serviceLoadBalancerAggregation'), str(c, spec, 'serviceLoadBalancerAggregation', path) || undefined, ['Enabled', 'Disabled'])
  crdEnum(c, join(path, 'bindMode'), str(c, spec, 'bindMode', path) || undefined, ['None', 'NodeIP'])
  crdEnum(c, join(path, 'programClusterRoutes'), str(c, spec, 'programClusterRoutes', path) || undefined,
    ['Enabled', 'Disabled', 'EnabledIPIPOnly', 'EnabledNoEncapOnly'])

  const listenPort = num(c, spec, 'listenPort', path)
  if (listenPort !== undefined && (listenPort < 0 || listenPort > 65535 || !Number.isInteger(listenPort))) {
    c.type(join(path, 'listenPort'), 'uint16', listenPort)
  }
  crdRange(c, join(path, 'listenPort'), listenPort || undefined, 1, 65535)
  checkSecretKeyRef(c, spec, 'nodeMeshPassword', path)
  const nodeMeshPassword = obj(c, spec, 'nodeMeshPassword', path)
  const nodeMeshMaxRestartTime = str(c, spec, 'nodeMeshMaxRestartTime', path)

  const ignored = strs(c, spec, 'ignoredInterfaces', path) ?? []
  ignored.forEach((s, i) => {
    if (s === '*' || !IGNORED_INTERFACE_RE.test(s)) c.tag(at(join(path, 'ignoredInterfaces'), i), `IgnoredInterfaces[${i}]`, s, 'ignoredInterface')
  })
  crdUniqueSet(c, join(path, 'ignoredInterfaces'), ignored)
  const v4 = str(c, spec, 'localWorkloadPeeringIPV4', path)
  const v6 = str(c, spec, 'localWorkloadPeeringIPV6', path)
  if (isSet(v4) && parseIP(v4)?.version !== 4) c.tag(join(path, 'localWorkloadPeeringIPV4'), 'LocalWorkloadPeeringIPV4', v4, 'ipv4')
  if (isSet(v6) && parseIP(v6)?.version !== 6) c.tag(join(path, 'localWorkloadPeeringIPV6'), 'LocalWorkloadPeeringIPV6', v6, 'ipv6')
  for (const [k, name] of [['ipv4NormalRoutePriority', 'IPv4NormalRoutePriority'], ['ipv6NormalRoutePriority', 'IPv6NormalRoutePriority']] as const) {
    checkPriority(c, spec, k, name, path)
  }

  // Field tags of the community and prefix-advertisement entries first, then the spec-level community checks.
  const communities = objs(c, spec, 'communities', path).map(([cm, i]) => {
    const cp = at(join(path, 'communities'), i)
    const name = str(c, cm, 'name', cp)
    const value = str(c, cm, 'value', cp)
    if (!isSet(name)) c.tag(join(cp, 'name'), 'Name', name, 'required')
    else if (!NAME_RE.test(name)) c.tag(join(cp, 'name'), 'Name', name, 'name')
    if (!isSet(value)) c.tag(join(cp, 'value'), 'Value', value, 'required')
    crdMaxLength(c, join(cp, 'name'), name, 253)
    crdMaxLength(c, join(cp, 'value'), value, 40)
    crdPattern(c, join(cp, 'value'), value, COMMUNITY_PATTERN)
    return {name, value, path: join(cp, 'value')}
  })
  crdItems(c, join(path, 'communities'), arr(c, spec, 'communities', path), undefined, 500)
  const prefixAds = objs(c, spec, 'prefixAdvertisements', path).map(([pa, i]) => {
    const pp = at(join(path, 'prefixAdvertisements'), i)
    const cidr = str(c, pa, 'cidr', pp)
    const parsed = isSet(cidr) ? parseCIDROrIP(cidr) : undefined
    if (!isSet(cidr)) c.tag(join(pp, 'cidr'), 'CIDR', cidr, 'required')
    else if (!parsed || !isMasked(parsed)) c.tag(join(pp, 'cidr'), 'CIDR', cidr, 'net')
    const used = strs(c, pa, 'communities', pp)
    if (used === undefined) c.tag(join(pp, 'communities'), 'Communities', used, 'required')
    crdItems(c, join(pp, 'communities'), used, undefined, 50)
    return {cidr, valid: parsed !== undefined, used: used ?? [], path: pp}
  })
  crdItems(c, join(path, 'prefixAdvertisements'), arr(c, spec, 'prefixAdvertisements', path), undefined, 500)

  const definedNames = new Set(communities.flatMap((cm) => (isSet(cm.name) ? [cm.name] : [])))
  for (const cm of communities) {
    if (!isValidCommunity(c, cm.value ?? '', 'Spec.Communities[].Value', cm.path)) {
      c.go(cm.path, 'Spec.Communities[].Value', cm.value, 'invalid community value or format used.')
    }
  }
  for (const pa of prefixAds) {
    if (!pa.valid) c.go(join(pa.path, 'cidr'), 'Spec.PrefixAdvertisement[].CIDR', pa.cidr, 'invalid CIDR value.')
    pa.used.forEach((v, j) => {
      const vp = at(join(pa.path, 'communities'), j)
      if (!isValidCommunity(c, v, 'Spec.PrefixAdvertisement[].Communities[]', vp) && !definedNames.has(v)) {
        c.go(vp, 'Spec.PrefixAdvertisement[].Communities[]', v, 'community used is invalid or not defined.')
      }
    })
  }

  const meshOn = nodeToNodeMeshEnabled !== false
  cel(c, path, !nodeMeshPassword || meshOn, 'nodeMeshPassword cannot be set when nodeToNodeMeshEnabled is false')
  cel(c, path, nodeMeshMaxRestartTime === undefined || meshOn,
    'nodeMeshMaxRestartTime cannot be set when nodeToNodeMeshEnabled is false')
  cel(c, path, communities.length === 0 || prefixAds.length > 0, 'communities are defined but not used in prefixAdvertisements')
}

function checkPriority(c: Collector, o: Obj, key: string, name: string, path: string): void {
  const v = num(c, o, key, path)
  if (v === undefined) return
  if (v < 1) c.bound(join(path, key), name, v, 'gte', 1)
  if (v > MAX_PRIORITY) c.bound(join(path, key), name, v, 'lte', MAX_PRIORITY)
  crdRange(c, join(path, key), v, 1, MAX_PRIORITY)
}

function checkCommunityValue(c: Collector, path: string, v: string | undefined): void {
  crdMaxLength(c, path, v, 32)
  if (v === undefined) return
  const m = /^(\d+):(\d+)(?::(\d+))?$/.exec(v)
  const ok = m !== null && (m[3] === undefined
    ? Number(m[1]) <= 0xffff && Number(m[2]) <= 0xffff
    : [m[1], m[2], m[3]].every((x) => Number(x) <= 0xffffffff))
  if (!ok) c.schema(path, `Invalid value: ${JSON.stringify(v)}: should be a standard (aa:nn, 16-bit) or large (aa:nn:mm, 32-bit) BGP community`, v)
}

export function validateBGPFilterOperation(c: Collector, op: Obj, path: string): void {
  const keys = ['addCommunity', 'prependASPath', 'setPriority'].filter((k) => op[k] !== undefined && op[k] !== null)
  if (keys.length < 1) c.schema(path, 'Invalid value: 0: should have at least 1 properties')
  if (keys.length > 1) c.schema(path, `Too many: ${keys.length}: must have at most 1 items`)
  const add = obj(c, op, 'addCommunity', path)
  if (add) {
    const ap = join(path, 'addCommunity')
    const v = str(c, add, 'value', ap)
    if (!isSet(v)) c.tag(join(ap, 'value'), 'Value', v, 'required')
    checkCommunityValue(c, join(ap, 'value'), v)
  }
  const prepend = obj(c, op, 'prependASPath', path)
  if (prepend) {
    const pp = join(path, 'prependASPath')
    const prefix = arr(c, prepend, 'prefix', pp)
    if (prefix === undefined) c.tag(join(pp, 'prefix'), 'Prefix', prefix, 'required')
    crdItems(c, join(pp, 'prefix'), prefix, 1, 10)
    checkASNumbers(c, prefix, join(pp, 'prefix'))
  }
  const setPriority = obj(c, op, 'setPriority', path)
  if (setPriority) {
    const sp = join(path, 'setPriority')
    if (num(c, setPriority, 'value', sp) === undefined) c.tag(join(sp, 'value'), 'Value', undefined, 'required')
    checkPriority(c, setPriority, 'value', 'Value', sp)
  }
}

/** One BGPFilter rule; `v` selects the address family of exportV4/importV4 or exportV6/importV6. */
export function validateBGPFilterRule(c: Collector, rule: Obj, path: string, v: 4 | 6): void {
  const cidr = str(c, rule, 'cidr', path)
  if (isSet(cidr)) {
    const n = parseCIDROrIP(cidr)
    if (!n || n.ip.version !== v || !isMasked(n)) c.tag(join(path, 'cidr'), 'CIDR', cidr, v === 4 ? 'netv4' : 'netv6')
  }
  crdMaxLength(c, join(path, 'cidr'), cidr, v === 4 ? 18 : 43)
  const matchOperator = str(c, rule, 'matchOperator', path)
  crdEnum(c, join(path, 'matchOperator'), matchOperator || undefined, ['Equal', 'NotEqual', 'In', 'NotIn'])

  const prefixLength = obj(c, rule, 'prefixLength', path)
  if (prefixLength) {
    const pp = join(path, 'prefixLength')
    const maxLen = v === 4 ? 32 : 128
    for (const [k, name] of [['min', 'Min'], ['max', 'Max']] as const) {
      const x = num(c, prefixLength, k, pp)
      if (x === undefined) continue
      if (!Number.isInteger(x) || x < 0 || x > maxLen) c.tag(join(pp, k), name, x, v === 4 ? 'bgpFilterPrefixLengthV4' : 'bgpFilterPrefixLengthV6')
      crdRange(c, join(pp, k), x, 0, maxLen)
    }
  }

  const source = str(c, rule, 'source', path)
  if (isSet(source) && source !== 'RemotePeers') c.oneOf(join(path, 'source'), 'Source', source, ['RemotePeers'])
  crdEnum(c, join(path, 'source'), source || undefined, ['RemotePeers'])
  const iface = str(c, rule, 'interface', path)
  if (isSet(iface) && iface !== '*' && !BGP_FILTER_INTERFACE_RE.test(iface)) c.tag(join(path, 'interface'), 'Interface', iface, 'bgpFilterInterface')
  crdMaxLength(c, join(path, 'interface'), iface, 15)
  const peerType = str(c, rule, 'peerType', path)
  if (isSet(peerType) && peerType !== 'eBGP' && peerType !== 'iBGP') c.oneOf(join(path, 'peerType'), 'PeerType', peerType, ['eBGP', 'iBGP'])
  crdEnum(c, join(path, 'peerType'), peerType || undefined, ['eBGP', 'iBGP'])
  checkPriority(c, rule, 'priority', 'Priority', path)

  const communities = obj(c, rule, 'communities', path)
  if (communities) {
    const cp = join(path, 'communities')
    const values = strs(c, communities, 'values', cp)
    if (values === undefined) c.tag(join(cp, 'values'), 'Values', values, 'required')
    crdItems(c, join(cp, 'values'), values, 1, 1)
    ;(values ?? []).forEach((x, i) => checkCommunityValue(c, at(join(cp, 'values'), i), x))
  }
  const asPathPrefix = arr(c, rule, 'asPathPrefix', path)
  checkASNumbers(c, asPathPrefix, join(path, 'asPathPrefix'))

  const action = str(c, rule, 'action', path)
  if (!isSet(action)) c.tag(join(path, 'action'), 'Action', action, 'required')
  crdEnum(c, join(path, 'action'), action ?? '', ['Accept', 'Reject'])
  const operations = objs(c, rule, 'operations', path)
  const rawOps = arr(c, rule, 'operations', path)
  if (rawOps && rawOps.length > 0) crdItems(c, join(path, 'operations'), rawOps, 1, 10)
  for (const [op, i] of operations) validateBGPFilterOperation(c, op, at(join(path, 'operations'), i))

  cel(c, path, isSet(cidr) === isSet(matchOperator), 'cidr and matchOperator must both be set or both be empty')
  cel(c, path, !prefixLength || isSet(cidr), 'cidr is required when prefixLength is set')
  cel(c, path, operations.length === 0 || action === 'Accept', 'operations may only be used with action Accept')
}

export function validateBGPFilterSpec(c: Collector, spec: Obj, path: string): void {
  for (const [key, v] of [['exportV4', 4], ['importV4', 4], ['exportV6', 6], ['importV6', 6]] as const) {
    for (const [r, i] of objs(c, spec, key, path)) validateBGPFilterRule(c, r, at(join(path, key), i), v)
  }
}
