// A structured model of the one nftables table the agent owns. The renderer builds it, `text.ts` prints it as nft
// syntax, `diff.ts` compares two of them, and `evaluate.ts` runs packets through it: all three read the same model,
// so what is tested is what is programmed.
import type {PortRange} from '../calc/types.js'

export type IPFamily = 4 | 6

export type Match =
  /** `iifname "cali1"`; a trailing `*` is nft's prefix wildcard. */
  | {kind: 'iifname' | 'oifname'; negate: boolean; name: string}
  | {kind: 'ct-state'; states: CtState[]}
  /** `ct status & dnat == 0` (negate) / `ct status dnat`. */
  | {kind: 'ct-dnat'; negate: boolean}
  /** `meta mark & mask == value`. */
  | {kind: 'mark'; mask: number; value: number}
  | {kind: 'nfproto'; family: IPFamily}
  | {kind: 'l4proto'; negate: boolean; protos: number[]}
  | {kind: 'addr'; family: IPFamily; dir: AddrDir; negate: boolean; cidrs: string[]}
  | {kind: 'addr-set'; family: IPFamily; dir: AddrDir; negate: boolean; set: string}
  | {kind: 'port'; dir: PortDir; negate: boolean; ranges: PortRange[]}
  /** `ip daddr . meta l4proto . th dport @set`. */
  | {kind: 'ip-port-set'; family: IPFamily; dir: AddrDir; negate: boolean; set: string}
  | {kind: 'icmp'; family: IPFamily; negate: boolean; type: number; code?: number}
  /** `fib saddr . mark . iif oif missing`: no route back to the source through the input interface (RPF). */
  | {kind: 'rpf-fail'}
  /**
   * `fib saddr type local`: the source is one of this host's addresses; with `oif`, one of the outgoing interface's
   * (`fib saddr . oif type local`).
   */
  | {kind: 'saddr-local'; oif: boolean; negate: boolean}
  /** `icmpv6 type { 133, 135 }`. */
  | {kind: 'icmp-types'; family: IPFamily; types: number[]}

export type CtState = 'established' | 'related' | 'invalid' | 'new' | 'untracked'
export type AddrDir = 'saddr' | 'daddr'
export type PortDir = 'sport' | 'dport'

export type Statement =
  | {kind: 'mark-set'; bits: number}
  | {kind: 'mark-clear'; bits: number}
  | {kind: 'log'; prefix: string}
  | {kind: 'notrack'}

export type Verdict =
  | {kind: 'accept' | 'drop' | 'reject' | 'return'}
  /** Source NAT to the outgoing interface's address; ends the nat chain like accept (nat chains only). */
  | {kind: 'masquerade'}
  | {kind: 'jump' | 'goto'; chain: string}
  | {kind: 'vmap'; key: 'iifname' | 'oifname'; map: string}

export interface NftRule {
  matches: Match[]
  statements: Statement[]
  verdict?: Verdict
  comment?: string
  /** Counts the packets that reach its statements (`counter`): set on policy decisions, not on plumbing. */
  counter?: true
}

export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting'

export interface BaseChainSpec {
  type: 'filter' | 'route' | 'nat'
  hook: Hook
  priority: number
  policy: 'accept' | 'drop'
}

export interface NftChain {
  name: string
  base?: BaseChainSpec
  rules: NftRule[]
}

export type SetKind = 'net' | 'ip-port'

export interface NftSet {
  name: string
  family: IPFamily
  kind: SetKind
  /** Canonical member text: CIDRs (`10.0.0.1/32`) or `ip,proto:port`; disjoint for `net` sets. Sorted. */
  elements: string[]
}

/** An interface-name → verdict map (dispatch); values are always `goto <chain>`. */
export interface NftMap {
  name: string
  elements: Map<string, string>
}

export interface NftTable {
  family: 'inet'
  name: string
  chains: Map<string, NftChain>
  sets: Map<string, NftSet>
  maps: Map<string, NftMap>
}

export function emptyTable(name: string): NftTable {
  return {family: 'inet', name, chains: new Map(), sets: new Map(), maps: new Map()}
}
