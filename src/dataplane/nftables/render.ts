// Desired policy state → the agent's nftables table: static chains, dispatch verdict maps, per-endpoint chains
// (Felix's endpoint chain template), per-policy/profile chains, named IP sets, and the IP pools' natOutgoing chain.
// Pure. FullScriptStream renders the same table while handing out its replacement script in chunks, for nft to parse
// while the rest is rendered.
import {textVersion} from '../../api/net.js'
import {parseCidr, suppressOverlaps} from '../calc/cidr.js'
import {MASQ_POOLS_SET, NETWORK_POOLS_SET, VXLAN_HOSTS_SET, VXLAN_TUNNEL_DEVICE, type ActivePolicy, type ActiveProfile, type IPSetState, type LocalEndpoint, type PolicyState, type ProtoPort, type TierInfo} from '../calc/types.js'
import {emptyTable, type BaseChainSpec, type Hook, type IPFamily, type Match, type NftChain, type NftRule, type NftSet, type NftTable, type Verdict} from './model.js'
import {
  MARK_ACCEPT,
  MARK_ALL,
  MARK_PASS,
  MARK_SCRATCH0,
  MARK_SCRATCH1,
  endpointChainName,
  policyChainName,
  profileChainName,
  setName,
  staticName,
  type Layer,
} from './names.js'
import {renderRule, type RuleRenderOptions} from './rule-render.js'
import {ScriptWriter} from './text.js'

export const DEFAULT_TABLE_NAME = 'calico'

export interface RenderOptions {
  tableName?: string
}

/** Base-chain priorities (Felix's nftables/table.go): raw −300, mangle −150, filter 0. */
const PRIO_RAW = -300
const PRIO_MANGLE = -150
const PRIO_FILTER = 0
/** Felix's nat POSTROUTING: srcnat + 10, after kube-proxy's own masquerade chain (srcnat). */
const PRIO_SNAT = 110

const PROTO_NUM = {tcp: 6, udp: 17} as const

const M = {
  markIs: (bits: number): Match => ({kind: 'mark', mask: bits, value: bits}),
  markClear: (bits: number): Match => ({kind: 'mark', mask: bits, value: 0}),
}

/**
 * A rule of the static, dispatch or endpoint chains. Only refusals are counted (and, via counted(), the accepts that
 * override policy): the rest is plumbing that established packets pass, and a counter costs every packet that
 * reaches it. Policy and profile rules are all counted (rule-render.ts).
 */
const rule = (matches: Match[], verdict?: Verdict, comment?: string, statements: NftRule['statements'] = []): NftRule => {
  const r: NftRule = {matches, statements}
  if (verdict) r.verdict = verdict
  if (verdict?.kind === 'drop' || verdict?.kind === 'reject') r.counter = true
  if (comment !== undefined) r.comment = comment
  return r
}
const counted = (r: NftRule): NftRule => ({...r, counter: true})
/**
 * Endpoint chains repeat the same rules (the same jump to a policy chain, "Return if policy accepted", conntrack):
 * equal rules become one object, so each is allocated once and its text (memoised per object) computed once. The
 * key names everything the rule depends on (cheaper than serialising the rule). Bounded; cleared when full.
 */
const sharedRules = new Map<string, NftRule>()
const SHARED_RULES_LIMIT = 200_000
const sharedRule = (key: string, make: () => NftRule): NftRule => {
  let r = sharedRules.get(key)
  if (r === undefined) {
    if (sharedRules.size >= SHARED_RULES_LIMIT) sharedRules.clear()
    sharedRules.set(key, (r = make()))
  }
  return r
}
/** `jump <chain>` with no match. */
const sharedJump = (chain: string): NftRule => sharedRule(`jump ${chain}`, () => rule([], jump(chain)))
const jump = (chain: string): Verdict => ({kind: 'jump', chain})
const goto = (chain: string): Verdict => ({kind: 'goto', chain})
const ACCEPT: Verdict = {kind: 'accept'}
const DROP: Verdict = {kind: 'drop'}
const RETURN: Verdict = {kind: 'return'}
const MASQUERADE: Verdict = {kind: 'masquerade'}
const RETURN_IF_POLICY_ACCEPTED = rule([M.markIs(MARK_ACCEPT)], RETURN, 'Return if policy accepted')
const RETURN_IF_POLICY_ACCEPTED_NOTRACK = rule([M.markIs(MARK_ACCEPT)], RETURN, 'Return if policy accepted', [{kind: 'notrack'}])
const RETURN_IF_PROFILE_ACCEPTED = rule([M.markIs(MARK_ACCEPT)], RETURN, 'Return if profile accepted')

/**
 * The host endpoints each kind of host endpoint dispatch serves (Felix builds the raw, mangle-ingress and forward
 * ones only for endpoints with such policy). With none, that dispatch is a no-op, and so is the hook code around it.
 */
const HEP_WANT = {
  any: (): boolean => true,
  forward: (ep: LocalEndpoint): boolean => ep.forwardTiers.length > 0,
  untracked: (ep: LocalEndpoint): boolean => ep.untrackedTiers.length > 0,
  preDnat: (ep: LocalEndpoint): boolean => ep.preDnatTiers.length > 0,
}

// Renders are memoised across calls, because the agent re-renders the whole table after every change while the
// calculator hands out the same objects for whatever did not change. Rules are never mutated after rendering, so
// sharing them is safe, and the diff recognises shared arrays by identity.

