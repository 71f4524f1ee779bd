import {describe, expect, it} from 'vitest'
import {ResourceAlreadyExistsError, ResourceDoesNotExistError, ResourceUpdateConflictError} from '../../src/api/errors.js'
import {reservationFilter} from '../../src/ipam/addrfilter.js'
import {Block, newBlock, nextSequenceNumber, unixNanos} from '../../src/ipam/block.js'
import {BadHandleError, BadSequenceNumberError, IPAMError, IPInCooldownError} from '../../src/ipam/errors.js'
import type {AffinityConfig, AllocationBlock} from '../../src/ipam/model.js'
import {parseCIDR, parseIP} from '../../src/ipam/net.js'

const T0 = new Date('2026-01-02T03:04:05.678Z')
const host: AffinityConfig = {affinityType: 'host', host: 'node1'}

function cidr(s: string) {
  const c = parseCIDR(s)
  if (!c) throw new Error(s)
  return c
}
function ip(s: string) {
  const v = parseIP(s)
  if (!v) throw new Error(s)
  return v
}
function affineBlock(c: string, seq = 0): Block {
  const v = newBlock(cidr(c), T0)
  v.affinity = 'host:node1'
  v.sequenceNumber = seq
  return Block.fromStored(v)
}

describe('newBlock', () => {
  it('has the stored JSON shape of model.AllocationBlock', () => {
    const v = newBlock(cidr('10.0.0.0/30'), T0)
    expect(JSON.parse(JSON.stringify(v))).toEqual({
      cidr: '10.0.0.0/30',
      affinity: null,
      allocations: [null, null, null, null],
      unallocated: [0, 1, 2, 3],
      attributes: [],
      sequenceNumber: unixNanos(T0),
      sequenceNumberForAllocation: {},
      deleted: false,
    })
    // Seeded from the clock in nanoseconds like Go's time.Now().UnixNano().
    expect(v.sequenceNumber).toBeGreaterThan(1.7e18)
  })

  it('keeps host-reserved ordinals out of the free list under one attribute', () => {
    const v = newBlock(cidr('10.0.0.0/28'), T0, {startOfBlock: 3, endOfBlock: 1, handle: 'windows-reserved-ipam-handle', note: 'windows'})
    expect(v.unallocated).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
    expect(v.allocations.slice(0, 4)).toEqual([0, 0, 0, null])
    expect(v.allocations[15]).toBe(0)
    expect(v.attributes).toEqual([{handle_id: 'windows-reserved-ipam-handle', secondary: {note: 'windows'}}])
    // Reserved-only blocks count as empty.
    expect(Block.fromStored(v).empty()).toBe(true)
  })
})

describe('sequence numbers', () => {
  it('increment by one while exact and step to the next double beyond 2^53', () => {
    expect(nextSequenceNumber(0)).toBe(1)
    expect(nextSequenceNumber(41)).toBe(42)
    const big = 1.8e18
    const next = nextSequenceNumber(big)
    expect(next).toBeGreaterThan(big)
    expect(Number.isInteger(next)).toBe(true)
    expect(JSON.stringify(next)).toMatch(/^\d+$/)
  })
})

