// One Calico rule (ParsedRule) → nft rules: Felix's CalculateRuleMatch order, per IP family, with numeric and
// named ports OR-ed by emitting one nft rule per alternative (nft has no OR inside a rule).
import {textVersion} from '../../api/net.js'
import {PORT_PROTOCOLS, PROTO_ICMP, PROTO_ICMPV6} from '../calc/protocol.js'
import type {ParsedRule, PortRange} from '../calc/types.js'
import type {AddrDir, IPFamily, Match, NftRule, Statement, Verdict} from './model.js'
import {MARK_ACCEPT, MARK_PASS, setName} from './names.js'

export interface RuleRenderOptions {
  families: IPFamily[]
  logPrefix: string
  denyAction: 'drop' | 'reject'
}

/** The statements and verdict that implement a rule's action inside a policy/profile chain. */
function actionParts(rule: ParsedRule, opts: RuleRenderOptions): {statements: Statement[]; verdict?: Verdict} {
  switch (rule.action) {
    case 'allow':
      return {statements: [{kind: 'mark-set', bits: MARK_ACCEPT}], verdict: {kind: 'return'}}
    case 'pass':
      return {statements: [{kind: 'mark-set', bits: MARK_PASS}], verdict: {kind: 'return'}}
    case 'deny':
      return {statements: [], verdict: {kind: opts.denyAction}}
    case 'log':
      return {statements: [{kind: 'log', prefix: `${opts.logPrefix}: `}]}
  }
}

function needsFamily(r: ParsedRule): boolean {
  return (
    r.ipVersion !== undefined ||
    r.srcNets.length + r.notSrcNets.length + r.dstNets.length + r.notDstNets.length > 0 ||
    r.srcIPSets.length + r.notSrcIPSets.length + r.dstIPSets.length + r.notDstIPSets.length > 0 ||
    r.srcNamedPortSets.length + r.notSrcNamedPortSets.length + r.dstNamedPortSets.length + r.notDstNamedPortSets.length > 0
  )
}

type PortAlt = {kind: 'none'} | {kind: 'ranges'; ranges: PortRange[]} | {kind: 'named'; set: string}

function portAlternatives(ranges: PortRange[], named: string[]): PortAlt[] {
  const alts: PortAlt[] = []
  if (ranges.length > 0) alts.push({kind: 'ranges', ranges})
  for (const s of named) alts.push({kind: 'named', set: s})
  return alts.length > 0 ? alts : [{kind: 'none'}]
}

/**
 * Renders one rule. Returns [] when the rule cannot match in any rendered family (e.g. only IPv6 nets with IPv6
 * off), which is Felix's FilterRuleToIPVersion behaviour.
 */
export function renderRule(rule: ParsedRule, opts: RuleRenderOptions, comment?: string): NftRule[] {
  const {statements, verdict} = actionParts(rule, opts)
  const families: (IPFamily | undefined)[] = needsFamily(rule)
    ? opts.families.filter((f) => rule.ipVersion === undefined || rule.ipVersion === f)
    : [undefined]
  const out: NftRule[] = []
  for (const fam of families) {
    const base = familyMatches(rule, fam)
    if (!base) continue
    for (const src of portAlternatives(rule.srcPorts, rule.srcNamedPortSets)) {
      for (const dst of portAlternatives(rule.dstPorts, rule.dstNamedPortSets)) {
        const matches = [...base.pre]
        const portMatch = (alt: PortAlt, dir: 'src' | 'dst'): void => {
          if (alt.kind === 'ranges') matches.push({kind: 'port', dir: dir === 'src' ? 'sport' : 'dport', negate: false, ranges: alt.ranges})
          else if (alt.kind === 'named') {
            matches.push({kind: 'ip-port-set', family: fam!, dir: dir === 'src' ? 'saddr' : 'daddr', negate: false, set: setName(fam!, alt.set)})
          }
        }
        portMatch(src, 'src')
        portMatch(dst, 'dst')
        matches.push(...base.post)
        // Rules are immutable once rendered: the alternatives of one rule share its statements. Every policy rule is
        // counted, as Felix's are: they are what an operator reads to see which rule took a packet.
        const r: NftRule = {matches, statements, counter: true}
        if (verdict) r.verdict = verdict
        if (comment !== undefined && out.length === 0) r.comment = comment
        out.push(r)
      }
    }
  }
  return out
}