/** Rendered policy chains by policy object, then by direction and rule options. */
const renderedPolicies = new WeakMap<ActivePolicy, Map<string, NftRule[]>>()
/** Rendered profile chains, likewise. */
const renderedProfiles = new WeakMap<ActiveProfile, Map<string, NftRule[]>>()
/** Set contents by IP set object, then by the families rendered. */
const renderedSets = new WeakMap<IPSetState, Map<string, NftSet[]>>()
/** The set names a rule chain references (for pruning unused sets). */
const referencedSets = new WeakMap<NftRule[], string[]>()

/** Short stand-ins for long cache-key parts (rule options), so per-chain cache lookups hash a few characters. */
const internedKeys = new Map<string, string>()
function internKey(long: string): string {
  let short = internedKeys.get(long)
  if (short === undefined) internedKeys.set(long, (short = `k${internedKeys.size}`))
  return short
}

/** A policy or profile chain an endpoint chain jumps to: recorded with the endpoint chains so a cache hit recreates it. */
type ChainRef =
  | {type: 'policy'; layer: Layer; name: string; key: string; dir: 'in' | 'out'}
  | {type: 'profile'; layer: Layer; name: string; profile: string; dir: 'in' | 'out'}

/** An endpoint's own chains and the policy/profile chains they jump to. */
interface EndpointChains {
  chains: [string, NftRule[]][]
  refs: ChainRef[]
}

/**
 * Endpoint chains by (settings, endpoint) signature. Entries of endpoints that changed or left pile up, so it is
 * cleared wholesale once it is several times the size of the current table's endpoint list.
 */
const endpointChainCache = new Map<string, EndpointChains>()
const ENDPOINT_CACHE_SLACK = 1000
/** The same by endpoint object (the calculator reuses unchanged ones), which spares building the signature. */
const endpointChainsByObject = new WeakMap<LocalEndpoint, {settingsKey: string; entry: EndpointChains}>()

class Builder {
  readonly table: NftTable
  /** Rule options for the filter layer; raw/mangle hooks cannot REJECT, so they always DROP. */
  private readonly ruleOpts: RuleRenderOptions
  private readonly dropOpts: RuleRenderOptions
  private readonly families: IPFamily[]
  private readonly settingsKey: string
  /** Cache keys of the rule options per layer kind. */
  private readonly ruleOptsKey: string
  private readonly dropOptsKey: string
  /** Policy and profile chains: the only ones whose rules reference IP sets. */
  private readonly ruleChains: string[] = []
  /** While an endpoint's chains are rendered: the policy and profile chains they jump to. */
  private recording?: ChainRef[]
  /** Set while streaming the script: chains made from now on are written as soon as they are complete. */
  private writing?: ScriptWriter
  /** Sets already written to the script. */
  private readonly written = new Set<string>()

  constructor(private readonly state: PolicyState, opts: RenderOptions, private readonly streaming = false) {
    this.table = emptyTable(opts.tableName ?? DEFAULT_TABLE_NAME)
    const s = state.settings
    this.families = s.ipv6Support ? [4, 6] : [4]
    this.ruleOpts = {families: this.families, logPrefix: s.logPrefix, denyAction: s.denyAction}
    this.dropOpts = {...this.ruleOpts, denyAction: 'drop'}
    // Part of every endpoint's cache key: interned so that each key carries a few characters, not the settings.
    this.settingsKey = internKey(JSON.stringify(s))
    this.ruleOptsKey = internKey(JSON.stringify(this.ruleOpts))
    this.dropOptsKey = internKey(JSON.stringify(this.dropOpts))
  }

  private chain(name: string, rules: NftRule[], base?: NftChain['base']): void {
    const c: NftChain = {name, rules}
    if (base) c.base = base
    if (this.writing) {
      // Written once: a second chain of the same name would append its rules to the first in the kernel.
      if (this.table.chains.has(name)) throw new Error(`chain ${name} rendered twice`)
      this.writing.chain(c)
    }
    this.table.chains.set(name, c)
  }

  /** A chain whose rules use IP sets (policy, profile, NAT outgoing), which are written just before it. */
  private setsChain(name: string, rules: NftRule[], base?: NftChain['base']): void {
    if (this.writing) for (const set of setsOf(rules)) this.writeSet(set)
    this.chain(name, rules, base)
    this.ruleChains.push(name)
  }

  private writeSet(name: string): void {
    const set = this.table.sets.get(name)
    if (!set || this.written.has(name)) return
    this.written.add(name)
    this.writing!.set(set)
  }

  private optsFor(layer: Layer): RuleRenderOptions {
    return layer === 'filter' ? this.ruleOpts : this.dropOpts
  }

  private denyFor(layer: Layer): Verdict {
    return {kind: this.optsFor(layer).denyAction}
  }

  /** `iifname`/`oifname` matches for every workload interface prefix (`cali*`). */
  private wlIfaces(dir: 'iifname' | 'oifname', negate: boolean): Match[] {
    return this.state.settings.interfacePrefixes.map((p) => ({kind: dir, negate, name: `${p}*`}))
  }