describe('Block.autoAssign', () => {
  it('takes ordinals in FIFO order with the block mask and one shared attribute', () => {
    const b = affineBlock('10.0.0.0/26', 7)
    const ips = b.autoAssign(3, 'h1', {pod: 'p', namespace: 'ns'}, host, true)
    expect(ips).toEqual(['10.0.0.0/26', '10.0.0.1/26', '10.0.0.2/26'])
    expect(b.value.allocations.slice(0, 4)).toEqual([0, 0, 0, null])
    expect(b.value.attributes).toEqual([{handle_id: 'h1', secondary: {pod: 'p', namespace: 'ns'}}])
    expect(b.value.unallocated[0]).toBe(3)
    expect(b.value.unallocated).toHaveLength(61)
    expect(b.value.sequenceNumberForAllocation).toEqual({'0': 7, '1': 7, '2': 7})
    // Same owner again reuses the attribute entry.
    b.autoAssign(1, 'h1', {namespace: 'ns', pod: 'p'}, host, true)
    expect(b.value.attributes).toHaveLength(1)
    b.autoAssign(1, 'h2', undefined, host, true)
    expect(b.value.attributes).toEqual([{handle_id: 'h1', secondary: {pod: 'p', namespace: 'ns'}}, {handle_id: 'h2'}])
  })

  it('returns fewer addresses when the block runs out', () => {
    const b = affineBlock('10.0.0.0/30')
    expect(b.autoAssign(10, 'h', undefined, host, true)).toHaveLength(4)
    expect(b.value.unallocated).toEqual([])
    expect(b.autoAssign(1, 'h', undefined, host, true)).toEqual([])
  })

  it('skips reserved addresses but leaves them queued', () => {
    const b = affineBlock('10.0.0.0/29')
    const res = reservationFilter(['10.0.0.0/31', '10.0.0.5', 'not-a-cidr'])
    expect(b.numFreeAddresses(res)).toBe(5)
    expect(b.autoAssign(8, 'h', undefined, host, true, res)).toEqual(['10.0.0.2/29', '10.0.0.3/29', '10.0.0.4/29', '10.0.0.6/29', '10.0.0.7/29'])
    expect(b.value.unallocated).toEqual([0, 1, 5])
    expect(b.numFreeAddresses(res)).toBe(0)
  })

  it('enforces affinity when asked', () => {
    const b = affineBlock('10.0.0.0/30')
    expect(() => b.autoAssign(1, 'h', undefined, {affinityType: 'host', host: 'node2'}, true)).toThrow(
      'Block affinity (host:node1) does not match provided (node2:host)',
    )
    expect(b.autoAssign(1, 'h', undefined, {affinityType: 'host', host: 'node2'}, false)).toHaveLength(1)
    const unaffine = Block.fromStored(newBlock(cidr('10.0.1.0/30'), T0))
    expect(() => unaffine.autoAssign(1, 'h', undefined, host, true)).toThrow('Attempt to assign from block 10.0.1.0/30 with no affinity')
  })
})

