// A packet simulator over the rendered table model: runs a packet through our base chains at a hook the way the
// kernel would (jump/goto/return, verdict maps, named sets, marks). Used to check the renderer's semantics without
// a kernel, and to explain a verdict (the trace lists every rule that matched).
import {cidrContainsIP, formatIP, parseIP, type CIDR} from '../../api/net.js'
import {parseCidr} from '../calc/cidr.js'
import {PORT_PROTOCOLS} from '../calc/protocol.js'
import type {CtState, Hook, IPFamily, Match, NftChain, NftRule, NftTable, Statement} from './model.js'
import {ruleText} from './text.js'

export interface Packet {
  family: IPFamily
  saddr: string
  daddr: string
  /** IP protocol number. */
  proto: number
  sport?: number
  dport?: number
  icmpType?: number
  icmpCode?: number
  iifname?: string
  oifname?: string
  ctState: CtState
  /** The kernel has no route back to saddr via iifname (what `fib saddr . mark . iif oif missing` tests). */
  rpfFails?: boolean
  /** The source is one of this host's addresses (`fib saddr type local`). */
  saddrLocal?: boolean
  /** The source is an address of the outgoing interface (`fib saddr . oif type local`). */
  saddrOnOif?: boolean
  /** Conntrack says the flow was DNATed. */
  ctDnat?: boolean
  mark?: number
}

export type FinalVerdict = 'accept' | 'drop' | 'reject'

export interface EvalResult {
  verdict: FinalVerdict
  /** A nat rule masqueraded the packet's source (to the outgoing interface's address). */
  masquerade: boolean
  mark: number
  notrack: boolean
  /** `<chain>: <rule text>` for every rule whose matches held. */
  trace: string[]
  /** Rules the packet was tested against (matched or not), and base chains it entered: its cost in the kernel. */
  rulesVisited: number
  chainsEntered: number
}

type ChainResult = {kind: 'terminal'; verdict: FinalVerdict} | {kind: 'return'}
type RunState = {mark: number; notrack: boolean; masquerade: boolean; trace: string[]; rulesVisited: number}

const MAX_DEPTH = 64

export class TableEvaluator {
  private readonly netSets = new Map<string, CIDR[]>()
  private readonly ipPortSets = new Map<string, Set<string>>()

  constructor(private readonly table: NftTable) {
    for (const s of table.sets.values()) {
      if (s.kind === 'net') this.netSets.set(s.name, s.elements.map(parseCidr))
      else this.ipPortSets.set(s.name, new Set(s.elements.map(canonicalIpPort)))
    }
  }

  /**
   * Runs the packet through every base chain of `hook`, lowest priority first; the first drop/reject wins. As in the
   * kernel, nat chains see only a connection's first packet (ctState new).
   */
  evaluate(hook: Hook, pkt: Packet): EvalResult {
    const state: RunState = {mark: pkt.mark ?? 0, notrack: false, masquerade: false, trace: [], rulesVisited: 0}
    const bases = [...this.table.chains.values()]
      .filter((c) => c.base?.hook === hook && (c.base.type !== 'nat' || pkt.ctState === 'new'))
      .sort((a, b) => a.base!.priority - b.base!.priority)
    const result = (verdict: FinalVerdict, chainsEntered: number): EvalResult => ({verdict, masquerade: state.masquerade, mark: state.mark, notrack: state.notrack, trace: state.trace, rulesVisited: state.rulesVisited, chainsEntered})
    for (const [i, chain] of bases.entries()) {
      const r = this.runChain(chain, pkt, state, 0)
      const verdict: FinalVerdict = r.kind === 'terminal' ? r.verdict : chain.base!.policy
      if (verdict !== 'accept') return result(verdict, i + 1)
    }
    return result('accept', bases.length)
  }

  /** Runs hooks in sequence (e.g. prerouting then forward), carrying the mark, until one does not accept. */
  evaluatePath(hooks: Hook[], pkt: Packet): EvalResult {
    let mark = pkt.mark ?? 0
    const trace: string[] = []
    let notrack = false
    let masquerade = false
    let rulesVisited = 0
    let chainsEntered = 0
    for (const h of hooks) {
      const r = this.evaluate(h, {...pkt, mark, ctState: notrack ? 'untracked' : pkt.ctState})
      trace.push(...r.trace)
      mark = r.mark
      notrack ||= r.notrack
      masquerade ||= r.masquerade
      rulesVisited += r.rulesVisited
      chainsEntered += r.chainsEntered
      if (r.verdict !== 'accept') return {...r, masquerade, trace, rulesVisited, chainsEntered}
    }
    return {verdict: 'accept', masquerade, mark, notrack, trace, rulesVisited, chainsEntered}
  }

