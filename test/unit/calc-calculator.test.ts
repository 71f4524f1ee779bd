// The policy calculator: ordering, types, staged policies, IP-set membership, named ports, profiles, host endpoint
// tier categories, settings, error handling, and incremental updates ≡ full recomputation.
import {describe, expect, it} from 'vitest'
import {
  PolicyCalculator,
  computePolicyState,
  namespaceProfile,
  type CalcResource,
  type PolicySpec,
  type PolicyState,
  type WorkloadEndpointSpec,
} from '../../src/dataplane/calc/index.js'
import {renderFullScript, renderTable} from '../../src/dataplane/nftables/index.js'

const NODE = 'n1'
const v3 = 'projectcalico.org/v3'

function wep(name: string, ns: string, ip: string, labels: Record<string, string> = {}, spec: Partial<WorkloadEndpointSpec> = {}): CalcResource {
  return {
    apiVersion: v3,
    kind: 'WorkloadEndpoint',
    metadata: {name, namespace: ns, labels},
    spec: {node: NODE, interfaceName: `cali-${name}`, ipNetworks: [ip], profiles: [`kns.${ns}`], ...spec},
  }
}
const gnp = (name: string, spec: PolicySpec): CalcResource => ({apiVersion: v3, kind: 'GlobalNetworkPolicy', metadata: {name}, spec})
const np = (name: string, ns: string, spec: PolicySpec): CalcResource => ({apiVersion: v3, kind: 'NetworkPolicy', metadata: {name, namespace: ns}, spec})
const tier = (name: string, order?: number, defaultAction?: string): CalcResource => ({
  apiVersion: v3,
  kind: 'Tier',
  metadata: {name},
  spec: {...(order !== undefined ? {order} : {}), ...(defaultAction ? {defaultAction} : {})},
})

function state(resources: CalcResource[]): PolicyState {
  return computePolicyState(NODE, resources)
}

function tiersOf(s: PolicyState, iface: string, dir: 'ingress' | 'egress' = 'ingress'): string[][] {
  const ep = s.endpoints.find((e) => e.iface === iface)!
  return ep.tiers.map((t) => [t.name, t.defaultAction, ...(dir === 'ingress' ? t.ingressPolicies : t.egressPolicies)])
}

describe('tier and policy ordering (Felix PolicySorter)', () => {
  const cases: {name: string; resources: CalcResource[]; expected: string[][]}[] = [
    {
      name: 'tiers by order; default tier at 1,000,000; unordered tier last; missing tier after valid ones',
      resources: [
        tier('b', 5), tier('a', 5), tier('late'), tier('first', 1, 'Pass'),
        gnp('p-late', {tier: 'late'}), gnp('p-def', {}), gnp('p-b', {tier: 'b'}), gnp('p-a', {tier: 'a'}),
        gnp('p-first', {tier: 'first'}), gnp('p-ghost', {tier: 'ghost'}),
      ],
      expected: [['first', 'pass', 'gnp/p-first'], ['a', 'deny', 'gnp/p-a'], ['b', 'deny', 'gnp/p-b'], ['default', 'deny', 'gnp/p-def'], ['late', 'deny', 'gnp/p-late'], ['ghost', 'deny', 'gnp/p-ghost']],
    },
    {
      name: 'policies by order (none = last), then name, then namespace',
      resources: [
        gnp('z', {order: 1}), gnp('y', {order: 1}), gnp('none', {}), np('x', 'ns1', {order: 0.5}), gnp('a', {order: 2}),
        np('y', 'ns0', {order: 1}),
      ],
      expected: [['default', 'deny', 'np/ns1/x', 'gnp/y', 'np/ns0/y', 'gnp/z', 'gnp/a', 'gnp/none']],
    },
    {
      name: 'the default tier can be reordered by a Tier resource',
      resources: [tier('default', 0), tier('sec', 10), gnp('d', {}), gnp('s', {tier: 'sec'})],
      expected: [['default', 'deny', 'gnp/d'], ['sec', 'deny', 'gnp/s']],
    },
  ]
  for (const c of cases) {
    it(c.name, () => {
      const s = state([wep('w', 'ns0', '10.0.0.1'), wep('w2', 'ns1', '10.0.0.2'), ...c.resources])
      // Namespaced policies apply only in their namespace: merge both endpoints' views in policy order.
      const merged = tiersOf(s, 'cali-w').map((t, i) => {
        const other = tiersOf(s, 'cali-w2')[i] ?? []
        return [...t, ...other.slice(2).filter((p) => !t.includes(p))]
      })
      if (c.name.startsWith('policies by order')) {
        const ep0 = tiersOf(s, 'cali-w')[0]!.slice(2)
        const ep1 = tiersOf(s, 'cali-w2')[0]!.slice(2)
        expect(ep0).toEqual(['gnp/y', 'np/ns0/y', 'gnp/z', 'gnp/a', 'gnp/none'])
        expect(ep1).toEqual(['np/ns1/x', 'gnp/y', 'gnp/z', 'gnp/a', 'gnp/none'])
      } else {
        expect(merged).toEqual(c.expected)
      }
    })
  }
})

