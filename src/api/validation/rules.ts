// Policy rules (Rule, EntityRule, ICMP, HTTP) and the policy specs that carry them: NetworkPolicy,
// GlobalNetworkPolicy and their staged variants, and Profile rules.

import {convertK8sNetworkPolicy} from '../k8s-networkpolicy.js'
import type {K8sNetworkPolicySpec} from '../k8s-networkpolicy.js'
import type {ObjectMeta} from '../resource.js'
import type {Obj} from './collector.js'
import {
  arr, at, bool, cel, Collector, crdEnum, crdItems, crdMaxLength, crdRange, crdUniqueSet, isObj, isSet, join, num, obj,
  objs, str, strMap, strs,
} from './collector.js'
import {checkAnnotations} from './meta.js'
import {parseCIDR} from './cnet.js'
import type {Port, Protocol} from './ports.js'
import {allPortsAreNamed, checkPorts, checkProtocol, protocolIs, supportsPorts} from './ports.js'
import {checkSelector, isLoneGlobal, mentionsGlobal} from './selectors.js'
import {checkNameTag, isStrictNet} from './tags.js'

const RULE_ACTIONS = ['Allow', 'Deny', 'Log', 'Pass'] as const
const POLICY_TYPES = ['Ingress', 'Egress'] as const
const PERFORMANCE_HINTS = ['AssumeNeededOnEveryNode'] as const
const GLOBAL_ONLY_IN_NS = 'global() can only be used in an EntityRule namespaceSelector'
const PORTS_NEED_PROTOCOL = 'rules with numeric port or port range must set protocol to TCP or UDP or SCTP'
const PROTOCOL_WITHOUT_PORTS = 'rules that specify ports must set protocol to TCP or UDP or SCTP'

interface EntityParts {
  ports: Port[]
  notPorts: Port[]
  /** Ports and notPorts as written, including ones that did not parse. */
  rawPortCount: number
  nets: readonly string[]
  notNets: readonly string[]
  services?: Obj
}

export function validateICMP(c: Collector, o: Obj, path: string): void {
  const type = num(c, o, 'type', path)
  const code = num(c, o, 'code', path)
  if (type !== undefined && type < 0) c.bound(join(path, 'type'), 'Type', type, 'gte', 0)
  if (type !== undefined && type > 254) c.bound(join(path, 'type'), 'Type', type, 'lte', 254)
  if (code !== undefined && code < 0) c.bound(join(path, 'code'), 'Code', code, 'gte', 0)
  if (code !== undefined && code > 255) c.bound(join(path, 'code'), 'Code', code, 'lte', 255)
  crdRange(c, join(path, 'type'), type, 0, 254)
  crdRange(c, join(path, 'code'), code, 0, 255)
  cel(c, path, code === undefined || type !== undefined, 'ICMP code specified without an ICMP type')
}

