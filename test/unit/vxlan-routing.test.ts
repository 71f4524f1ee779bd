// The VXLAN overlay's pure part: VTEP MACs, the device, neighbours, FDB entries and routes from Nodes, pools and
// blocks (Always and CrossSubnet), and the changes from what the kernel has.
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

import {
  VXLAN_DEVICE, desiredVxlan, deviceAction, fdbDelta, neighbourDelta, vtepMac, vxlanBlockOf, vxlanConfigFrom, vxlanNodeOf,
  vxlanPoolOf, vxlanRouteDelta, type KernelVxlanDevice, type VxlanInput, type VxlanNode,
} from '../../src/dataplane/routing/vxlan.js'

const fixture = JSON.parse(readFileSync(new URL('../fixtures/vxlan/vtep-macs.json', import.meta.url), 'utf8')) as {macs: Record<string, string>}

function node(name: string, address: string, vtep?: string, mac?: string): VxlanNode {
  return vxlanNodeOf({metadata: {name}, spec: {bgp: {ipv4Address: address}, ...(vtep ? {ipv4VXLANTunnelAddr: vtep} : {}), ...(mac ? {vxlanTunnelMACAddr: mac} : {})}})
}

function input(over: Partial<VxlanInput> = {}): VxlanInput {
  const nodes = [node('a', '192.168.1.1/24', '10.65.0.1', '66:00:00:00:00:0a'), node('b', '192.168.1.2/24', '10.65.1.1', '66:00:00:00:00:0b'), node('c', '192.168.2.3/24', '10.65.2.1')]
  return {
    nodeName: 'a',
    nodes: new Map(nodes.map((n) => [n.name, n])),
    pools: [vxlanPoolOf({metadata: {}, spec: {cidr: '10.65.0.0/16', vxlanMode: 'Always'}})!],
    blocks: ['a:10.65.0.0/26', 'b:10.65.1.0/26', 'c:10.65.2.0/26', 'c:10.65.2.64/26', 'c:10.99.0.0/26'].map((s) => {
      const [n, cidr] = s.split(':')
      return vxlanBlockOf({cidr, affinity: `host:${n}`})!
    }),
    config: vxlanConfigFrom([]),
    uplink: {name: 'eth0', mtu: 1500},
    ...over,
  }
}

describe('VTEP MAC', () => {
  it('derives the MACs Felix derives for nodes without one', () => {
    for (const [name, mac] of Object.entries(fixture.macs)) expect(vtepMac(name)).toBe(mac)
  })

  it('keeps a MAC the Node carries, lower-cased, and ignores a malformed one', () => {
    expect(node('x', '192.168.1.9/24', undefined, '66:AA:BB:CC:DD:EE').mac).toBe('66:aa:bb:cc:dd:ee')
    expect(node('x', '192.168.1.9/24', undefined, 'not-a-mac').mac).toBe(vtepMac('x'))
  })
})

describe('inputs', () => {
  it('reads only IPv4 pools with vxlanMode Always or CrossSubnet', () => {
    expect(vxlanPoolOf({metadata: {}, spec: {cidr: '10.0.0.0/16', vxlanMode: 'Never'}})).toBeUndefined()
    expect(vxlanPoolOf({metadata: {}, spec: {cidr: '10.0.0.0/16'}})).toBeUndefined()
    expect(vxlanPoolOf({metadata: {}, spec: {cidr: 'fd00::/64', vxlanMode: 'Always'}})).toBeUndefined()
    expect(vxlanPoolOf({metadata: {}, spec: {cidr: '10.0.0.0/16', vxlanMode: 'CrossSubnet'}})?.mode).toBe('CrossSubnet')
  })

  it('reads blocks affine to hosts only', () => {
    expect(vxlanBlockOf({cidr: '10.0.0.0/26', affinity: null})).toBeUndefined()
    expect(vxlanBlockOf({cidr: '10.0.0.0/26', affinity: 'virtual:load-balancer'})).toBeUndefined()
    expect(vxlanBlockOf({cidr: '10.0.0.0/26', affinity: 'host:n1'})?.node).toBe('n1')
  })

  it('takes FelixConfiguration in precedence order over the defaults', () => {
    expect(vxlanConfigFrom([])).toEqual({vni: 4096, port: 4789, mtu: 0})
    expect(vxlanConfigFrom([{vxlanVNI: 10, vxlanMTU: 1400}, {vxlanVNI: 11, vxlanPort: 8472}])).toEqual({vni: 11, port: 8472, mtu: 1400})
    expect(vxlanConfigFrom([{vxlanEnabled: false}]).enabled).toBe(false)
  })
})

