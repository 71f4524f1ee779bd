// Source spoofing for workloads: FelixConfiguration workloadSourceSpoofing gates a WorkloadEndpoint's
// allowSpoofedSourcePrefixes as Felix's validation filter does (anything but Any: the endpoint is treated as missing),
// what the renderer makes of the outcome, and the per-interface sysctls (rp_filter) that follow from it.
import {describe, expect, it} from 'vitest'
import {PolicyCalculator, computePolicyState, namespaceProfile, settingsFrom, type CalcEvent, type CalcResource, type PolicyState} from '../../src/dataplane/calc/index.js'
import {TableEvaluator, renderTable, type Packet} from '../../src/dataplane/nftables/index.js'
import {interfaceSysctls} from '../../src/dataplane/routing/interface-sysctls.js'

const NODE = 'n1'
const v3 = 'projectcalico.org/v3'
const FELIX_MESSAGE = /^source IP spoofing requested but not enabled in Felix configuration/

function wep(name: string, ip: string, extra: {prefixes?: string[]; node?: string} = {}): CalcResource {
  return {
    apiVersion: v3,
    kind: 'WorkloadEndpoint',
    metadata: {name, namespace: 't', labels: {app: name}},
    spec: {
      node: extra.node ?? NODE, interfaceName: `cali${name}`, ipNetworks: [ip], profiles: ['kns.t'],
      ...(extra.prefixes ? {allowSpoofedSourcePrefixes: extra.prefixes} : {}),
    },
  }
}
const fc = (name: string, spec: Record<string, unknown>): CalcResource => ({apiVersion: v3, kind: 'FelixConfiguration', metadata: {name}, spec})
/**
 * Its source selector's IP set shows which (local or remote) endpoints the calculation holds; the foreign sources the
 * tests send from are allowed too, so that only the RPF check decides about them.
 */
const allFromT: CalcResource = {
  apiVersion: v3, kind: 'GlobalNetworkPolicy', metadata: {name: 'from-t'},
  spec: {selector: 'all()', types: ['Ingress'], ingress: [{action: 'Allow', source: {selector: "app != ''"}}, {action: 'Allow', source: {nets: ['198.51.100.0/24', '192.0.2.0/24']}}]},
}
const base = [namespaceProfile('t', {}), allFromT, wep('a', '10.65.0.10/32', {prefixes: ['198.51.100.7/24', 'fd00:99::/64']}), wep('b', '10.65.0.11/32')]
const remoteSpoofer = wep('r', '10.65.1.10/32', {prefixes: ['203.0.113.0/24'], node: 'n2'})

const ifaces = (s: PolicyState): string[] => s.endpoints.map((e) => e.iface)
const members = (s: PolicyState): string[] => [...s.ipSets.values()].flatMap((set) => set.members)

describe('workloadSourceSpoofing gates allowSpoofedSourcePrefixes', () => {
  it('is Disabled by default and parsed case-insensitively; other values are rejected', () => {
    expect(settingsFrom([]).workloadSourceSpoofing).toBe('Disabled')
    expect(settingsFrom([{workloadSourceSpoofing: 'any'}]).workloadSourceSpoofing).toBe('Any')
    expect(settingsFrom([{workloadSourceSpoofing: 'Any'}, {workloadSourceSpoofing: 'DISABLED'}]).workloadSourceSpoofing).toBe('Disabled')
    expect(() => settingsFrom([{workloadSourceSpoofing: 'Some'}])).toThrow(/invalid workloadSourceSpoofing "Some"/)
  })

  it('not enabled: an endpoint asking to spoof is treated as missing, local or remote, and the reason recorded', () => {
    const calc = new PolicyCalculator(NODE)
    for (const r of [...base, remoteSpoofer]) calc.update({type: 'set', resource: r})
    const s = calc.state()
    expect(ifaces(s)).toEqual(['calib'])
    expect(members(s)).toEqual(['10.65.0.11/32'])
    expect(calc.problems().get('WorkloadEndpoint/t/a')).toMatch(FELIX_MESSAGE)
    expect(calc.problems().get('WorkloadEndpoint/t/r')).toMatch(FELIX_MESSAGE)
    expect(calc.problems().has('WorkloadEndpoint/t/b')).toBe(false)
  })

  it('Any: the endpoint is used, with its prefixes as network CIDRs', () => {
    const s = computePolicyState(NODE, [...base, remoteSpoofer, fc('default', {workloadSourceSpoofing: 'Any'})])
    expect(ifaces(s)).toEqual(['calia', 'calib'])
    expect(s.endpoints[0]!.allowSpoofedSourcePrefixes).toEqual(['198.51.100.0/24', 'fd00:99::/64'])
    expect(s.endpoints[1]!.allowSpoofedSourcePrefixes).toEqual([])
    expect(members(s).sort()).toEqual(['10.65.0.10/32', '10.65.0.11/32', '10.65.1.10/32'])
  })

  it('follows the configuration that applies to this node, whichever arrives first, and changes of it', () => {
    const calc = new PolicyCalculator(NODE)
    const set = (resource: CalcResource): void => calc.update({type: 'set', resource})
    // The endpoint before the configuration (a snapshot comes in any order).
    for (const r of base) set(r)
    set(fc('default', {workloadSourceSpoofing: 'Any'}))
    expect(ifaces(calc.state())).toEqual(['calia', 'calib'])
    expect(calc.problems().size).toBe(0)
    // Another node's configuration does not apply here; this node's overrides the default.
    set(fc('node.n2', {workloadSourceSpoofing: 'Disabled'}))
    expect(ifaces(calc.state())).toEqual(['calia', 'calib'])
    set(fc(`node.${NODE}`, {workloadSourceSpoofing: 'Disabled'}))
    expect(ifaces(calc.state())).toEqual(['calib'])
    expect(calc.problems().get('WorkloadEndpoint/t/a')).toMatch(FELIX_MESSAGE)
    calc.update({type: 'delete', kind: 'FelixConfiguration', name: `node.${NODE}`})
    expect(ifaces(calc.state())).toEqual(['calia', 'calib'])
    expect(calc.problems().size).toBe(0)
    // The endpoint drops its prefixes: used whatever the configuration says.
    set(fc('default', {}))
    expect(ifaces(calc.state())).toEqual(['calib'])
    set(wep('a', '10.65.0.10/32'))
    expect(ifaces(calc.state())).toEqual(['calia', 'calib'])
    expect(calc.state().endpoints[0]!.allowSpoofedSourcePrefixes).toEqual([])
    // A deleted endpoint is not brought back by a later change of the configuration.
    set(wep('a', '10.65.0.10/32', {prefixes: ['198.51.100.0/24']}))
    calc.update({type: 'delete', kind: 'WorkloadEndpoint', name: 'a', namespace: 't'})
    set(fc('default', {workloadSourceSpoofing: 'Any'}))
    expect(ifaces(calc.state())).toEqual(['calib'])
    expect(calc.problems().size).toBe(0)
  })

  it('incremental updates end in the same state as a full recomputation', () => {
    const events: CalcEvent[] = [
      ...[...base, remoteSpoofer].map((resource): CalcEvent => ({type: 'set', resource})),
      {type: 'set', resource: fc('default', {workloadSourceSpoofing: 'Any'})},
      {type: 'set', resource: fc(`node.${NODE}`, {workloadSourceSpoofing: 'Disabled'})},
      {type: 'set', resource: fc(`node.${NODE}`, {workloadSourceSpoofing: 'Any', logPrefix: 'x'})},
    ]
    const calc = new PolicyCalculator(NODE)
    for (const ev of events) calc.update(ev)
    const full = computePolicyState(NODE, [...base, remoteSpoofer, fc('default', {workloadSourceSpoofing: 'Any'}), fc(`node.${NODE}`, {workloadSourceSpoofing: 'Any', logPrefix: 'x'})])
    expect(calc.state()).toEqual(full)
  })
})