describe('policy types (API defaulting when omitted)', () => {
  const cases: {spec: PolicySpec; ingress: boolean; egress: boolean}[] = [
    {spec: {}, ingress: true, egress: false},
    {spec: {ingress: [{action: 'Allow'}]}, ingress: true, egress: false},
    {spec: {egress: [{action: 'Allow'}]}, ingress: false, egress: true},
    {spec: {ingress: [{action: 'Allow'}], egress: [{action: 'Allow'}]}, ingress: true, egress: true},
    {spec: {types: ['Egress']}, ingress: false, egress: true},
    {spec: {types: ['Ingress', 'Egress']}, ingress: true, egress: true},
    {spec: {types: ['Ingress'], egress: [{action: 'Deny'}]}, ingress: true, egress: false},
  ]
  for (const c of cases) {
    it(JSON.stringify(c.spec), () => {
      const s = state([wep('w', 'ns', '10.0.0.1'), gnp('p', c.spec)])
      const t = s.endpoints[0]!.tiers[0]!
      expect(t.ingressPolicies.length > 0).toBe(c.ingress)
      expect(t.egressPolicies.length > 0).toBe(c.egress)
      // A direction the policy does not cover contributes no rules either.
      if (!c.egress) expect(s.policies.get('gnp/p')!.outbound).toEqual([])
    })
  }
})

