// nftables rendering: golden listings for small states, rule → nft text table, names, and packet-level
// semantics of the static chains, host endpoints, failsafes, untracked/preDNAT/forward policy (via the evaluator).
import {readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {computePolicyState, type CalcResource, type ParsedRule, type PolicySpec} from '../../src/dataplane/calc/index.js'
import {TableEvaluator, chainText, diffTables, renderFullScript, renderListing, renderTable, setName, type NftTable, type Packet} from '../../src/dataplane/nftables/index.js'
import {limitedName, policyChainName} from '../../src/dataplane/nftables/names.js'
import {renderRule} from '../../src/dataplane/nftables/rule-render.js'
import {ruleText} from '../../src/dataplane/nftables/text.js'

const goldenDir = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/nft')
const v3 = 'projectcalico.org/v3'
const NODE = 'n1'

function golden(name: string, actual: string): void {
  const path = join(goldenDir, name)
  // UPDATE_GOLDEN=1 rewrites the files; review the diff before committing.
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, actual)
  expect(actual).toBe(readFileSync(path, 'utf8'))
}

const profile = (name: string, allow = true): CalcResource => ({
  apiVersion: v3,
  kind: 'Profile',
  metadata: {name},
  spec: allow ? {ingress: [{action: 'Allow'}], egress: [{action: 'Allow'}]} : {},
})
const wep = (name: string, iface: string, ip: string, labels: Record<string, string> = {}): CalcResource => ({
  apiVersion: v3,
  kind: 'WorkloadEndpoint',
  metadata: {name, namespace: 'fv', labels: {name, ...labels}},
  spec: {node: NODE, interfaceName: iface, ipNetworks: [ip], profiles: ['default']},
})
const gnp = (name: string, spec: PolicySpec): CalcResource => ({apiVersion: v3, kind: 'GlobalNetworkPolicy', metadata: {name}, spec})
const fc = (spec: Record<string, unknown>): CalcResource => ({apiVersion: v3, kind: 'FelixConfiguration', metadata: {name: 'default'}, spec})
const hep = (name: string, iface: string, ips: string[], labels: Record<string, string> = {}, profiles: string[] = []): CalcResource => ({
  apiVersion: v3,
  kind: 'HostEndpoint',
  metadata: {name, labels},
  spec: {node: NODE, interfaceName: iface, expectedIPs: ips, profiles},
})

/** FV scenario 2 (felix-dataplane.md §8.2): w0 accepts ingress only from w1. */
const fvPolicy1: CalcResource[] = [
  profile('default'),
  wep('w0', 'cali0', '10.65.0.10/32'),
  wep('w1', 'cali1', '10.65.0.11/32'),
  wep('w2', 'cali2', '10.65.0.12/32'),
  {apiVersion: v3, kind: 'NetworkPolicy', metadata: {name: 'policy-1', namespace: 'fv'}, spec: {selector: "name=='w0'", ingress: [{action: 'Allow', source: {selector: "name=='w1'"}}]}},
  fc({ipv6Support: false}),
]

function tcp(from: string, to: string, port: number, extra: Partial<Packet> = {}): Packet {
  return {family: 4, saddr: from, daddr: to, proto: 6, sport: 40000, dport: port, ctState: 'new', ...extra}
}

describe('golden renders', () => {
  it('FV scenario 2: one ingress policy on w0 (listing)', () => {
    golden('fv-policy-1.nft', renderListing(renderTable(computePolicyState(NODE, fvPolicy1))))
  })
  it('host endpoint with failsafes, tiers and a Pass default', () => {
    const state = computePolicyState(NODE, [
      {apiVersion: v3, kind: 'Tier', metadata: {name: 'infra'}, spec: {order: 10, defaultAction: 'Pass'}},
      hep('eth0', 'eth0', ['192.168.1.10'], {role: 'node'}),
      gnp('infra.ssh', {tier: 'infra', selector: "role == 'node'", ingress: [{action: 'Allow', protocol: 'TCP', source: {nets: ['10.0.0.0/8']}, destination: {ports: [22]}}]}),
      fc({ipv6Support: false, failsafeInboundHostPorts: [{protocol: 'TCP', port: 22, net: '192.168.0.0/16'}], failsafeOutboundHostPorts: []}),
    ])
    golden('hep-failsafe.nft', renderListing(renderTable(state)))
  })
})

