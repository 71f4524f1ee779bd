// Kubernetes NetworkPolicy → the Calico projectcalico.org/v3 NetworkPolicy Calico derives from it, following
// libcalico-go/lib/backend/k8s/conversion (K8sNetworkPolicyToCalico and helpers) rule for rule:
//   - name unchanged (current Calico's KubernetesNetworkPolicy view) or "knp.default.<name>" (how Felix and
//     Calico <= v3.31 saw it); tier "default"; order 1000;
//   - selector "projectcalico.org/orchestrator == 'k8s' && <podSelector terms>", matchLabels sorted by key;
//   - one Allow rule per (protocol, peer), protocols sorted, each with every port given for that protocol
//     (merged into ranges); a port without a protocol is TCP; no ports → no protocol;
//   - namespaceSelector kept in its own field (an empty one becomes all()); ipBlock → nets / notNets;
//   - rules whose ports do not parse are dropped and reported (the rest of the policy still converts).

import type {ObjectMeta} from './resource.js'
import type {
  K8sLabelSelector,
  K8sNetworkPolicy,
  K8sNetworkPolicyEgressRule,
  K8sNetworkPolicyIngressRule,
  K8sNetworkPolicyPeer,
  K8sNetworkPolicyPort,
  K8sPolicyType,
} from './k8s-types.js'
import {formatCIDR, parseCIDR, unmapCIDR} from './net.js'
import {compareCodePoints} from './selector/ast.js'
import {LABEL_ORCHESTRATOR} from './selector/scope.js'

export type * from './k8s-types.js'

/** Prefix of the policy name under which Felix (and Calico <= v3.31) stores a converted policy. */
export const K8S_POLICY_NAME_PREFIX = 'knp.default.'
/** Every converted Kubernetes policy sits at this order in the default tier. */
export const K8S_POLICY_ORDER = 1000
export const DEFAULT_TIER = 'default'

/**
 * How the converted policy is named:
 *  - 'knp': `knp.default.<name>`, tier default. What the node agent should use: it cannot collide with a
 *    Calico NetworkPolicy of the same name in the same namespace.
 *  - 'kubernetes': name unchanged, tier default (current Calico's KubernetesNetworkPolicy resources).
 *  - 'convert': name unchanged and no tier field, exactly what `calicoctl convert` printed.
 */
export type K8sPolicyNaming = 'knp' | 'kubernetes' | 'convert'

export interface K8sConversionOptions {
  /** Default 'knp'. */
  naming?: K8sPolicyNaming
  /**
   * Apply the Kubernetes API server's defaulting of an omitted policyTypes first (Ingress, plus Egress when
   * spec.egress has a rule), as every policy read from a cluster has. Default true. `calicoctl convert`
   * converted the file as written: pass false to reproduce it (Calico then assumes Ingress only).
   */
  apiServerDefaults?: boolean
}

export type ConvertedPort = number | string

export interface ConvertedEntityRule {
  nets?: string[]
  selector?: string
  namespaceSelector?: string
  ports?: ConvertedPort[]
  notNets?: string[]
}

export interface ConvertedRule {
  action: 'Allow'
  protocol?: string
  source?: ConvertedEntityRule
  destination?: ConvertedEntityRule
}

export interface ConvertedNetworkPolicySpec {
  tier?: string
  order: number
  ingress?: ConvertedRule[]
  egress?: ConvertedRule[]
  selector: string
  types: K8sPolicyType[]
}

/** A projectcalico.org/v3 NetworkPolicy; keys are in Calico's JSON field order, empty fields omitted. */
export interface ConvertedNetworkPolicy {
  apiVersion: 'projectcalico.org/v3'
  kind: 'NetworkPolicy'
  metadata: ObjectMeta
  spec: ConvertedNetworkPolicySpec
}

export type BadK8sRule =
  | {direction: 'ingress'; index: number; rule: K8sNetworkPolicyIngressRule; reason: string}
  | {direction: 'egress'; index: number; rule: K8sNetworkPolicyEgressRule; reason: string}

/**
 * Rules that could not be converted and were left out (libcalico-go ErrorPolicyConversion; the rule is
 * rendered as JSON where Go prints its struct).
 */