/** The family-dependent positive (`pre`) and negated (`post`) matches, or undefined if the family cannot match. */
function familyMatches(rule: ParsedRule, fam: IPFamily | undefined): {pre: Match[]; post: Match[]} | undefined {
  const pre: Match[] = []
  const post: Match[] = []
  if (fam !== undefined && rule.ipVersion !== undefined) pre.push({kind: 'nfproto', family: fam})
  else if (fam === undefined && rule.ipVersion !== undefined) pre.push({kind: 'nfproto', family: rule.ipVersion})

  // Protocol first: port matches below rely on it (nft's `th` header is only meaningful for port protocols).
  const hasPorts =
    rule.srcPorts.length + rule.dstPorts.length + rule.notSrcPorts.length + rule.notDstPorts.length > 0 ||
    rule.srcNamedPortSets.length + rule.dstNamedPortSets.length + rule.notSrcNamedPortSets.length + rule.notDstNamedPortSets.length > 0
  if (rule.protocol !== undefined) pre.push({kind: 'l4proto', negate: false, protos: [rule.protocol]})
  else if (hasPorts) pre.push({kind: 'l4proto', negate: false, protos: [...PORT_PROTOCOLS]})

  const nets = (list: string[], dir: AddrDir, negate: boolean, into: Match[]): boolean => {
    if (list.length === 0) return true
    const mine = list.filter((c) => textVersion(c) === fam)
    // A positive net list with no address of this family cannot match; a negated one simply does not constrain.
    if (mine.length === 0) return negate
    into.push({kind: 'addr', family: fam!, dir, negate, cidrs: mine})
    return true
  }
  const sets = (ids: string[], dir: AddrDir, negate: boolean, into: Match[]): void => {
    for (const id of ids) into.push({kind: 'addr-set', family: fam!, dir, negate, set: setName(fam!, id)})
  }
  if (!nets(rule.srcNets, 'saddr', false, pre)) return undefined
  sets(rule.srcIPSets, 'saddr', false, pre)
  if (!nets(rule.dstNets, 'daddr', false, pre)) return undefined
  sets(rule.dstIPSets, 'daddr', false, pre)

  // Ports and named ports are inserted between pre and post by the caller.
  if (rule.icmp) post.push(icmpMatch(rule.icmp, rule.protocol, false))
  if (rule.notProtocol !== undefined) post.push({kind: 'l4proto', negate: true, protos: [rule.notProtocol]})
  nets(rule.notSrcNets, 'saddr', true, post)
  sets(rule.notSrcIPSets, 'saddr', true, post)
  if (rule.notSrcPorts.length > 0) post.push({kind: 'port', dir: 'sport', negate: true, ranges: rule.notSrcPorts})
  for (const s of rule.notSrcNamedPortSets) post.push({kind: 'ip-port-set', family: fam!, dir: 'saddr', negate: true, set: setName(fam!, s)})
  nets(rule.notDstNets, 'daddr', true, post)
  sets(rule.notDstIPSets, 'daddr', true, post)
  if (rule.notDstPorts.length > 0) post.push({kind: 'port', dir: 'dport', negate: true, ranges: rule.notDstPorts})
  for (const s of rule.notDstNamedPortSets) post.push({kind: 'ip-port-set', family: fam!, dir: 'daddr', negate: true, set: setName(fam!, s)})
  if (rule.notICMP) post.push(icmpMatch(rule.notICMP, rule.protocol, true))
  return {pre, post}
}

function icmpMatch(f: {type: number; code?: number}, protocol: number | undefined, negate: boolean): Match {
  const family: IPFamily = protocol === PROTO_ICMPV6 ? 6 : protocol === PROTO_ICMP ? 4 : 4
  const m: Match = {kind: 'icmp', family, negate, type: f.type}
  if (f.code !== undefined) m.code = f.code
  return m
}