export function validateHTTPMatch(c: Collector, o: Obj, path: string): void {
  const methods = strs(c, o, 'methods', path) ?? []
  if (new Set(methods).size !== methods.length) {
    c.go(join(path, 'methods'), 'Methods', methods, `Invalid methods (duplicates): [${methods.join(' ')}]`)
  }
  crdItems(c, join(path, 'methods'), methods, undefined, 20)
  const paths = objs(c, o, 'paths', path)
  crdItems(c, join(path, 'paths'), arr(c, o, 'paths', path), undefined, 20)
  for (const [p, i] of paths) {
    const pp = at(join(path, 'paths'), i)
    const exact = str(c, p, 'exact', pp) ?? ''
    const prefix = str(c, p, 'prefix', pp) ?? ''
    crdMaxLength(c, join(pp, 'exact'), exact, 1024)
    crdMaxLength(c, join(pp, 'prefix'), prefix, 1024)
    let problem: string | undefined
    if (exact !== '' && prefix !== '') problem = "Invalid path match. Both 'exact' and 'prefix' are set"
    else if (exact === '' && prefix === '') problem = "Invalid path match. Either 'exact' or 'prefix' must be set"
    else {
      const v = exact || prefix
      if (!v.startsWith('/') || /[? #]/.test(v)) problem = `Invalid path ${v}. (must start with \`/\` and not contain \`?\` or \`#\``
    }
    if (problem) {
      // Go stops at the first bad path and reports the whole list.
      c.go(join(path, 'paths'), 'Paths', paths.map(([x]) => x), problem)
      break
    }
  }
}

function checkNets(c: Collector, path: string, goName: string, nets: readonly string[]): void {
  nets.forEach((n, i) => {
    if (!isStrictNet(n)) c.tag(at(path, i), `${goName}[${i}]`, n, 'net')
  })
}

export function validateEntityRule(c: Collector, o: Obj, path: string): EntityParts {
  const nets = strs(c, o, 'nets', path) ?? []
  const notNets = strs(c, o, 'notNets', path) ?? []
  checkNets(c, join(path, 'nets'), 'Nets', nets)
  checkNets(c, join(path, 'notNets'), 'NotNets', notNets)
  crdItems(c, join(path, 'nets'), nets, undefined, 256)
  crdItems(c, join(path, 'notNets'), notNets, undefined, 256)
  crdUniqueSet(c, join(path, 'nets'), nets)
  crdUniqueSet(c, join(path, 'notNets'), notNets)

  const selector = str(c, o, 'selector', path)
  const nsSelector = str(c, o, 'namespaceSelector', path)
  const notSelector = str(c, o, 'notSelector', path)
  checkSelector(c, join(path, 'selector'), 'Selector', selector)
  checkSelector(c, join(path, 'namespaceSelector'), 'NamespaceSelector', nsSelector)
  checkSelector(c, join(path, 'notSelector'), 'NotSelector', notSelector)
  for (const k of ['selector', 'namespaceSelector', 'notSelector'] as const) {
    crdMaxLength(c, join(path, k), str(c, o, k, path), 1024)
  }

  const rawPorts = arr(c, o, 'ports', path) ?? []
  const rawNotPorts = arr(c, o, 'notPorts', path) ?? []
  const ports = checkPorts(c, join(path, 'ports'), rawPorts)
  const notPorts = checkPorts(c, join(path, 'notPorts'), rawNotPorts)
  crdItems(c, join(path, 'ports'), rawPorts, undefined, 50)
  crdItems(c, join(path, 'notPorts'), rawNotPorts, undefined, 50)

  const services = obj(c, o, 'services', path)
  let serviceName: string | undefined
  if (services) {
    const sp = join(path, 'services')
    const name = str(c, services, 'name', sp)
    serviceName = name
    const namespace = str(c, services, 'namespace', sp)
    checkNameTag(c, join(sp, 'name'), 'Name', name)
    checkNameTag(c, join(sp, 'namespace'), 'Namespace', namespace)
    crdMaxLength(c, join(sp, 'name'), name, 253)
    crdMaxLength(c, join(sp, 'namespace'), namespace, 253)
  }
  const serviceAccounts = obj(c, o, 'serviceAccounts', path)
  if (serviceAccounts) {
    const sp = join(path, 'serviceAccounts')
    const names = strs(c, serviceAccounts, 'names', sp)
    crdUniqueSet(c, join(sp, 'names'), names)
    checkSelector(c, join(sp, 'selector'), 'Selector', str(c, serviceAccounts, 'selector', sp))
  }

  // A namespaceSelector may be exactly global(); global() combined with other terms is refused.
  if (nsSelector !== undefined && nsSelector.includes('global(') && nsSelector !== 'global()' && !isLoneGlobal(nsSelector)) {
    c.go(join(path, 'namespaceSelector'), 'NamespaceSelector field', nsSelector,
      'global() cannot be combined with other selectors')
  }

  cel(c, path, !mentionsGlobal(selector), GLOBAL_ONLY_IN_NS)
  if (services) {
    cel(c, path, !isSet(nsSelector), 'cannot specify NamespaceSelector and Services on the same rule')
    cel(c, path, !serviceAccounts, 'cannot specify ServiceAccounts and Services on the same rule')
    cel(c, path, isSet(serviceName), 'services must specify a service name')
    cel(c, path, !isSet(selector) && !isSet(notSelector), 'cannot specify Selector/NotSelector and Services on the same rule')
    cel(c, path, nets.length === 0 && notNets.length === 0, 'cannot specify Nets/NotNets and Services on the same rule')
  }
  return {ports, notPorts, rawPortCount: rawPorts.length + rawNotPorts.length, nets, notNets, services}
}

const EMPTY_ENTITY: EntityParts = {ports: [], notPorts: [], rawPortCount: 0, nets: [], notNets: []}

export interface RuleParts {
  source: EntityParts
  destination: EntityParts
  http?: Obj
}

/**
 * api.Rule: field checks, the Go struct-level checks and the CRD CEL rules on a rule. The result does not depend on
 * where the rule is, so with a memo a rule equal to one that validated cleanly before is not checked again.
 */
export function validateRule(c: Collector, rule: Obj, path: string): RuleParts {
  return memoRule(c, rule, path, -1)
}

/**
 * validateRule of the rule at `path`, or with `index` >= 0 of element `index` of the list at `path`: then the rule's
 * own path is only built when it is checked, not when the memo knows it.
 */
function memoRule(c: Collector, rule: Obj, path: string, index: number): RuleParts {
  const known = c.memo?.known(c, rule)
  if (known && 'result' in known) return known.result as RuleParts
  const before = c.reports
  const parts = checkRule(c, rule, index < 0 ? path : at(path, index))
  if (known) c.memo!.remember(c, rule, known.key, before, parts)
  return parts
}

/** The rules of a list (`spec.ingress`, ...) with their indexes; items that are not objects are reported and dropped. */
function rulesAt(c: Collector, rules: readonly unknown[], listPath: string): Array<readonly [RuleParts, number]> {
  const out: Array<readonly [RuleParts, number]> = []
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]
    if (isObj(rule)) out.push([memoRule(c, rule, listPath, i), i])
    else c.type(at(listPath, i), 'object', rule)
  }
  return out
}