describe('Block.assign', () => {
  it('allocates a specific address and removes it from the free list', () => {
    const b = affineBlock('192.168.0.0/26', 0)
    b.assign(ip('192.168.0.1'), undefined, undefined, host, true)
    expect(b.value.allocations[1]).toBe(0)
    expect(b.value.attributes).toEqual([{}])
    expect(b.value.unallocated).not.toContain(1)
    expect(b.sequenceNumberFor(1)).toBe(0)
    const err = (() => {
      try {
        b.assign(ip('192.168.0.1'), undefined, undefined, host, true)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(ResourceAlreadyExistsError)
    expect((err as Error).message).toBe('resource already exists: 192.168.0.1 with error: Address already assigned in block')
    expect(() => b.assign(ip('192.168.1.1'), undefined, undefined, host, true)).toThrow(IPAMError)
    expect(() => b.assign(ip('192.168.0.2'), undefined, undefined, {affinityType: 'host', host: 'x'}, true)).toThrow(
      'Block host affinity does not match',
    )
  })
})

describe('Block.release', () => {
  it('frees immediately without cooldown: ordinal to the tail, attributes compacted, sequence cleared', () => {
    const b = affineBlock('10.0.0.0/30', 5)
    b.autoAssign(2, 'h1', undefined, host, true)
    b.autoAssign(1, 'h2', undefined, host, true)
    const {unallocated, countByHandle} = b.release([{address: '10.0.0.0'}, {address: '10.0.0.0'}], T0, 0)
    expect(unallocated).toEqual([])
    expect([...countByHandle]).toEqual([['h1', 1]])
    expect(b.value.allocations).toEqual([null, 0, 1, null])
    expect(b.value.unallocated).toEqual([3, 0])
    expect(b.value.attributes).toEqual([{handle_id: 'h1'}, {handle_id: 'h2'}])
    expect(b.value.sequenceNumberForAllocation).toEqual({'1': 5, '2': 5})
    // A second release of the same address is idempotent.
    expect(b.release([{address: '10.0.0.0'}], T0, 0).unallocated).toEqual(['10.0.0.0'])
    // Releasing the last holder of h1 drops its attribute and re-indexes the others.
    b.release([{address: '10.0.0.1'}], T0, 0)
    expect(b.value.attributes).toEqual([{handle_id: 'h2'}])
    expect(b.value.allocations).toEqual([null, null, 0, null])
  })

  it('keeps released addresses cooling down until ipCooldownSeconds have passed', () => {
    const b = affineBlock('10.0.0.0/30', 5)
    b.autoAssign(1, 'h1', undefined, host, true)
    b.release([{address: '10.0.0.0'}], T0, 60)
    expect(b.value.allocations[0]).toBe(0)
    expect(b.value.attributes).toEqual([{releasedAt: '2026-01-02T03:04:05Z'}])
    expect(() => b.attributesForIP(ip('10.0.0.0'))).toThrow(IPInCooldownError)
    expect(b.release([{address: '10.0.0.0'}], T0, 60).unallocated).toEqual(['10.0.0.0'])
    expect(b.garbageCollect(new Date(T0.getTime() + 30_000), 60)).toBe(false)
    expect(b.garbageCollect(new Date(T0.getTime() + 61_000), 60)).toBe(true)
    expect(b.value.allocations[0]).toBeNull()
    expect(b.value.unallocated).toEqual([1, 2, 3, 0])
    expect(b.value.attributes).toEqual([])
  })

  it('rejects a stale sequence number or a wrong handle without changing anything', () => {
    const b = affineBlock('192.168.0.0/26', 0)
    b.assign(ip('192.168.0.1'), 'real', undefined, host, true)
    const before = structuredClone(b.value)
    expect(() => b.release([{address: '192.168.0.1', sequenceNumber: 1}], T0, 0)).toThrow(BadSequenceNumberError)
    expect(() => b.release([{address: '192.168.0.1', handle: 'fakehandle'}], T0, 0)).toThrow(BadHandleError)
    try {
      b.release([{address: '192.168.0.1', handle: 'fakehandle'}], T0, 0)
    } catch (e) {
      expect(e).toBeInstanceOf(ResourceUpdateConflictError)
      expect((e as Error).message).toBe('update conflict: 192.168.0.1')
      expect((e as Error).cause).toBe('the given handle (fakehandle) does not match (real) when attempting to release IP')
    }
    expect(b.value).toEqual(before)
    expect(b.release([{address: '192.168.0.1', sequenceNumber: 0, handle: 'real'}], T0, 0).countByHandle.get('real')).toBe(1)
  })

  it('gives each release a fresh per-ordinal sequence number when cooling down', () => {
    const b = affineBlock('10.0.0.0/30', 10)
    b.autoAssign(1, 'h', undefined, host, true)
    b.bumpSequenceNumber()
    b.release([{address: '10.0.0.0'}], T0, 30)
    expect(b.sequenceNumberFor(0)).toBe(11)
  })

  it('returns every address in the FIFO order, wrapping after a full cycle', () => {
    const b = affineBlock('10.0.0.0/30')
    const seen: string[] = []
    for (let i = 0; i < 5; i++) {
      const [got] = b.autoAssign(1, 'h', undefined, host, true)
      seen.push(got)
      b.release([{address: got.split('/')[0]}], T0, 0)
    }
    expect(seen).toEqual(['10.0.0.0/30', '10.0.0.1/30', '10.0.0.2/30', '10.0.0.3/30', '10.0.0.0/30'])
  })
})

describe('Block.releaseByHandle', () => {
  it('releases all addresses of a handle, honouring an optional sequence number', () => {
    const b = affineBlock('10.0.0.0/29', 3)
    b.autoAssign(2, 'a\rjunk', undefined, host, true)
    b.bumpSequenceNumber()
    b.autoAssign(1, 'a', {pod: 'x'}, host, true)
    b.autoAssign(1, 'b', undefined, host, true)
    expect(b.ipsByHandle('a')).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.2'])
    expect(b.releaseByHandle('a', T0, 0, 4)).toBe(1)
    expect(b.ipsByHandle('a')).toEqual(['10.0.0.0', '10.0.0.1'])
    expect(b.releaseByHandle('a', T0, 0)).toBe(2)
    expect(b.releaseByHandle('missing', T0, 0)).toBe(0)
    expect(b.inUseIPs()).toEqual(['10.0.0.3'])
    expect(b.value.attributes).toEqual([{handle_id: 'b'}])
    expect(b.empty()).toBe(false)
  })
})

describe('Block.fromStored', () => {
  it('accepts Go nil slices and legacy hostAffinity, and copies the value', () => {
    const stored = {
      cidr: '10.0.0.0/30',
      affinity: null,
      hostAffinity: 'old-node',
      allocations: [null, null, null, null],
      unallocated: [0, 1, 2, 3],
      attributes: null,
      sequenceNumber: 1,
      sequenceNumberForAllocation: null,
      deleted: false,
    } as unknown as AllocationBlock
    const b = Block.fromStored(stored)
    expect(b.host).toBe('old-node')
    expect(b.value.attributes).toEqual([])
    b.autoAssign(1, 'h', undefined, {affinityType: 'host', host: 'old-node'}, true)
    expect(stored.unallocated).toEqual([0, 1, 2, 3])
  })

  it('reports attributes and borrowed allocations', () => {
    const b = affineBlock('10.0.0.0/30')
    b.autoAssign(1, 'h', {node: 'node1', pod: 'a'}, host, true)
    b.autoAssign(1, 'g', {node: 'node2', pod: 'b'}, host, false)
    expect(b.attributesForIP(ip('10.0.0.1'))).toEqual({handle_id: 'g', secondary: {node: 'node2', pod: 'b'}})
    expect(() => b.attributesForIP(ip('10.0.0.3'))).toThrow(ResourceDoesNotExistError)
    expect(b.nonAffineAllocations()).toEqual([{ip: '10.0.0.1', host: 'node2'}])
  })
})

describe('Block.setOwnerAttributes', () => {
  function vmBlock(): Block {
    const b = affineBlock('10.0.0.0/30')
    b.autoAssign(1, 'vm-handle', {pod: 'virt-launcher-a', namespace: 'vms'}, host, true)
    return b
  }

  it('moves the owner during a live migration under preconditions', () => {
    const b = vmBlock()
    b.setOwnerAttributes(ip('10.0.0.0'), 'vm-handle', {alternateOwnerAttrs: {pod: 'virt-launcher-b', namespace: 'vms'}}, {verifyAlternateOwnerEmpty: true})
    expect(b.value.attributes[0]).toEqual({
      handle_id: 'vm-handle',
      secondary: {pod: 'virt-launcher-a', namespace: 'vms'},
      alternateOwnerAttrs: {pod: 'virt-launcher-b', namespace: 'vms'},
    })
    b.setOwnerAttributes(
      ip('10.0.0.0'),
      'vm-handle',
      {activeOwnerAttrs: {pod: 'virt-launcher-b', namespace: 'vms'}, clearAlternateOwner: true},
      {expectedActiveOwner: {namespace: 'vms', name: 'virt-launcher-a'}},
    )
    expect(b.value.attributes[0]).toEqual({handle_id: 'vm-handle', secondary: {pod: 'virt-launcher-b', namespace: 'vms'}})
  })

  it('refuses a failed precondition, a wrong handle or a free address', () => {
    const b = vmBlock()
    const before = structuredClone(b.value)
    expect(() =>
      b.setOwnerAttributes(ip('10.0.0.0'), 'vm-handle', {clearActiveOwner: true}, {expectedActiveOwner: {namespace: 'vms', name: 'other'}}),
    ).toThrow(ResourceUpdateConflictError)
    expect(() => b.setOwnerAttributes(ip('10.0.0.0'), 'vm-handle', {clearActiveOwner: true}, {verifyActiveOwnerEmpty: true})).toThrow(
      ResourceUpdateConflictError,
    )
    expect(() => b.setOwnerAttributes(ip('10.0.0.0'), 'other', {clearActiveOwner: true})).toThrow('IP 10.0.0.0 is not assigned to handle other')
    expect(() => b.setOwnerAttributes(ip('10.0.0.1'), 'vm-handle', {clearActiveOwner: true})).toThrow(ResourceDoesNotExistError)
    expect(b.value).toEqual(before)
  })
})
