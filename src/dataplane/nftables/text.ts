// The table model printed as `nft -f` input: a full replacement script (whole, or written chunk by chunk while the
// table is rendered: ScriptWriter), and the text of single rules, set elements and map elements that the delta
// script (diff.ts) reuses.
import {addressBits, cidrBaseIP, formatIP} from '../../api/net.js'
import {parseCidr} from '../calc/cidr.js'
import type {Match, NftChain, NftMap, NftRule, NftSet, NftTable, Statement, Verdict} from './model.js'

const MAX_COMMENT = 128

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`
}

function quote(s: string): string {
  // nft strings cannot contain double quotes or newlines.
  return `"${s.replace(/["\n\r\\]/g, "'")}"`
}

function list(items: string[]): string {
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`
}

function addrPrefix(family: 4 | 6): string {
  return family === 4 ? 'ip' : 'ip6'
}

/** `10.0.0.1/32` → `10.0.0.1`; other CIDRs unchanged (canonical). */
export function netElement(cidr: string): string {
  const c = parseCidr(cidr)
  const ip = formatIP(cidrBaseIP(c))
  return c.prefix === addressBits(c.version) ? ip : `${ip}/${c.prefix}`
}

/** `10.0.0.1,6:80` → `10.0.0.1 . 6 . 80`. */
export function ipPortElement(member: string): string {
  const comma = member.lastIndexOf(',')
  const [proto, port] = member.slice(comma + 1).split(':')
  return `${member.slice(0, comma)} . ${proto} . ${port}`
}

export function setElementText(set: NftSet, member: string): string {
  return set.kind === 'net' ? netElement(member) : ipPortElement(member)
}

function matchText(m: Match): string {
  const op = (negate: boolean): string => (negate ? '!= ' : '')
  switch (m.kind) {
    case 'iifname':
    case 'oifname':
      return `${m.kind} ${op(m.negate)}${quote(m.name)}`
    case 'ct-state':
      return `ct state ${m.states.join(',')}`
    case 'ct-dnat':
      return m.negate ? 'ct status & dnat == 0' : 'ct status dnat'
    case 'mark':
      return `meta mark & ${hex(m.mask)} == ${m.value === 0 ? '0' : hex(m.value)}`
    case 'nfproto':
      return `meta nfproto ipv${m.family}`
    case 'l4proto':
      return `meta l4proto ${op(m.negate)}${list(m.protos.map(String))}`
    case 'addr':
      return `${addrPrefix(m.family)} ${m.dir} ${op(m.negate)}${list(m.cidrs.map(netElement))}`
    case 'addr-set':
      return `${addrPrefix(m.family)} ${m.dir} ${op(m.negate)}@${m.set}`
    case 'port':
      return `th ${m.dir} ${op(m.negate)}${list(m.ranges.map((r) => (r.first === r.last ? String(r.first) : `${r.first}-${r.last}`)))}`
    case 'ip-port-set':
      return `${addrPrefix(m.family)} ${m.dir} . meta l4proto . th ${m.dir === 'saddr' ? 'sport' : 'dport'} ${op(m.negate)}@${m.set}`
    case 'rpf-fail':
      return 'fib saddr . mark . iif oif missing'
    case 'saddr-local':
      return `fib saddr${m.oif ? ' . oif' : ''} type ${op(m.negate)}local`
    case 'icmp-types':
      return `${m.family === 4 ? 'icmp' : 'icmpv6'} type ${list(m.types.map(String))}`
    case 'icmp': {
      const p = m.family === 4 ? 'icmp' : 'icmpv6'
      if (m.code === undefined) return `${p} type ${op(m.negate)}${m.type}`
      // "not (type T and code C)": nft has no OR within a rule, so compare the concatenation.
      if (m.negate) return `${p} type . ${p} code != { ${m.type} . ${m.code} }`
      return `${p} type ${m.type} ${p} code ${m.code}`
    }
  }
}

function statementText(s: Statement): string {
  switch (s.kind) {
    case 'mark-set':
      return `meta mark set mark or ${hex(s.bits)}`
    case 'mark-clear':
      return `meta mark set mark & ${hex(~s.bits)}`
    case 'log':
      return `log prefix ${quote(s.prefix)} level info`
    case 'notrack':
      return 'notrack'
  }
}

function verdictText(v: Verdict): string {
  switch (v.kind) {
    case 'jump':
    case 'goto':
      return `${v.kind} ${v.chain}`
    case 'vmap':
      return `${v.key} vmap @${v.map}`
    default:
      return v.kind
  }
}

const ruleTexts = new WeakMap<NftRule, string>()

/**
 * One rule as it appears after `add rule inet <table> <chain>` (and inside a chain block). Memoised per rule
 * object: rules are immutable once rendered, and diffs compare the same objects repeatedly.
 */
export function ruleText(r: NftRule): string {
  let text = ruleTexts.get(r)
  if (text === undefined) {
    text = computeRuleText(r)
    ruleTexts.set(r, text)
  }
  return text
}

function computeRuleText(r: NftRule): string {
  const parts = r.matches.map(matchText)
  if (r.counter) parts.push('counter')
  parts.push(...r.statements.map(statementText))
  if (r.verdict) parts.push(verdictText(r.verdict))
  if (r.comment !== undefined) parts.push(`comment ${quote(truncate(r.comment))}`)
  return parts.join(' ')
}

function truncate(s: string): string {
  if (Buffer.byteLength(s) <= MAX_COMMENT) return s
  let out = s
  while (Buffer.byteLength(out) > MAX_COMMENT - 3) out = out.slice(0, -1)
  return `${out}...`
}

export function setTypeText(set: NftSet): string {
  const addr = set.family === 4 ? 'ipv4_addr' : 'ipv6_addr'
  return set.kind === 'net' ? `type ${addr}; flags interval;` : `type ${addr} . inet_proto . inet_service;`
}

export function tableId(t: NftTable): string {
  return `${t.family} ${t.name}`
}

export function addSetText(id: string, set: NftSet): string {
  return `add set ${id} ${set.name} { ${setTypeText(set)} }`
}

export function addMapText(id: string, map: NftMap): string {
  return `add map ${id} ${map.name} { type ifname : verdict; }`
}

export function mapElementText(iface: string, chain: string): string {
  return `${quote(iface)} : goto ${chain}`
}

export function baseChainText(c: NftChain): string | undefined {
  if (!c.base) return undefined
  return `type ${c.base.type} hook ${c.base.hook} priority ${c.base.priority}; policy ${c.base.policy};`
}

export function addChainText(id: string, c: NftChain): string {
  const base = baseChainText(c)
  return base ? `add chain ${id} ${c.name} { ${base} }` : `add chain ${id} ${c.name}`
}

function sorted<T>(m: Map<string, T>): T[] {
  return [...m.keys()].sort().map((k) => m.get(k)!)
}

/** Elements in chunks: very large sets in one statement are slow for nft's parser. */
export function elementLines(prefix: string, elems: string[], chunk = 1000): string[] {
  const out: string[] = []
  for (let i = 0; i < elems.length; i += chunk) out.push(`${prefix} { ${elems.slice(i, i + chunk).join(', ')} }`)
  return out
}

/**
 * The whole table as one atomic `nft -f` transaction that replaces any previous version: create-if-missing, delete,
 * then declare sets, maps and chains, then fill in elements.
 */
export function renderFullScript(t: NftTable): string {
  const id = tableId(t)
  const lines: string[] = replaceTableLines(id)
  const sets = sorted(t.sets)
  const maps = sorted(t.maps)
  const chains = sorted(t.chains)
  for (const s of sets) lines.push(addSetText(id, s))
  for (const m of maps) lines.push(addMapText(id, m))
  // All chains exist before any rule jumps to one.
  for (const c of chains) lines.push(addChainText(id, c))
  for (const s of sets) lines.push(...setElementLines(id, s))
  for (const c of chains) for (const r of c.rules) lines.push(`add rule ${id} ${c.name} ${ruleText(r)}`)
  for (const m of maps) lines.push(...mapElementLines(id, m))
  return lines.join('\n') + '\n'
}

function replaceTableLines(id: string): string[] {
  return [`add table ${id}`, `delete table ${id}`, `add table ${id}`]
}

/** The elements of every set of the table, as `add element` statements: what a full script puts in its sets. */
export function setElementsScript(t: NftTable): string {
  const id = tableId(t)
  let text = ''
  for (const s of sorted(t.sets)) for (const line of setElementLines(id, s)) text += line + '\n'
  return text
}

function setElementLines(id: string, s: NftSet): string[] {
  return elementLines(`add element ${id} ${s.name}`, s.elements.map((e) => setElementText(s, e)))
}

function mapElementLines(id: string, m: NftMap): string[] {
  const elems = [...m.elements.keys()].sort().map((k) => mapElementText(k, m.elements.get(k)!))
  return elementLines(`add element ${id} ${m.name}`, elems)
}

/** About the size of a pipe's buffer: each chunk can go to nft in one write. */
const SCRIPT_CHUNK = 64 * 1024

/**
 * The same replacement transaction as renderFullScript, written while the table is being rendered (render.ts drives
 * it) and handed out in chunks. Every object is declared before anything refers to it: first the fixed chains (base,
 * static and dispatch chains, which refer to each other and to endpoint chains) and the maps, empty; then each
 * policy, profile or endpoint chain as soon as it is complete, after the sets its rules use; the fixed chains' rules
 * and the map elements last. Same statements as renderFullScript, in another order.
 */
export class ScriptWriter {
  private buf = ''
  private readonly id: string

  constructor(table: NftTable) {
    this.id = tableId(table)
  }

  /** Enough text for a chunk. */
  get full(): boolean {
    return this.buf.length >= SCRIPT_CHUNK
  }

  /** The text written since the last take. */
  take(): string {
    const chunk = this.buf
    this.buf = ''
    return chunk
  }

  begin(maps: Iterable<NftMap>, fixed: readonly NftChain[]): void {
    this.lines(replaceTableLines(this.id))
    for (const m of maps) this.line(addMapText(this.id, m))
    for (const c of fixed) this.line(addChainText(this.id, c))
  }

  set(s: NftSet): void {
    this.line(addSetText(this.id, s))
    this.lines(setElementLines(this.id, s))
  }

  /** A chain and its rules, or only its rules when it was declared by begin(). */
  chain(c: NftChain, declared = false): void {
    if (!declared) this.line(addChainText(this.id, c))
    const prefix = `add rule ${this.id} ${c.name} `
    for (const r of c.rules) this.buf += prefix + ruleText(r) + '\n'
  }

  finish(maps: Iterable<NftMap>, fixed: readonly NftChain[]): void {
    for (const c of fixed) this.chain(c, true)
    for (const m of maps) this.lines(mapElementLines(this.id, m))
  }

  private line(text: string): void {
    this.buf += text + '\n'
  }

  private lines(texts: string[]): void {
    for (const t of texts) this.buf += t + '\n'
  }
}

/** Human-readable listing in `nft list table` style (for golden tests and debugging). */
export function renderListing(t: NftTable): string {
  const lines: string[] = [`table ${t.family} ${t.name} {`]
  for (const s of sorted(t.sets)) {
    lines.push(`\tset ${s.name} {`, `\t\t${setTypeText(s)}`)
    if (s.elements.length > 0) lines.push(`\t\telements = { ${s.elements.map((e) => setElementText(s, e)).join(', ')} }`)
    lines.push('\t}')
  }
  for (const m of sorted(t.maps)) {
    lines.push(`\tmap ${m.name} {`, '\t\ttype ifname : verdict;')
    const elems = [...m.elements.keys()].sort().map((k) => mapElementText(k, m.elements.get(k)!))
    if (elems.length > 0) lines.push(`\t\telements = { ${elems.join(', ')} }`)
    lines.push('\t}')
  }
  for (const c of sorted(t.chains)) {
    lines.push(`\tchain ${c.name} {`)
    const base = baseChainText(c)
    if (base) lines.push(`\t\t${base}`)
    for (const r of c.rules) lines.push(`\t\t${ruleText(r)}`)
    lines.push('\t}')
  }
  lines.push('}')
  return lines.join('\n') + '\n'
}