describe('golden deltas', () => {
  const base = renderTable(computePolicyState(NODE, fvPolicy1))
  it('a new workload endpoint: its chains and dispatch map elements only', () => {
    const next = renderTable(computePolicyState(NODE, [...fvPolicy1, wep('w3', 'cali3', '10.65.0.13/32')]))
    const d = diffTables(base, next)
    expect(d.stats).toMatchObject({chainsAdded: 2, chainsChanged: 0, chainsDeleted: 0, mapElementsChanged: 2})
    golden('delta-add-endpoint.nft', d.script)
  })
  it('a policy edit that changes its source selector: new set, chain refilled, old set deleted', () => {
    const edited = fvPolicy1.map((r) =>
      r.metadata.name === 'policy-1' ? {...r, spec: {selector: "name=='w0'", ingress: [{action: 'Allow', source: {selector: "name in {'w1', 'w2'}"}}]}} : r,
    ) as CalcResource[]
    const d = diffTables(base, renderTable(computePolicyState(NODE, edited)))
    expect(d.stats).toMatchObject({chainsAdded: 0, chainsChanged: 1, chainsDeleted: 0, setElementsAdded: 2})
    golden('delta-edit-policy.nft', d.script)
    expect(diffTables(base, renderTable(computePolicyState(NODE, fvPolicy1))).script).toBe('')
  })
  it('an endpoint removed: a set or map that loses elements is flushed and refilled, never by element commands', () => {
    // `add/delete element` would make nft dump the elements of every interval set into its cache first.
    const withW3 = renderTable(computePolicyState(NODE, [...fvPolicy1, wep('w3', 'cali3', '10.65.0.13/32')]))
    const d = diffTables(withW3, base)
    expect(d.script).not.toMatch(/^(add|delete) element /m)
    expect(d.script).toContain('flush map inet calico filter-cali-to-wl-dispatch\ntable inet calico { map filter-cali-to-wl-dispatch { type ifname : verdict; elements = { ')
    expect(d.stats).toMatchObject({chainsDeleted: 2, mapElementsChanged: 2})
    expect(diffTables(base, withW3).script).not.toMatch(/^(add|delete) element |^flush (set|map)/m)
  })
  it('the start-up script replaces the table atomically', () => {
    golden('full-fv-policy-1.nft', renderFullScript(base))
  })
})