export class PolicyConversionError extends Error {
  constructor(readonly policyName: string, readonly rules: readonly BadK8sRule[]) {
    super(formatConversionError(policyName, rules))
  }

  override get name(): string {
    return 'PolicyConversionError'
  }
}

function formatConversionError(policyName: string, rules: readonly BadK8sRule[]): string {
  const describe = (r: BadK8sRule): string => `${JSON.stringify(r.rule)} (${r.reason})`
  if (rules.length === 0) return `policy: ${policyName}: unknown policy conversion error`
  if (rules.length === 1) return `policy: ${policyName}: error with rule ${describe(rules[0])}`
  return `policy: ${policyName}: error with the following rules:\n${rules.map((r) => `-  ${describe(r)}\n`).join('')}`
}

/** The policy's UID does not parse as a UUID (Calico refuses to convert the policy at all). */
export class InvalidUIDError extends Error {
  constructor(readonly uid: string, reason: string) {
    super(`failed to parse UID for resource: ${reason}`)
  }

  override get name(): string {
    return 'InvalidUIDError'
  }
}

export interface K8sConversionResult {
  policy: ConvertedNetworkPolicy
  /** Present when some rules were dropped; `policy` holds the rest. */
  error?: PolicyConversionError
}

/** Converts one Kubernetes NetworkPolicy. Throws InvalidUIDError for a malformed metadata.uid. */
export function convertK8sNetworkPolicy(np: K8sNetworkPolicy, options: K8sConversionOptions = {}): K8sConversionResult {
  const naming = options.naming ?? 'knp'
  const source = options.apiServerDefaults === false ? np : applyK8sNetworkPolicyDefaults(np)
  const spec = source.spec
  const name = source.metadata.name ?? ''
  const bad: BadK8sRule[] = []

  const ingress: ConvertedRule[] = []
  ;(spec.ingress ?? []).forEach((rule, index) => {
    const converted = convertRule(rule.from, rule.ports, 'ingress')
    if (typeof converted === 'string') bad.push({direction: 'ingress', index, rule, reason: converted})
    else ingress.push(...converted)
  })
  const egress: ConvertedRule[] = []
  ;(spec.egress ?? []).forEach((rule, index) => {
    const converted = convertRule(rule.to, rule.ports, 'egress')
    if (typeof converted === 'string') bad.push({direction: 'egress', index, rule, reason: converted})
    else egress.push(...converted)
  })

  // Types come from policyTypes only; Calico treats none as Ingress (pre-1.8 clusters had no field).
  const declared = spec.policyTypes ?? []
  const types: K8sPolicyType[] = []
  if (declared.includes('Ingress')) types.push('Ingress')
  if (declared.includes('Egress')) types.push('Egress')
  if (types.length === 0) types.push('Ingress')

  // Only what Calico carries over (labels and annotations are not), in ObjectMeta's JSON field order.
  const metadata: ObjectMeta = {name: naming === 'knp' ? K8S_POLICY_NAME_PREFIX + name : name}
  if (source.metadata.namespace) metadata.namespace = source.metadata.namespace
  if (source.metadata.uid) metadata.uid = convertK8sUID(source.metadata.uid)
  if (source.metadata.resourceVersion) metadata.resourceVersion = source.metadata.resourceVersion
  if (source.metadata.creationTimestamp) metadata.creationTimestamp = source.metadata.creationTimestamp

  // Built in Calico's field order (tier, order, ingress, egress, selector, types) so output reads the same.
  const policySpec: ConvertedNetworkPolicySpec = {
    ...(naming === 'convert' ? {} : {tier: DEFAULT_TIER}),
    order: K8S_POLICY_ORDER,
    ...(ingress.length > 0 ? {ingress} : {}),
    ...(egress.length > 0 ? {egress} : {}),
    selector: k8sSelectorToCalico(spec.podSelector, 'pod'),
    types,
  }

  const policy: ConvertedNetworkPolicy = {apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata, spec: policySpec}
  return bad.length > 0 ? {policy, error: new PolicyConversionError(name, bad)} : {policy}
}