function checkRule(c: Collector, rule: Obj, path: string): RuleParts {
  const action = str(c, rule, 'action', path)
  // Action is not omitempty in Go, so an unset action reaches the schema as "".
  crdEnum(c, join(path, 'action'), action ?? '', RULE_ACTIONS)
  const ipVersion = num(c, rule, 'ipVersion', path)
  crdEnum(c, join(path, 'ipVersion'), ipVersion, [4, 6])

  const protocol = checkProtocol(c, join(path, 'protocol'), rule.protocol)
  const notProtocol = checkProtocol(c, join(path, 'notProtocol'), rule.notProtocol)
  const icmp = obj(c, rule, 'icmp', path)
  const notICMP = obj(c, rule, 'notICMP', path)
  if (icmp) validateICMP(c, icmp, join(path, 'icmp'))
  if (notICMP) validateICMP(c, notICMP, join(path, 'notICMP'))

  const srcObj = obj(c, rule, 'source', path)
  const dstObj = obj(c, rule, 'destination', path)
  const source = srcObj ? validateEntityRule(c, srcObj, join(path, 'source')) : EMPTY_ENTITY
  const destination = dstObj ? validateEntityRule(c, dstObj, join(path, 'destination')) : EMPTY_ENTITY

  const http = obj(c, rule, 'http', path)
  if (http) validateHTTPMatch(c, http, join(path, 'http'))
  const metadata = obj(c, rule, 'metadata', path)
  if (metadata) {
    const mp = join(path, 'metadata')
    checkAnnotations(c, join(mp, 'annotations'), strMap(c, metadata, 'annotations', mp))
  }

  checkRulePorts(c, path, protocol, source, destination)
  checkRuleNets(c, path, ipVersion, source, destination)

  cel(c, path, !http || !protocol || protocolIs(protocol, 'TCP', 6), 'rules with HTTP match must have protocol TCP or unset')
  cel(c, path, (action ?? '') === 'Allow' || !http, 'HTTP match is only valid on Allow rules')
  cel(c, path, !destination.services || (destination.rawPortCount === 0),
    'ports and notPorts cannot be specified with services')
  cel(c, path, !icmp || protocolIs(protocol, 'ICMP', 1) || protocolIs(protocol, 'ICMPv6', 58),
    'ICMP fields require protocol to be ICMP or ICMPv6')
  for (const p of [protocol, notProtocol]) {
    cel(c, path, !protocolIs(p, 'ICMP', 1) || ipVersion === undefined || ipVersion === 4, 'protocol ICMP requires ipVersion 4')
    cel(c, path, !protocolIs(p, 'ICMPv6', 58) || ipVersion === undefined || ipVersion === 6, 'protocol ICMPv6 requires ipVersion 6')
  }
  return {source, destination, http}
}

function checkRulePorts(c: Collector, path: string, protocol: Protocol | undefined, src: EntityParts, dst: EntityParts): void {
  const lists: Array<[string, string, Port[]]> = [
    ['source.ports', 'Source.Ports', src.ports],
    ['source.notPorts', 'Source.NotPorts', src.notPorts],
    ['destination.ports', 'Destination.Ports', dst.ports],
    ['destination.notPorts', 'Destination.NotPorts', dst.notPorts],
  ]
  for (const [p, name, ports] of lists) {
    const value = ports.map((x) => (x.name ? x.name : x.min === x.max ? x.min : `${x.min}:${x.max}`))
    if (!protocol) {
      if (!allPortsAreNamed(ports)) c.go(join(path, p), name, value, PORTS_NEED_PROTOCOL)
    } else if (!supportsPorts(protocol) && ports.length > 0) {
      c.go(join(path, p), name, value, PROTOCOL_WITHOUT_PORTS)
    }
  }
}