describe('rendered: what a spoofing workload can send', () => {
  const udp = (iifname: string, saddr: string, rpfFails: boolean): Packet => ({family: 4, saddr, daddr: '10.65.0.11', proto: 17, sport: 4000, dport: 53, iifname, oifname: 'calib', ctState: 'new', rpfFails})
  const verdict = (resources: CalcResource[], p: Packet): string => new TableEvaluator(renderTable(computePolicyState(NODE, resources))).evaluatePath(['prerouting', 'forward'], p).verdict

  it('Any: the allowed prefix passes the RPF check, other foreign sources and unknown interfaces do not', () => {
    const rs = [...base, fc('default', {workloadSourceSpoofing: 'Any'})]
    expect(verdict(rs, udp('calia', '10.65.0.10', false))).toBe('accept')
    expect(verdict(rs, udp('calia', '198.51.100.9', true))).toBe('accept')
    expect(verdict(rs, udp('calia', '192.0.2.9', true))).toBe('drop')
    // The exemption is per interface: b may not use a's prefix.
    expect(verdict(rs, udp('calib', '198.51.100.9', true))).toBe('drop')
  })

  it('not enabled: the endpoint is missing, so its interface carries nothing (fail closed)', () => {
    expect(verdict(base, udp('calia', '198.51.100.9', true))).toBe('drop')
    expect(verdict(base, udp('calia', '10.65.0.10', false))).toBe('drop')
    expect(verdict([...base, fc('default', {workloadSourceSpoofing: 'Disabled'})], udp('calia', '198.51.100.9', true))).toBe('drop')
  })
})

describe('workload interface sysctls', () => {
  const value = (settings: ReturnType<typeof interfaceSysctls>, path: string): string | undefined => settings.find((s) => s.path.join('.') === path)?.value

  it('a spoofing workload gets rp_filter 0, the others the kernel default for new interfaces', () => {
    const opts = {ipv6Present: true, ipv6Enabled: true, defaultRPFilter: '2'}
    expect(value(interfaceSysctls('cali1', {...opts, spoofing: true}), 'net.ipv4.conf.cali1.rp_filter')).toBe('0')
    expect(value(interfaceSysctls('cali1', {...opts, spoofing: false}), 'net.ipv4.conf.cali1.rp_filter')).toBe('2')
    expect(interfaceSysctls('cali1', {...opts, spoofing: false}).map((s) => `${s.path.join('.')}=${s.value}`)).toEqual([
      'net.ipv4.conf.cali1.route_localnet=1',
      'net.ipv4.conf.cali1.proxy_arp=1',
      'net.ipv4.neigh.cali1.proxy_delay=0',
      'net.ipv4.conf.cali1.forwarding=1',
      'net.ipv4.conf.cali1.rp_filter=2',
      'net.ipv6.conf.cali1.accept_ra=0',
      'net.ipv6.conf.cali1.proxy_ndp=1',
      'net.ipv6.conf.cali1.forwarding=1',
    ])
  })

  it('IPv6: router advertisements are refused even with IPv6 support off; nothing is written where the kernel has no IPv6', () => {
    const v6 = (o: {ipv6Present: boolean; ipv6Enabled: boolean}): string[] =>
      interfaceSysctls('cali1', {...o, defaultRPFilter: '1', spoofing: false}).filter((s) => s.path[1] === 'ipv6').map((s) => s.path.at(-1)!)
    expect(v6({ipv6Present: true, ipv6Enabled: false})).toEqual(['accept_ra'])
    expect(v6({ipv6Present: false, ipv6Enabled: true})).toEqual([])
  })
})