describe('selection', () => {
  it('staged policies are never enforced', () => {
    const s = state([
      wep('w', 'ns', '10.0.0.1'),
      {apiVersion: v3, kind: 'StagedGlobalNetworkPolicy', metadata: {name: 'p'}, spec: {ingress: [{action: 'Deny'}]}},
      {apiVersion: v3, kind: 'StagedNetworkPolicy', metadata: {name: 'p', namespace: 'ns'}, spec: {ingress: [{action: 'Deny'}]}},
    ])
    expect(s.endpoints[0]!.tiers).toEqual([])
    expect(s.policies.size).toBe(0)
  })

  it('namespaced policies apply in their namespace; GNP namespaceSelector reads namespace labels', () => {
    const s = state([
      namespaceProfile('a', {team: 'blue'}),
      namespaceProfile('b', {team: 'red'}),
      wep('wa', 'a', '10.0.0.1', {app: 'x'}),
      wep('wb', 'b', '10.0.0.2', {app: 'x'}),
      np('only-a', 'a', {selector: "app == 'x'"}),
      gnp('blue', {namespaceSelector: "team == 'blue'"}),
      gnp('all-ns', {namespaceSelector: 'all()'}),
    ])
    expect(tiersOf(s, 'cali-wa')[0]!.slice(2)).toEqual(['gnp/all-ns', 'gnp/blue', 'np/a/only-a'])
    expect(tiersOf(s, 'cali-wb')[0]!.slice(2)).toEqual(['gnp/all-ns'])
  })

  it('only local endpoints get tiers; endpoints without addresses are ignored', () => {
    const s = state([
      wep('local', 'ns', '10.0.0.1'),
      wep('remote', 'ns', '10.0.0.2', {}, {node: 'other'}),
      {apiVersion: v3, kind: 'WorkloadEndpoint', metadata: {name: 'noip', namespace: 'ns'}, spec: {node: NODE, interfaceName: 'cali-noip', profiles: []}},
      gnp('p', {ingress: [{action: 'Allow', source: {selector: 'all()'}}]}),
    ])
    expect(s.endpoints.map((e) => e.iface)).toEqual(['cali-local'])
    const calc = new PolicyCalculator(NODE)
    calc.update({type: 'set', resource: wep('a-very-long-interface-name', 'ns', '10.0.0.8/32')})
    expect(calc.problems().get('WorkloadEndpoint/ns/a-very-long-interface-name')).toMatch(/longer than 15 bytes/)
    expect(calc.state().endpoints).toEqual([])
    const noIface = state([{apiVersion: v3, kind: 'WorkloadEndpoint', metadata: {name: 'x', namespace: 'ns'}, spec: {node: NODE, ipNetworks: ['10.0.0.9/32']}}])
    expect(noIface.endpoints).toEqual([])
    expect([...s.ipSets.values()][0]!.members).toEqual(['10.0.0.1/32', '10.0.0.2/32'])
  })

  it('an endpoint naming a missing profile gets a fail-closed stand-in', () => {
    const s = state([wep('w', 'ns', '10.0.0.1')])
    const p = s.profiles.get('kns.ns')!
    expect(p.missing).toBe(true)
    expect(p.inbound.map((r) => r.action)).toEqual(['deny'])
  })

  it('host endpoints split doNotTrack / preDNAT / applyOnForward policies into their own tier lists', () => {
    const hep: CalcResource = {apiVersion: v3, kind: 'HostEndpoint', metadata: {name: 'h', labels: {h: 'y'}}, spec: {node: NODE, interfaceName: 'eth0', expectedIPs: ['192.168.0.1']}}
    const s = state([
      hep,
      wep('w', 'ns', '10.0.0.1', {h: 'y'}),
      gnp('normal', {selector: 'has(h)', ingress: [{action: 'Allow'}]}),
      gnp('untracked', {selector: 'has(h)', doNotTrack: true, applyOnForward: true, ingress: [{action: 'Allow'}]}),
      gnp('prednat', {selector: 'has(h)', preDNAT: true, applyOnForward: true, ingress: [{action: 'Deny'}]}),
      gnp('fwd', {selector: 'has(h)', applyOnForward: true, ingress: [{action: 'Allow'}]}),
    ])
    const h = s.endpoints.find((e) => e.kind === 'host')!
    const names = (ts: typeof h.tiers): string[] => ts.flatMap((t) => [`${t.name}:${t.defaultAction}`, ...t.ingressPolicies])
    expect(names(h.tiers)).toEqual(['default:deny', 'gnp/fwd', 'gnp/normal'])
    expect(names(h.untrackedTiers)).toEqual(['default:pass', 'gnp/untracked'])
    expect(names(h.preDnatTiers)).toEqual(['default:pass', 'gnp/prednat'])
    expect(names(h.forwardTiers)).toEqual(['default:deny', 'gnp/fwd'])
    // Workload endpoints never run untracked or preDNAT policy.
    const w = s.endpoints.find((e) => e.kind === 'workload')!
    expect(names(w.tiers)).toEqual(['default:deny', 'gnp/fwd', 'gnp/normal'])
    expect(h.iface).toBe('eth0')
    expect(h.ipv4Nets).toEqual(['192.168.0.1/32'])
  })
})