function checkRuleNets(c: Collector, path: string, ipVersion: number | undefined, src: EntityParts, dst: EntityParts): void {
  let seenV4 = false
  let seenV6 = false
  const scan = (nets: readonly string[], jsonPath: string, name: string): void => {
    let v4 = false
    let v6 = false
    const negated = name.endsWith('NotNets')
    nets.forEach((n, i) => {
      const cidr = parseCIDR(n)
      if (!cidr) {
        c.go(at(join(path, jsonPath), i), name, n, 'invalid CIDR')
        return
      }
      v4 ||= cidr.ip.version === 4
      v6 ||= cidr.ip.version === 6
      if (negated && ((cidr.ip.version === 4 && n === '0.0.0.0/0') || (cidr.ip.version === 6 && cidr.cidr.prefix === 0 && cidr.ip.value === 0n))) {
        c.go(at(join(path, jsonPath), i), name, n, 'catch-all CIDR in negation creates logical contradiction (matches no traffic)')
      }
    })
    if (ipVersion !== undefined && ((v4 && ipVersion !== 4) || (v6 && ipVersion !== 6))) {
      c.go(join(path, jsonPath), name, nets, "rule IP version doesn't match CIDR version")
    }
    if ((v4 && seenV6) || (v6 && seenV4) || (v4 && v6)) {
      c.go(join(path, jsonPath), name, nets, 'rule contains both IPv4 and IPv6 CIDRs')
    }
    seenV4 ||= v4
    seenV6 ||= v6
  }
  scan(src.nets, 'source.nets', 'Source.Nets')
  scan(src.notNets, 'source.notNets', 'Source.NotNets')
  scan(dst.nets, 'destination.nets', 'Destination.Nets')
  scan(dst.notNets, 'destination.notNets', 'Destination.NotNets')
}

export interface PolicySpecKind {
  /** GlobalNetworkPolicy-style spec (namespaceSelector, preDNAT, doNotTrack, applyOnForward). */
  global: boolean
  /** The Go spec type name used in messages. */
  specName: 'NetworkPolicySpec' | 'GlobalNetworkPolicySpec'
}

interface PolicyParts {
  ingress: ReadonlyArray<readonly [RuleParts, number]>
  egress: ReadonlyArray<readonly [RuleParts, number]>
  types?: readonly string[]
}

const NO_RULES: ReadonlyArray<readonly [RuleParts, number]> = []