describe('rule → nft text', () => {
  const base: ParsedRule = {
    action: 'allow',
    srcNets: [], notSrcNets: [], dstNets: [], notDstNets: [],
    srcIPSets: [], notSrcIPSets: [], dstIPSets: [], notDstIPSets: [],
    srcPorts: [], notSrcPorts: [], dstPorts: [], notDstPorts: [],
    srcNamedPortSets: [], notSrcNamedPortSets: [], dstNamedPortSets: [], notDstNamedPortSets: [],
  }
  const S = 's:abc'
  const cases: {name: string; rule: Partial<ParsedRule>; families?: (4 | 6)[]; expected: string[]}[] = [
    {name: 'allow all', rule: {}, expected: ['counter meta mark set mark or 0x10000 return']},
    {name: 'deny', rule: {action: 'deny'}, expected: ['counter drop']},
    {name: 'pass', rule: {action: 'pass', protocol: 6}, expected: ['meta l4proto 6 counter meta mark set mark or 0x20000 return']},
    {name: 'log', rule: {action: 'log'}, expected: ['counter log prefix "calico-packet: " level info']},
    {name: 'not protocol', rule: {notProtocol: 17}, expected: ['meta l4proto != 17 counter meta mark set mark or 0x10000 return']},
    {
      name: 'ports and ranges',
      rule: {protocol: 6, dstPorts: [{first: 80, last: 80}, {first: 8000, last: 8100}], notSrcPorts: [{first: 1, last: 1023}]},
      expected: ['meta l4proto 6 th dport { 80, 8000-8100 } th sport != 1-1023 counter meta mark set mark or 0x10000 return'],
    },
    {
      name: 'nets split by family; a positive list with no address of a family drops that family',
      rule: {srcNets: ['10.0.0.0/8', 'fd00::/8'], dstNets: ['192.168.0.1/32']},
      families: [4, 6],
      expected: ['ip saddr 10.0.0.0/8 ip daddr 192.168.0.1 counter meta mark set mark or 0x10000 return'],
    },
    {
      name: 'negated nets of the other family do not constrain',
      rule: {notSrcNets: ['10.0.0.0/8']},
      families: [4, 6],
      expected: ['ip saddr != 10.0.0.0/8 counter meta mark set mark or 0x10000 return', 'counter meta mark set mark or 0x10000 return'],
    },
    {
      name: 'selector sets per family',
      rule: {srcIPSets: [S], notDstIPSets: [S]},
      families: [4, 6],
      expected: [
        `ip saddr @${setName(4, S)} ip daddr != @${setName(4, S)} counter meta mark set mark or 0x10000 return`,
        `ip6 saddr @${setName(6, S)} ip6 daddr != @${setName(6, S)} counter meta mark set mark or 0x10000 return`,
      ],
    },
    {
      name: 'numeric OR named ports: one rule per alternative',
      rule: {protocol: 6, dstIPSets: [S], dstPorts: [{first: 443, last: 443}], dstNamedPortSets: ['n:x']},
      expected: [
        `meta l4proto 6 ip daddr @${setName(4, S)} th dport 443 counter meta mark set mark or 0x10000 return`,
        `meta l4proto 6 ip daddr @${setName(4, S)} ip daddr . meta l4proto . th dport @${setName(4, 'n:x')} counter meta mark set mark or 0x10000 return`,
      ],
    },
    {
      name: 'negated named port',
      rule: {protocol: 17, notDstNamedPortSets: ['n:y']},
      expected: [`meta l4proto 17 ip daddr . meta l4proto . th dport != @${setName(4, 'n:y')} counter meta mark set mark or 0x10000 return`],
    },
    {
      name: 'ICMP type/code and negated type+code',
      rule: {protocol: 1, ipVersion: 4, icmp: {type: 8, code: 0}, notICMP: {type: 3, code: 1}},
      families: [4, 6],
      expected: ['meta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0 icmp type . icmp code != { 3 . 1 } counter meta mark set mark or 0x10000 return'],
    },
    {name: 'ports without protocol guard on port protocols', rule: {dstPorts: [{first: 53, last: 53}]}, expected: ['meta l4proto { 6, 17, 132, 136 } th dport 53 counter meta mark set mark or 0x10000 return']},
  ]
  for (const c of cases) {
    it(c.name, () => {
      const rules = renderRule({...base, ...c.rule}, {families: c.families ?? [4], logPrefix: 'calico-packet', denyAction: 'drop'})
      expect(rules.map(ruleText)).toEqual(c.expected)
    })
  }
})

describe('names', () => {
  it('long or unusual policy names are hashed deterministically within the limit', () => {
    const long = `gnp/${'x'.repeat(300)}`
    const a = policyChainName('filter', 'in', long)
    expect(a.length).toBeLessThanOrEqual(200)
    expect(a).toMatch(/^filter-cali-pi-_[A-Za-z0-9_-]+$/)
    expect(policyChainName('filter', 'in', long)).toBe(a)
    expect(policyChainName('filter', 'in', `${long}y`)).not.toBe(a)
    expect(limitedName('p-', 'has space')).toMatch(/^p-_/)
    expect(policyChainName('raw', 'out', 'np/ns/web.v1')).toBe('raw-cali-po-np/ns/web.v1')
    expect(setName(6, 's:ab_c-d')).toBe('cali60s-ab_c-d')
  })
})

