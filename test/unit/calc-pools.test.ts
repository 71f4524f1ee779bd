// IP pools in the policy calculation (natOutgoing, Felix's masqManager): the network-ip-pools and masq-ipam-pools
// sets from the pools held, including disabled and LoadBalancer-only pools, natOutgoing turned on and off, pools
// changed and deleted, and a pool that cannot be read; and the hosts VXLAN is allowed from and to (all-vxlan-net).
import {describe, expect, it} from 'vitest'
import {VXLAN_DEVICE} from '../../src/dataplane/routing/vxlan.js'
import {MASQ_POOLS_SET, NETWORK_POOLS_SET, PolicyCalculator, VXLAN_HOSTS_SET, VXLAN_TUNNEL_DEVICE, type CalcResource, type IPPoolSpec, type PolicyState} from '../../src/dataplane/calc/index.js'

const v3 = 'projectcalico.org/v3'
const pool = (name: string, spec: IPPoolSpec): CalcResource => ({apiVersion: v3, kind: 'IPPool', metadata: {name}, spec})

/** The two pool sets' members, or undefined for a set that is absent. */
function poolSets(s: PolicyState): {network?: string[]; masq?: string[]} {
  return {network: s.ipSets.get(NETWORK_POOLS_SET)?.members, masq: s.ipSets.get(MASQ_POOLS_SET)?.members}
}

function calcWith(...pools: CalcResource[]): PolicyCalculator {
  const calc = new PolicyCalculator('n1')
  for (const p of pools) calc.update({type: 'set', resource: p})
  return calc
}

