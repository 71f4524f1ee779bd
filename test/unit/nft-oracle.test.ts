// Randomised differential test: random Calico policies over a small world, every packet judged twice: by an
// independent reference interpreter of Calico's documented semantics (written here, straight from the netpol
// README rules), and by the packet evaluator running the RENDERED nftables table. Any disagreement is a bug in
// the calculator or the renderer.
import {describe, expect, it} from 'vitest'
import {entityRuleSelector, parseSelector} from '../../src/api/selector.js'
import {cidrContainsIP, parseIP} from '../../src/api/net.js'
import {parseCidr} from '../../src/dataplane/calc/cidr.js'
import {computePolicyState, namespaceProfile, type CalcResource, type EntityRule, type PolicySpec, type Rule} from '../../src/dataplane/calc/index.js'
import {TableEvaluator, renderTable, type Packet} from '../../src/dataplane/nftables/index.js'

const NODE = 'n1'
const v3 = 'projectcalico.org/v3'

interface Ep {
  name: string
  ns: string
  iface: string
  ips: string[]
  labels: Record<string, string>
  local: boolean
  ports: {name: string; protocol: string; port: number}[]
}

function rng(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 0x100000000
  }
}

const NSS = ['a', 'b']
const NS_LABELS: Record<string, Record<string, string>> = {a: {team: 'red'}, b: {team: 'blue'}}
const PROTO: Record<string, number> = {TCP: 6, UDP: 17, ICMP: 1}

function makeWorld(r: () => number): Ep[] {
  const eps: Ep[] = []
  for (let i = 0; i < 8; i++) {
    const ns = NSS[i % 2]!
    const ips = [`10.0.${i % 3}.${10 + i}`]
    if (i % 4 === 0) ips.push(`fd00::${10 + i}`)
    eps.push({
      name: `p${i}`,
      ns,
      iface: `cali${i}`,
      ips,
      labels: {app: ['web', 'db', 'api'][Math.floor(r() * 3)]!, ...(r() < 0.3 ? {q: 'true'} : {})},
      local: i < 6,
      ports: r() < 0.7 ? [{name: 'svc', protocol: r() < 0.5 ? 'TCP' : 'UDP', port: [80, 81, 8080][Math.floor(r() * 3)]!}] : [],
    })
  }
  return eps
}

function randomEntity(r: () => number, withPorts: boolean): EntityRule | undefined {
  if (r() < 0.3) return undefined
  const e: EntityRule = {}
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!
  if (r() < 0.3) e.nets = [pick(['10.0.0.0/24', '10.0.1.0/24', '10.0.0.0/16', 'fd00::/64', '10.0.2.12/32'])]
  if (r() < 0.2) e.notNets = [pick(['10.0.1.0/24', '10.0.0.10/32', 'fd00::/64'])]
  if (r() < 0.4) e.selector = pick(["app == 'web'", "app != 'db'", 'has(q)', "app in {'api', 'db'}", 'all()'])
  if (r() < 0.2) e.notSelector = pick(['has(q)', "app == 'api'"])
  if (r() < 0.2) e.namespaceSelector = pick(["team == 'red'", 'all()', "team != 'red'"])
  if (withPorts && r() < 0.5) e.ports = r() < 0.5 ? [pick([80, 81, '80:81', 8080])] : ['svc', ...(r() < 0.5 ? [81] : [])]
  if (withPorts && r() < 0.3) e.notPorts = [pick([80, 'svc', '8000:9000', 'svc'])]
  return e
}

function randomRule(r: () => number): Rule {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!
  const action = pick(['Allow', 'Allow', 'Deny', 'Pass', 'Log'])
  const protocol = pick(['TCP', 'UDP', 'ICMP', undefined, undefined])
  const rule: Rule = {action}
  if (protocol) rule.protocol = protocol
  const portsOk = protocol === 'TCP' || protocol === 'UDP'
  const src = randomEntity(r, false)
  const dst = randomEntity(r, portsOk)
  if (src) rule.source = src
  if (dst) rule.destination = dst
  if (protocol === 'ICMP' && r() < 0.5) rule.icmp = {type: 8}
  if (!protocol && r() < 0.15) rule.notProtocol = 'UDP'
  return rule
}