  private runChain(chain: NftChain, pkt: Packet, st: RunState, depth: number): ChainResult {
    if (depth > MAX_DEPTH) throw new Error(`chain recursion deeper than ${MAX_DEPTH} at ${chain.name}`)
    for (const rule of chain.rules) {
      st.rulesVisited++
      if (!rule.matches.every((m) => this.matches(m, pkt, st.mark))) continue
      st.trace.push(`${chain.name}: ${ruleText(rule)}`)
      for (const s of rule.statements) this.apply(s, st)
      const v = rule.verdict
      if (!v) continue
      switch (v.kind) {
        case 'accept':
        case 'drop':
        case 'reject':
          return {kind: 'terminal', verdict: v.kind}
        case 'masquerade':
          st.masquerade = true
          return {kind: 'terminal', verdict: 'accept'}
        case 'return':
          return {kind: 'return'}
        case 'jump': {
          const r = this.runChain(this.chain(v.chain), pkt, st, depth + 1)
          if (r.kind === 'terminal') return r
          continue
        }
        case 'goto':
          return this.runChain(this.chain(v.chain), pkt, st, depth + 1)
        case 'vmap': {
          const map = this.table.maps.get(v.map)
          if (!map) throw new Error(`unknown map ${v.map}`)
          const target = map.elements.get((v.key === 'iifname' ? pkt.iifname : pkt.oifname) ?? '')
          if (target === undefined) continue
          return this.runChain(this.chain(target), pkt, st, depth + 1)
        }
      }
    }
    return {kind: 'return'}
  }

  private chain(name: string): NftChain {
    const c = this.table.chains.get(name)
    if (!c) throw new Error(`unknown chain ${name}`)
    return c
  }

  private apply(s: Statement, st: {mark: number; notrack: boolean}): void {
    switch (s.kind) {
      case 'mark-set':
        st.mark = (st.mark | s.bits) >>> 0
        return
      case 'mark-clear':
        st.mark = (st.mark & ~s.bits) >>> 0
        return
      case 'notrack':
        st.notrack = true
        return
      case 'log':
        return
    }
  }

  private matches(m: Match, p: Packet, mark: number): boolean {
    switch (m.kind) {
      case 'iifname':
      case 'oifname': {
        const name = (m.kind === 'iifname' ? p.iifname : p.oifname) ?? ''
        const hit = m.name.endsWith('*') ? name.startsWith(m.name.slice(0, -1)) : name === m.name
        return hit !== m.negate
      }
      case 'ct-state':
        return m.states.includes(p.ctState)
      case 'ct-dnat':
        return (p.ctDnat === true) !== m.negate
      case 'mark':
        return ((mark & m.mask) >>> 0) === m.value
      case 'nfproto':
        return p.family === m.family
      case 'l4proto':
        return m.protos.includes(p.proto) !== m.negate
      case 'addr': {
        if (p.family !== m.family) return false
        const a = parseIP(m.dir === 'saddr' ? p.saddr : p.daddr)!
        const hit = m.cidrs.some((c) => cidrContainsIP(parseCidr(c), a))
        return hit !== m.negate
      }
      case 'addr-set': {
        if (p.family !== m.family) return false
        const set = this.netSets.get(m.set)
        if (!set) throw new Error(`unknown set ${m.set}`)
        const a = parseIP(m.dir === 'saddr' ? p.saddr : p.daddr)!
        return set.some((c) => cidrContainsIP(c, a)) !== m.negate
      }
      case 'port': {
        const port = m.dir === 'sport' ? p.sport : p.dport
        if (!PORT_PROTOCOLS.has(p.proto) || port === undefined) return false
        return m.ranges.some((r) => port >= r.first && port <= r.last) !== m.negate
      }
      case 'ip-port-set': {
        if (p.family !== m.family) return false
        const set = this.ipPortSets.get(m.set)
        if (!set) throw new Error(`unknown set ${m.set}`)
        const port = m.dir === 'saddr' ? p.sport : p.dport
        if (!PORT_PROTOCOLS.has(p.proto) || port === undefined) return false
        const a = parseIP(m.dir === 'saddr' ? p.saddr : p.daddr)!
        return set.has(`${formatIP(a)},${p.proto}:${port}`) !== m.negate
      }
      case 'rpf-fail':
        return p.rpfFails === true
      case 'saddr-local':
        return (m.oif ? p.saddrOnOif === true : p.saddrLocal === true) !== m.negate
      case 'icmp-types':
        return p.family === m.family && p.proto === (m.family === 4 ? 1 : 58) && p.icmpType !== undefined && m.types.includes(p.icmpType)
      case 'icmp': {
        if (p.family !== m.family || p.proto !== (m.family === 4 ? 1 : 58)) return false
        const hit = p.icmpType === m.type && (m.code === undefined || p.icmpCode === m.code)
        return hit !== m.negate
      }
    }
  }
}

function canonicalIpPort(member: string): string {
  const comma = member.lastIndexOf(',')
  const ip = parseIP(member.slice(0, comma))
  if (!ip) throw new Error(`bad ip-port member ${member}`)
  return `${formatIP(ip)}${member.slice(comma)}`
}

/** Convenience: the rules of a chain as text (for assertions on rendered output). */
export function chainText(t: NftTable, name: string): string[] {
  const c = t.chains.get(name)
  return c ? c.rules.map((r: NftRule) => ruleText(r)) : []
}
