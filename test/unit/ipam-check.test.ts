import {describe, expect, it} from 'vitest'
import {reservationFilter} from '../../src/ipam/addrfilter.js'
import {Block, newBlock} from '../../src/ipam/block.js'
import {checkIPAM, formatAttrs, nodeTunnelIPs, validateBlock, workloadIPs} from '../../src/ipam/check.js'
import type {AllocationBlock} from '../../src/ipam/model.js'
import {parseCIDR} from '../../src/ipam/net.js'
import {block, NOW} from './ipam-fixtures.js'
import {poolFromResource, splitCIDR} from '../../src/ipam/pools.js'
import type {Pool} from '../../src/ipam/pools.js'
import {borrowedIPs, computeUtilization, ORPHANED_BLOCKS} from '../../src/ipam/utilization.js'

function pool(name: string, cidr: string, extra: Record<string, unknown> = {}): Pool {
  const p = poolFromResource({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name}, spec: {cidr, ...extra}})
  if (!p) throw new Error(cidr)
  return p
}

describe('validateBlock', () => {
  const good = () => block('10.0.0.0/30', 'n1', [[2, 'h']])
  it('accepts a consistent block', () => {
    expect(validateBlock(good(), NOW)).toBeUndefined()
  })
  it.each<[string, (b: AllocationBlock) => void, string]>([
    ['dangling attribute index', (b) => (b.allocations[0] = 5), 'allocation 0 indexes a nonexistent attribute 5'],
    ['unreferenced attribute', (b) => b.attributes.push({handle_id: 'x'}), 'attribute index 1 exists but is not indexed by an allocation'],
    ['release in the future', (b) => (b.attributes[0].releasedAt = '2027-01-01T00:00:00Z'), 'attribute index 0 has releasedAt in the future, suggesting clock skew'],
    ['ordinal out of range', (b) => b.unallocated.push(9), 'ordinal 9 appears in the Unallocated array but is out of the block'],
    ['duplicate free ordinal', (b) => b.unallocated.push(2), 'ordinal 2 appears more than once in Unallocated array'],
    ['allocated and free', (b) => b.unallocated.push(0), 'ordinal 0 is allocated but appears in Unallocated'],
    ['lost ordinal', (b) => b.unallocated.pop(), 'expected 4 addresses in this block, but Unallocated (1) + Allocated (2) = 3'],
    ['short allocations', (b) => b.allocations.pop(), 'block has 3 allocation entries but its CIDR holds 4 addresses'],
  ])('reports %s', (_name, mutate, message) => {
    const b = good()
    mutate(b)
    expect(validateBlock(b, NOW)).toBe(message)
  })
})

describe('checkIPAM', () => {
  it('classifies leaks, unknown users, handle problems and invalid blocks', () => {
    const b1 = block('10.0.0.0/29', 'n1', [
      [1, 'pod-a', {node: 'n1', pod: 'a', namespace: 'ns'}],
      [1, 'pod-b', {node: 'n2', pod: 'b', namespace: 'ns'}],
      [1, 'tunnel', {node: 'n1', type: 'vxlanTunnelAddress'}],
      [1, 'orphan-handle-ref'],
    ])
    const broken = block('10.0.1.0/30', null)
    broken.unallocated.pop()
    const r = checkIPAM({
      blocks: [b1, broken],
      activePools: ['10.0.0.0/16'],
      handles: ['pod-a', 'pod-b', 'tunnel', 'stale-handle'],
      inUse: [
        {ip: '10.0.0.0', owner: 'Workload(ns/a)'},
        {ip: '10.0.0.1', owner: 'Workload(ns/b)'},
        {ip: '10.0.0.1', owner: 'Workload(ns/b2)'},
        {ip: '10.0.0.2', owner: 'Node(n1)'},
        {ip: '10.0.5.5', owner: 'Workload(ns/c)'},
        {ip: '192.168.0.1', owner: 'Workload(ns/d)'},
      ],
      now: NOW,
    })
    expect([...r.allocations.keys()]).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3'])
    expect(r.leakedIPs).toEqual(['10.0.0.3'])
    expect(r.multipleOwners).toEqual(['10.0.0.1'])
    expect(r.inUseNotAllocated).toEqual(['10.0.5.5'])
    expect(r.notInActivePools).toEqual(['192.168.0.1'])
    expect(r.handlesWithoutIPs).toEqual(['stale-handle'])
    expect(r.handlesWithIPs).toBe(3)
    expect(r.missingHandles).toEqual(['orphan-handle-ref'])
    expect(r.invalidBlocks).toEqual([{cidr: '10.0.1.0/30', reason: 'expected 4 addresses in this block, but Unallocated (3) + Allocated (0) = 3'}])
    expect(r.problems).toBe(1 + 1 + 1 + 1 + 1)
    const borrowed = r.allocations.get('10.0.0.1')?.[0]
    expect(borrowed).toMatchObject({handle: 'pod-b', node: 'n2', borrowed: true, inUse: true, owners: ['Workload(ns/b)', 'Workload(ns/b2)']})
    expect(r.allocations.get('10.0.0.0')?.[0].borrowed).toBeUndefined()
    expect(r.allocationsByNode.get('n1')).toHaveLength(3)
  })

  it('does not call cooling-down addresses leaked and treats Windows reservations as used', () => {
    const v = newBlock(parseCIDR('10.0.0.0/29') ?? (undefined as never), NOW, {startOfBlock: 3, endOfBlock: 1, handle: 'windows-reserved-ipam-handle', note: 'w'})
    v.affinity = 'host:win'
    const b = Block.fromStored(v)
    b.autoAssign(1, 'h', undefined, {affinityType: 'host', host: 'win'}, true)
    b.release([{address: '10.0.0.3'}], NOW, 300)
    const r = checkIPAM({blocks: [b.value], activePools: [], handles: [], inUse: [], now: NOW})
    expect(r.leakedIPs).toEqual([])
    expect(r.allocations.get('10.0.0.3')?.[0].coolingDown).toBe(true)
    expect(r.allocations.get('10.0.0.0')?.[0].owners).toEqual(['Reserved for Windows'])
    expect(r.problems).toBe(0)
  })

  it('formats attributes like calicoctl', () => {
    expect(formatAttrs({handle_id: 'h', secondary: {pod: 'p', namespace: 'n'}})).toBe('Main:h Extra:namespace=n,pod=p')
    expect(formatAttrs({alternateOwnerAttrs: {pod: 'q'}})).toBe('Main:<none> Extra: Alternate:pod=q')
    expect(formatAttrs(undefined)).toBe('<missing>')
  })

  it('reads addresses from Nodes and WorkloadEndpoints', () => {
    expect(
      nodeTunnelIPs({
        apiVersion: 'projectcalico.org/v3',
        kind: 'Node',
        metadata: {name: 'n'},
        spec: {ipv4VXLANTunnelAddr: '10.0.0.1', wireguard: {interfaceIPv4Address: '10.0.0.2/32'}, bgp: {ipv4IPIPTunnelAddr: '10.0.0.3'}},
      }),
    ).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3'])
    expect(workloadIPs({apiVersion: 'v', kind: 'WorkloadEndpoint', metadata: {}, spec: {ipNetworks: ['10.0.0.9/32', 'fd00::1/128', 'junk']}})).toEqual([
      '10.0.0.9',
      'fd00::1',
    ])
  })
})