describe('IP sets', () => {
  it('one set per distinct selector, shared by rules; members from endpoints and network sets, deduplicated', () => {
    const rule = {action: 'Allow', source: {selector: "role == 'db'"}}
    const calc = new PolicyCalculator(NODE)
    const rs: CalcResource[] = [
      wep('w', 'ns', '10.0.0.1'),
      wep('db1', 'ns', '10.0.1.1', {role: 'db'}, {node: 'other'}),
      wep('db2', 'ns', '10.0.1.1', {role: 'db'}, {node: 'other2'}),
      {apiVersion: v3, kind: 'GlobalNetworkSet', metadata: {name: 'ext', labels: {role: 'db'}}, spec: {nets: ['172.16.0.0/12', '2001:db8::/32']}},
      gnp('p1', {ingress: [rule]}),
      gnp('p2', {ingress: [rule, {action: 'Allow', source: {selector: "role == 'db' "}}]}),
    ]
    for (const r of rs) calc.update({type: 'set', resource: r})
    let s = calc.state()
    expect(s.ipSets.size).toBe(1)
    const [set] = [...s.ipSets.values()]
    expect(set!.id).toMatch(/^s:[A-Za-z0-9_-]{38}$/)
    expect(set!.members).toEqual(['10.0.1.1/32', '172.16.0.0/12', '2001:db8::/32'])
    expect(s.policies.get('gnp/p1')!.inbound[0]!.srcIPSets).toEqual([set!.id])
    // Two endpoints share 10.0.1.1: removing one keeps the member.
    calc.update({type: 'delete', kind: 'WorkloadEndpoint', name: 'db1', namespace: 'ns'})
    s = calc.state()
    expect([...s.ipSets.values()][0]!.members).toContain('10.0.1.1/32')
    calc.update({type: 'delete', kind: 'WorkloadEndpoint', name: 'db2', namespace: 'ns'})
    expect([...calc.state().ipSets.values()][0]!.members).toEqual(['172.16.0.0/12', '2001:db8::/32'])
    // A set lives only while an active policy uses it.
    calc.update({type: 'delete', kind: 'GlobalNetworkPolicy', name: 'p1'})
    calc.update({type: 'delete', kind: 'GlobalNetworkPolicy', name: 'p2'})
    expect(calc.state().ipSets.size).toBe(0)
  })

  it('sets exist only for active policies (policies that select a local endpoint)', () => {
    const s = state([wep('w', 'ns', '10.0.0.1', {app: 'a'}), gnp('inactive', {selector: "app == 'b'", ingress: [{action: 'Allow', source: {selector: 'x == "1"'}}]})])
    expect(s.ipSets.size).toBe(0)
    expect(s.policies.size).toBe(0)
  })

  it('named ports become ip,proto:port sets over the (folded) selector', () => {
    const s = state([
      wep('w', 'ns', '10.0.0.1', {app: 'a'}, {ports: [{name: 'http', protocol: 'TCP', port: 8080}, {name: 'http', protocol: 'UDP', port: 9090}]}),
      wep('w2', 'ns', '10.0.0.2', {app: 'b'}, {ports: [{name: 'http', port: 80}], node: 'other'}),
      wep('w3', 'ns', '10.0.0.3', {app: 'b', bad: 'y'}, {ports: [{name: 'http', port: 81}], node: 'other'}),
      gnp('p', {ingress: [{action: 'Allow', protocol: 'TCP', destination: {ports: ['http']}}], egress: [{action: 'Allow', protocol: 6, destination: {selector: "app == 'b'", notSelector: 'has(bad)', ports: ['http', 443]}}]}),
    ])
    const pol = s.policies.get('gnp/p')!
    const inSet = s.ipSets.get(pol.inbound[0]!.dstNamedPortSets[0]!)!
    expect(inSet.type).toBe('ip-port')
    expect(inSet.members).toEqual(['10.0.0.1,6:8080', '10.0.0.2,6:80', '10.0.0.3,6:81'])
    // Only named ports: no plain selector set is needed (Felix's RuleScanner).
    expect(pol.inbound[0]!.dstIPSets).toEqual([])
    const out = pol.outbound[0]!
    expect(s.ipSets.get(out.dstNamedPortSets[0]!)!.members).toEqual(['10.0.0.2,6:80'])
    expect(s.ipSets.get(out.dstIPSets[0]!)!.members).toEqual(['10.0.0.2/32'])
    expect(out.dstPorts).toEqual([{first: 443, last: 443}])
  })

  it('a lone notSelector becomes a negated set in a global policy but is folded with the namespace in a namespaced one', () => {
    const s = state([
      wep('w', 'ns', '10.0.0.1', {app: 'a'}),
      gnp('g', {ingress: [{action: 'Allow', source: {notSelector: "app == 'x'"}}]}),
      np('n', 'ns', {ingress: [{action: 'Allow', source: {notSelector: "app == 'x'"}}]}),
    ])
    const g = s.policies.get('gnp/g')!.inbound[0]!
    expect(g.srcIPSets).toEqual([])
    expect(g.notSrcIPSets).toHaveLength(1)
    const n = s.policies.get('np/ns/n')!.inbound[0]!
    expect(n.notSrcIPSets).toEqual([])
    expect(n.srcIPSets).toHaveLength(1)
  })
})