describe('desiredVxlan', () => {
  it('Always: the device, each other VTEP as neighbour and FDB entry, other nodes\' blocks via their VTEPs', () => {
    const s = desiredVxlan(input())
    expect(s.device).toEqual({name: VXLAN_DEVICE, vni: 4096, port: 4789, local: '192.168.1.1', parent: 'eth0', mtu: 1450, mac: '66:00:00:00:00:0a', address: '10.65.0.1'})
    expect(s.neighbours).toEqual([{ip: '10.65.1.1', mac: '66:00:00:00:00:0b'}, {ip: '10.65.2.1', mac: vtepMac('c')}])
    expect(s.fdb).toEqual([{mac: '66:00:00:00:00:0b', dst: '192.168.1.2'}, {mac: vtepMac('c'), dst: '192.168.2.3'}].sort((x, y) => (x.mac < y.mac ? -1 : 1)))
    // Own block: a blackhole; a block outside every VXLAN pool: no route.
    expect(s.routes).toEqual([
      {dst: '10.65.0.0/26', blackhole: true, onlink: false},
      {dst: '10.65.1.0/26', via: '10.65.1.1', dev: VXLAN_DEVICE, onlink: true},
      {dst: '10.65.1.1/32', dev: VXLAN_DEVICE, onlink: false},
      {dst: '10.65.2.0/26', via: '10.65.2.1', dev: VXLAN_DEVICE, onlink: true},
      {dst: '10.65.2.1/32', dev: VXLAN_DEVICE, onlink: false},
      {dst: '10.65.2.64/26', via: '10.65.2.1', dev: VXLAN_DEVICE, onlink: true},
    ])
  })

  it('CrossSubnet: a node in this node\'s subnet is routed to directly through the uplink', () => {
    const s = desiredVxlan(input({pools: [vxlanPoolOf({metadata: {}, spec: {cidr: '10.65.0.0/16', vxlanMode: 'CrossSubnet'}})!]}))
    expect(s.routes.filter((r) => !r.dst.endsWith('/32'))).toEqual([
      {dst: '10.65.0.0/26', blackhole: true, onlink: false},
      {dst: '10.65.1.0/26', via: '192.168.1.2', dev: 'eth0', onlink: false},
      {dst: '10.65.2.0/26', via: '10.65.2.1', dev: VXLAN_DEVICE, onlink: true},
      {dst: '10.65.2.64/26', via: '10.65.2.1', dev: VXLAN_DEVICE, onlink: true},
    ])
  })

  it('vxlanMTU overrides the uplink-derived MTU; VNI and port follow the configuration', () => {
    const s = desiredVxlan(input({config: {vni: 7, port: 8472, mtu: 1300}}))
    expect(s.device).toMatchObject({vni: 7, port: 8472, mtu: 1300})
  })

  it('no VXLAN pool, or vxlanEnabled false: nothing at all (the device and every route go)', () => {
    expect(desiredVxlan(input({pools: []}))).toEqual({neighbours: [], fdb: [], routes: []})
    expect(desiredVxlan(input({config: {...vxlanConfigFrom([]), enabled: false}}))).toEqual({neighbours: [], fdb: [], routes: []})
  })

  it('a node without a VTEP yet gets no device and no tunnel routes (only its blocks\' blackholes); nodes without one are left out', () => {
    const nodes = new Map(input().nodes)
    nodes.set('a', node('a', '192.168.1.1/24'))
    expect(desiredVxlan(input({nodes}))).toEqual({neighbours: [], fdb: [], routes: [{dst: '10.65.0.0/26', blackhole: true, onlink: false}]})
    const others = new Map(input().nodes)
    others.set('b', node('b', '192.168.1.2/24'))
    const s = desiredVxlan(input({nodes: others}))
    expect(s.neighbours.map((n) => n.ip)).toEqual(['10.65.2.1'])
    expect(s.routes.map((r) => r.dst)).not.toContain('10.65.1.0/26')
  })

  it('a block of a node that is gone gets no route', () => {
    const nodes = new Map(input().nodes)
    nodes.delete('c')
    expect(desiredVxlan(input({nodes})).routes.map((r) => r.dst)).toEqual(['10.65.0.0/26', '10.65.1.0/26', '10.65.1.1/32'])
  })

  it('blackholes: each own block in a VXLAN pool but a /32 one; a block that moves away is routed to its node instead', () => {
    const own = (cidr: string) => vxlanBlockOf({cidr, affinity: 'host:a'})!
    const blackholes = (i: VxlanInput) => desiredVxlan(i).routes.filter((r) => r.blackhole).map((r) => r.dst)
    const blocks = [own('10.65.0.0/26'), own('10.65.0.64/26'), own('10.65.0.200/32'), own('10.99.0.0/26')]
    expect(blackholes(input({blocks}))).toEqual(['10.65.0.0/26', '10.65.0.64/26'])
    // Nothing but the pool is needed: not even this node's Node.
    const nodes = new Map(input().nodes)
    nodes.delete('a')
    expect(blackholes(input({blocks, nodes}))).toEqual(['10.65.0.0/26', '10.65.0.64/26'])
    const moved = [vxlanBlockOf({cidr: '10.65.0.0/26', affinity: 'host:b'})!, own('10.65.0.64/26')]
    const s = desiredVxlan(input({blocks: moved}))
    expect(s.routes.filter((r) => r.dst.endsWith('/26'))).toEqual([
      {dst: '10.65.0.0/26', via: '10.65.1.1', dev: VXLAN_DEVICE, onlink: true},
      {dst: '10.65.0.64/26', blackhole: true, onlink: false},
    ])
  })
})