describe('computeUtilization', () => {
  it('counts blocks, reservations and uncarved space per pool, and lists orphaned blocks', () => {
    const pools = [pool('a', '10.0.0.0/24'), pool('b', '10.1.0.0/25')]
    const blocks = [block('10.0.0.0/26', 'n1', [[10, 'h']]), block('10.0.0.64/26', 'n2', [[64, 'h']]), block('10.9.0.0/26', null, [[1, 'h']])]
    const res = reservationFilter(['10.0.0.0/30', '10.0.0.128/25', '10.0.0.200'])
    const [a, b, orphan] = computeUtilization(pools, blocks, res)
    expect(a).toMatchObject({name: 'a', cidr: '10.0.0.0/24', capacity: 256n, inUse: 74n, reserved: 132n})
    // Block 1: ordinals 0-9 used; the reserved 10.0.0.0/30 lies inside them (counted as both in use and
    // reserved), so 54 remain available. Block 2 is full. Outside the blocks, 10.0.0.128/25 is reserved.
    expect(a.blocks).toEqual([
      {cidr: '10.0.0.0/26', capacity: 64, inUse: 10, reserved: 4, available: 54},
      {cidr: '10.0.0.64/26', capacity: 64, inUse: 64, reserved: 0, available: 0},
    ])
    expect(a.available).toBe(54n)
    expect(b).toMatchObject({capacity: 128n, inUse: 0n, reserved: 0n, available: 128n, blocks: []})
    expect(orphan.name).toBe(ORPHANED_BLOCKS)
    expect(orphan.blocks.map((x) => x.cidr)).toEqual(['10.9.0.0/26'])
    expect(computeUtilization(pools, blocks, res, ['10.1.0.0/25']).map((u) => u.name)).toEqual(['b'])
  })

  it('clamps huge IPv6 pools to MaxInt64 like Calico', () => {
    const [u] = computeUtilization([pool('v6', 'fd00::/48')], [], reservationFilter([]), ['v6'])
    expect(u.capacity).toBe((1n << 63n) - 1n)
  })
})

describe('splitCIDR', () => {
  it('splits into equal consecutive subnets', () => {
    expect(splitCIDR('10.0.0.0/24', 4)).toEqual(['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26'])
    expect(splitCIDR('fd00::/120', 2)).toEqual(['fd00::/121', 'fd00::80/121'])
  })
  it.each([
    [3, 'number to split CIDR into is not a valid power of 2: 3'],
    [1, 'number to split CIDR into is not a valid power of 2: 1'],
    [512, 'the CIDR 10.0.0.0/24 is not large enough to be split into 512 parts'],
  ])('rejects %d parts', (parts, message) => {
    expect(() => splitCIDR('10.0.0.0/24', parts)).toThrow(message)
  })
})

describe('borrowedIPs', () => {
  it('lists allocations whose node is not the block owner', () => {
    const b = block('10.0.0.0/29', 'n1', [
      [1, 'a', {node: 'n1', pod: 'mine', namespace: 'ns'}],
      [1, 'b', {node: 'n2', pod: 'web', namespace: 'ns'}],
      [1, 'c', {node: 'n3', 'vmi-name': 'vm1', namespace: 'vms'}],
      [1, 'd', {node: 'n2', type: 'vxlanTunnelAddress'}],
      [1, 'e'],
    ])
    expect(borrowedIPs([b])).toEqual({
      borrowed: [
        {ip: '10.0.0.1', borrowingNode: 'n2', block: '10.0.0.0/29', blockOwner: 'n1', allocationType: 'pod', allocatedTo: 'ns/web'},
        {ip: '10.0.0.2', borrowingNode: 'n3', block: '10.0.0.0/29', blockOwner: 'n1', allocationType: 'vmi', allocatedTo: 'vms/vm1'},
        {ip: '10.0.0.3', borrowingNode: 'n2', block: '10.0.0.0/29', blockOwner: 'n1', allocationType: 'vxlanTunnelAddress', allocatedTo: ''},
      ],
      unclassified: 1,
    })
  })
})