/** Field-level checks of a policy spec (Go tags, nested structs such as rules) and its CRD rules. */
function policySpecFields(c: Collector, spec: Obj, path: string, kind: PolicySpecKind): PolicyParts {
  num(c, spec, 'order', path)
  checkNameTag(c, join(path, 'tier'), 'Tier', str(c, spec, 'tier', path))

  // Paths are built only for fields that are set, and per item only for one that fails: this runs for every policy.
  const selector = str(c, spec, 'selector', path)
  const saSelector = str(c, spec, 'serviceAccountSelector', path)
  if (selector !== undefined) {
    const selectorPath = join(path, 'selector')
    checkSelector(c, selectorPath, 'Selector', selector)
    crdMaxLength(c, selectorPath, selector, 1024)
  }
  if (saSelector !== undefined) {
    const saSelectorPath = join(path, 'serviceAccountSelector')
    checkSelector(c, saSelectorPath, 'ServiceAccountSelector', saSelector)
    crdMaxLength(c, saSelectorPath, saSelector, 1024)
  }
  cel(c, path, !mentionsGlobal(selector), GLOBAL_ONLY_IN_NS)
  cel(c, path, !mentionsGlobal(saSelector), GLOBAL_ONLY_IN_NS)

  const types = strs(c, spec, 'types', path)
  if (types) {
    for (let i = 0; i < types.length; i++) {
      if (!(POLICY_TYPES as readonly string[]).includes(types[i]!)) crdEnum(c, at(join(path, 'types'), i), types[i], POLICY_TYPES)
    }
    if (types.length > 2) crdItems(c, join(path, 'types'), types, 1, 2)
  }

  const hints = strs(c, spec, 'performanceHints', path)
  if (hints) {
    if (new Set(hints).size !== hints.length) c.tag(join(path, 'performanceHints'), 'PerformanceHints', hints, 'unique')
    hints.forEach((h, i) => {
      const hp = at(join(path, 'performanceHints'), i)
      if (!(PERFORMANCE_HINTS as readonly string[]).includes(h)) c.oneOf(hp, `PerformanceHints[${i}]`, h, PERFORMANCE_HINTS)
      crdEnum(c, hp, h, PERFORMANCE_HINTS)
    })
  }

  const ingressList = arr(c, spec, 'ingress', path)
  const ingress = ingressList ? rulesAt(c, ingressList, join(path, 'ingress')) : NO_RULES
  const egressList = arr(c, spec, 'egress', path)
  const egress = egressList ? rulesAt(c, egressList, join(path, 'egress')) : NO_RULES
  if (ingressList && ingressList.length > 1024) crdItems(c, join(path, 'ingress'), ingressList, undefined, 1024)
  if (egressList && egressList.length > 1024) crdItems(c, join(path, 'egress'), egressList, undefined, 1024)

  if (kind.global) {
    const nsSelector = str(c, spec, 'namespaceSelector', path)
    checkSelector(c, join(path, 'namespaceSelector'), 'NamespaceSelector', nsSelector)
    crdMaxLength(c, join(path, 'namespaceSelector'), nsSelector, 1024)
    cel(c, path, !mentionsGlobal(nsSelector), GLOBAL_ONLY_IN_NS)

    const doNotTrack = bool(c, spec, 'doNotTrack', path) ?? false
    const preDNAT = bool(c, spec, 'preDNAT', path) ?? false
    const applyOnForward = bool(c, spec, 'applyOnForward', path) ?? false
    cel(c, path, !(doNotTrack && preDNAT), 'preDNAT and doNotTrack cannot both be true')
    cel(c, path, !preDNAT || egress.length === 0, 'preDNAT policy cannot have any egress rules')
    cel(c, path, !preDNAT || !(types ?? []).includes('Egress'), "preDNAT policy cannot have 'Egress' type")
    cel(c, path, applyOnForward || (!doNotTrack && !preDNAT), 'applyOnForward must be true if either preDNAT or doNotTrack is true')
  }
  return {ingress, egress, types}
}

/** Go's validateNetworkPolicySpec / validateGlobalNetworkPolicySpec (struct level, after the fields). */
function policySpecStruct(c: Collector, parts: PolicyParts, path: string, kind: PolicySpecKind): void {
  // Indexed loops without destructuring: this runs for every policy, mostly as cold code, where each iterator is an
  // allocation.
  const types = parts.types ?? []
  for (let i = 1; i < types.length; i++) {
    const t = types[i]!
    if (types.indexOf(t) < i) c.go(join(path, 'types'), `${kind.specName}.Types`, parts.types, `'${t}' type specified more than once`)
  }
  for (let k = 0; k < parts.egress.length; k++) {
    const r = parts.egress[k]![0]
    const i = parts.egress[k]![1]
    if (!r.source.services && !r.http) continue
    const rp = at(join(path, 'egress'), i)
    if (r.source.services) c.go(join(rp, 'source.services'), 'Services', r.source.services, 'not allowed in egress rule source')
    if (r.http) c.go(join(rp, 'http'), 'HTTP', r.http, kind.global ? 'not allowed in egress rules' : 'not allowed in egress rule')
  }
  for (let k = 0; k < parts.ingress.length; k++) {
    const r = parts.ingress[k]![0]
    const i = parts.ingress[k]![1]
    if (r.destination.services) {
      c.go(join(at(join(path, 'ingress'), i), 'destination.services'), 'Services', r.destination.services, 'not allowed in ingress rule destination')
    }
  }
  if (!kind.global) return
  // At global scope a service name is not qualified by the policy's namespace, so it needs its own.
  for (let k = 0; k < parts.egress.length; k++) {
    const r = parts.egress[k]![0]
    const i = parts.egress[k]![1]
    if (needsNamespace(r.destination.services)) {
      c.go(join(at(join(path, 'egress'), i), 'destination.services.namespace'), 'Namespace', '', 'must specify a namespace')
    }
  }
  for (let k = 0; k < parts.ingress.length; k++) {
    const r = parts.ingress[k]![0]
    const i = parts.ingress[k]![1]
    if (needsNamespace(r.source.services)) {
      c.go(join(at(join(path, 'ingress'), i), 'source.services.namespace'), 'Namespace', '', 'must specify a namespace')
    }
  }
}

