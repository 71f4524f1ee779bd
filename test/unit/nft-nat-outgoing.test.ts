// IP pools' natOutgoing in the rendered table: the nat POSTROUTING chain and its rule text, which packets it
// masquerades (through the evaluator: only a connection's first packet, only from a natOutgoing pool to outside every
// pool), and the deltas when pools appear, change, toggle natOutgoing and go. The kernel accepts these (nft-kernel).
import {describe, expect, it} from 'vitest'
import {computePolicyState, type CalcResource, type IPPoolSpec} from '../../src/dataplane/calc/index.js'
import {TableEvaluator, diffTables, renderFullScript, renderTable, type NftTable, type Packet} from '../../src/dataplane/nftables/index.js'
import {ruleText} from '../../src/dataplane/nftables/text.js'

const v3 = 'projectcalico.org/v3'
const NODE = 'n1'
const pool = (name: string, spec: IPPoolSpec): CalcResource => ({apiVersion: v3, kind: 'IPPool', metadata: {name}, spec})
const fc = (spec: Record<string, unknown>): CalcResource => ({apiVersion: v3, kind: 'FelixConfiguration', metadata: {name: 'default'}, spec})
const wep = (name: string, iface: string, ip: string): CalcResource => ({
  apiVersion: v3,
  kind: 'WorkloadEndpoint',
  metadata: {name, namespace: 'ns'},
  spec: {node: NODE, interfaceName: iface, ipNetworks: [ip], profiles: ['kns.ns']},
})
const profile: CalcResource = {apiVersion: v3, kind: 'Profile', metadata: {name: 'kns.ns'}, spec: {ingress: [{action: 'Allow'}], egress: [{action: 'Allow'}]}}

const base = [profile, wep('a', 'cali1', '10.65.0.10/32'), wep('b', 'cali2', '10.66.0.10/32'), fc({ipv6Support: true})]
const table = (...extra: CalcResource[]): NftTable => renderTable(computePolicyState(NODE, [...base, ...extra]))

const masqPool = pool('masq', {cidr: '10.65.0.0/16', natOutgoing: true})
const plainPool = pool('plain', {cidr: '10.66.0.0/16'})
const externalPool = pool('external', {cidr: '203.0.113.0/24', disabled: true})

function tcp(saddr: string, daddr: string, extra: Partial<Packet> = {}): Packet {
  return {family: 4, saddr, daddr, proto: 6, sport: 40000, dport: 80, ctState: 'new', iifname: 'cali1', oifname: 'eth0', ...extra}
}

describe('the natOutgoing chain', () => {
  it('is the nat postrouting base chain (srcnat + 10) with one masquerade rule per family, no counters', () => {
    const t = table(masqPool, plainPool)
    const chain = t.chains.get('nat-POSTROUTING')
    expect(chain?.base).toEqual({type: 'nat', hook: 'postrouting', priority: 110, policy: 'accept'})
    expect(chain?.rules.map(ruleText)).toEqual([
      'ip saddr @cali40masq-ipam-pools ip daddr != @cali40network-ip-pools masquerade',
      'ip6 saddr @cali60masq-ipam-pools ip6 daddr != @cali60network-ip-pools masquerade',
    ])
    expect(t.sets.get('cali40masq-ipam-pools')?.elements).toEqual(['10.65.0.0/16'])
    expect(t.sets.get('cali40network-ip-pools')?.elements).toEqual(['10.65.0.0/16', '10.66.0.0/16'])
    expect(t.sets.get('cali60masq-ipam-pools')?.elements).toEqual([])
    expect(renderFullScript(t)).toContain('add chain inet calico nat-POSTROUTING { type nat hook postrouting priority 110; policy accept; }\n')
  })

  it('is IPv4 only without IPv6 support', () => {
    const t = renderTable(computePolicyState(NODE, [profile, masqPool, fc({ipv6Support: false})]))
    expect(t.chains.get('nat-POSTROUTING')?.rules.map(ruleText)).toEqual(['ip saddr @cali40masq-ipam-pools ip daddr != @cali40network-ip-pools masquerade'])
    expect([...t.sets.keys()].filter((n) => n.includes('pools')).sort()).toEqual(['cali40masq-ipam-pools', 'cali40network-ip-pools'])
  })

  it('is absent, with its sets, while no pool has natOutgoing', () => {
    for (const t of [table(), table(plainPool, externalPool)]) {
      expect(t.chains.has('nat-POSTROUTING')).toBe(false)
      expect([...t.sets.keys()].filter((n) => n.includes('pools'))).toEqual([])
    }
  })

  it('masquerades a natOutgoing pool to outside every pool, on the first packet only', () => {
    const ev = new TableEvaluator(table(masqPool, plainPool, externalPool))
    const out = (p: Packet): boolean => ev.evaluate('postrouting', p).masquerade
    expect(out(tcp('10.65.0.10', '192.168.77.2'))).toBe(true)
    // To a pod of the same pool, another pool, or a disabled pool: never.
    expect(out(tcp('10.65.0.10', '10.65.0.11', {oifname: 'cali3'}))).toBe(false)
    expect(out(tcp('10.65.0.10', '10.66.0.10', {oifname: 'cali2'}))).toBe(false)
    expect(out(tcp('10.65.0.10', '203.0.113.5'))).toBe(false)
    // From a pool without natOutgoing, or from the host itself.
    expect(out(tcp('10.66.0.10', '192.168.77.2', {iifname: 'cali2'}))).toBe(false)
    expect(out(tcp('192.168.77.1', '192.168.77.2', {iifname: undefined}))).toBe(false)
    // Conntrack applies the NAT to the rest of the connection: nat chains see only its first packet.
    const established = ev.evaluate('postrouting', tcp('10.65.0.10', '192.168.77.2', {ctState: 'established'}))
    expect(established.masquerade).toBe(false)
    expect(established.rulesVisited).toBe(0)
    expect(ev.evaluatePath(['prerouting', 'forward', 'postrouting'], tcp('10.65.0.10', '192.168.77.2'))).toMatchObject({verdict: 'accept', masquerade: true})
  })

  it('costs an established packet nothing: the postrouting hooks it passes are those of a table without it', () => {
    const pkt = tcp('10.65.0.10', '192.168.77.2', {ctState: 'established'})
    const withNat = new TableEvaluator(table(masqPool)).evaluatePath(['prerouting', 'forward', 'postrouting'], pkt)
    const without = new TableEvaluator(table()).evaluatePath(['prerouting', 'forward', 'postrouting'], pkt)
    expect([withNat.rulesVisited, withNat.chainsEntered]).toEqual([without.rulesVisited, without.chainsEntered])
  })
})

