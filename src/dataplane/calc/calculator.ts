// The policy calculation graph (Felix's ActiveRulesCalculator + RuleScanner + label index + PolicyResolver/Sorter)
// as one incremental index: `update(event)` adjusts policy↔local-endpoint matches and refcounted IP-set members;
// `state()` reads the desired per-node policy state out of the index. IP pools and Nodes give the IP sets of Felix's
// masqManager (natOutgoing) and VXLAN manager (the hosts VXLAN is allowed from and to).
import {formatCIDR, formatIP, parseIP} from '../../api/net.js'
import {normalizeCidr, parseCidr} from './cidr.js'
import {parseSelector, type Labels, type Selector} from '../../api/selector.js'
import {LABEL_NAMESPACE, LABEL_ORCHESTRATOR, LABEL_SERVICE_ACCOUNT, policySelector} from './endpoint-match.js'
import {SelectorIndex, SourceIndex} from './label-index.js'
import {SharedLabelMaps} from './label-maps.js'
import {DEFAULT_ALLOW_PROFILE, defaultAllowProfile} from '../../api/builtin.js'
import {protocolNumber} from './protocol.js'
import {parseRule, type IPSetDef} from './rules.js'
import {settingsFrom} from './settings.js'
import type {
  ActivePolicy,
  ActiveProfile,
  CalcEvent,
  CalcKind,
  CalcResource,
  FelixConfigurationSpec,
  IPPoolSpec,
  IPSetState,
  LocalEndpoint,
  NodeSpec,
  ParsedRule,
  PolicyKind,
  PolicyKindShort,
  PolicySpec,
  PolicyState,
  Rule,
  TierDefaultAction,
  TierInfo,
  WorkloadSourceSpoofing,
} from './types.js'
import {MASQ_POOLS_SET, NETWORK_POOLS_SET, POLICY_KINDS, VXLAN_HOSTS_SET} from './types.js'

export const DEFAULT_TIER = 'default'
/** Order of the built-in `default` tier when no Tier resource overrides it (Calico's DefaultTierOrder). */
export const DEFAULT_TIER_ORDER = 1_000_000

interface EndpointPortData {
  name: string
  protocol: number
  port: number
}

/** Anything that can be an IP-set member source: endpoints (local or remote) and network sets. */
interface MemberSource {
  key: string
  kind: 'workload' | 'host' | 'netset'
  /** Canonical CIDRs (`/32`, `/128` for endpoint addresses). */
  nets: string[]
  /** Bare addresses of an endpoint, for ip-port members. */
  addrs: string[]
  ports: EndpointPortData[]
  ownLabels: Labels
  profileIds: string[]
  /** Own labels over labels inherited from profiles: what selectors see. */
  labels: Labels
  local: boolean
  iface: string
  allowSpoofed: string[]
}

interface PolicyEntry {
  key: string
  kind: PolicyKind
  staged: boolean
  tier: string
  order: number
  name: string
  namespace: string
  ingress: boolean
  egress: boolean
  /** Canonical selector text: policies sharing it share one SelectorGroup. */
  selector: string
  parsed: Selector
  active: ActivePolicy
  sets: IPSetDef[]
}

/** Enforced policies with one selector, and the local endpoints it matches (evaluated once, not once per policy). */
interface SelectorGroup {
  selector: Selector
  policies: Set<string>
  endpoints: Set<string>
}

interface ProfileEntry {
  name: string
  labels: Record<string, string>
  rules: ActiveProfile
  sets: IPSetDef[]
}

/** An IP pool as natOutgoing reads it (Felix's masqManager). */
interface PoolEntry {
  cidr: string
  masquerade: boolean
  /** Whether its CIDR is a pool destination that is never masqueraded: every pool except LoadBalancer-only ones. */
  network: boolean
  /** An IPv4 pool with vxlanMode Always or CrossSubnet: it turns VXLAN on (Felix's encapsulation calculator). */
  vxlan: boolean
}

interface SetEntry {
  def: IPSetDef
  selector: Selector
  refs: number
  members: Map<string, number>
  /** The set as state() last reported it, until its members change: consumers may memoise by identity. */
  output?: IPSetState
}

const STAGED_KINDS: ReadonlySet<string> = new Set(['StagedNetworkPolicy', 'StagedGlobalNetworkPolicy', 'StagedKubernetesNetworkPolicy'])

function shortKind(kind: PolicyKind): PolicyKindShort {
  switch (kind) {
    case 'GlobalNetworkPolicy':
    case 'StagedGlobalNetworkPolicy':
      return 'gnp'
    case 'KubernetesNetworkPolicy':
    case 'StagedKubernetesNetworkPolicy':
      return 'knp'
    default:
      return 'np'
  }
}

export function policyKey(kind: PolicyKindShort, name: string, namespace?: string): string {
  return namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`
}

const SOURCE_PREFIX: Readonly<Record<string, string>> = {WorkloadEndpoint: 'wep', HostEndpoint: 'hep', NetworkSet: 'ns', GlobalNetworkSet: 'gns'}

/** `wep/<ns>/<name>`, `hep/<name>`, `ns/<ns>/<name>`, `gns/<name>`: the key of an endpoint or network set. */
function sourceKey(kind: string, name: string, namespace?: string): string {
  return resourceKey(SOURCE_PREFIX[kind] ?? kind, name, kind === 'HostEndpoint' || kind === 'GlobalNetworkSet' ? undefined : namespace)
}

function resourceKey(kind: string, name: string, namespace?: string): string {
  return namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`
}