describe('IP pool sets', () => {
  it('every pool is a network pool, natOutgoing ones are also masqueraded; disabled pools count (as in Felix)', () => {
    const calc = calcWith(
      pool('a', {cidr: '10.65.0.0/16', natOutgoing: true}),
      pool('b', {cidr: '10.66.0.0/16', natOutgoing: false}),
      // Disabled: addresses already given out keep their NAT, and external ranges listed this way are not NATed to.
      pool('c', {cidr: '172.16.0.0/16', natOutgoing: true, disabled: true}),
      pool('ext', {cidr: '192.0.2.0/24', disabled: true}),
      pool('v6', {cidr: 'fd00:65::/64', natOutgoing: true}),
    )
    expect(poolSets(calc.state())).toEqual({
      network: ['10.65.0.0/16', '10.66.0.0/16', '172.16.0.0/16', '192.0.2.0/24', 'fd00:65::/64'],
      masq: ['10.65.0.0/16', '172.16.0.0/16', 'fd00:65::/64'],
    })
    expect(calc.state().ipSets.get(MASQ_POOLS_SET)?.type).toBe('net')
  })

  it('a LoadBalancer-only pool is not a network pool: traffic to it is still masqueraded', () => {
    const calc = calcWith(
      pool('a', {cidr: '10.65.0.0/16', natOutgoing: true}),
      pool('lb', {cidr: '10.96.0.0/24', allowedUses: ['LoadBalancer']}),
      pool('mixed', {cidr: '10.97.0.0/24', allowedUses: ['Workload', 'LoadBalancer']}),
    )
    expect(poolSets(calc.state())).toEqual({network: ['10.65.0.0/16', '10.97.0.0/24'], masq: ['10.65.0.0/16']})
  })

  it('no sets while no pool has natOutgoing (no pools, or only pools without it)', () => {
    expect(poolSets(new PolicyCalculator('n1').state())).toEqual({})
    expect(poolSets(calcWith(pool('a', {cidr: '10.65.0.0/16'}), pool('b', {cidr: '10.66.0.0/16', natOutgoing: false})).state())).toEqual({})
  })

  it('follows natOutgoing turned on and off, CIDR changes and deletions', () => {
    const calc = calcWith(pool('a', {cidr: '10.65.0.0/16'}), pool('b', {cidr: '10.66.0.0/16'}))
    calc.update({type: 'set', resource: pool('a', {cidr: '10.65.0.0/16', natOutgoing: true})})
    expect(poolSets(calc.state())).toEqual({network: ['10.65.0.0/16', '10.66.0.0/16'], masq: ['10.65.0.0/16']})
    // A changed CIDR replaces the old one in both sets.
    calc.update({type: 'set', resource: pool('a', {cidr: '10.70.0.0/16', natOutgoing: true})})
    expect(poolSets(calc.state())).toEqual({network: ['10.66.0.0/16', '10.70.0.0/16'], masq: ['10.70.0.0/16']})
    calc.update({type: 'set', resource: pool('b', {cidr: '10.66.0.0/16', natOutgoing: true})})
    calc.update({type: 'delete', kind: 'IPPool', name: 'a'})
    expect(poolSets(calc.state())).toEqual({network: ['10.66.0.0/16'], masq: ['10.66.0.0/16']})
    calc.update({type: 'set', resource: pool('b', {cidr: '10.66.0.0/16', natOutgoing: false})})
    expect(poolSets(calc.state())).toEqual({})
  })

  it('two pools with one CIDR give it once; deleting one keeps it', () => {
    const calc = calcWith(pool('a', {cidr: '10.65.0.0/16', natOutgoing: true}), pool('a2', {cidr: '10.65.0.0/16', natOutgoing: true}))
    expect(poolSets(calc.state())).toEqual({network: ['10.65.0.0/16'], masq: ['10.65.0.0/16']})
    calc.update({type: 'delete', kind: 'IPPool', name: 'a'})
    expect(poolSets(calc.state())).toEqual({network: ['10.65.0.0/16'], masq: ['10.65.0.0/16']})
  })

  it('hands out the same set objects until a pool changes (the renderer memoises by identity)', () => {
    const calc = calcWith(pool('a', {cidr: '10.65.0.0/16', natOutgoing: true}))
    const first = calc.state().ipSets.get(MASQ_POOLS_SET)
    calc.update({type: 'set', resource: {apiVersion: v3, kind: 'Tier', metadata: {name: 't'}, spec: {order: 1}}})
    expect(calc.state().ipSets.get(MASQ_POOLS_SET)).toBe(first)
    calc.update({type: 'set', resource: pool('b', {cidr: '10.66.0.0/16'})})
    const next = calc.state().ipSets.get(MASQ_POOLS_SET)
    expect(next).not.toBe(first)
    expect(next?.members).toEqual(first?.members)
  })

  it('a pool without a usable CIDR is a problem and treated as absent (its previous version too)', () => {
    const calc = calcWith(pool('a', {cidr: '10.65.0.0/16', natOutgoing: true}))
    calc.update({type: 'set', resource: pool('a', {natOutgoing: true})})
    expect(calc.problems().get('IPPool/a')).toMatch(/no cidr/)
    expect(poolSets(calc.state())).toEqual({})
    calc.update({type: 'set', resource: pool('a', {cidr: '10.65.0.300/16', natOutgoing: true})})
    expect(calc.problems().get('IPPool/a')).toMatch(/invalid/)
    calc.update({type: 'set', resource: pool('a', {cidr: '10.65.0.0/16', natOutgoing: true})})
    expect(calc.problems().has('IPPool/a')).toBe(false)
    expect(poolSets(calc.state()).masq).toEqual(['10.65.0.0/16'])
  })

  it('pools change no endpoint, policy or policy set', () => {
    const wep: CalcResource = {apiVersion: v3, kind: 'WorkloadEndpoint', metadata: {name: 'w', namespace: 'ns'}, spec: {node: 'n1', interfaceName: 'cali1', ipNetworks: ['10.65.0.1/32'], profiles: []}}
    const without = calcWith(wep).state()
    const calc = calcWith(wep, pool('a', {cidr: '10.65.0.0/16', natOutgoing: true}))
    const withPools = calc.state()
    expect(withPools.endpoints).toEqual(without.endpoints)
    expect([...withPools.ipSets.keys()].filter((k) => k !== NETWORK_POOLS_SET && k !== MASQ_POOLS_SET)).toEqual([...without.ipSets.keys()])
  })
})