describe('rule parsing', () => {
  it('protocols by name and number, port ranges, ICMP, nets normalised, actions', () => {
    const s = state([
      wep('w', 'ns', '10.0.0.1'),
      gnp('p', {
        ingress: [
          {action: 'Allow', protocol: 'UDPLite', destination: {ports: ['1000:2000', 53, '8080']}},
          {action: 'Deny', protocol: 'ICMP', icmp: {type: 8, code: 0}, source: {nets: ['10.1.2.3/16']}},
          {action: 'Pass', protocol: 58, notICMP: {type: 128}},
          {action: 'Log', notProtocol: 'sctp', destination: {notNets: ['2001:db8::1']}},
        ],
      }),
    ])
    const [a, b, c, d] = s.policies.get('gnp/p')!.inbound
    expect(a).toMatchObject({action: 'allow', protocol: 136, dstPorts: [{first: 1000, last: 2000}, {first: 53, last: 53}, {first: 8080, last: 8080}]})
    expect(b).toMatchObject({action: 'deny', protocol: 1, ipVersion: 4, icmp: {type: 8, code: 0}, srcNets: ['10.1.0.0/16']})
    expect(c).toMatchObject({action: 'pass', protocol: 58, ipVersion: 6, notICMP: {type: 128}})
    expect(d).toMatchObject({action: 'log', notProtocol: 132, notDstNets: ['2001:db8::1/128']})
  })

  it('reports a resource it cannot interpret and treats it as absent until fixed', () => {
    const calc = new PolicyCalculator(NODE)
    calc.update({type: 'set', resource: wep('w', 'ns', '10.0.0.1')})
    calc.update({type: 'set', resource: gnp('p', {ingress: [{action: 'Allow'}]})})
    expect(calc.state().policies.has('gnp/p')).toBe(true)
    calc.update({type: 'set', resource: gnp('p', {selector: 'app ==', ingress: [{action: 'Allow'}]})})
    expect(calc.problems().get('GlobalNetworkPolicy/p')).toMatch(/column/)
    expect(calc.state().policies.has('gnp/p')).toBe(false)
    calc.update({type: 'set', resource: gnp('p', {ingress: [{action: 'Jump'}]})})
    expect(calc.problems().get('GlobalNetworkPolicy/p')).toMatch(/unknown rule action/)
    calc.update({type: 'set', resource: gnp('p', {ingress: [{action: 'Allow'}]})})
    expect(calc.problems().size).toBe(0)
    expect(calc.state().policies.has('gnp/p')).toBe(true)
  })
})

describe('FelixConfiguration settings', () => {
  it('default overlaid by node.<name>; other nodes ignored', () => {
    const fc = (name: string, spec: Record<string, unknown>): CalcResource => ({apiVersion: v3, kind: 'FelixConfiguration', metadata: {name}, spec})
    const s = state([
      fc('default', {defaultEndpointToHostAction: 'Accept', logPrefix: 'x', failsafeInboundHostPorts: [{protocol: 'UDP', port: 1}]}),
      fc(`node.${NODE}`, {defaultEndpointToHostAction: 'Return', iptablesFilterDenyAction: 'REJECT'}),
      fc('node.other', {logPrefix: 'nope'}),
    ]).settings
    expect(s).toMatchObject({defaultEndpointToHostAction: 'return', logPrefix: 'x', denyAction: 'reject', failsafeInbound: [{protocol: 'udp', port: 1}]})
    expect(s.failsafeOutbound.map((p) => `${p.protocol}:${p.port}`)).toContain('udp:53')
    expect(state([]).settings.defaultEndpointToHostAction).toBe('drop')
  })
})