function randomPolicies(r: () => number): CalcResource[] {
  const out: CalcResource[] = [{apiVersion: v3, kind: 'Tier', metadata: {name: 't1'}, spec: {order: 10, defaultAction: r() < 0.5 ? 'Pass' : 'Deny'}}]
  const n = 1 + Math.floor(r() * 4)
  for (let i = 0; i < n; i++) {
    const spec: PolicySpec = {
      tier: r() < 0.3 ? 't1' : 'default',
      selector: ["app == 'web'", 'all()', "app != 'api'", 'has(q)'][Math.floor(r() * 4)]!,
      types: [['Ingress'], ['Egress'], ['Ingress', 'Egress']][Math.floor(r() * 3)]!,
      ingress: Array.from({length: Math.floor(r() * 3)}, () => randomRule(r)),
      egress: Array.from({length: Math.floor(r() * 3)}, () => randomRule(r)),
    }
    if (r() < 0.5) spec.order = Math.floor(r() * 3)
    const name = `${spec.tier === 't1' ? 't1.' : ''}pol${i}`
    out.push(r() < 0.5 ? {apiVersion: v3, kind: 'GlobalNetworkPolicy', metadata: {name}, spec} : {apiVersion: v3, kind: 'NetworkPolicy', metadata: {name, namespace: NSS[i % 2]!}, spec})
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// Reference interpreter (no code shared with the calculator/renderer except the selector language itself).

interface Pkt {
  family: 4 | 6
  saddr: string
  daddr: string
  proto: number
  dport?: number
  icmpType?: number
}

function inNet(ip: string, cidr: string): boolean {
  const a = parseIP(ip)!
  return cidrContainsIP(parseCidr(cidr), a)
}

function allLabels(ep: Ep): Record<string, string> {
  const ns: Record<string, string> = {}
  for (const [k, v] of Object.entries({...NS_LABELS[ep.ns]!, 'projectcalico.org/name': ep.ns})) ns[`pcns.${k}`] = v
  return {...ns, ...ep.labels, 'projectcalico.org/namespace': ep.ns}
}

class Oracle {
  constructor(private readonly eps: Ep[], private readonly policies: CalcResource[]) {}

  private owners(ip: string): Ep[] {
    return this.eps.filter((e) => e.ips.some((x) => parseIP(x)!.value === parseIP(ip)!.value && parseIP(x)!.version === parseIP(ip)!.version))
  }

  /** Does the address belong to an endpoint matching `sel` (the IP-set semantics)? */
  private ipMatches(ip: string, sel: string): boolean {
    const s = parseSelector(sel)
    return this.owners(ip).some((e) => s.matches(allLabels(e)))
  }

  private sideMatches(e: EntityRule | undefined, ns: string | undefined, ip: string, port: number | undefined, proto: number, isDst: boolean, family: 4 | 6): boolean {
    if (!e) return true
    if (e.nets && e.nets.length > 0 && !e.nets.some((n) => parseCidr(n).version === family && inNet(ip, n))) return false
    if (e.notNets && e.notNets.some((n) => parseCidr(n).version === family && inNet(ip, n))) return false
    const pos = entityRuleSelector(e, ns)
    const neg = e.notSelector
    const folded = pos ? (neg ? `(${pos}) && !(${neg})` : pos) : neg ? `!(${neg})` : 'all()'
    const names = (e.ports ?? []).filter((p): p is string => typeof p === 'string' && !/^\d/.test(p))
    const numeric = (e.ports ?? []).filter((p) => !names.includes(p as string))
    const inNumeric = (ps: (string | number)[]): boolean =>
      ps.some((p) => {
        const [lo, hi] = String(p).split(':').map(Number)
        return port !== undefined && port >= lo! && port <= (hi ?? lo!)
      })
    const namedHit = (n: string): boolean =>
      isDst && port !== undefined && this.owners(ip).some((o) => parseSelector(folded).matches(allLabels(o)) && o.ports.some((p) => p.name === n && PROTO[p.protocol] === proto && p.port === port))
    if (e.ports && e.ports.length > 0) {
      const plainOk = numeric.length > 0 && inNumeric(numeric) && (pos ? this.ipMatches(ip, folded) : neg ? !this.ipMatches(ip, neg) : true)
      if (!plainOk && !names.some(namedHit)) return false
    } else if (pos) {
      if (!this.ipMatches(ip, folded)) return false
    } else if (neg) {
      if (this.ipMatches(ip, neg)) return false
    }
    if (e.notPorts && e.notPorts.length > 0) {
      const nn = e.notPorts.filter((p): p is string => typeof p === 'string' && !/^\d/.test(p))
      const num = e.notPorts.filter((p) => !nn.includes(p as string))
      if (inNumeric(num)) return false
      if (nn.some(namedHit)) return false
    }
    return true
  }

  private ruleMatches(rule: Rule, ns: string | undefined, p: Pkt): boolean {
    if (rule.protocol !== undefined && PROTO[rule.protocol as string] !== p.proto) return false
    if (rule.notProtocol !== undefined && PROTO[rule.notProtocol as string] === p.proto) return false
    if (rule.icmp && (p.family !== 4 || p.proto !== 1 || p.icmpType !== rule.icmp.type)) return false
    if (rule.icmp && rule.protocol !== 'ICMP') return false
    if (!this.sideMatches(rule.source, ns, p.saddr, undefined, p.proto, false, p.family)) return false
    return this.sideMatches(rule.destination, ns, p.daddr, p.dport, p.proto, true, p.family)
  }

  /** README "Rules of evaluation: Calico" for one endpoint and direction. */
  allowed(ep: Ep, dir: 'ingress' | 'egress', p: Pkt): boolean {
    const applies = this.policies.filter((pol) => {
      if (pol.kind !== 'GlobalNetworkPolicy' && pol.kind !== 'NetworkPolicy') return false
      const spec = pol.spec as PolicySpec
      if (!(spec.types ?? []).map((t) => t.toLowerCase()).includes(dir)) return false
      if (pol.kind === 'NetworkPolicy' && pol.metadata.namespace !== ep.ns) return false
      return parseSelector(spec.selector ?? 'all()').matches(allLabels(ep))
    })
    const tierOrder = (t: string): number => (t === 't1' ? 10 : 1_000_000)
    const tiers = [...new Set(applies.map((x) => (x.spec as PolicySpec).tier ?? 'default'))].sort((a, b) => tierOrder(a) - tierOrder(b))
    for (const t of tiers) {
      const pols = applies
        .filter((x) => ((x.spec as PolicySpec).tier ?? 'default') === t)
        .sort((a, b) => {
          const oa = (a.spec as PolicySpec).order ?? Infinity
          const ob = (b.spec as PolicySpec).order ?? Infinity
          return oa !== ob ? oa - ob : a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : (a.metadata.namespace ?? '') < (b.metadata.namespace ?? '') ? -1 : 1
        })
      let verdict: 'allow' | 'deny' | 'pass' | undefined
      outer: for (const pol of pols) {
        const spec = pol.spec as PolicySpec
        for (const rule of (dir === 'ingress' ? spec.ingress : spec.egress) ?? []) {
          if (!this.ruleMatches(rule, pol.metadata.namespace, p)) continue
          if (rule.action === 'Log') continue
          verdict = rule.action === 'Allow' ? 'allow' : rule.action === 'Deny' ? 'deny' : 'pass'
          break outer
        }
      }
      if (verdict === 'allow') return true
      if (verdict === 'deny') return false
      if (verdict === undefined) {
        const tierRes = this.policies.find((x) => x.kind === 'Tier' && x.metadata.name === t)
        const def = t === 'default' ? 'Deny' : ((tierRes?.spec as {defaultAction?: string}).defaultAction ?? 'Deny')
        if (def === 'Deny') return false
      }
    }
    return true // namespace profile allows
  }
}

// ---------------------------------------------------------------------------------------------------------------

function resources(eps: Ep[], policies: CalcResource[]): CalcResource[] {
  return [
    ...NSS.map((ns) => namespaceProfile(ns, NS_LABELS[ns]!)),
    ...eps.map((e): CalcResource => ({
      apiVersion: v3,
      kind: 'WorkloadEndpoint',
      metadata: {name: e.name, namespace: e.ns, labels: e.labels},
      spec: {node: e.local ? NODE : 'n2', interfaceName: e.iface, ipNetworks: e.ips, profiles: [`kns.${e.ns}`], ports: e.ports},
    })),
    ...policies,
  ]
}

describe('rendered table ≡ reference interpreter on random policies', () => {
  for (let seed = 1; seed <= 150; seed++) {
    it(`seed ${seed}`, () => {
      const r = rng(seed * 7919)
      const eps = makeWorld(r)
      const policies = randomPolicies(r)
      const state = computePolicyState(NODE, resources(eps, policies))
      const ev = new TableEvaluator(renderTable(state))
      const oracle = new Oracle(eps, policies)
      const external = {name: 'ext', ns: '', iface: 'eth0', ips: ['10.0.1.200', 'fd00::200'], labels: {}, local: false, ports: []}
      const peers = [...eps, external]
      const disagreements: string[] = []
      for (const src of peers) {
        for (const dst of peers) {
          if (src === dst || (!src.local && !dst.local)) continue
          for (const family of [4, 6] as const) {
            const sip = src.ips.find((ip) => parseIP(ip)!.version === family)
            const dip = dst.ips.find((ip) => parseIP(ip)!.version === family)
            if (!sip || !dip) continue
            for (const [proto, dport] of [[6, 80], [6, 81], [17, 8080], [17, 81], [1, undefined]] as const) {
              if (proto === 1 && family === 6) continue
              const p: Pkt = {family, saddr: sip, daddr: dip, proto, ...(dport !== undefined ? {dport} : {icmpType: 8})}
              const expected = (!src.local || oracle.allowed(src, 'egress', p)) && (!dst.local || oracle.allowed(dst, 'ingress', p))
              const pkt: Packet = {...p, ...(dport !== undefined ? {sport: 33000} : {}), iifname: src.local ? src.iface : 'eth0', oifname: dst.local ? dst.iface : 'eth0', ctState: 'new'}
              const actual = ev.evaluatePath(['prerouting', 'forward'], pkt).verdict === 'accept'
              if (actual !== expected) disagreements.push(`${src.name}→${dst.name} v${family} proto ${proto} port ${dport}: oracle ${expected}, table ${actual}`)
            }
          }
        }
      }
      expect(disagreements, JSON.stringify(policies.map((x) => x.spec))).toEqual([])
    })
  }
})