  /** Renders the table; when streaming, yields the full script in chunks along the way (see ScriptWriter). */
  *build(): Generator<string, NftTable, undefined> {
    this.ipSets()
    this.staticChains()
    this.dispatch()
    const fixed = [...this.table.chains.values()]
    const writer = this.streaming ? new ScriptWriter(this.table) : undefined
    writer?.begin(this.table.maps.values(), fixed)
    this.writing = writer
    for (const ep of this.state.endpoints) {
      this.endpointChains(ep)
      if (writer?.full) yield writer.take()
    }
    // Not among the fixed chains: it refers to sets, which are written (after begin) just before it.
    this.natOutgoing()
    // Fixed chains' rules come last (finish): the sets they use are written before.
    if (writer) for (const c of fixed) for (const set of setsOf(c.rules)) this.writeSet(set)
    this.writing = undefined
    this.pruneUnreferenced()
    if (writer) {
      writer.finish(this.table.maps.values(), fixed)
      yield writer.take()
    }
    return this.table
  }

  // ----------------------------------------------------------------------------------------------------------
  private ipSets(): void {
    const familiesKey = this.families.join()
    for (const set of this.state.ipSets.values()) {
      let perFamilies = renderedSets.get(set)
      if (!perFamilies) renderedSets.set(set, (perFamilies = new Map()))
      let sets = perFamilies.get(familiesKey)
      if (!sets) {
        sets = this.families.map((fam) => {
          const members = set.members.filter((m) => (set.type === 'net' ? textVersion(m) === fam : memberFamily(m) === fam))
          return {
            name: setName(fam, set.id),
            family: fam,
            kind: set.type,
            // nft interval sets reject overlapping elements (Felix's MemberOverlapSuppressor).
            elements: set.type === 'net' ? suppressOverlaps(members) : [...members].sort(),
          }
        })
        perFamilies.set(familiesKey, sets)
      }
      for (const nftSet of sets) this.table.sets.set(nftSet.name, nftSet)
    }
  }