describe('VXLAN hosts (all-vxlan-net)', () => {
  const node = (name: string, address: string | undefined, vtep: string | undefined): CalcResource => ({
    apiVersion: v3,
    kind: 'Node',
    metadata: {name},
    spec: {...(address ? {bgp: {ipv4Address: address}} : {}), ...(vtep ? {ipv4VXLANTunnelAddr: vtep} : {})},
  })
  const vxlanPool = pool('vx', {cidr: '10.65.0.0/16', vxlanMode: 'Always'})
  const hosts = (calc: PolicyCalculator): string[] | undefined => calc.state().ipSets.get(VXLAN_HOSTS_SET)?.members

  it('while a pool uses VXLAN: the other nodes that have a VTEP address, by their address', () => {
    const calc = calcWith(
      vxlanPool,
      node('n1', '10.0.0.1/24', '10.65.0.1'), // this node
      node('n2', '10.0.0.2/24', '10.65.1.1'),
      node('n3', '10.0.0.3', '10.65.2.1'),
      node('n4', '10.0.0.4/24', undefined), // no VTEP yet
      node('n5', undefined, '10.65.3.1'), // no address
    )
    expect(hosts(calc)).toEqual(['10.0.0.2/32', '10.0.0.3/32'])
    // A node gets its VTEP; one goes; one changes address.
    calc.update({type: 'set', resource: node('n4', '10.0.0.4/24', '10.65.4.1')})
    calc.update({type: 'delete', kind: 'Node', name: 'n2'})
    calc.update({type: 'set', resource: node('n3', '10.0.0.33/24', '10.65.2.1')})
    expect(hosts(calc)).toEqual(['10.0.0.33/32', '10.0.0.4/32'])
  })

  it('VXLAN is on with an IPv4 pool in vxlanMode Always or CrossSubnet (disabled too), or when FelixConfiguration says', () => {
    const peer = node('n2', '10.0.0.2/24', '10.65.1.1')
    expect(hosts(calcWith(peer))).toBeUndefined()
    expect(hosts(calcWith(peer, pool('p', {cidr: '10.65.0.0/16', vxlanMode: 'Never'})))).toBeUndefined()
    expect(hosts(calcWith(peer, pool('p', {cidr: 'fd00:65::/64', vxlanMode: 'Always'})))).toBeUndefined()
    expect(hosts(calcWith(peer, pool('p', {cidr: '10.65.0.0/16', vxlanMode: 'CrossSubnet', disabled: true})))).toEqual(['10.0.0.2/32'])
    const calc = calcWith(peer, vxlanPool)
    const fc = (name: string, vxlanEnabled: boolean): CalcResource => ({apiVersion: v3, kind: 'FelixConfiguration', metadata: {name}, spec: {vxlanEnabled}})
    calc.update({type: 'set', resource: fc('default', false)})
    expect(hosts(calc)).toBeUndefined()
    // The node's own configuration wins over the default one.
    calc.update({type: 'set', resource: fc('node.n1', true)})
    expect(hosts(calc)).toEqual(['10.0.0.2/32'])
    calc.update({type: 'delete', kind: 'FelixConfiguration', name: 'node.n1'})
    calc.update({type: 'delete', kind: 'FelixConfiguration', name: 'default'})
    calc.update({type: 'set', resource: pool('vx', {cidr: '10.65.0.0/16', vxlanMode: 'Never'})})
    expect(hosts(calc)).toBeUndefined()
    calc.update({type: 'set', resource: fc('default', true)})
    expect(hosts(calc)).toEqual(['10.0.0.2/32'])
  })

  it("this node's VTEP address, with VXLAN on, asks for the tunnel rule (on the device the overlay programs)", () => {
    const calc = calcWith(vxlanPool, node('n1', '10.0.0.1/24', undefined))
    expect(calc.state().vxlanTunnel).toBe(false)
    calc.update({type: 'set', resource: node('n1', '10.0.0.1/24', '10.65.0.1')})
    expect(calc.state().vxlanTunnel).toBe(true)
    expect(hosts(calc)).toEqual([])
    calc.update({type: 'delete', kind: 'IPPool', name: 'vx'})
    expect(calc.state().vxlanTunnel).toBe(false)
    expect(VXLAN_TUNNEL_DEVICE).toBe(VXLAN_DEVICE)
  })

  it('the same set object until a node, pool or configuration changes; a node with a bad address is a problem', () => {
    const calc = calcWith(vxlanPool, node('n2', '10.0.0.2/24', '10.65.1.1'))
    const first = calc.state().ipSets.get(VXLAN_HOSTS_SET)
    calc.update({type: 'set', resource: node('n2', '10.0.0.2/24', '10.65.1.1')})
    expect(calc.state().ipSets.get(VXLAN_HOSTS_SET)).toBe(first)
    calc.update({type: 'set', resource: node('n3', '10.0.0.300/24', '10.65.2.1')})
    expect(calc.problems().get('Node/n3')).toMatch(/invalid/)
    expect(hosts(calc)).toEqual(['10.0.0.2/32'])
  })
})