describe('deltas', () => {
  it('routes: adds what is missing, overwrites what differs, removes only its own stale routes', () => {
    const want = desiredVxlan(input()).routes
    const kernel = [
      {dst: '10.65.1.0/26', via: '10.65.1.1', dev: VXLAN_DEVICE, onlink: true, protocol: 80},
      {dst: '10.65.2.0/26', via: '192.168.1.9', dev: 'eth0', onlink: false, protocol: 80},
      {dst: '10.65.3.0/26', via: '10.65.3.1', dev: VXLAN_DEVICE, onlink: true, protocol: 80},
      {dst: '10.65.4.0/26', via: '192.168.1.4', dev: 'eth0', onlink: false, protocol: 80},
      {dst: '10.77.0.0/16', via: '192.168.1.254', dev: 'eth0', onlink: false, protocol: 3},
      {dst: '10.65.0.5/32', dev: 'cali1234', onlink: false, protocol: 3},
      // The kernel's own route for an address on the device stays; anything else through the device is ours.
      {dst: '10.66.0.0/24', dev: VXLAN_DEVICE, onlink: false, protocol: 2},
      {dst: '10.67.0.0/24', dev: VXLAN_DEVICE, onlink: false, protocol: 3},
    ]
    const d = vxlanRouteDelta(want, kernel)
    expect(d.replace.map((r) => r.dst)).toEqual(['10.65.0.0/26', '10.65.1.1/32', '10.65.2.0/26', '10.65.2.1/32', '10.65.2.64/26'])
    expect(d.remove).toEqual([
      {dst: '10.65.3.0/26', via: '10.65.3.1', dev: VXLAN_DEVICE, onlink: true},
      {dst: '10.65.4.0/26', via: '192.168.1.4', dev: 'eth0', onlink: false},
      {dst: '10.67.0.0/24', dev: VXLAN_DEVICE, onlink: false},
    ])
  })

  it('blackholes: written when missing or when another route has the block, kept when there, and only ours removed', () => {
    const want = desiredVxlan(input()).routes
    const others = want.filter((r) => !r.blackhole).map((r) => ({...r, protocol: 80}))
    const bh = (dst: string, protocol: number) => ({dst, blackhole: true, onlink: false, protocol})
    // Our blackhole in place: nothing to do.
    expect(vxlanRouteDelta(want, [...others, bh('10.65.0.0/26', 80)])).toEqual({replace: [], remove: []})
    // The block came back from another node: the replace overwrites the tunnel route (or someone else's blackhole).
    for (const k of [{dst: '10.65.0.0/26', via: '10.65.1.1', dev: VXLAN_DEVICE, onlink: true, protocol: 80}, bh('10.65.0.0/26', 12)]) {
      expect(vxlanRouteDelta(want, [...others, k])).toEqual({replace: [{dst: '10.65.0.0/26', blackhole: true, onlink: false}], remove: []})
    }
    // A stale blackhole of ours goes; another protocol's (a routing daemon's) stays.
    const d = vxlanRouteDelta(want, [...others, bh('10.65.0.0/26', 80), bh('10.65.9.0/26', 80), bh('10.65.8.0/26', 12), bh('10.65.7.0/26', 3)])
    expect(d).toEqual({replace: [], remove: [{dst: '10.65.9.0/26', blackhole: true, onlink: false}]})
    // No VXLAN pool any more: every blackhole of ours goes with the other routes.
    expect(vxlanRouteDelta([], [bh('10.65.0.0/26', 80)]).remove).toEqual([{dst: '10.65.0.0/26', blackhole: true, onlink: false}])
  })

  it('neighbours and FDB entries: changed MACs are rewritten, stale ones removed', () => {
    const n = neighbourDelta([{ip: '10.0.0.1', mac: '66:00:00:00:00:01'}, {ip: '10.0.0.2', mac: '66:00:00:00:00:02'}], [{ip: '10.0.0.1', mac: '66:00:00:00:00:09'}, {ip: '10.0.0.3', mac: '66:00:00:00:00:03'}])
    expect(n).toEqual({replace: [{ip: '10.0.0.1', mac: '66:00:00:00:00:01'}, {ip: '10.0.0.2', mac: '66:00:00:00:00:02'}], remove: [{ip: '10.0.0.3', mac: '66:00:00:00:00:03'}]})
    const f = fdbDelta([{mac: '66:00:00:00:00:01', dst: '192.168.1.2'}], [{mac: '66:00:00:00:00:01', dst: '192.168.1.9'}])
    expect(f).toEqual({replace: [{mac: '66:00:00:00:00:01', dst: '192.168.1.2'}], remove: [{mac: '66:00:00:00:00:01', dst: '192.168.1.9'}]})
  })

  it('device: created when absent, recreated when a creation-time setting differs, else updated in place', () => {
    const want = desiredVxlan(input()).device!
    const good: KernelVxlanDevice = {kind: 'vxlan', vni: 4096, port: 4789, local: '192.168.1.1', parent: 'eth0', learning: false, mtu: 1450, mac: '66:00:00:00:00:0a', up: true, addresses: ['10.65.0.1/32']}
    expect(deviceAction(want, undefined)).toEqual({type: 'create', recreate: false})
    expect(deviceAction(want, good)).toEqual({type: 'none'})
    for (const bad of [{vni: 1}, {port: 8472}, {local: '192.168.1.7'}, {learning: true}, {kind: 'bridge'}]) {
      expect(deviceAction(want, {...good, ...bad})).toEqual({type: 'create', recreate: true})
    }
    expect(deviceAction(want, {...good, parent: 'eth1'})).toEqual({type: 'create', recreate: true})
    expect(deviceAction(want, {...good, mtu: 1500, up: false, addresses: ['10.65.0.9/32']})).toEqual({
      type: 'update', mtu: 1450, up: true, addAddress: '10.65.0.1/32', removeAddresses: ['10.65.0.9/32'],
    })
  })
})