  // ----------------------------------------------------------------------------------------------------------
  private staticChains(): void {
    const s = this.state.settings
    const hosts = this.state.endpoints.filter((ep) => ep.kind === 'host')
    const hostsWith = (want: (ep: LocalEndpoint) => boolean): boolean => hosts.some(want)
    const f = (n: string): string => staticName('filter', n)
    const v6Skip: NftRule[] = s.ipv6Support ? [] : [rule([{kind: 'nfproto', family: 6}], ACCEPT, 'IPv6 is not policed (IPv6Support off)')]
    const base = (hook: Hook, priority: number): BaseChainSpec => ({type: 'filter', hook, priority, policy: 'accept'})

    // filter: FORWARD
    this.chain(f('FORWARD'), [
      ...v6Skip,
      rule([], jump(f('cali-FORWARD'))),
      rule([M.markIs(MARK_ACCEPT)], ACCEPT, 'Policy explicitly accepted packet.'),
      // Whatever leaves FORWARD without a verdict was not refused by us: tell mangle POSTROUTING not to police it
      // again as host endpoint egress.
      rule([], undefined, undefined, [{kind: 'mark-set', bits: MARK_ACCEPT}]),
    ], base('forward', PRIO_FILTER))
    // Forward host endpoint dispatch only when some host endpoint has forward policy: otherwise both are lookups in
    // empty maps that every forwarded packet would pay for.
    const hepForward = hostsWith(HEP_WANT.forward)
    // Only untracked (raw) and preDNAT (mangle) host endpoint policy can leave bits set since raw PREROUTING cleared
    // them all: without such policy, clearing them again would cost every forwarded packet for nothing.
    const marksLeftBefore = hostsWith(HEP_WANT.untracked) || hostsWith(HEP_WANT.preDnat)
    this.chain(f('cali-FORWARD'), [
      // Keep Accept: a preDNAT allow in mangle skips forward host-endpoint policy.
      ...(marksLeftBefore ? [rule([], undefined, undefined, [{kind: 'mark-clear', bits: MARK_PASS | MARK_SCRATCH0 | MARK_SCRATCH1}])] : []),
      ...(hepForward ? [rule([M.markClear(MARK_ACCEPT)], jump(f('cali-from-hep-forward')))] : []),
      ...this.wlIfaces('iifname', false).map((m) => rule([m], jump(f('cali-from-wl-dispatch')))),
      ...this.wlIfaces('oifname', false).map((m) => rule([m], jump(f('cali-to-wl-dispatch')))),
      ...(hepForward ? [rule([], jump(f('cali-to-hep-forward')))] : []),
    ])

    // VXLAN between nodes (Felix, while IPv4 VXLAN is enabled): the host takes VXLAN only from the other nodes, and
    // may always send it to them, whatever host endpoint policy says.
    const vxlanHosts = this.state.ipSets.has(VXLAN_HOSTS_SET) ? setName(4, VXLAN_HOSTS_SET) : undefined
    const vxlanPort: Match[] = [{kind: 'l4proto', negate: false, protos: [17]}, {kind: 'port', dir: 'dport', negate: false, ranges: [{first: s.vxlanPort, last: s.vxlanPort}]}]
    const vxlanIn: NftRule[] = vxlanHosts === undefined ? [] : [
      rule([...vxlanPort, {kind: 'addr-set', family: 4, dir: 'saddr', negate: false, set: vxlanHosts}], ACCEPT, 'Allow IPv4 VXLAN packets from allowed hosts'),
      rule([{kind: 'nfproto', family: 4}, ...vxlanPort], DROP, 'Drop IPv4 VXLAN packets from non-allowed hosts'),
    ]
    const vxlanOut: NftRule[] = vxlanHosts === undefined ? [] : [
      rule([...vxlanPort, {kind: 'addr-set', family: 4, dir: 'daddr', negate: false, set: vxlanHosts}], ACCEPT, 'Allow IPv4 VXLAN packets to other allowed hosts'),
    ]

    // filter: INPUT
    this.chain(f('INPUT'), [...v6Skip, rule([], jump(f('cali-INPUT')))], base('input', PRIO_FILTER))
    this.chain(f('cali-INPUT'), [
      ...vxlanIn,
      ...this.wlIfaces('iifname', false).map((m) => rule([m], goto(f('cali-wl-to-host')))),
      rule([M.markIs(MARK_ACCEPT)], ACCEPT, 'Accepted by untracked or preDNAT policy'),
      rule([], undefined, undefined, [{kind: 'mark-clear', bits: MARK_ALL}]),
      rule([], jump(f('cali-from-host-endpoint'))),
      rule([M.markIs(MARK_ACCEPT)], ACCEPT, 'Host endpoint policy accepted packet.'),
    ])
    const toHost: Verdict = {kind: s.defaultEndpointToHostAction}
    // IPv6 needs neighbour discovery and MLD to the host whatever the egress policy says (Felix's ICMPv6Filter).
    const ndp: NftRule[] = s.ipv6Support ? [counted(rule([{kind: 'l4proto', negate: false, protos: [58]}, {kind: 'icmp-types', family: 6, types: [130, 131, 132, 133, 135, 136]}], ACCEPT))] : []
    this.chain(f('cali-wl-to-host'), [
      ...ndp,
      rule([], jump(f('cali-from-wl-dispatch'))),
      counted(rule([], toHost, 'Configured DefaultEndpointToHostAction')),
    ])

    // filter: OUTPUT. Host → own workloads is never policed (Felix's `-o cali+ -j RETURN`).
    this.chain(f('OUTPUT'), [...v6Skip, rule([], jump(f('cali-OUTPUT')))], base('output', PRIO_FILTER))
    this.chain(f('cali-OUTPUT'), [
      rule([M.markIs(MARK_ACCEPT)], ACCEPT),
      ...this.wlIfaces('oifname', false).map((m) => rule([m], RETURN)),
      ...vxlanOut,
      rule([], undefined, undefined, [{kind: 'mark-clear', bits: MARK_ALL}]),
      rule([{kind: 'ct-dnat', negate: true}], jump(f('cali-to-host-endpoint'))),
      rule([M.markIs(MARK_ACCEPT)], ACCEPT, 'Host endpoint policy accepted packet.'),
    ])

    // Failsafe ports: host endpoint policy can never cut the node off from these.
    const failsafe = (list: ProtoPort[], inbound: boolean, port: 'dport' | 'sport' = 'dport'): NftRule[] =>
      list.flatMap((p) => {
        const m: Match[] = [{kind: 'l4proto', negate: false, protos: [PROTO_NUM[p.protocol]]}, {kind: 'port', dir: port, negate: false, ranges: [{first: p.port, last: p.port}]}]
        if (!p.net) return [counted(rule(m, ACCEPT))]
        const c = parseCidr(p.net)
        if (!this.families.includes(c.version)) return []
        return [counted(rule([...m, {kind: 'addr', family: c.version, dir: inbound ? 'saddr' : 'daddr', negate: false, cidrs: [p.net]}], ACCEPT))]
      })
    // The two chains refer to a set: keep it (pruneUnreferenced), and write it before their rules when streaming.
    if (vxlanHosts !== undefined) this.ruleChains.push(f('cali-INPUT'), f('cali-OUTPUT'))
    this.chain(f('cali-failsafe-in'), failsafe(s.failsafeInbound, true))
    this.chain(f('cali-failsafe-out'), failsafe(s.failsafeOutbound, false))
    // Untracked and preDNAT host endpoint policy run before filter, so they get the failsafes too (Felix's raw and
    // mangle failsafe chains): a doNotTrack or preDNAT deny must not cut SSH either. Raw is before conntrack, so it
    // also lets the other direction's failsafe replies through (source port), to be tracked and accepted in filter.
    // Emitted only when some host endpoint has such policy: nothing else jumps to them.
    if (hostsWith(HEP_WANT.untracked)) {
      this.chain(staticName('raw', 'cali-failsafe-in'), [...failsafe(s.failsafeInbound, true), ...failsafe(s.failsafeOutbound, true, 'sport')])
      this.chain(staticName('raw', 'cali-failsafe-out'), [...failsafe(s.failsafeOutbound, false), ...failsafe(s.failsafeInbound, false, 'sport')])
    }
    if (hostsWith(HEP_WANT.preDnat)) this.chain(staticName('mangle', 'cali-failsafe-in'), failsafe(s.failsafeInbound, true))

    // raw: anti-spoofing for workloads (strict RPF against their host routes), and untracked (doNotTrack) host
    // endpoint policy, which workload traffic skips.
    const r = (n: string): string => staticName('raw', n)
    const clearAll = (matches: Match[], verdict?: Verdict): NftRule => rule(matches, verdict, undefined, [{kind: 'mark-clear', bits: MARK_ALL}])
    this.chain(r('PREROUTING'), [
      ...v6Skip,
      // A workload packet takes one rule here and ends the hook in the RPF check (goto): nothing after applies to it
      // (untracked host endpoint policy skips workload interfaces, and the Accept bit tested last is clear).
      ...this.wlIfaces('iifname', false).map((m) => clearAll([m], goto(r('cali-rpf-check')))),
      clearAll([]),
      ...(hostsWith(HEP_WANT.untracked) ? [rule([], jump(r('cali-from-host-endpoint'))), rule([M.markIs(MARK_ACCEPT)], ACCEPT)] : []),
    ], base('prerouting', PRIO_RAW))
    const rpf: NftRule[] = []
    for (const ep of this.state.endpoints) {
      if (ep.kind !== 'workload') continue
      for (const fam of this.families) {
        const cidrs = ep.allowSpoofedSourcePrefixes.filter((c) => textVersion(c) === fam)
        if (cidrs.length > 0) rpf.push(rule([{kind: 'iifname', negate: false, name: ep.iface}, {kind: 'addr', family: fam, dir: 'saddr', negate: false, cidrs}], RETURN, 'Allowed spoofed source prefix'))
      }
    }
    rpf.push(rule([{kind: 'rpf-fail'}], DROP, 'Drop workload packets with a source address not routed to their interface'))
    this.chain(r('cali-rpf-check'), rpf)
    this.chain(r('OUTPUT'), [
      ...v6Skip,
      clearAll([]),
      ...(hostsWith(HEP_WANT.untracked) ? [rule(this.wlIfaces('oifname', true), jump(r('cali-to-host-endpoint'))), rule([M.markIs(MARK_ACCEPT)], ACCEPT)] : []),
    ], base('output', PRIO_RAW))

    // mangle: preDNAT host endpoint policy (before kube-proxy's DNAT). Both hooks exist only for host endpoints that
    // need them: without, every rule of each either accepts or does nothing (the marks they clear are already clear
    // there), yet every packet would pay for two more hooks.
    const mg = (n: string): string => staticName('mangle', n)
    if (hostsWith(HEP_WANT.preDnat)) {
      this.chain(mg('PREROUTING'), [
        ...v6Skip,
        rule([{kind: 'ct-state', states: ['established', 'related']}], ACCEPT),
        rule([M.markIs(MARK_ACCEPT)], ACCEPT),
        rule(this.wlIfaces('iifname', true), jump(mg('cali-from-host-endpoint'))),
        rule([M.markIs(MARK_ACCEPT)], ACCEPT, 'Host endpoint policy accepted packet.'),
      ], base('prerouting', PRIO_MANGLE))
    }
    // Host endpoint egress for DNATed traffic: in filter OUTPUT the output interface is not final yet, so Felix
    // polices it here instead (forwarded traffic arrives with Accept set by filter FORWARD and is skipped).
    if (hostsWith(HEP_WANT.any)) {
      this.chain(mg('POSTROUTING'), [
        ...v6Skip,
        rule([M.markIs(MARK_ACCEPT)], RETURN),
        clearAll([]),
        rule([{kind: 'ct-dnat', negate: false}], jump(mg('cali-to-host-endpoint'))),
        rule([M.markIs(MARK_ACCEPT)], RETURN, 'Host endpoint policy accepted packet.'),
      ], base('postrouting', PRIO_MANGLE))
    }
    this.chain(mg('cali-failsafe-out'), failsafe(s.failsafeOutbound, false))
  }