describe('natOutgoing deltas', () => {
  const id = 'inet calico'

  it('a first natOutgoing pool adds the sets, then the chain and its rules; turning it off removes them again', () => {
    const off = table(plainPool)
    const on = table(plainPool, masqPool)
    const up = diffTables(off, on).script.split('\n')
    const at = (prefix: string): number => up.findIndex((l) => l.startsWith(prefix))
    expect(at(`add set ${id} cali40masq-ipam-pools { type ipv4_addr; flags interval; }`)).toBeGreaterThanOrEqual(0)
    expect(up).toContain(`table ${id} { set cali40network-ip-pools { type ipv4_addr; flags interval; elements = { 10.65.0.0/16, 10.66.0.0/16 }; }; }`)
    expect(at(`add chain ${id} nat-POSTROUTING { type nat hook postrouting priority 110; policy accept; }`)).toBeGreaterThan(at(`add set ${id} cali40masq-ipam-pools`))
    expect(at(`add rule ${id} nat-POSTROUTING ip saddr @cali40masq-ipam-pools`)).toBeGreaterThan(at(`table ${id} { set cali40masq-ipam-pools`))
    // Nothing else of the table moves.
    expect(up.filter((l) => l !== '' && !/pools|nat-POSTROUTING/.test(l))).toEqual([])

    const down = diffTables(on, off).script.split('\n').filter((l) => l !== '')
    expect(down).toEqual([
      `flush chain ${id} nat-POSTROUTING`,
      `delete chain ${id} nat-POSTROUTING`,
      `delete set ${id} cali40masq-ipam-pools`,
      `delete set ${id} cali40network-ip-pools`,
      `delete set ${id} cali60masq-ipam-pools`,
      `delete set ${id} cali60network-ip-pools`,
    ])
  })

  it('another pool only adds elements; removing one, or its natOutgoing, refills the sets it leaves; the chain stays', () => {
    const one = table(masqPool)
    const two = table(masqPool, plainPool)
    const added = diffTables(one, two)
    expect(added.script.split('\n').filter((l) => l !== '')).toEqual([`table ${id} { set cali40network-ip-pools { type ipv4_addr; flags interval; elements = { 10.66.0.0/16 }; }; }`])
    expect(added.stats).toMatchObject({chainsAdded: 0, chainsChanged: 0, chainsDeleted: 0, setElementsAdded: 1, setElementsDeleted: 0})
    expect(diffTables(two, one).script.split('\n').filter((l) => l !== '')).toEqual([
      `flush set ${id} cali40network-ip-pools`,
      `table ${id} { set cali40network-ip-pools { type ipv4_addr; flags interval; elements = { 10.65.0.0/16 }; }; }`,
    ])
    // natOutgoing on for the second pool: it joins the masquerade set only.
    const both = table(masqPool, pool('plain', {cidr: '10.66.0.0/16', natOutgoing: true}))
    expect(diffTables(two, both).script.split('\n').filter((l) => l !== '')).toEqual([`table ${id} { set cali40masq-ipam-pools { type ipv4_addr; flags interval; elements = { 10.66.0.0/16 }; }; }`])
    expect(diffTables(both, two).script).toMatch(/^flush set inet calico cali40masq-ipam-pools\n/)
    // Unchanged pools: no delta at all.
    expect(diffTables(two, table(masqPool, plainPool)).script).toBe('')
  })
})