function needsNamespace(s: Obj | undefined): boolean {
  return s !== undefined && !isSet(typeof s.namespace === 'string' ? s.namespace : undefined)
}

/**
 * NetworkPolicySpec / GlobalNetworkPolicySpec. `beforeStruct` runs between the field checks and the spec-level
 * checks, where Go's validator runs the policy's own name checks, so that messages list fields in Go's order.
 */
export function validatePolicySpec(c: Collector, spec: Obj, path: string, kind: PolicySpecKind, beforeStruct?: () => void): void {
  const parts = policySpecFields(c, spec, path, kind)
  beforeStruct?.()
  policySpecStruct(c, parts, path, kind)
}

const STAGED_ACTIONS = ['Set', 'Delete', 'Learn', 'Ignore'] as const

/** Go's zero value test for a decoded JSON value (empty string/list/object, false, 0). */
export function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return true
  if (Array.isArray(v)) return v.length === 0
  if (typeof v === 'object') return Object.values(v).every(isZero)
  return false
}

/** StagedNetworkPolicy / StagedGlobalNetworkPolicy spec: a Delete carries nothing but its tier. */
export function validateStagedPolicySpec(c: Collector, spec: Obj, path: string, kind: PolicySpecKind, beforeStruct?: () => void): void {
  const action = str(c, spec, 'stagedAction', path)
  crdEnum(c, join(path, 'stagedAction'), action === '' ? undefined : action, STAGED_ACTIONS)
  const parts = policySpecFields(c, spec, path, kind)
  beforeStruct?.()
  if (action !== 'Delete') {
    policySpecStruct(c, parts, path, kind)
    return
  }
  const rest = Object.entries(spec).filter(([k]) => k !== 'tier' && k !== 'stagedAction')
  if (!rest.every(([, v]) => isZero(v))) {
    c.go(path, kind.global ? 'StagedGlobalNetworkPolicySpec' : 'StagedNetworkPolicySpec', spec,
      'Spec fields, except Tier, should all be zero-value if stagedAction is Delete')
  }
}

/** Profile rules and labelsToApply. */
export function validateProfileRules(c: Collector, spec: Obj, path: string): void {
  for (const dir of ['ingress', 'egress'] as const) {
    for (const [r, i] of objs(c, spec, dir, path)) validateRule(c, r, at(join(path, dir), i))
  }
}

/**
 * StagedKubernetesNetworkPolicy: a Delete carries nothing else; otherwise the Kubernetes policy is converted as
 * Calico would enforce it, and the resulting NetworkPolicy spec is validated.
 */
export function validateStagedKubernetesPolicySpec(c: Collector, meta: ObjectMeta, spec: Obj, path: string): void {
  const action = str(c, spec, 'stagedAction', path)
  crdEnum(c, join(path, 'stagedAction'), action || undefined, STAGED_ACTIONS)
  const rest = Object.entries(spec).filter(([k]) => k !== 'stagedAction')
  if (action === 'Delete') {
    if (!rest.every(([, v]) => isZero(v))) {
      c.go(path, 'StagedKubernetesNetworkPolicySpec', spec, 'Spec fields should all be zero-value if stagedAction is Delete')
    }
    return
  }
  const k8sSpec = Object.fromEntries(rest) as unknown as K8sNetworkPolicySpec
  let converted: Obj
  try {
    const r = convertK8sNetworkPolicy(
      {apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: {name: meta.name, namespace: meta.namespace, uid: meta.uid}, spec: k8sSpec},
      {naming: 'kubernetes', apiServerDefaults: false},
    )
    if (r.error) c.go(path, 'PolicySpec', spec, `conversion to stagednetworkpolicy failed ${r.error.message}`)
    converted = r.policy.spec as unknown as Obj
  } catch (e) {
    c.go(path, 'PolicySpec', spec, `conversion to stagednetworkpolicy failed ${(e as Error).message}`)
    return
  }
  // The converted spec is Calico's own output: its problems are the user's input problems, so report them, but
  // under the Kubernetes spec's path since the converted fields have no position of their own.
  const inner = new Collector(false)
  validatePolicySpec(inner, converted, path, {global: false, specName: 'NetworkPolicySpec'})
  for (const f of inner.fields) c.go(path, f.name, f.value, f.reason)
}