  // ----------------------------------------------------------------------------------------------------------
  /**
   * IP pools' natOutgoing (Felix's NATOutgoingChain): a workload in a natOutgoing pool that talks to an address outside
   * every pool is masqueraded to the outgoing interface's address, since the rest of the network has no route back to
   * pod addresses. Only while some pool has natOutgoing (the calculation then provides the two pool sets), or while
   * VXLAN's tunnel rule is needed. The rules sit in the base chain itself (Felix's go through two jumps): nat chains
   * see only a connection's first packet.
   */
  private natOutgoing(): void {
    const masq = this.state.ipSets.has(MASQ_POOLS_SET)
    if (!masq && !this.state.vxlanTunnel) return
    const rules = !masq ? [] : this.families.map((family) => sharedRule(`masquerade ${family}`, () => rule([
      {kind: 'addr-set', family, dir: 'saddr', negate: false, set: setName(family, MASQ_POOLS_SET)},
      {kind: 'addr-set', family, dir: 'daddr', negate: true, set: setName(family, NETWORK_POOLS_SET)},
    ], MASQUERADE)))
    // Felix's tunnel rule: host traffic sent through vxlan.calico from another of the host's addresses (a socket
    // bound to it, a DNATed service address) leaves from the node's VTEP address, which the other nodes route back.
    // Workload sources are not local addresses: never matched.
    if (this.state.vxlanTunnel) {
      rules.push(sharedRule('masquerade vxlan tunnel', () => rule([
        {kind: 'oifname', negate: false, name: VXLAN_TUNNEL_DEVICE},
        {kind: 'saddr-local', oif: true, negate: true},
        {kind: 'saddr-local', oif: false, negate: false},
      ], MASQUERADE)))
    }
    this.setsChain(staticName('nat', 'POSTROUTING'), rules, {type: 'nat', hook: 'postrouting', priority: PRIO_SNAT, policy: 'accept'})
  }

