// v3 Rule → ParsedRule: selectors become IP set references (Felix's RuleScanner), ports are split into numeric
// ranges and named-port sets, protocols become numbers.
import {normalizeCidr} from './cidr.js'
import {canonicalSpec, isPositive, specKey, uniqueId, type MatchSpec, type SelectorCache} from './endpoint-match.js'
import {PROTO_ICMP, PROTO_ICMPV6, protocolNumber, splitPorts} from './protocol.js'
import type {Action, EntityRule, IPSetType, ParsedICMP, ParsedRule, Rule} from './types.js'

/** An IP set a rule needs: selector members (`net`) or named-port members (`ip-port`). */
export interface IPSetDef {
  id: string
  type: IPSetType
  /** Canonical endpoint match; members come from endpoints (and, for `net`, network sets) it matches. */
  spec: MatchSpec
  /** `ip-port` only. */
  protocol?: number
  portName?: string
}

export class RuleError extends Error {}

export function parseAction(a: string): Action {
  switch (a.toLowerCase()) {
    case 'allow':
      return 'allow'
    case 'deny':
      return 'deny'
    case 'pass':
    case 'next-tier':
      return 'pass'
    case 'log':
      return 'log'
    default:
      throw new RuleError(`unknown rule action ${JSON.stringify(a)}`)
  }
}

/**
 * The endpoint selector of one side of a rule, scoped as libcalico-go's getEndpointSelector does: an explicit
 * namespaceSelector wins; otherwise a namespaced policy limits any selector field (including notSelector alone) to
 * its own namespace. A side with no selector fields has no positive part (matches any endpoint or IP).
 */
export function entitySpec(entity: EntityRule, policyNamespace: string | undefined): {positive: MatchSpec; notSelector?: string} {
  const has = (s: string | undefined): s is string => s !== undefined && s.trim() !== ''
  const positive: MatchSpec = {}
  const sa = entity.serviceAccounts
  if (sa?.names && sa.names.length > 0) positive.saNames = sa.names
  if (has(sa?.selector)) positive.saSelector = sa.selector
  if (has(entity.selector)) positive.selector = entity.selector
  const anySelector = isPositive(positive) || has(entity.notSelector) || has(entity.namespaceSelector)
  if (has(entity.namespaceSelector)) positive.scope = {kind: 'selector', selector: entity.namespaceSelector}
  else if (policyNamespace !== undefined && anySelector) positive.scope = {kind: 'in', namespace: policyNamespace}
  return has(entity.notSelector) ? {positive, notSelector: entity.notSelector} : {positive}
}

interface Side {
  nets: string[]
  notNets: string[]
  ipSets: string[]
  notIPSets: string[]
  ports: ParsedRule['srcPorts']
  notPorts: ParsedRule['srcPorts']
  namedPortSets: string[]
  notNamedPortSets: string[]
}

function parseICMP(f: {type?: number; code?: number} | undefined): ParsedICMP | undefined {
  if (!f || f.type === undefined) return undefined
  return f.code === undefined ? {type: f.type} : {type: f.type, code: f.code}
}

/**
 * Parses one rule. `addSet` receives every IP set the rule references (called once per reference; the caller
 * refcounts).
 */
export function parseRule(rule: Rule, policyNamespace: string | undefined, cache: SelectorCache, addSet: (d: IPSetDef) => void): ParsedRule {
  const action = parseAction(rule.action)
  const protocol = rule.protocol === undefined ? undefined : protocolNumber(rule.protocol)
  const notProtocol = rule.notProtocol === undefined ? undefined : protocolNumber(rule.notProtocol)

  const side = (entity: EntityRule | undefined): Side => {
    const e = entity ?? {}
    const {positive, notSelector} = entitySpec(e, policyNamespace)
    const pos = canonicalSpec(positive, cache)
    const folded = canonicalSpec({...positive, notSelector}, cache)
    const ports = splitPorts(e.ports)
    const notPorts = splitPorts(e.notPorts)
    const out: Side = {
      nets: (e.nets ?? []).map(normalizeCidr),
      notNets: (e.notNets ?? []).map(normalizeCidr),
      ipSets: [],
      notIPSets: [],
      ports: ports.ranges,
      notPorts: notPorts.ranges,
      namedPortSets: [],
      notNamedPortSets: [],
    }
    const namedSet = (name: string): string => {
      if (protocol === undefined) throw new RuleError(`named port ${JSON.stringify(name)} needs a rule protocol`)
      const def: IPSetDef = {
        id: uniqueId('n', `${specKey(folded)},${protocol},${name}`),
        type: 'ip-port',
        spec: folded,
        protocol,
        portName: name,
      }
      addSet(def)
      return def.id
    }
    out.namedPortSets = ports.names.map(namedSet)
    out.notNamedPortSets = notPorts.names.map(namedSet)
    // Felix's RuleScanner: a rule whose only ports are named needs no plain selector set (the named-port set
    // already carries the selector).
    const needPlain = ports.ranges.length > 0 || ports.names.length === 0
    if (needPlain) {
      if (isPositive(pos)) {
        const def: IPSetDef = {id: uniqueId('s', specKey(folded)), type: 'net', spec: folded}
        addSet(def)
        out.ipSets.push(def.id)
      } else if (notSelector !== undefined) {
        const neg = canonicalSpec({selector: notSelector}, cache)
        const def: IPSetDef = {id: uniqueId('s', specKey(neg)), type: 'net', spec: neg}
        addSet(def)
        out.notIPSets.push(def.id)
      }
    }
    return out
  }

  const src = side(rule.source)
  const dst = side(rule.destination)
  const icmp = parseICMP(rule.icmp)
  const notICMP = parseICMP(rule.notICMP)
  let ipVersion: 4 | 6 | undefined
  if (rule.ipVersion === 4 || rule.ipVersion === 6) ipVersion = rule.ipVersion
  else if (rule.ipVersion !== undefined) throw new RuleError(`invalid ipVersion ${rule.ipVersion}`)
  if ((icmp || notICMP) && ipVersion === undefined) {
    // ICMP type matches are family specific; Calico requires an ICMP protocol to go with them.
    if (protocol === PROTO_ICMP) ipVersion = 4
    else if (protocol === PROTO_ICMPV6) ipVersion = 6
    else throw new RuleError('icmp/notICMP needs protocol ICMP or ICMPv6')
  }
  const parsed: ParsedRule = {
    action,
    srcNets: src.nets,
    notSrcNets: src.notNets,
    dstNets: dst.nets,
    notDstNets: dst.notNets,
    srcIPSets: src.ipSets,
    notSrcIPSets: src.notIPSets,
    dstIPSets: dst.ipSets,
    notDstIPSets: dst.notIPSets,
    srcPorts: src.ports,
    notSrcPorts: src.notPorts,
    dstPorts: dst.ports,
    notDstPorts: dst.notPorts,
    srcNamedPortSets: src.namedPortSets,
    notSrcNamedPortSets: src.notNamedPortSets,
    dstNamedPortSets: dst.namedPortSets,
    notDstNamedPortSets: dst.notNamedPortSets,
  }
  if (ipVersion !== undefined) parsed.ipVersion = ipVersion
  if (protocol !== undefined) parsed.protocol = protocol
  if (notProtocol !== undefined) parsed.notProtocol = notProtocol
  if (icmp) parsed.icmp = icmp
  if (notICMP) parsed.notICMP = notICMP
  const ann = rule.metadata?.annotations
  if (ann && Object.keys(ann).length > 0) parsed.annotations = {...ann}
  return parsed
}