/**
 * The API server's defaulting of a NetworkPolicy (k8s.io/kubernetes pkg/apis/networking/v1 defaults):
 * an omitted or empty policyTypes becomes [Ingress], plus Egress when spec.egress has at least one rule.
 * Port protocols default to TCP during conversion anyway. Returns a new object; the input is untouched.
 */
export function applyK8sNetworkPolicyDefaults(np: K8sNetworkPolicy): K8sNetworkPolicy {
  if (np.spec.policyTypes && np.spec.policyTypes.length > 0) return np
  const policyTypes: K8sPolicyType[] = ['Ingress']
  if ((np.spec.egress ?? []).length > 0) policyTypes.push('Egress')
  return {...np, spec: {...np.spec, policyTypes}}
}

/**
 * A Kubernetes label selector as a Calico selector (conversion.go k8sSelectorToCalico). Pod selectors
 * always start with the orchestrator term; a missing namespace selector is '' (no namespace restriction)
 * and an empty one is all().
 */
export function k8sSelectorToCalico(sel: K8sLabelSelector | undefined, kind: 'pod' | 'namespace'): string {
  const terms: string[] = kind === 'pod' ? [`${LABEL_ORCHESTRATOR} == 'k8s'`] : []
  if (!sel) return terms.join(' && ')
  const labels = sel.matchLabels ?? {}
  const expressions = sel.matchExpressions ?? []
  const keys = Object.keys(labels).sort(compareCodePoints)
  if (kind === 'namespace' && keys.length === 0 && expressions.length === 0) return 'all()'

  for (const key of keys) terms.push(`${key} == '${labels[key]}'`)
  for (const e of expressions) {
    const values = (e.values ?? []).join("', '")
    switch (e.operator) {
      case 'In':
        terms.push(`${e.key} in { '${values}' }`)
        break
      case 'NotIn':
        terms.push(`${e.key} not in { '${values}' }`)
        break
      case 'Exists':
        terms.push(`has(${e.key})`)
        break
      case 'DoesNotExist':
        terms.push(`! has(${e.key})`)
        break
      // Calico silently skips operators it does not know; the API server rejects them anyway.
    }
  }
  return terms.join(' && ')
}

// ---- rules -------------------------------------------------------------------------------------------

type ParsedPort = {readonly min: number; readonly max: number} | {readonly name: string}

interface PeerFields {
  selector?: string
  namespaceSelector?: string
  nets?: string[]
  notNets?: string[]
}

/** The Calico rules for one Kubernetes rule, or the reason it cannot be converted. */
function convertRule(
  peers: K8sNetworkPolicyPeer[] | undefined,
  ports: K8sNetworkPolicyPort[] | undefined,
  direction: 'ingress' | 'egress',
): ConvertedRule[] | string {
  // protocol → its ports, or 'all' for every port of that protocol; '' is "no protocol, no ports".
  const byProtocol = new Map<string, ParsedPort[] | 'all'>()
  if (!ports || ports.length === 0) {
    byProtocol.set('', 'all')
  } else {
    for (const port of ports) {
      const protocol = canonicalProtocol(String(port.protocol ?? 'TCP'))
      let parsed: ParsedPort | undefined
      if (port.port !== undefined) {
        const text = portText(port)
        const result = parsePort(text)
        if (typeof result === 'string') return `k8s rule couldn't be converted: failed to parse k8s port: invalid port ${text}: ${result}`
        parsed = result
      }
      const existing = byProtocol.get(protocol)
      if (!parsed) byProtocol.set(protocol, 'all')
      else if (existing === undefined) byProtocol.set(protocol, [parsed])
      // An 'all' entry already covers this port; otherwise accumulate.
      else if (existing !== 'all') existing.push(parsed)
    }
  }

  const peerFields: Array<PeerFields | undefined> = []
  if (!peers || peers.length === 0) {
    peerFields.push(undefined)
  } else {
    for (const peer of peers) {
      const fields = convertPeer(peer)
      if (typeof fields === 'string') return `k8s rule couldn't be converted: ${fields}`
      peerFields.push(fields)
    }
  }

  const rules: ConvertedRule[] = []
  for (const protocol of [...byProtocol.keys()].sort(compareCodePoints)) {
    const portList = byProtocol.get(protocol)
    const wirePorts = portList === undefined || portList === 'all' ? undefined : simplifyPorts(portList).map(portToWire)
    for (const peer of peerFields) {
      const rule: ConvertedRule = {action: 'Allow'}
      if (protocol) rule.protocol = protocol
      if (direction === 'ingress') {
        const src = entityRule(peer, undefined)
        const dst = entityRule(undefined, wirePorts)
        if (src) rule.source = src
        if (dst) rule.destination = dst
      } else {
        const dst = entityRule(peer, wirePorts)
        if (dst) rule.destination = dst
      }
      rules.push(rule)
    }
  }
  return rules
}