  // ----------------------------------------------------------------------------------------------------------
  /** Constant-time dispatch: one verdict-map lookup on the interface name per direction. */
  private dispatch(): void {
    const maps: {layer: Layer; name: string; key: 'iifname' | 'oifname'; failClosed: boolean; kinds: LocalEndpoint['kind'][]; chainKind: 'tw' | 'fw' | 'th' | 'fh' | 'thfw' | 'fhfw'; want: (ep: LocalEndpoint) => boolean}[] = [
      {layer: 'filter', name: 'cali-from-wl-dispatch', key: 'iifname', failClosed: true, kinds: ['workload'], chainKind: 'fw', want: HEP_WANT.any},
      {layer: 'filter', name: 'cali-to-wl-dispatch', key: 'oifname', failClosed: true, kinds: ['workload'], chainKind: 'tw', want: HEP_WANT.any},
      {layer: 'filter', name: 'cali-from-host-endpoint', key: 'iifname', failClosed: false, kinds: ['host'], chainKind: 'fh', want: HEP_WANT.any},
      {layer: 'filter', name: 'cali-to-host-endpoint', key: 'oifname', failClosed: false, kinds: ['host'], chainKind: 'th', want: HEP_WANT.any},
      {layer: 'filter', name: 'cali-from-hep-forward', key: 'iifname', failClosed: false, kinds: ['host'], chainKind: 'fhfw', want: HEP_WANT.forward},
      {layer: 'filter', name: 'cali-to-hep-forward', key: 'oifname', failClosed: false, kinds: ['host'], chainKind: 'thfw', want: HEP_WANT.forward},
      {layer: 'raw', name: 'cali-from-host-endpoint', key: 'iifname', failClosed: false, kinds: ['host'], chainKind: 'fh', want: HEP_WANT.untracked},
      {layer: 'raw', name: 'cali-to-host-endpoint', key: 'oifname', failClosed: false, kinds: ['host'], chainKind: 'th', want: HEP_WANT.untracked},
      {layer: 'mangle', name: 'cali-from-host-endpoint', key: 'iifname', failClosed: false, kinds: ['host'], chainKind: 'fh', want: HEP_WANT.preDnat},
      {layer: 'mangle', name: 'cali-to-host-endpoint', key: 'oifname', failClosed: false, kinds: ['host'], chainKind: 'th', want: HEP_WANT.any},
    ]
    for (const d of maps) {
      const name = staticName(d.layer, d.name)
      const elements = new Map<string, string>()
      let wildcard: string | undefined
      for (const ep of this.state.endpoints) {
        if (!d.kinds.includes(ep.kind) || !d.want(ep)) continue
        const target = endpointChainName(d.layer, d.chainKind, ep.iface)
        if (ep.iface === '*') wildcard = target
        else elements.set(ep.iface, target)
      }
      this.table.maps.set(name, {name, elements})
      const rules: NftRule[] = [rule([], {kind: 'vmap', key: d.key, map: name})]
      if (d.failClosed) rules.push(rule([], DROP, 'Unknown interface'))
      // The `*` host endpoint polices every interface that has no endpoint of its own, never workload interfaces
      // (Felix: "Skip egress WHEP policy for traffic to local workload").
      else if (wildcard) {
        for (const m of this.wlIfaces(d.key, false)) rules.push(rule([m], RETURN))
        rules.push(rule([], goto(wildcard)))
      }
      this.chain(name, rules)
    }
  }

  // ----------------------------------------------------------------------------------------------------------
  /**
   * An endpoint's chains are a pure function of the endpoint and the settings: an unchanged endpoint reuses the
   * rule arrays of the previous render, so the diff (and its memoised rule text) sees identical objects. The policy
   * and profile chains it jumps to are recorded by name and recreated from the current state (their contents
   * change with their policy, not with the endpoint).
   */
  private endpointChains(ep: LocalEndpoint): void {
    const known = endpointChainsByObject.get(ep)
    if (known?.settingsKey === this.settingsKey) {
      for (const ref of known.entry.refs) this.referencedChain(ref)
      for (const [name, rules] of known.entry.chains) this.chain(name, rules)
      return
    }
    const sig = `${this.settingsKey}\n${JSON.stringify(ep)}`
    let entry = endpointChainCache.get(sig)
    if (entry) {
      for (const ref of entry.refs) this.referencedChain(ref)
    } else {
      const chains: [string, NftRule[]][] = []
      this.recording = []
      try {
        this.endpointTemplate(ep, (name, rules) => chains.push([name, rules]))
        entry = {chains, refs: this.recording}
      } finally {
        this.recording = undefined
      }
      if (endpointChainCache.size >= 4 * this.state.endpoints.length + ENDPOINT_CACHE_SLACK) endpointChainCache.clear()
      endpointChainCache.set(sig, entry)
    }
    endpointChainsByObject.set(ep, {settingsKey: this.settingsKey, entry})
    for (const [name, rules] of entry.chains) this.chain(name, rules)
  }

  private referencedChain(ref: ChainRef): void {
    this.recording?.push(ref)
    if (ref.type === 'policy') this.policyChain(ref.layer, ref.name, ref.key, ref.dir)
    else this.profileChain(ref.layer, ref.name, ref.profile, ref.dir)
  }