describe('incremental updates ≡ full recomputation (randomised)', () => {
  // Deterministic PRNG so failures reproduce.
  function rng(seed: number): () => number {
    let x = seed
    return () => {
      x = (x * 1103515245 + 12345) & 0x7fffffff
      return x / 0x7fffffff
    }
  }
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}`, () => {
      const r = rng(seed)
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
      const apps = ['a', 'b', 'c']
      const nss = ['n1', 'n2']
      const world = new Map<string, CalcResource>()
      const calc = new PolicyCalculator(NODE)
      const key = (x: CalcResource): string => `${x.kind}/${x.metadata.namespace ?? ''}/${x.metadata.name}`
      for (let step = 0; step < 300; step++) {
        const choice = r()
        let res: CalcResource
        if (choice < 0.35) {
          const i = Math.floor(r() * 8)
          res = wep(`w${i}`, pick(nss), `10.0.0.${i % 5}`, {app: pick(apps)}, {node: r() < 0.6 ? NODE : 'other', ports: [{name: 'p', port: 80 + (i % 2)}]})
        } else if (choice < 0.5) {
          res = namespaceProfile(pick(nss), {team: pick(['x', 'y'])})
        } else if (choice < 0.8) {
          const app = pick(apps)
          res = r() < 0.5
            ? gnp(`g${Math.floor(r() * 4)}`, {tier: pick(['default', 't1']), order: Math.floor(r() * 3), selector: `app == '${app}'`, ingress: [{action: pick(['Allow', 'Deny', 'Pass']), protocol: 'TCP', source: {selector: `app == '${pick(apps)}'`}, destination: {ports: ['p']}}]})
            : np(`p${Math.floor(r() * 4)}`, pick(nss), {selector: `app == '${app}'`, egress: [{action: 'Allow', destination: {namespaceSelector: `team == '${pick(['x', 'y'])}'`}}]})
        } else if (choice < 0.9) {
          res = {apiVersion: v3, kind: 'NetworkSet', metadata: {name: `s${Math.floor(r() * 2)}`, namespace: pick(nss), labels: {app: pick(apps)}}, spec: {nets: [`192.168.${Math.floor(r() * 3)}.0/24`]}}
        } else {
          res = tier('t1', Math.floor(r() * 3) * 1_000_000, pick(['Deny', 'Pass']))
        }
        if (r() < 0.25 && world.size > 0) {
          const victim = pick([...world.values()])
          world.delete(key(victim))
          calc.update({type: 'delete', kind: victim.kind, name: victim.metadata.name!, ...(victim.metadata.namespace ? {namespace: victim.metadata.namespace} : {})})
        } else {
          world.set(key(res), res)
          calc.update({type: 'set', resource: res})
        }
        // Often enough that the calculator's and the renderer's memoised outputs are reused across changes.
        if (step % 5 === 4) {
          const inc = calc.state()
          const full = computePolicyState(NODE, world.values())
          expect(inc).toEqual(full)
          expect(renderFullScript(renderTable(inc))).toBe(renderFullScript(renderTable(full)))
        }
      }
    })
  }
})

describe('host endpoints by address', () => {
  it('an endpoint without interfaceName applies to the interfaces holding its expectedIPs; a named one wins', () => {
    const calc = new PolicyCalculator(NODE)
    const hepR = (name: string, spec: Record<string, unknown>): CalcResource => ({apiVersion: v3, kind: 'HostEndpoint', metadata: {name}, spec: {node: NODE, ...spec}})
    calc.update({type: 'set', resource: hepR('by-ip', {expectedIPs: ['192.168.1.10', '10.1.1.1']})})
    expect(calc.state().endpoints).toEqual([])
    calc.setHostInterfaces(new Map([['eth0', ['192.168.1.10/24']], ['eth1', ['10.1.1.1']], ['eth2', ['172.16.0.1']]]))
    expect(calc.state().endpoints.map((e) => `${e.iface}:${e.key}`)).toEqual(['eth0:hep/by-ip', 'eth1:hep/by-ip'])
    calc.update({type: 'set', resource: hepR('named', {interfaceName: 'eth1'})})
    expect(calc.state().endpoints.map((e) => `${e.iface}:${e.key}`)).toEqual(['eth0:hep/by-ip', 'eth1:hep/named'])
  })

  it('rejects rules with services matches rather than widening them', () => {
    const calc = new PolicyCalculator(NODE)
    calc.update({type: 'set', resource: gnp('svc', {ingress: [{action: 'Allow', destination: {services: {name: 'kube-dns', namespace: 'kube-system'}} as never}]})})
    expect(calc.problems().get('GlobalNetworkPolicy/svc')).toMatch(/services/)
  })
})

describe('namespaceSelector all() and global() in rules', () => {
  it('all() = namespaced things (pods, NetworkSets); global() = host endpoints and GlobalNetworkSets', () => {
    const s = state([
      wep('w', 'ns', '10.0.0.1'),
      {apiVersion: v3, kind: 'NetworkSet', metadata: {name: 'ns-set', namespace: 'ns'}, spec: {nets: ['172.16.0.0/16']}},
      {apiVersion: v3, kind: 'GlobalNetworkSet', metadata: {name: 'g-set'}, spec: {nets: ['172.17.0.0/16']}},
      {apiVersion: v3, kind: 'HostEndpoint', metadata: {name: 'h'}, spec: {node: 'other', interfaceName: 'eth0', expectedIPs: ['192.168.0.9']}},
      gnp('p', {ingress: [{action: 'Allow', source: {namespaceSelector: 'all()'}}, {action: 'Deny', source: {namespaceSelector: 'global()'}}]}),
    ])
    const [all, global] = s.policies.get('gnp/p')!.inbound
    expect(s.ipSets.get(all!.srcIPSets[0]!)!.members).toEqual(['10.0.0.1/32', '172.16.0.0/16'])
    expect(s.ipSets.get(global!.srcIPSets[0]!)!.members).toEqual(['172.17.0.0/16', '192.168.0.9/32'])
  })
})
