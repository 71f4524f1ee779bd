// v3 Rule → ParsedRule: selectors become IP set references (Felix's RuleScanner), ports are split into numeric
// ranges and named-port sets, protocols become numbers.
import {normalizeCidr} from './cidr.js'
import {createHash} from 'node:crypto'
import {entitySelectors} from './endpoint-match.js'
import {PROTO_ICMP, PROTO_ICMPV6, protocolNumber, splitPorts} from './protocol.js'
import type {Action, EntityRule, IPSetType, ParsedICMP, ParsedRule, Rule} from './types.js'

/** An IP set a rule needs: selector members (`net`) or named-port members (`ip-port`). */
export interface IPSetDef {
  id: string
  type: IPSetType
  /** Canonical selector; members come from endpoints (and, for `net`, network sets) it matches. */
  selector: string
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

/** Felix's named-port set ID: MakeUniqueID("n", selector + "," + protocol + "," + port name). */
function namedPortSetId(selector: string, protocol: number, name: string): string {
  return `n:${createHash('sha224').update(`n:${selector},${protocol},${name}`).digest('base64url')}`
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

/** A parsed rule and every IP set it references, once per reference (the caller refcounts). Shared: read-only. */
export interface ParsedRuleWithSets {
  readonly rule: ParsedRule
  readonly sets: readonly IPSetDef[]
}

/**
 * Rules repeat across policies (every policy that allows its monitoring, say), and the agent parses every policy
 * of a snapshot in code that has not warmed up yet: results are remembered by the rule's JSON text and namespace,
 * which the engine makes natively for a fraction of a parse. Bounded; cleared when full.
 */
const parsedRules = new Map<string, ParsedRuleWithSets>()
const PARSED_RULE_CACHE_LIMIT = 20_000
/** The same by the rule object, for rules shared by decoded policies (src/api DecodeMemo): found without their text. */
const parsedRuleObjects = new WeakMap<Rule, {namespace: string | undefined; parsed: ParsedRuleWithSets}>()

/**
 * Parses one rule (a JSON value, as decoded) of a policy in `policyNamespace` (undefined: global policy or profile).
 * Equal rules in one namespace share one result; a rule object must not be changed once parsed (results are also
 * found by the object). Throws RuleError (or a selector/protocol error) for a rule the
 * dataplane cannot express.
 */
export function parseRule(rule: Rule, policyNamespace: string | undefined): ParsedRuleWithSets {
  const known = parsedRuleObjects.get(rule)
  if (known && known.namespace === policyNamespace) return known.parsed
  const key = JSON.stringify([policyNamespace ?? null, rule])
  let parsed = parsedRules.get(key)
  if (!parsed) {
    const sets: IPSetDef[] = []
    parsed = {rule: parseOne(rule, policyNamespace, (d) => sets.push(d)), sets}
    if (parsedRules.size >= PARSED_RULE_CACHE_LIMIT) parsedRules.clear()
    parsedRules.set(key, parsed)
  }
  parsedRuleObjects.set(rule, {namespace: policyNamespace, parsed})
  return parsed
}

function parseOne(rule: Rule, policyNamespace: string | undefined, addSet: (d: IPSetDef) => void): ParsedRule {
  const action = parseAction(rule.action)
  const protocol = rule.protocol === undefined ? undefined : protocolNumber(rule.protocol)
  const notProtocol = rule.notProtocol === undefined ? undefined : protocolNumber(rule.notProtocol)

  const side = (entity: EntityRule | undefined): Side => {
    const e = entity ?? {}
    // Kubernetes Service matches need the service index, which this calculator does not have. Ignoring the field
    // would silently widen an Allow, so the policy is rejected (and reported) instead.
    if ('services' in e && (e as {services?: unknown}).services !== undefined) throw new RuleError('services matches are not supported')
    const {positive, negative, folded} = entitySelectors(e, policyNamespace)
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
        id: namedPortSetId(folded.selector, protocol, name),
        type: 'ip-port',
        selector: folded.selector,
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
      if (positive !== '') {
        const def: IPSetDef = {id: folded.id, type: 'net', selector: folded.selector}
        addSet(def)
        out.ipSets.push(def.id)
      } else if (negative !== undefined) {
        const def: IPSetDef = {id: negative.id, type: 'net', selector: negative.selector}
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