describe('packet semantics of the rendered table', () => {
  it('FV scenario 2: only w1 reaches w0; w0 egress and others unaffected; unknown cali interface dropped', () => {
    const table = renderTable(computePolicyState(NODE, fvPolicy1))
    const ev = new TableEvaluator(table)
    const fwd = (from: [string, string], to: [string, string], extra: Partial<Packet> = {}): string =>
      ev.evaluatePath(['prerouting', 'forward'], tcp(from[1], to[1], 8055, {iifname: from[0], oifname: to[0], ...extra})).verdict
    const w0: [string, string] = ['cali0', '10.65.0.10']
    const w1: [string, string] = ['cali1', '10.65.0.11']
    const w2: [string, string] = ['cali2', '10.65.0.12']
    expect(fwd(w1, w0)).toBe('accept')
    expect(fwd(w2, w0)).toBe('drop')
    expect(fwd(w0, w1)).toBe('accept')
    expect(fwd(w0, w2)).toBe('accept')
    // Established flows skip policy; invalid ones are dropped.
    expect(fwd(w2, w0, {ctState: 'established'})).toBe('accept')
    expect(fwd(w1, w0, {ctState: 'invalid'})).toBe('drop')
    // Fail closed: a cali interface the agent does not know carries nothing.
    expect(fwd(['caliZ', '10.65.0.99'], w1)).toBe('drop')
    expect(fwd(w1, ['caliZ', '10.65.0.99'])).toBe('drop')
    // Workloads may not send VXLAN/IPIP.
    expect(ev.evaluatePath(['forward'], {family: 4, saddr: '10.65.0.11', daddr: '1.1.1.1', proto: 17, sport: 1, dport: 4789, iifname: 'cali1', oifname: 'eth0', ctState: 'new'}).verdict).toBe('drop')
    // The rule text identifies the policy.
    expect(chainText(table, 'filter-cali-pi-np/fv/policy-1')[0]).toContain('NetworkPolicy fv/policy-1 ingress')
    // The evaluator explains its verdicts: the trace names the end-of-tier drop.
    const denied = ev.evaluatePath(['forward'], tcp('10.65.0.12', '10.65.0.10', 8055, {iifname: 'cali2', oifname: 'cali0'}))
    expect(denied.trace.at(-1)).toContain('End of tier default. Drop if no policies passed packet')
  })

  it('per-packet cost: an established pod-to-pod packet enters 2 base chains and 8 rules, none of them counted', () => {
    // raw PREROUTING (IPv6 skip, then the RPF check), filter FORWARD (IPv6 skip, cali-FORWARD, from-workload
    // dispatch, the endpoint chain's conntrack accept). No mangle hooks, no forward host endpoint dispatch and no
    // second mark clear: with no host endpoint they would only cost.
    const table = renderTable(computePolicyState(NODE, fvPolicy1))
    const est = new TableEvaluator(table).evaluatePath(['prerouting', 'forward', 'postrouting'], tcp('10.65.0.11', '10.65.0.10', 8055, {iifname: 'cali1', oifname: 'cali0', ctState: 'established'}))
    expect(est).toMatchObject({verdict: 'accept', chainsEntered: 2, rulesVisited: 8})
    expect(est.trace.at(-1)).toBe('filter-cali-fw-cali1: ct state established,related accept')
    expect(est.trace.filter((t) => / counter /.test(t))).toEqual([])
    // Counted: policy rules and refusals.
    expect(chainText(table, 'filter-cali-pi-np/fv/policy-1')[0]).toMatch(/ counter meta mark set mark or 0x10000 return /)
    expect(chainText(table, 'filter-cali-from-wl-dispatch')).toEqual(['iifname vmap @filter-cali-from-wl-dispatch', 'counter drop comment "Unknown interface"'])
    // Host endpoints bring back the hooks and dispatch their policy needs, and only those.
    const hooks = (t: NftTable): string[] => [...t.chains.values()].filter((c) => c.base).map((c) => c.name).sort()
    const withHep = (spec: PolicySpec): NftTable => renderTable(computePolicyState(NODE, [...fvPolicy1, hep('h', 'eth0', ['192.168.1.10'], {hostep: 'true'}), gnp('p', {selector: "hostep == 'true'", ...spec})]))
    const always = ['filter-FORWARD', 'filter-INPUT', 'filter-OUTPUT', 'raw-OUTPUT', 'raw-PREROUTING']
    expect(hooks(table)).toEqual(always)
    expect(hooks(withHep({ingress: [{action: 'Allow'}]}))).toEqual([...always, 'mangle-POSTROUTING'].sort())
    const preDnat = withHep({preDNAT: true, applyOnForward: true, ingress: [{action: 'Allow'}]})
    expect(hooks(preDnat)).toEqual([...always, 'mangle-POSTROUTING', 'mangle-PREROUTING'].sort())
    expect(chainText(preDnat, 'filter-cali-FORWARD')).not.toContain('jump filter-cali-from-hep-forward')
    expect(chainText(preDnat, 'filter-cali-FORWARD')[0]).toBe('meta mark set mark & 0xffe5ffff')
    expect(chainText(table, 'filter-cali-FORWARD')).toEqual(['iifname "cali*" jump filter-cali-from-wl-dispatch', 'oifname "cali*" jump filter-cali-to-wl-dispatch'])
    const forward = withHep({applyOnForward: true, ingress: [{action: 'Allow'}]})
    expect(chainText(forward, 'filter-cali-FORWARD')).toContain('meta mark & 0x10000 == 0 jump filter-cali-from-hep-forward')
    expect(chainText(forward, 'filter-cali-FORWARD')).toContain('jump filter-cali-to-hep-forward')
    const untracked = withHep({doNotTrack: true, applyOnForward: true, ingress: [{action: 'Allow'}]})
    expect(chainText(untracked, 'raw-PREROUTING')).toContain('jump raw-cali-from-host-endpoint')
    expect(chainText(untracked, 'filter-cali-FORWARD')[0]).toBe('meta mark set mark & 0xffe5ffff')
    expect(chainText(table, 'raw-PREROUTING')).not.toContain('jump raw-cali-from-host-endpoint')
    expect(chainText(untracked, 'raw-OUTPUT')).toContain('oifname != "cali*" jump raw-cali-to-host-endpoint')
    expect(chainText(table, 'raw-OUTPUT')).toEqual(['meta nfproto ipv6 accept comment "IPv6 is not policed (IPv6Support off)"', 'meta mark set mark & 0xffe4ffff'])
  })

  it('anti-spoofing: workload packets failing the RPF check are dropped unless the prefix is allowed', () => {
    const spoofer: CalcResource = {
      apiVersion: v3,
      kind: 'WorkloadEndpoint',
      metadata: {name: 'w9', namespace: 'fv'},
      spec: {node: NODE, interfaceName: 'cali9', ipNetworks: ['10.65.0.19/32'], profiles: ['default'], allowSpoofedSourcePrefixes: ['198.51.100.0/24']},
    }
    const ev = new TableEvaluator(renderTable(computePolicyState(NODE, [...fvPolicy1.slice(0, 4), spoofer, fc({workloadSourceSpoofing: 'Any'})])))
    const send = (iif: string, src: string, rpfFails: boolean): string =>
      ev.evaluatePath(['prerouting', 'forward'], tcp(src, '10.65.0.11', 80, {iifname: iif, oifname: 'cali1', rpfFails})).verdict
    expect(send('cali2', '10.65.0.12', false)).toBe('accept')
    expect(send('cali2', '10.65.0.10', true)).toBe('drop')
    expect(send('cali9', '198.51.100.7', true)).toBe('accept')
    expect(send('cali9', '203.0.113.7', true)).toBe('drop')
    // Host interfaces are not RPF-checked by us.
    expect(ev.evaluatePath(['prerouting', 'forward'], tcp('203.0.113.7', '10.65.0.11', 80, {iifname: 'eth0', oifname: 'cali1', rpfFails: true})).verdict).toBe('accept')
  })

  it('workload → host obeys DefaultEndpointToHostAction after egress policy; host → own workload is never policed', () => {
    for (const [action, expected] of [['Drop', 'drop'], ['Accept', 'accept'], ['Return', 'accept']] as const) {
      const t = renderTable(computePolicyState(NODE, [...fvPolicy1.slice(0, 5), fc({ipv6Support: false, defaultEndpointToHostAction: action})]))
      const ev = new TableEvaluator(t)
      expect(ev.evaluate('input', tcp('10.65.0.11', '192.168.1.10', 10250, {iifname: 'cali1'})).verdict, action).toBe(expected)
      expect(ev.evaluate('output', tcp('192.168.1.10', '10.65.0.10', 8055, {oifname: 'cali0'})).verdict).toBe('accept')
    }
    // Egress policy denial applies before the host action.
    const t = renderTable(computePolicyState(NODE, [profile('default'), wep('w1', 'cali1', '10.65.0.11/32'), gnp('no-egress', {types: ['Egress']}), fc({defaultEndpointToHostAction: 'Accept'})]))
    expect(new TableEvaluator(t).evaluate('input', tcp('10.65.0.11', '192.168.1.10', 22, {iifname: 'cali1'})).verdict).toBe('drop')
  })

  it('IPv6: neighbour discovery to the host is allowed, v6 policy uses v6 sets', () => {
    const t = renderTable(computePolicyState(NODE, [
      profile('default'),
      {apiVersion: v3, kind: 'WorkloadEndpoint', metadata: {name: 'w6', namespace: 'fv', labels: {app: 'x'}}, spec: {node: NODE, interfaceName: 'cali6', ipNetworks: ['fd00::6/128'], profiles: ['default']}},
      {apiVersion: v3, kind: 'WorkloadEndpoint', metadata: {name: 'w7', namespace: 'fv', labels: {app: 'y'}}, spec: {node: NODE, interfaceName: 'cali7', ipNetworks: ['fd00::7/128', '10.0.0.7/32'], profiles: ['default']}},
      gnp('v6', {selector: "app == 'x'", types: ['Ingress', 'Egress'], ingress: [{action: 'Allow', source: {selector: "app == 'y'"}}]}),
    ]))
    const ev = new TableEvaluator(t)
    const p6 = (src: string, iif: string): string =>
      ev.evaluatePath(['prerouting', 'forward'], {family: 6, saddr: src, daddr: 'fd00::6', proto: 6, sport: 1000, dport: 80, iifname: iif, oifname: 'cali6', ctState: 'new'}).verdict
    expect(p6('fd00::7', 'cali7')).toBe('accept')
    expect(p6('fd00::8', 'cali7')).toBe('drop')
    const ns = {family: 6, saddr: 'fe80::1', daddr: 'ff02::1', proto: 58, icmpType: 135, iifname: 'cali6', ctState: 'new'} as const
    expect(ev.evaluate('input', ns).verdict).toBe('accept')
    expect(ev.evaluate('input', {...ns, icmpType: 128}).verdict).toBe('drop') // egress policy with no rules denies
  })

  it('host endpoint without policy: only failsafe ports; policy opens it; `*` endpoint covers other interfaces', () => {
    const hepOnly = [hep('h', 'eth0', ['192.168.1.10'], {hostep: 'true'})]
    const ev0 = new TableEvaluator(renderTable(computePolicyState(NODE, hepOnly)))
    expect(ev0.evaluate('input', tcp('192.168.1.20', '192.168.1.10', 8055, {iifname: 'eth0'})).verdict).toBe('drop')
    expect(ev0.evaluate('input', tcp('192.168.1.20', '192.168.1.10', 22, {iifname: 'eth0'})).verdict).toBe('accept')
    expect(ev0.evaluate('output', tcp('192.168.1.10', '192.168.1.20', 6443, {oifname: 'eth0'})).verdict).toBe('accept')
    expect(ev0.evaluate('output', tcp('192.168.1.10', '192.168.1.20', 8055, {oifname: 'eth0'})).verdict).toBe('drop')
    // Interfaces without a host endpoint are not policed.
    expect(ev0.evaluate('input', tcp('192.168.2.20', '192.168.2.10', 8055, {iifname: 'eth1'})).verdict).toBe('accept')

    const opened = [...hepOnly, gnp('allow-hosts', {selector: "hostep == 'true'", ingress: [{action: 'Allow'}], egress: [{action: 'Allow'}]})]
    const ev1 = new TableEvaluator(renderTable(computePolicyState(NODE, opened)))
    expect(ev1.evaluate('input', tcp('192.168.1.20', '192.168.1.10', 8055, {iifname: 'eth0'})).verdict).toBe('accept')

    const star = [hep('all', '*', [], {}, [])]
    const ev2 = new TableEvaluator(renderTable(computePolicyState(NODE, star)))
    expect(ev2.evaluate('input', tcp('192.168.2.20', '192.168.2.10', 8055, {iifname: 'eth1'})).verdict).toBe('drop')
    expect(ev2.evaluate('input', tcp('192.168.2.20', '192.168.2.10', 22, {iifname: 'eth1'})).verdict).toBe('accept')
    // ...but not workload interfaces, in any hook: host → own pod (even DNATed) and pod → pod forwarding.
    const pods = [...star, profile('default'), wep('w0', 'cali0', '10.65.0.10/32'), wep('w1', 'cali1', '10.65.0.11/32')]
    const ev3 = new TableEvaluator(renderTable(computePolicyState(NODE, pods)))
    expect(ev3.evaluatePath(['output', 'postrouting'], tcp('192.168.2.10', '10.65.0.10', 80, {oifname: 'cali0', ctDnat: true})).verdict).toBe('accept')
    expect(ev3.evaluatePath(['prerouting', 'forward', 'postrouting'], tcp('10.65.0.11', '10.65.0.10', 80, {iifname: 'cali1', oifname: 'cali0'})).verdict).toBe('accept')
  })

  it('host endpoint egress of DNATed host traffic is policed in mangle POSTROUTING; forwarded traffic is not re-policed', () => {
    const t = renderTable(computePolicyState(NODE, [
      hep('h', 'eth0', ['192.168.1.10'], {hostep: 'true'}),
      gnp('egress', {selector: "hostep == 'true'", applyOnForward: true, egress: [{action: 'Allow', protocol: 'TCP', destination: {ports: [443]}}], ingress: [{action: 'Allow'}]}),
      fc({nftablesFilterDenyAction: 'Reject'}),
    ]))
    const ev = new TableEvaluator(t)
    const out = (port: number, dnat: boolean): string => ev.evaluatePath(['output', 'postrouting'], tcp('192.168.1.10', '10.96.0.1', port, {oifname: 'eth0', ctDnat: dnat})).verdict
    expect(out(443, false)).toBe('accept')
    expect(out(8080, false)).toBe('reject')
    // DNATed: filter OUTPUT leaves it alone, mangle POSTROUTING applies the same policy (and can only drop).
    expect(out(443, true)).toBe('accept')
    expect(out(8080, true)).toBe('drop')
    const fwd = ev.evaluatePath(['prerouting', 'forward', 'postrouting'], tcp('10.9.0.1', '10.96.0.1', 443, {iifname: 'eth1', oifname: 'eth0', ctDnat: true}))
    expect(fwd.verdict).toBe('accept')
  })

  it('doNotTrack allow skips conntrack in raw; preDNAT deny drops before DNAT; applyOnForward polices forwarded traffic', () => {
    const t = renderTable(computePolicyState(NODE, [
      hep('h', 'eth0', ['192.168.1.10'], {hostep: 'true'}, ['open']),
      profile('open'),
      gnp('untracked', {selector: "hostep == 'true'", doNotTrack: true, applyOnForward: true, ingress: [{action: 'Allow', source: {nets: ['10.9.0.0/16']}}], egress: [{action: 'Allow'}]}),
      gnp('nodeport', {selector: "hostep == 'true'", preDNAT: true, applyOnForward: true, ingress: [{action: 'Deny', protocol: 'TCP', destination: {ports: [32010]}}]}),
      gnp('fwd', {selector: "hostep == 'true'", applyOnForward: true, ingress: [{action: 'Deny', protocol: 'UDP'}, {action: 'Allow'}]}),
    ]))
    const ev = new TableEvaluator(t)
    const untracked = ev.evaluatePath(['prerouting', 'input'], tcp('10.9.1.1', '192.168.1.10', 8055, {iifname: 'eth0'}))
    expect(untracked.verdict).toBe('accept')
    expect(untracked.notrack).toBe(true)
    const tracked = ev.evaluatePath(['prerouting', 'input'], tcp('10.8.1.1', '192.168.1.10', 8055, {iifname: 'eth0'}))
    expect(tracked).toMatchObject({verdict: 'accept', notrack: false})
    expect(ev.evaluatePath(['prerouting', 'input'], tcp('10.8.1.1', '192.168.1.10', 32010, {iifname: 'eth0'})).verdict).toBe('drop')
    const udpFwd = {family: 4, saddr: '10.8.1.1', daddr: '10.20.0.1', proto: 17, sport: 1, dport: 53, iifname: 'eth0', oifname: 'eth1', ctState: 'new'} as const
    expect(ev.evaluatePath(['prerouting', 'forward'], udpFwd).verdict).toBe('drop')
    expect(ev.evaluatePath(['prerouting', 'forward'], {...udpFwd, proto: 6}).verdict).toBe('accept')
  })

  it('REJECT deny action and tier default Pass reaching the profile', () => {
    const t = renderTable(computePolicyState(NODE, [
      profile('default'),
      wep('w0', 'cali0', '10.65.0.10/32'),
      wep('w1', 'cali1', '10.65.0.11/32'),
      {apiVersion: v3, kind: 'Tier', metadata: {name: 'sec'}, spec: {order: 1, defaultAction: 'Pass'}},
      gnp('sec.noop', {tier: 'sec', selector: "name == 'w0'", ingress: [{action: 'Log'}]}),
      gnp('deny-w1', {selector: "name == 'w1'", ingress: [{action: 'Deny'}]}),
      fc({nftablesFilterDenyAction: 'Reject'}),
    ]))
    const ev = new TableEvaluator(t)
    expect(ev.evaluatePath(['forward'], tcp('10.65.0.11', '10.65.0.10', 80, {iifname: 'cali1', oifname: 'cali0'})).verdict).toBe('accept')
    expect(ev.evaluatePath(['forward'], tcp('10.65.0.10', '10.65.0.11', 80, {iifname: 'cali0', oifname: 'cali1'})).verdict).toBe('reject')
  })
})