/** API defaulting of policy `types` (Calico's defaultPolicyTypesField), applied when the caller has not. */
function policyTypes(spec: PolicySpec): {ingress: boolean; egress: boolean} {
  if (spec.types && spec.types.length > 0) {
    const t = spec.types.map((x) => x.toLowerCase())
    return {ingress: t.includes('ingress'), egress: t.includes('egress')}
  }
  const hasEgress = (spec.egress?.length ?? 0) > 0
  const hasIngress = (spec.ingress?.length ?? 0) > 0
  if (hasEgress && !hasIngress) return {ingress: false, egress: true}
  return {ingress: true, egress: hasEgress}
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export class PolicyCalculator {
  private readonly sources = new Map<string, MemberSource>()
  /** The local endpoints among `sources` (policies are matched only against these). */
  private readonly localEndpoints = new Map<string, MemberSource>()
  /** `sources` and `localEndpoints` by label, and the IP sets and policy groups by the labels they require. */
  private readonly sourceIndex = new SourceIndex<MemberSource>()
  private readonly localIndex = new SourceIndex<MemberSource>()
  private readonly setIndex = new SelectorIndex<SetEntry>()
  private readonly groupIndex = new SelectorIndex<SelectorGroup>()
  /** The label maps of the sources held (own and inherited), shared between sources with equal ones. */
  private readonly labelMaps = new SharedLabelMaps()
  private readonly profileUsers = new Map<string, Set<string>>()
  private readonly policies = new Map<string, PolicyEntry>()
  /** Enforced policies grouped by selector: clusters have far fewer distinct selectors than policies. */
  private readonly policyGroups = new Map<string, SelectorGroup>()
  private readonly profiles = new Map<string, ProfileEntry>()
  private readonly tiers = new Map<string, {order: number | undefined; defaultAction: TierDefaultAction}>()
  private readonly felixConfigs = new Map<string, FelixConfigurationSpec>()
  private readonly pools = new Map<string, PoolEntry>()
  /** The pool IP sets as state() last reported them (undefined: none), until a pool changes. */
  private poolOutput?: IPSetState[]
  /** Other nodes with a VTEP address → their address (`a.b.c.d/32`): the hosts VXLAN is allowed from and to. */
  private readonly vxlanPeers = new Map<string, string>()
  /** VXLAN_HOSTS_SET as state() last reported it (null: VXLAN off), until a pool, Node or configuration changes. */
  private vxlanOutput?: IPSetState | null
  /** Whether this node's Node has a VTEP address. */
  private ownVtep = false
  /** policy key → local endpoint keys it applies to. */
  private readonly policyMatches = new Map<string, Set<string>>()
  /** local endpoint key → policy keys. */
  private readonly endpointPolicies = new Map<string, Set<string>>()
  /** profile name → number of local endpoints listing it. */
  private readonly profileRefs = new Map<string, number>()
  private readonly sets = new Map<string, SetEntry>()
  private readonly errors = new Map<string, string>()
  private policyRank: Map<string, number> | undefined
  /**
   * Each local endpoint's entry in the last state(), by endpoint key, while nothing it depends on changed: its
   * policy links (per endpoint), policy ranks and tiers (all endpoints). Reusing the object lets consumers memoise
   * by identity, and saves sorting every endpoint's policies after each change.
   */
  private endpointOutputs = new Map<string, {ep: LocalEndpoint; policyKeys: string[]}>()
  /** The host's interfaces and their addresses (canonical IPs), for host endpoints given by expectedIPs only. */
  private hostInterfaces = new Map<string, Set<string>>()
  /**
   * Workload endpoints that ask for allowSpoofedSourcePrefixes, as received (resource key → resource): whether they
   * are accepted depends on WorkloadSourceSpoofing, so they are taken again when that changes.
   */
  private readonly spoofRequests = new Map<string, CalcResource>()
  private sourceSpoofing: WorkloadSourceSpoofing = 'Disabled'

  constructor(readonly nodeName: string) {
    // Calico's datastores always serve the built-in default-allow profile (our backends leave it to the client).
    this.setProfile(DEFAULT_ALLOW_PROFILE, defaultAllowProfile())
  }

  /** Resources ignored because they could not be interpreted, with the reason (key `Kind/[ns/]name`). */
  problems(): ReadonlyMap<string, string> {
    return this.errors
  }

  /**
   * Tells the calculator which addresses each host interface has (from the agent's interface monitor). Only host
   * endpoints without an interfaceName depend on it: they apply to every interface holding one of their expectedIPs.
   */
  setHostInterfaces(ifaces: ReadonlyMap<string, readonly string[]>): void {
    const canonical = (a: string): string[] => {
      const ip = parseIP(a.includes('/') ? a.slice(0, a.indexOf('/')) : a)
      return ip ? [formatIP(ip)] : []
    }
    this.hostInterfaces = new Map([...ifaces].map(([name, addrs]) => [name, new Set(addrs.flatMap(canonical))]))
    this.endpointOutputs.clear()
  }

  update(ev: CalcEvent): void {
    if (ev.type === 'set') {
      const r = ev.resource
      const name = r.metadata.name ?? ''
      const key = resourceKey(r.kind, name, r.metadata.namespace)
      this.errors.delete(key)
      if (r.kind === 'WorkloadEndpoint' && (r.spec?.allowSpoofedSourcePrefixes?.length ?? 0) > 0) this.spoofRequests.set(key, r)
      else this.spoofRequests.delete(key)
      try {
        this.apply(r.kind, name, r.metadata.namespace, r)
      } catch (err) {
        // A resource we cannot interpret is treated as absent: its old version must not linger either.
        this.errors.set(key, err instanceof Error ? err.message : String(err))
        this.apply(r.kind, name, r.metadata.namespace, undefined)
      }
    } else {
      const key = resourceKey(ev.kind, ev.name, ev.namespace)
      this.errors.delete(key)
      this.spoofRequests.delete(key)
      this.apply(ev.kind, ev.name, ev.namespace, undefined)
    }
    const kind = ev.type === 'set' ? ev.resource.kind : ev.kind
    if (kind === 'FelixConfiguration') this.sourceSpoofingChanged()
  }

  /** Re-evaluates the endpoints that ask to spoof once the effective WorkloadSourceSpoofing has changed. */
  private sourceSpoofingChanged(): void {
    // Only valid configurations are held (apply() checks each), so this cannot throw.
    const next = settingsFrom(this.effectiveConfigs()).workloadSourceSpoofing
    if (next === this.sourceSpoofing) return
    this.sourceSpoofing = next
    for (const r of [...this.spoofRequests.values()]) this.update({type: 'set', resource: r})
  }

  private apply(kind: CalcKind, name: string, namespace: string | undefined, r: CalcResource | undefined): void {
    switch (kind) {
      case 'WorkloadEndpoint':
      case 'HostEndpoint':
      case 'NetworkSet':
      case 'GlobalNetworkSet':
        return this.setSource(sourceKey(kind, name, namespace), r ? this.sourceFrom(r) : undefined)
      case 'Profile':
        // The built-in profile cannot be replaced or removed (Calico's clients refuse; its backends ignore a stored one).
        if (name === DEFAULT_ALLOW_PROFILE) return
        return this.setProfile(name, r?.kind === 'Profile' ? r : undefined)
      case 'Tier':
        this.rankChanged()
        if (r?.kind === 'Tier') {
          const da = (r.spec?.defaultAction ?? 'Deny').toLowerCase()
          if (da !== 'deny' && da !== 'pass') throw new Error(`invalid tier defaultAction ${r.spec?.defaultAction}`)
          this.tiers.set(name, {order: r.spec?.order, defaultAction: da})
        } else this.tiers.delete(name)
        return
      case 'IPPool':
        this.poolOutput = undefined
        this.vxlanOutput = undefined
        if (r?.kind === 'IPPool') this.pools.set(name, poolEntry(r.spec ?? {}))
        else this.pools.delete(name)
        return
      case 'Node': {
        if (name === this.nodeName) {
          this.ownVtep = r?.kind === 'Node' && (r.spec?.ipv4VXLANTunnelAddr ?? '') !== ''
          return
        }
        const peer = r?.kind === 'Node' ? vxlanPeer(r.spec ?? {}) : undefined
        if (peer === this.vxlanPeers.get(name)) return
        this.vxlanOutput = undefined
        if (peer === undefined) this.vxlanPeers.delete(name)
        else this.vxlanPeers.set(name, peer)
        return
      }
      case 'FelixConfiguration':
        this.vxlanOutput = undefined
        if (r?.kind === 'FelixConfiguration') {
          settingsFrom([r.spec ?? {}]) // validate now so a bad config is reported against its resource
          this.felixConfigs.set(name, r.spec ?? {})
        } else this.felixConfigs.delete(name)
        return
      default:
        if ((POLICY_KINDS as readonly string[]).includes(kind)) {
          return this.setPolicy(kind as PolicyKind, name, namespace, r)
        }
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Endpoints and network sets

  private sourceFrom(r: CalcResource): MemberSource | undefined {
    const name = r.metadata.name ?? ''
    const ns = r.metadata.namespace
    const own: Record<string, string> = {...(r.metadata.labels ?? {})}
    switch (r.kind) {
      case 'WorkloadEndpoint': {
        const spec = r.spec ?? {}
        // Felix ignores workload endpoints without addresses (workloadendpointprocessor).
        if (!spec.ipNetworks || spec.ipNetworks.length === 0) return undefined
        if (ns && own[LABEL_NAMESPACE] === undefined) own[LABEL_NAMESPACE] = ns
        if (spec.orchestrator && own[LABEL_ORCHESTRATOR] === undefined) own[LABEL_ORCHESTRATOR] = spec.orchestrator
        if (spec.serviceAccountName && own[LABEL_SERVICE_ACCOUNT] === undefined) own[LABEL_SERVICE_ACCOUNT] = spec.serviceAccountName
        // Felix's validation filter: such an endpoint is treated as missing unless spoofing is enabled.
        if ((spec.allowSpoofedSourcePrefixes?.length ?? 0) > 0 && this.sourceSpoofing !== 'Any') {
          throw new Error('source IP spoofing requested but not enabled in Felix configuration (workloadSourceSpoofing is not Any)')
        }
        const nets = spec.ipNetworks.map((n) => hostCidr(n))
        const src = this.makeSource(sourceKey(r.kind, name, ns), 'workload', nets, spec.ports, own, spec.profiles ?? [], spec.node === this.nodeName, spec.interfaceName ?? '')
        src.allowSpoofed = (spec.allowSpoofedSourcePrefixes ?? []).map(normalizeCidr)
        return src
      }
      case 'HostEndpoint': {
        const spec = r.spec ?? {}
        const nets = (spec.expectedIPs ?? []).map((n) => hostCidr(n))
        // '' = "the interfaces that have one of expectedIPs", resolved in state() against setHostInterfaces().
        const iface = spec.interfaceName ?? ''
        return this.makeSource(sourceKey(r.kind, name), 'host', nets, spec.ports, own, spec.profiles ?? [], spec.node === this.nodeName, iface)
      }
      case 'NetworkSet':
      case 'GlobalNetworkSet': {
        const nets = (r.spec?.nets ?? []).map((n) => formatCIDR(parseCidr(n)))
        // Namespaced network sets carry their namespace and inherit its labels like pods do.
        const profiles: string[] = []
        if (r.kind === 'NetworkSet' && ns) {
          if (own[LABEL_NAMESPACE] === undefined) own[LABEL_NAMESPACE] = ns
          profiles.push(`kns.${ns}`)
        }
        return this.makeSource(sourceKey(r.kind, name, ns), 'netset', nets, [], own, profiles, false, '')
      }
      default:
        return undefined
    }
  }

  private makeSource(
    key: string,
    kind: MemberSource['kind'],
    nets: string[],
    ports: {name: string; protocol?: number | string; port: number}[] | undefined,
    own: Record<string, string>,
    profileIds: string[],
    local: boolean,
    iface: string,
  ): MemberSource {
    // Linux interface names have at most 15 bytes; a longer one could never match and would break the nft map.
    if (local && kind !== 'netset' && Buffer.byteLength(iface) > 15) throw new Error(`interface name ${JSON.stringify(iface)} is longer than 15 bytes`)
    const addrs = kind === 'netset' ? [] : nets.map((n) => n.slice(0, n.indexOf('/')))
    const portData = (ports ?? []).map((p) => ({name: p.name, protocol: protocolNumber(p.protocol ?? 'TCP'), port: p.port}))
    const src: MemberSource = {key, kind, nets, addrs, ports: portData, ownLabels: own, profileIds, labels: {}, local, iface, allowSpoofed: []}
    src.labels = this.inheritedLabels(src)
    return src
  }

  private inheritedLabels(src: MemberSource): Record<string, string> {
    const labels: Record<string, string> = {}
    for (let i = 0; i < src.profileIds.length; i++) Object.assign(labels, this.profiles.get(src.profileIds[i]!)?.labels)
    return Object.assign(labels, src.ownLabels)
  }

  /** Replaces (or removes, when `next` is undefined) the member source stored under `key`. */
  /** `next` is a source sourceFrom() just built: it is taken over (its label maps swapped for shared ones), not copied. */
  private setSource(key: string, next: MemberSource | undefined): void {
    const prev = this.sources.get(key)
    if (prev) {
      this.removeSource(prev)
      this.labelMaps.release(prev.ownLabels)
      this.labelMaps.release(prev.labels)
    }
    if (!next) return
    next.ownLabels = this.labelMaps.acquire(next.ownLabels)
    next.labels = this.labelMaps.acquire(next.labels)
    this.addSource(next)
  }

  private addSource(src: MemberSource): void {
    this.sources.set(src.key, src)
    this.sourceIndex.add(src)
    this.endpointOutputs.delete(src.key)
    if (src.local && src.kind !== 'netset') {
      this.localEndpoints.set(src.key, src)
      this.localIndex.add(src)
    }
    for (let i = 0; i < src.profileIds.length; i++) {
      const p = src.profileIds[i]!
      let users = this.profileUsers.get(p)
      if (!users) this.profileUsers.set(p, (users = new Set()))
      users.add(src.key)
    }
    this.setIndex.forEachCandidate(src.labels, (set) => this.contribute(set, src, +1))
    if (src.local && src.kind !== 'netset') {
      for (let i = 0; i < src.profileIds.length; i++) this.refProfile(src.profileIds[i]!, +1)
      this.matchEndpoint(src)
    }
  }

  private removeSource(src: MemberSource): void {
    this.sources.delete(src.key)
    this.sourceIndex.remove(src)
    this.endpointOutputs.delete(src.key)
    this.localEndpoints.delete(src.key)
    this.localIndex.remove(src)
    for (const p of src.profileIds) {
      const users = this.profileUsers.get(p)
      users?.delete(src.key)
      if (users?.size === 0) this.profileUsers.delete(p)
    }
    this.setIndex.forEachCandidate(src.labels, (set) => this.contribute(set, src, -1))
    if (src.local && src.kind !== 'netset') {
      for (const p of src.profileIds) this.refProfile(p, -1)
      for (const pk of this.endpointPolicies.get(src.key) ?? []) this.unlink(pk, src.key)
      this.endpointPolicies.delete(src.key)
      this.groupIndex.forEachCandidate(src.labels, (g) => g.endpoints.delete(src.key))
    }
  }

  private matchEndpoint(src: MemberSource): void {
    this.groupIndex.forEachCandidate(src.labels, (g) => {
      if (!g.selector.matches(src.labels)) return
      g.endpoints.add(src.key)
      g.policies.forEach((pk) => this.link(pk, src.key))
    })
  }

  private link(pk: string, ek: string): void {
    let eps = this.policyMatches.get(pk)
    if (!eps) this.policyMatches.set(pk, (eps = new Set()))
    const wasActive = eps.size > 0
    eps.add(ek)
    let pols = this.endpointPolicies.get(ek)
    if (!pols) this.endpointPolicies.set(ek, (pols = new Set()))
    pols.add(pk)
    this.endpointOutputs.delete(ek)
    if (!wasActive) this.refSets(this.policies.get(pk)!.sets, +1)
  }

  private unlink(pk: string, ek: string): void {
    const eps = this.policyMatches.get(pk)
    if (!eps?.delete(ek)) return
    this.endpointPolicies.get(ek)?.delete(pk)
    this.endpointOutputs.delete(ek)
    if (eps.size === 0) {
      this.policyMatches.delete(pk)
      const pol = this.policies.get(pk)
      if (pol) this.refSets(pol.sets, -1)
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // IP sets

  /** refSet of each of `defs` (an indexed loop: this runs per policy and endpoint link at start, as cold code). */
  private refSets(defs: readonly IPSetDef[], delta: 1 | -1): void {
    for (let i = 0; i < defs.length; i++) this.refSet(defs[i]!, delta)
  }

  private refSet(def: IPSetDef, delta: 1 | -1): void {
    let entry = this.sets.get(def.id)
    if (!entry) {
      if (delta < 0) return
      entry = {def, selector: parseSelector(def.selector), refs: 0, members: new Map()}
      this.sets.set(def.id, entry)
      this.setIndex.add(entry, entry.selector)
      this.sourceIndex.forEachCandidate(entry.selector, (src) => this.contribute(entry!, src, +1))
    }
    entry.refs += delta
    if (entry.refs <= 0) {
      this.sets.delete(def.id)
      this.setIndex.remove(entry)
    }
  }

  private contribute(set: SetEntry, src: MemberSource, delta: 1 | -1): void {
    if (!set.selector.matches(src.labels)) return
    // Indexed loops and a method rather than a closure and iterators: this runs for every (set, source) match at
    // start, as cold code.
    if (set.def.type === 'net') {
      for (let i = 0; i < src.nets.length; i++) bumpMember(set, src.nets[i]!, delta)
      return
    }
    for (let i = 0; i < src.ports.length; i++) {
      const p = src.ports[i]!
      if (p.name !== set.def.portName || p.protocol !== set.def.protocol) continue
      for (let j = 0; j < src.addrs.length; j++) bumpMember(set, `${src.addrs[j]},${p.protocol}:${p.port}`, delta)
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Profiles

  private setProfile(name: string, r: (CalcResource & {kind: 'Profile'}) | undefined): void {
    const prev = this.profiles.get(name)
    const active = (this.profileRefs.get(name) ?? 0) > 0
    let next: ProfileEntry | undefined
    if (r) {
      const sets: IPSetDef[] = []
      const rules = (list: Rule[] | undefined): ParsedRule[] => parseRules(list, undefined, sets)
      next = {
        name,
        labels: {...(r.spec?.labelsToApply ?? {})},
        rules: {name, inbound: rules(r.spec?.ingress), outbound: rules(r.spec?.egress), missing: false},
        sets,
      }
    }
    if (active) for (const d of next?.sets ?? []) this.refSet(d, +1)
    if (active) for (const d of prev?.sets ?? []) this.refSet(d, -1)
    if (next) this.profiles.set(name, next)
    else this.profiles.delete(name)
    if (!sameLabels(prev?.labels, next?.labels)) {
      // Inherited labels changed: re-index every source that lists this profile.
      for (const key of [...(this.profileUsers.get(name) ?? [])]) {
        const src = this.sources.get(key)
        if (!src) continue
        this.removeSource(src)
        this.labelMaps.release(src.labels)
        this.addSource({...src, labels: this.labelMaps.acquire(this.inheritedLabels(src))})
      }
    }
  }

  private refProfile(name: string, delta: 1 | -1): void {
    const n = (this.profileRefs.get(name) ?? 0) + delta
    const p = this.profiles.get(name)
    if (n <= 0) {
      this.profileRefs.delete(name)
      if (p) for (const d of p.sets) this.refSet(d, -1)
    } else {
      this.profileRefs.set(name, n)
      if (n === 1 && delta > 0 && p) for (const d of p.sets) this.refSet(d, +1)
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Policies

  private setPolicy(kind: PolicyKind, name: string, namespace: string | undefined, r: CalcResource | undefined): void {
    const short = shortKind(kind)
    const staged = STAGED_KINDS.has(kind)
    // Staged policies live under their own key so that they can never displace an enforced one.
    const key = staged ? `staged:${policyKey(short, name, namespace)}` : policyKey(short, name, namespace)
    const prev = this.policies.get(key)
    const entry = r ? this.policyEntry(kind, key, name, namespace, staged, (r.spec ?? {}) as PolicySpec) : undefined
    // Hold the new version's IP sets while the old one is unlinked: a set both use is kept, not dropped and rebuilt.
    const hold = entry && !entry.staged && prev ? entry.sets : []
    this.refSets(hold, +1)
    if (prev) this.removePolicy(prev)
    if (entry) {
      this.policies.set(key, entry)
      this.policyRank = undefined
      // Only the endpoints linked (or unlinked) here see a different policy list: link/unlink drop their outputs.
      if (!entry.staged) {
        let g = this.policyGroups.get(entry.selector)
        if (!g) {
          const group: SelectorGroup = {selector: entry.parsed, policies: new Set(), endpoints: new Set()}
          this.localIndex.forEachCandidate(group.selector, (src) => {
            if (group.selector.matches(src.labels)) group.endpoints.add(src.key)
          })
          g = group
          this.policyGroups.set(entry.selector, g)
          this.groupIndex.add(g, g.selector)
        }
        g.policies.add(key)
        g.endpoints.forEach((ek) => this.link(key, ek))
      }
    }
    this.refSets(hold, -1)
  }

  private removePolicy(p: PolicyEntry): void {
    for (const ek of [...(this.policyMatches.get(p.key) ?? [])]) this.unlink(p.key, ek)
    const g = this.policyGroups.get(p.selector)
    if (g?.policies.delete(p.key) && g.policies.size === 0) {
      this.policyGroups.delete(p.selector)
      this.groupIndex.remove(g)
    }
    this.policies.delete(p.key)
    this.policyRank = undefined
  }

  /** Tier order or default action changed: every endpoint's tier list may differ. */
  private rankChanged(): void {
    this.policyRank = undefined
    this.endpointOutputs.clear()
  }

  private policyEntry(kind: PolicyKind, key: string, name: string, namespace: string | undefined, staged: boolean, spec: PolicySpec): PolicyEntry {
    const short = shortKind(kind)
    const namespaced = short !== 'gnp'
    const ns = namespaced ? namespace ?? 'default' : undefined
    const types = policyTypes(spec)
    const parsed = policySelector(spec, ns)
    const selector = parsed.toString()
    const sets: IPSetDef[] = []
    const rules = (list: Rule[] | undefined): ParsedRule[] => parseRules(list, ns, sets)
    const tier = spec.tier && spec.tier !== '' ? spec.tier : DEFAULT_TIER
    const kindName = kind.replace(/^Staged/, '')
    const active: ActivePolicy = {
      id: ns !== undefined ? {kind: short, namespace: ns, name} : {kind: short, name},
      key,
      description: ns !== undefined ? `${kindName} ${ns}/${name}` : `${kindName} ${name}`,
      tier,
      // A direction the policy does not apply to contributes no rules.
      inbound: types.ingress ? rules(spec.ingress) : [],
      outbound: types.egress ? rules(spec.egress) : [],
      doNotTrack: spec.doNotTrack === true,
      preDNAT: spec.preDNAT === true,
      applyOnForward: spec.applyOnForward === true || spec.doNotTrack === true || spec.preDNAT === true,
    }
    return {
      key,
      kind,
      staged,
      tier,
      order: spec.order ?? Number.POSITIVE_INFINITY,
      name,
      namespace: ns ?? '',
      ingress: types.ingress,
      egress: types.egress,
      selector,
      parsed,
      active,
      sets,
    }
  }

  private tierOf(name: string): {order: number; defaultAction: TierDefaultAction; valid: boolean} {
    const t = this.tiers.get(name)
    if (t) return {order: t.order ?? Number.POSITIVE_INFINITY, defaultAction: t.defaultAction, valid: true}
    if (name === DEFAULT_TIER) return {order: DEFAULT_TIER_ORDER, defaultAction: 'deny', valid: true}
    return {order: Number.POSITIVE_INFINITY, defaultAction: 'deny', valid: false}
  }

  /** Global rank of every enforced policy: tier (valid first, order, name), then order, name, namespace, kind. */
  private rank(): Map<string, number> {
    if (this.policyRank) return this.policyRank
    const pols = [...this.policies.values()].filter((p) => !p.staged)
    const tierInfo = new Map<string, ReturnType<PolicyCalculator['tierOf']>>()
    for (const p of pols) if (!tierInfo.has(p.tier)) tierInfo.set(p.tier, this.tierOf(p.tier))
    pols.sort((a, b) => {
      if (a.tier !== b.tier) {
        const ta = tierInfo.get(a.tier)!
        const tb = tierInfo.get(b.tier)!
        if (ta.valid !== tb.valid) return ta.valid ? -1 : 1
        if (ta.order !== tb.order) return ta.order < tb.order ? -1 : 1
        return compareStrings(a.tier, b.tier)
      }
      if (a.order !== b.order) return a.order < b.order ? -1 : 1
      return compareStrings(a.name, b.name) || compareStrings(a.namespace, b.namespace) || compareStrings(a.kind, b.kind)
    })
    this.policyRank = new Map(pols.map((p, i) => [p.key, i]))
    return this.policyRank
  }

  // ------------------------------------------------------------------------------------------------------------
  // Output

  state(): PolicyState {
    const endpoints: LocalEndpoint[] = []
    const policies = new Map<string, ActivePolicy>()
    const byIface = new Map<string, {src: MemberSource; byName: boolean}>()
    const claim = (iface: string, src: MemberSource, byName: boolean): void => {
      const other = byIface.get(iface)
      // Several endpoints claiming one interface: a named claim beats an address match, then the lowest key wins,
      // so the result is deterministic.
      if (other && (other.byName !== byName ? other.byName : other.src.key < src.key)) return
      byIface.set(iface, {src, byName})
    }
    for (const src of this.localEndpoints.values()) {
      if (src.iface !== '') {
        claim(src.iface, src, true)
        continue
      }
      // A workload endpoint without an interface cannot be dispatched to (the CNI has not finished with it yet).
      if (src.kind !== 'host') continue
      for (const [iface, addrs] of this.hostInterfaces) {
        if (src.addrs.some((a) => addrs.has(a))) claim(iface, src, false)
      }
    }
    for (const [iface, {src}] of [...byIface].sort(([a], [b]) => compareStrings(a, b))) {
      const cached = this.endpointOutputs.get(src.key)
      if (cached && cached.ep.iface === iface) {
        for (const k of cached.policyKeys) policies.set(k, this.policies.get(k)!.active)
        endpoints.push(cached.ep)
        continue
      }
      const rank = this.rank()
      const pols = [...(this.endpointPolicies.get(src.key) ?? [])]
        .map((k) => this.policies.get(k)!)
        .sort((a, b) => rank.get(a.key)! - rank.get(b.key)!)
      for (const p of pols) policies.set(p.key, p.active)
      const ep: LocalEndpoint = {
        key: src.key,
        kind: src.kind === 'host' ? 'host' : 'workload',
        iface,
        ipv4Nets: src.nets.filter((n) => !n.includes(':')),
        ipv6Nets: src.nets.filter((n) => n.includes(':')),
        allowSpoofedSourcePrefixes: [...src.allowSpoofed],
        profileIds: [...src.profileIds],
        tiers: this.tierList(pols, (p) => !p.active.doNotTrack && !p.active.preDNAT, false),
        untrackedTiers: [],
        preDnatTiers: [],
        forwardTiers: [],
      }
      if (ep.kind === 'host') {
        ep.untrackedTiers = this.tierList(pols, (p) => p.active.doNotTrack, true)
        ep.preDnatTiers = this.tierList(pols, (p) => p.active.preDNAT && !p.active.doNotTrack, true)
        ep.forwardTiers = this.tierList(pols, (p) => p.active.applyOnForward && !p.active.doNotTrack && !p.active.preDNAT, false)
      }
      this.endpointOutputs.set(src.key, {ep, policyKeys: pols.map((p) => p.key)})
      endpoints.push(ep)
    }
    const profiles = new Map<string, ActiveProfile>()
    for (const name of [...this.profileRefs.keys()].sort()) {
      const p = this.profiles.get(name)
      // Fail closed on a profile that an endpoint names but the datastore lacks (Felix's DummyDropRules).
      profiles.set(name, p ? p.rules : {name, inbound: [denyAll()], outbound: [denyAll()], missing: true})
    }
    const ipSets = new Map<string, IPSetState>()
    for (const id of [...this.sets.keys()].sort()) {
      const s = this.sets.get(id)!
      s.output ??= {id, type: s.def.type, members: [...s.members.keys()].sort()}
      ipSets.set(id, s.output)
    }
    for (const set of this.poolSets()) ipSets.set(set.id, set)
    const vxlanHosts = this.vxlanHosts()
    if (vxlanHosts) ipSets.set(vxlanHosts.id, vxlanHosts)
    return {endpoints, policies, profiles, ipSets, settings: settingsFrom(this.effectiveConfigs()), vxlanTunnel: vxlanHosts !== undefined && this.ownVtep}
  }

  /**
   * The natOutgoing IP sets (types.ts NETWORK_POOLS_SET, MASQ_POOLS_SET), or none while no pool has natOutgoing
   * (Felix then renders no masquerade rule). Disabled pools count like the others, as in Felix: a disabled pool keeps
   * masquerading the workloads it already addressed, and one without blocks marks external destinations that need
   * no NAT.
   */
  private poolSets(): IPSetState[] {
    if (this.poolOutput) return this.poolOutput
    const pools = [...this.pools.values()]
    const members = (want: (p: PoolEntry) => boolean): string[] => [...new Set(pools.filter(want).map((p) => p.cidr))].sort()
    const masq = members((p) => p.masquerade)
    this.poolOutput = masq.length === 0 ? [] : [
      {id: NETWORK_POOLS_SET, type: 'net', members: members((p) => p.network)},
      {id: MASQ_POOLS_SET, type: 'net', members: masq},
    ]
    return this.poolOutput
  }

  /**
   * VXLAN_HOSTS_SET while IPv4 VXLAN is enabled (Felix's VXLANEnabled: FelixConfiguration vxlanEnabled when set, else
   * whether some pool uses VXLAN), or undefined.
   */
  private vxlanHosts(): IPSetState | undefined {
    if (this.vxlanOutput === undefined) {
      let enabled = [...this.pools.values()].some((p) => p.vxlan)
      for (const c of this.effectiveConfigs()) if (c.vxlanEnabled !== undefined) enabled = c.vxlanEnabled
      this.vxlanOutput = enabled ? {id: VXLAN_HOSTS_SET, type: 'net', members: [...new Set(this.vxlanPeers.values())].sort()} : null
    }
    return this.vxlanOutput ?? undefined
  }

  /** The FelixConfigurations that apply to this node, lowest precedence first. */
  private effectiveConfigs(): FelixConfigurationSpec[] {
    const configs: FelixConfigurationSpec[] = []
    const global = this.felixConfigs.get('default')
    if (global) configs.push(global)
    const perNode = this.felixConfigs.get(`node.${this.nodeName}`)
    if (perNode) configs.push(perNode)
    return configs
  }

  /** Groups sorted policies into tiers, keeping only tiers with ≥1 policy passing `include`. */
  private tierList(sorted: PolicyEntry[], include: (p: PolicyEntry) => boolean, forcePass: boolean): TierInfo[] {
    const out: TierInfo[] = []
    for (const p of sorted) {
      if (!include(p)) continue
      let t = out[out.length - 1]
      if (!t || t.name !== p.tier) {
        t = {name: p.tier, defaultAction: forcePass ? 'pass' : this.tierOf(p.tier).defaultAction, ingressPolicies: [], egressPolicies: []}
        out.push(t)
      }
      if (p.ingress) t.ingressPolicies.push(p.key)
      if (p.egress && !p.active.preDNAT) t.egressPolicies.push(p.key)
    }
    return out
  }
}

function poolEntry(spec: IPPoolSpec): PoolEntry {
  if (spec.cidr === undefined) throw new Error('IP pool has no cidr')
  const uses = spec.allowedUses ?? []
  const cidr = normalizeCidr(spec.cidr)
  return {
    cidr,
    vxlan: (spec.vxlanMode === 'Always' || spec.vxlanMode === 'CrossSubnet') && !cidr.includes(':'),
    masquerade: spec.natOutgoing === true,
    // LoadBalancer-only pools hold no workload or tunnel addresses: traffic to them is still masqueraded.
    network: !(uses.length === 1 && uses[0] === 'LoadBalancer'),
  }
}

/**
 * A node's address as a VXLAN peer (`a.b.c.d/32`), or undefined when it has no IPv4 address or no VTEP address yet
 * (Felix's VXLAN resolver sends no VTEP for it then).
 */
function vxlanPeer(spec: NodeSpec): string | undefined {
  const address = spec.bgp?.ipv4Address
  if (!address || !spec.ipv4VXLANTunnelAddr) return undefined
  const peer = hostCidr(address)
  return peer.endsWith('/32') ? peer : undefined
}

/** Counts a source's contribution of member `m` to an IP set. */
function bumpMember(set: SetEntry, m: string, delta: 1 | -1): void {
  const n = (set.members.get(m) ?? 0) + delta
  // Only a member appearing or disappearing changes the output; a refcount change does not.
  if (n <= 0) {
    if (set.members.delete(m)) set.output = undefined
  } else {
    if (n === 1 && delta > 0) set.output = undefined
    set.members.set(m, n)
  }
}

/** Parses a rule list, adding the IP sets each rule references to `sets`. */
function parseRules(list: readonly Rule[] | undefined, policyNamespace: string | undefined, sets: IPSetDef[]): ParsedRule[] {
  if (!list) return []
  const out = new Array<ParsedRule>(list.length)
  for (let i = 0; i < list.length; i++) {
    const p = parseRule(list[i]!, policyNamespace)
    for (let j = 0; j < p.sets.length; j++) sets.push(p.sets[j]!)
    out[i] = p.rule
  }
  return out
}

function denyAll(): ParsedRule {
  return {
    action: 'deny',
    srcNets: [], notSrcNets: [], dstNets: [], notDstNets: [],
    srcIPSets: [], notSrcIPSets: [], dstIPSets: [], notDstIPSets: [],
    srcPorts: [], notSrcPorts: [], dstPorts: [], notDstPorts: [],
    srcNamedPortSets: [], notSrcNamedPortSets: [], dstNamedPortSets: [], notDstNamedPortSets: [],
  }
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ak = Object.keys(a ?? {})
  if (ak.length !== Object.keys(b ?? {}).length) return false
  return ak.every((k) => a![k] === b?.[k])
}

/** An endpoint address as a host CIDR (`10.0.0.1` or `10.0.0.1/32` → `10.0.0.1/32`). */
function hostCidr(s: string): string {
  // Endpoint addresses are host routes: a wider prefix on an endpoint address still means the one address.
  const text = s.includes('/') ? s.slice(0, s.indexOf('/')) : s
  const ip = parseCidr(text)
  // A dotted quad that parses is already in Go's text form (no leading zeros): no need to format it again.
  return ip.version === 4 ? `${text}/32` : formatCIDR(ip)
}

/** Full (non-incremental) computation: a fresh index fed every resource. */
export function computePolicyState(nodeName: string, resources: Iterable<CalcResource>): PolicyState {
  const calc = new PolicyCalculator(nodeName)
  for (const r of resources) calc.update({type: 'set', resource: r})
  return calc.state()
}
