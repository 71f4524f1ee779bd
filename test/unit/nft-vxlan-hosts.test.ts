// VXLAN's host allowance in the rendered table (Felix's filter INPUT and OUTPUT rules while IPv4 VXLAN is on): the
// rule text and place, and what it does to packets (through the evaluator) with a host endpoint whose policy denies
// everything: VXLAN from and to the other nodes passes, VXLAN from anywhere else is dropped. And Felix's tunnel rule
// in nat POSTROUTING (host traffic into vxlan.calico leaves from the VTEP address). The kernel accepts
// these (nft-kernel, whose rich fixture has VXLAN).
import {describe, expect, it} from 'vitest'
import {computePolicyState, type CalcResource} from '../../src/dataplane/calc/index.js'
import {TableEvaluator, diffTables, renderTable, type NftTable, type Packet} from '../../src/dataplane/nftables/index.js'
import {ruleText} from '../../src/dataplane/nftables/text.js'

const v3 = 'projectcalico.org/v3'
const NODE = 'n1'
const node = (name: string, address: string, vtep?: string): CalcResource => ({apiVersion: v3, kind: 'Node', metadata: {name}, spec: {bgp: {ipv4Address: address}, ...(vtep ? {ipv4VXLANTunnelAddr: vtep} : {})}})
const vxlanPool: CalcResource = {apiVersion: v3, kind: 'IPPool', metadata: {name: 'vx'}, spec: {cidr: '10.65.0.0/16', vxlanMode: 'Always'}}
/** A host endpoint on eth0 under a policy that denies all host traffic in both directions. */
const lockedHost: CalcResource[] = [
  {apiVersion: v3, kind: 'HostEndpoint', metadata: {name: 'h', labels: {host: 'yes'}}, spec: {node: NODE, interfaceName: 'eth0', expectedIPs: ['10.0.0.1']}},
  {apiVersion: v3, kind: 'GlobalNetworkPolicy', metadata: {name: 'lock'}, spec: {selector: 'has(host)', types: ['Ingress', 'Egress'], ingress: [{action: 'Deny'}], egress: [{action: 'Deny'}]}},
]
const peers = [node(NODE, '10.0.0.1/24', '10.65.0.1'), node('n2', '10.0.0.2/24', '10.65.1.1'), node('n3', '10.0.0.3/24')]
const table = (...rs: CalcResource[]): NftTable => renderTable(computePolicyState(NODE, rs))

function udp(saddr: string, daddr: string, dport: number, extra: Partial<Packet>): Packet {
  return {family: 4, saddr, daddr, proto: 17, sport: 50000, dport, ctState: 'new', ...extra}
}