  private endpointTemplate(ep: LocalEndpoint, emit: (name: string, rules: NftRule[]) => void): void {
    const s = this.state.settings
    const conntrack: NftRule[] = [sharedRule('ct established', () => rule([{kind: 'ct-state', states: ['established', 'related']}], ACCEPT))]
    if (!s.disableConntrackInvalidCheck) conntrack.push(sharedRule('ct invalid', () => rule([{kind: 'ct-state', states: ['invalid']}], DROP)))
    const clear = sharedRule('clear accept pass', () => rule([], undefined, undefined, [{kind: 'mark-clear', bits: MARK_ACCEPT | MARK_PASS}]))
    if (ep.kind === 'workload') {
      const encapDrops: NftRule[] = []
      if (!s.allowVXLANPacketsFromWorkloads) {
        const port = s.vxlanPort
        encapDrops.push(sharedRule(`vxlan ${port}`, () => rule([{kind: 'l4proto', negate: false, protos: [17]}, {kind: 'port', dir: 'dport', negate: false, ranges: [{first: port, last: port}]}], DROP, 'Drop VXLAN encapped packets originating in workloads')))
      }
      if (!s.allowIPIPPacketsFromWorkloads) {
        encapDrops.push(sharedRule('ipip', () => rule([{kind: 'l4proto', negate: false, protos: [4]}], DROP, 'Drop IPinIP encapped packets originating in workloads')))
      }
      emit(endpointChainName('filter', 'tw', ep.iface), [
        ...conntrack, clear,
        ...this.policyPart('filter', ep.tiers, 'in', true),
        ...this.profilePart('filter', ep.profileIds, 'in'),
      ])
      emit(endpointChainName('filter', 'fw', ep.iface), [
        ...conntrack, clear, ...encapDrops,
        ...this.policyPart('filter', ep.tiers, 'out', true),
        ...this.profilePart('filter', ep.profileIds, 'out'),
      ])
      return
    }
    const f = (n: string): string => staticName('filter', n)
    emit(endpointChainName('filter', 'fh', ep.iface), [
      ...conntrack, sharedJump(f('cali-failsafe-in')), clear,
      ...this.policyPart('filter', ep.tiers, 'in', true),
      ...this.profilePart('filter', ep.profileIds, 'in'),
    ])
    emit(endpointChainName('filter', 'th', ep.iface), [
      ...conntrack, sharedJump(f('cali-failsafe-out')), clear,
      ...this.policyPart('filter', ep.tiers, 'out', true),
      ...this.profilePart('filter', ep.profileIds, 'out'),
    ])
    if (ep.forwardTiers.length > 0) {
      // Forwarded traffic: no profiles; what every tier passes is allowed. Tracked, as Felix's forward chains are:
      // the replies of an allowed connection pass whatever the policy says about their own direction.
      emit(endpointChainName('filter', 'fhfw', ep.iface), [...conntrack, clear, ...this.policyPart('filter', ep.forwardTiers, 'in', true)])
      emit(endpointChainName('filter', 'thfw', ep.iface), [...conntrack, clear, ...this.policyPart('filter', ep.forwardTiers, 'out', true)])
    }
    if (ep.untrackedTiers.length > 0) {
      emit(endpointChainName('raw', 'fh', ep.iface), [sharedJump(staticName('raw', 'cali-failsafe-in')), clear, ...this.policyPart('raw', ep.untrackedTiers, 'in', false)])
      emit(endpointChainName('raw', 'th', ep.iface), [sharedJump(staticName('raw', 'cali-failsafe-out')), clear, ...this.policyPart('raw', ep.untrackedTiers, 'out', false)])
    }
    emit(endpointChainName('mangle', 'th', ep.iface), [
      ...conntrack, sharedJump(staticName('mangle', 'cali-failsafe-out')), clear,
      ...this.policyPart('mangle', ep.tiers, 'out', true),
      ...this.profilePart('mangle', ep.profileIds, 'out'),
    ])
    if (ep.preDnatTiers.length > 0) {
      // Tracked like Felix's preDNAT chain: an invalid packet is dropped before failsafes and policy.
      emit(endpointChainName('mangle', 'fh', ep.iface), [...conntrack, sharedJump(staticName('mangle', 'cali-failsafe-in')), clear, ...this.policyPart('mangle', ep.preDnatTiers, 'in', false)])
    }
  }

  /** Step 7 of Felix's endpoint chain template: tiers in order, Pass/Accept marks, end-of-tier deny. */
  private policyPart(layer: Layer, tiers: TierInfo[], dir: 'in' | 'out', tracked: boolean): NftRule[] {
    const out: NftRule[] = []
    for (const t of tiers) {
      const pols = dir === 'in' ? t.ingressPolicies : t.egressPolicies
      if (pols.length === 0) continue
      out.push(sharedRule(`tier start ${t.name}`, () => rule([], undefined, `Start of tier ${t.name}`, [{kind: 'mark-clear', bits: MARK_PASS}])))
      for (const key of pols) {
        const chain = policyChainName(layer, dir, key)
        this.referencedChain({type: 'policy', layer, name: chain, key, dir})
        out.push(sharedRule(`unless pass jump ${chain}`, () => rule([M.markClear(MARK_PASS)], jump(chain))))
        // Untracked allow: skip conntrack for the flow, then leave the raw chain with Accept set.
        out.push(tracked ? RETURN_IF_POLICY_ACCEPTED : RETURN_IF_POLICY_ACCEPTED_NOTRACK)
      }
      if (t.defaultAction === 'deny') {
        const deny = this.denyFor(layer)
        out.push(sharedRule(`tier end ${deny.kind} ${t.name}`, () => rule([M.markClear(MARK_PASS)], deny, `End of tier ${t.name}. Drop if no policies passed packet`)))
      }
    }
    return out
  }