/** EntityRule in Calico's field order (nets, selector, namespaceSelector, ports, notNets); undefined when empty. */
function entityRule(peer: PeerFields | undefined, ports: ConvertedPort[] | undefined): ConvertedEntityRule | undefined {
  const e: ConvertedEntityRule = {}
  if (peer?.nets) e.nets = [...peer.nets]
  if (peer?.selector) e.selector = peer.selector
  if (peer?.namespaceSelector) e.namespaceSelector = peer.namespaceSelector
  if (ports && ports.length > 0) e.ports = [...ports]
  if (peer?.notNets && peer.notNets.length > 0) e.notNets = [...peer.notNets]
  return Object.keys(e).length > 0 ? e : undefined
}

/**
 * Peer → entity fields. An ipBlock excludes the selectors. Calico logs an unparsable CIDR and emits the
 * rule without it (matching every address); we refuse the rule instead so a bad CIDR never widens access.
 */
function convertPeer(peer: K8sNetworkPolicyPeer): PeerFields | string {
  if (peer.ipBlock) {
    const nets = normaliseCIDR(peer.ipBlock.cidr)
    if (nets === undefined) return `invalid CIDR address: ${peer.ipBlock.cidr}`
    const notNets: string[] = []
    for (const except of peer.ipBlock.except ?? []) {
      const n = normaliseCIDR(except)
      if (n === undefined) return `invalid CIDR address: ${except}`
      notNets.push(n)
    }
    return {nets: [nets], notNets}
  }
  const fields: PeerFields = {selector: k8sSelectorToCalico(peer.podSelector, 'pod')}
  const ns = k8sSelectorToCalico(peer.namespaceSelector, 'namespace')
  if (ns) fields.namespaceSelector = ns
  return fields
}

// ---- ports and protocols -----------------------------------------------------------------------------

const PROTOCOL_NAMES = ['UDP', 'TCP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite']

/** numorstring.ProtocolFromString: known names case-insensitively canonicalised, others unchanged. */
function canonicalProtocol(p: string): string {
  const lower = p.toLowerCase()
  return PROTOCOL_NAMES.find((n) => n.toLowerCase() === lower) ?? p
}

/** The port as Calico's conversion spells it: "<port>" or "<port>:<endPort>". */
function portText(port: K8sNetworkPolicyPort): string {
  const base = String(port.port)
  return port.endPort !== undefined ? `${base}:${port.endPort}` : base
}

const ALL_DIGITS = /^\d+$/
const PORT_RANGE = /^(\d+):(\d+)$/
const PORT_NAME = /^[a-zA-Z0-9_.-]{1,128}$/

/** numorstring.PortFromString: a number, "min:max" or a port name; the error text on failure. */
function parsePort(s: string): ParsedPort | string {
  if (ALL_DIGITS.test(s)) {
    const n = Number(s)
    if (n > 65535) return `invalid port format (${s})`
    return {min: n, max: n}
  }
  const range = PORT_RANGE.exec(s)
  if (range) {
    const min = Number(range[1])
    const max = Number(range[2])
    if (min > 65535) return `invalid minimum port number in range (${s})`
    if (max > 65535) return `invalid maximum port number in range (${s})`
    if (min > max) return `minimum port number (${min}) is greater than maximum port number (${max}) in port range`
    return {min, max}
  }
  if (!PORT_NAME.test(s)) return `invalid name for named port (${s})`
  return {name: s}
}