describe('VXLAN host rules', () => {
  it('come first in cali-INPUT and before host endpoint egress in cali-OUTPUT, on the configured port', () => {
    const t = table(vxlanPool, ...peers, {apiVersion: v3, kind: 'FelixConfiguration', metadata: {name: 'default'}, spec: {vxlanPort: 4790}})
    expect(t.chains.get('filter-cali-INPUT')?.rules.slice(0, 2).map(ruleText)).toEqual([
      'meta l4proto 17 th dport 4790 ip saddr @cali40all-vxlan-net accept comment "Allow IPv4 VXLAN packets from allowed hosts"',
      'meta nfproto ipv4 meta l4proto 17 th dport 4790 counter drop comment "Drop IPv4 VXLAN packets from non-allowed hosts"',
    ])
    const out = t.chains.get('filter-cali-OUTPUT')!.rules.map(ruleText)
    const allow = out.indexOf('meta l4proto 17 th dport 4790 ip daddr @cali40all-vxlan-net accept comment "Allow IPv4 VXLAN packets to other allowed hosts"')
    expect(allow).toBeGreaterThan(out.findIndex((r) => r.startsWith('oifname "cali*" return')))
    expect(allow).toBeLessThan(out.findIndex((r) => r.includes('jump filter-cali-to-host-endpoint')))
    // Only the nodes with a VTEP address, never this one.
    expect(t.sets.get('cali40all-vxlan-net')?.elements).toEqual(['10.0.0.2/32'])
  })

  it('are absent, with their set, while VXLAN is off', () => {
    const t = table(...peers, {apiVersion: v3, kind: 'IPPool', metadata: {name: 'p'}, spec: {cidr: '10.65.0.0/16', vxlanMode: 'Never'}})
    expect(t.sets.has('cali40all-vxlan-net')).toBe(false)
    expect([...t.chains.values()].flatMap((c) => c.rules.map(ruleText)).filter((r) => r.includes('VXLAN packets') && !r.includes('originating in workloads'))).toEqual([])
  })

  it('let VXLAN between the nodes past host endpoint policy that denies everything, and drop VXLAN from others', () => {
    const ev = new TableEvaluator(table(vxlanPool, ...peers, ...lockedHost))
    const input = (p: Packet): string => ev.evaluatePath(['prerouting', 'input'], p).verdict
    expect(input(udp('10.0.0.2', '10.0.0.1', 4789, {iifname: 'eth0'}))).toBe('accept')
    // A node without a VTEP address, or any other machine.
    expect(input(udp('10.0.0.3', '10.0.0.1', 4789, {iifname: 'eth0'}))).toBe('drop')
    expect(input(udp('192.0.2.7', '10.0.0.1', 4789, {iifname: 'eth0'}))).toBe('drop')
    // The host endpoint's policy still applies to everything else from the peer.
    expect(input(udp('10.0.0.2', '10.0.0.1', 53, {iifname: 'eth0'}))).not.toBe('accept')
    const output = (p: Packet): string => ev.evaluatePath(['output', 'postrouting'], p).verdict
    expect(output(udp('10.0.0.1', '10.0.0.2', 4789, {oifname: 'eth0'}))).toBe('accept')
    expect(output(udp('10.0.0.1', '192.0.2.7', 4789, {oifname: 'eth0'}))).not.toBe('accept')
  })

  it("the tunnel rule: host traffic out of vxlan.calico from another of the host's addresses is masqueraded", () => {
    const t = table(vxlanPool, ...peers)
    expect(t.chains.get('nat-POSTROUTING')?.rules.map(ruleText)).toEqual(['oifname "vxlan.calico" fib saddr . oif type != local fib saddr type local masquerade'])
    const ev = new TableEvaluator(t)
    const out = (p: Partial<Packet>): boolean => ev.evaluate('postrouting', udp('10.0.0.1', '10.65.1.5', 80, {oifname: 'vxlan.calico', ...p})).masquerade
    expect(out({saddrLocal: true, saddrOnOif: false})).toBe(true)
    // From the VTEP address itself, from a workload (not a local address), or out of another interface: never.
    expect(out({saddr: '10.65.0.1', saddrLocal: true, saddrOnOif: true})).toBe(false)
    expect(out({saddr: '10.65.0.10', saddrLocal: false, saddrOnOif: false})).toBe(false)
    expect(out({oifname: 'eth0', saddrLocal: true, saddrOnOif: true})).toBe(false)
    // Only while this node has a VTEP address, and VXLAN is on.
    expect(table(vxlanPool, ...peers.filter((n) => n.metadata.name !== NODE), node(NODE, '10.0.0.1/24')).chains.has('nat-POSTROUTING')).toBe(false)
    expect(table(...peers).chains.has('nat-POSTROUTING')).toBe(false)
  })

  it('deltas: a node getting a VTEP only adds an element; VXLAN turned off removes the rules and the set', () => {
    const on = table(vxlanPool, ...peers)
    const more = table(vxlanPool, ...peers, node('n4', '10.0.0.4/24', '10.65.4.1'))
    expect(diffTables(on, more).script.split('\n').filter((l) => l !== '')).toEqual([
      'table inet calico { set cali40all-vxlan-net { type ipv4_addr; flags interval; elements = { 10.0.0.4 }; }; }',
    ])
    const off = table(...peers)
    const down = diffTables(on, off).script.split('\n').filter((l) => l !== '')
    expect(down.filter((l) => !l.startsWith('add rule'))).toEqual([
      'flush chain inet calico filter-cali-INPUT',
      'flush chain inet calico filter-cali-OUTPUT',
      // The tunnel rule's chain (no pool has natOutgoing here).
      'flush chain inet calico nat-POSTROUTING',
      'delete chain inet calico nat-POSTROUTING',
      'delete set inet calico cali40all-vxlan-net',
    ])
    expect(down.join('\n')).not.toContain('VXLAN packets from allowed hosts')
  })
})