  /** Steps 8-9: profiles in order, then the final drop. */
  private profilePart(layer: Layer, profileIds: string[], dir: 'in' | 'out'): NftRule[] {
    const out: NftRule[] = []
    for (const name of profileIds) {
      const chain = profileChainName(layer, dir, name)
      this.referencedChain({type: 'profile', layer, name: chain, profile: name, dir})
      out.push(sharedJump(chain))
      out.push(RETURN_IF_PROFILE_ACCEPTED)
    }
    const deny = this.denyFor(layer)
    out.push(sharedRule(`no profile ${deny.kind}`, () => rule([], deny, 'Drop if no profiles matched')))
    return out
  }

  private policyChain(layer: Layer, name: string, key: string, dir: 'in' | 'out'): void {
    if (this.table.chains.has(name)) return
    const pol = this.state.policies.get(key)
    if (!pol) throw new Error(`policy chain ${name}: policy missing from state`)
    // The calculator hands out the same ActivePolicy object until the policy changes: reuse its rendering.
    let perPolicy = renderedPolicies.get(pol)
    if (!perPolicy) renderedPolicies.set(pol, (perPolicy = new Map()))
    const opts = this.optsFor(layer)
    const cacheKey = `${dir}|${layer === 'filter' ? this.ruleOptsKey : this.dropOptsKey}`
    let rules = perPolicy.get(cacheKey)
    if (!rules) {
      rules = this.ruleChain(opts, dir === 'in' ? pol.inbound : pol.outbound, `${pol.description} ${dir === 'in' ? 'ingress' : 'egress'}`)
      perPolicy.set(cacheKey, rules)
    }
    this.setsChain(name, rules)
  }

  private profileChain(layer: Layer, name: string, profName: string, dir: 'in' | 'out'): void {
    if (this.table.chains.has(name)) return
    const prof = this.state.profiles.get(profName)
    const render = (): NftRule[] => {
      const rules = prof ? (dir === 'in' ? prof.inbound : prof.outbound) : []
      const what = prof?.missing ? ' (missing: fail closed)' : ''
      return this.ruleChain(this.optsFor(layer), rules, `Profile ${profName} ${dir === 'in' ? 'ingress' : 'egress'}${what}`)
    }
    let rules: NftRule[]
    if (prof) {
      let perProfile = renderedProfiles.get(prof)
      if (!perProfile) renderedProfiles.set(prof, (perProfile = new Map()))
      const cacheKey = `${dir}|${layer === 'filter' ? this.ruleOptsKey : this.dropOptsKey}`
      rules = perProfile.get(cacheKey) ?? render()
      perProfile.set(cacheKey, rules)
    } else rules = render()
    this.setsChain(name, rules)
  }

  private ruleChain(opts: RuleRenderOptions, rules: ActivePolicy['inbound'], description: string): NftRule[] {
    const out: NftRule[] = []
    rules.forEach((r, i) => {
      const ann = r.annotations ? Object.entries(r.annotations).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(', ') : ''
      const comment = i === 0 ? (ann ? `${description}; ${ann}` : description) : ann || undefined
      const rendered = renderRule(r, opts, comment)
      out.push(...rendered)
    })
    // An empty chain still identifies its policy in `nft list` output (counted like the policy's rules; nft also
    // needs a rule to hold more than a comment).
    if (out.length === 0 || out[0]!.comment === undefined) {
      out.unshift(counted(rule([], undefined, description)))
    }
    return out
  }

  /** Drops sets no rendered rule references (e.g. a set used only by a policy direction no endpoint uses). */
  private pruneUnreferenced(): void {
    const used = new Set<string>()
    for (const name of this.ruleChains) for (const n of setsOf(this.table.chains.get(name)!.rules)) used.add(n)
    for (const name of [...this.table.sets.keys()]) {
      if (!used.has(name)) this.table.sets.delete(name)
    }
  }
}

/** The sets a chain's rules refer to (memoised per rule array: rendered chains share unchanged arrays). */
function setsOf(rules: NftRule[]): string[] {
  let names = referencedSets.get(rules)
  if (!names) {
    names = []
    for (const r of rules) for (const m of r.matches) if (m.kind === 'addr-set' || m.kind === 'ip-port-set') names.push(m.set)
    referencedSets.set(rules, names)
  }
  return names
}

function memberFamily(ipPortMember: string): IPFamily {
  return ipPortMember.slice(0, ipPortMember.lastIndexOf(',')).includes(':') ? 6 : 4
}

/** Renders the full desired table for a policy state. */
export function renderTable(state: PolicyState, opts: RenderOptions = {}): NftTable {
  const steps = new Builder(state, opts).build()
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
  }
}

/**
 * The full replacement script for a policy state, rendered while it is being read: each chunk is produced on demand,
 * so a consumer writing into `nft` (Nft.applyStream) lets nft parse one part while the next is rendered. After the
 * last chunk, `table` is the rendered table (as renderTable would return it) for later deltas.
 */
export class FullScriptStream implements Iterable<string> {
  /** Characters of script produced so far. */
  length = 0
  private rendered?: NftTable

  constructor(private readonly state: PolicyState, private readonly opts: RenderOptions = {}) {}

  *[Symbol.iterator](): Generator<string, void, undefined> {
    this.length = 0
    const steps = new Builder(this.state, this.opts, true).build()
    for (;;) {
      const step = steps.next()
      if (step.done) {
        this.rendered = step.value
        return
      }
      this.length += step.value.length
      yield step.value
    }
  }

  get table(): NftTable {
    if (!this.rendered) throw new Error('the script has not been read to the end')
    return this.rendered
  }
}