/**
 * conversion.go SimplifyPorts: numeric ports merged into the fewest ranges (after any named ports); a list
 * with at most one numeric port is returned as given.
 */
function simplifyPorts(ports: readonly ParsedPort[]): ParsedPort[] {
  if (ports.length <= 1) return [...ports]
  const out: ParsedPort[] = []
  const numbers: number[] = []
  for (const p of ports) {
    if ('name' in p) out.push(p)
    else for (let i = p.min; i <= p.max; i++) numbers.push(i)
  }
  if (numbers.length <= 1) return [...ports]
  numbers.sort((a, b) => a - b)
  let i = 0
  while (i < numbers.length) {
    const first = numbers[i]
    let last = first
    i++
    while (i < numbers.length && numbers[i] <= last + 1) {
      last = numbers[i]
      i++
    }
    out.push({min: first, max: last})
  }
  return out
}

function portToWire(p: ParsedPort): ConvertedPort {
  if ('name' in p) return p.name
  return p.min === p.max ? p.min : `${p.min}:${p.max}`
}

// ---- CIDRs (Go net.ParseCIDR + IPNet.String) ---------------------------------------------------------

/** The masked network in Go's canonical text ("10.1.2.3/16" → "10.1.0.0/16"), or undefined if invalid. */
export function normaliseCIDR(text: string): string | undefined {
  const c = parseCIDR(text)
  // Go prints an IPv4-mapped network as IPv4, with the mask cut to its last 32 bits.
  return c ? formatCIDR(unmapCIDR(c)) : undefined
}

// ---- UIDs --------------------------------------------------------------------------------------------

/**
 * conversion.go ConvertUID: a derived but distinct UID (every byte bit-reversed except the version and
 * variant bytes), so the converted object never shares its source's UID. Applying it twice gives the input.
 */
export function convertK8sUID(uid: string): string {
  const bytes = parseUUID(uid)
  // Table lookups instead of per-bit loops and per-byte strings: every object a Kubernetes list returns
  // has its UID converted, so this sits on the list path.
  let out = ''
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += '-'
    out += HEX_BYTE[i === 6 || i === 8 ? bytes[i] : REVERSED_BITS[bytes[i]]]
  }
  return out
}

function reverseBits(b: number): number {
  let r = 0
  for (let i = 0; i < 8; i++) r |= ((b >> i) & 1) << (7 - i)
  return r
}

const REVERSED_BITS = Uint8Array.from({length: 256}, (_, b) => reverseBits(b))
const HEX_BYTE = Array.from({length: 256}, (_, b) => b.toString(16).padStart(2, '0'))

/** github.com/google/uuid Parse: the 36-character form, or it wrapped in {} or urn:uuid:, or 32 hex digits. */
function parseUUID(s: string): Uint8Array {
  let start: number
  let withDashes = true
  switch (s.length) {
    case 36:
      start = 0
      break
    case 38:
      if (s[0] !== '{' || s[37] !== '}') throw new InvalidUIDError(s, 'invalid UUID format')
      start = 1
      break
    case 45:
      if (s.slice(0, 9).toLowerCase() !== 'urn:uuid:') throw new InvalidUIDError(s, `invalid urn prefix: ${JSON.stringify(s.slice(0, 9))}`)
      start = 9
      break
    case 32:
      start = 0
      withDashes = false
      break
    default:
      throw new InvalidUIDError(s, `invalid UUID length: ${s.length}`)
  }
  if (withDashes && (s[start + 8] !== '-' || s[start + 13] !== '-' || s[start + 18] !== '-' || s[start + 23] !== '-')) {
    throw new InvalidUIDError(s, 'invalid UUID format')
  }
  const out = new Uint8Array(16)
  let at = start
  for (let i = 0; i < 16; i++) {
    if (withDashes && (i === 4 || i === 6 || i === 8 || i === 10)) at++
    const hi = hexDigit(s.charCodeAt(at))
    const lo = hexDigit(s.charCodeAt(at + 1))
    if (hi < 0 || lo < 0) throw new InvalidUIDError(s, 'invalid UUID format')
    out[i] = (hi << 4) | lo
    at += 2
  }
  return out
}

/** The value of one hex digit's character code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}
