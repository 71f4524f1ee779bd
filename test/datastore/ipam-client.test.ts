// The IPAM client against real backends, reproducing the scenarios of libcalico-go's ipam_test.go
// (ipam-model.md §11) and checking the stored objects have Calico's shapes. Runs on every datastore, the
// Kubernetes one with both CRD groups (ipam_test.go itself runs against etcd and KDD).
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {ResourceAlreadyExistsError, ResourceDoesNotExistError, ValidationError} from '../../src/api/errors.js'
import type {Backend} from '../../src/datastore/backend.js'
import {BadHandleError, BadSequenceNumberError, BlockLimitError, InvalidSizeError, NoQualifiedPoolError} from '../../src/ipam/errors.js'
import {AutoAssignError, IPAMClient, partialFulfillmentError} from '../../src/ipam/ipam.js'
import type {AutoAssignArgs, AutoAssignResult} from '../../src/ipam/ipam.js'
import {newBlock} from '../../src/ipam/block.js'
import type {AllocationBlock, BlockAffinityValue, IPAMHandleValue} from '../../src/ipam/model.js'
import {parseCIDR} from '../../src/ipam/net.js'
import {ipamStores, type IpamStore} from './ipam-harness.js'

const WINDOWS = {startOfBlock: 3, endOfBlock: 1, handle: 'windows-reserved-ipam-handle', note: 'windows'}

describe.each(ipamStores())('IPAM client on %s', (_name, makeStore) => {
  let store: IpamStore
  let backend: Backend
  let clockOffsetMs = 0
  let ipam: IPAMClient

  beforeAll(async () => {
    store = await makeStore()
  })
  afterAll(async () => {
    await store.teardown()
  })
  beforeEach(async () => {
    // Every test starts from an empty store (a fresh directory, an emptied etcd prefix, a new API server).
    backend = await store.fresh()
    clockOffsetMs = 0
    ipam = new IPAMClient(backend, {now: () => new Date(Date.now() + clockOffsetMs)})
  })

  async function applyPool(name: string, cidr: string, spec: Record<string, unknown> = {}): Promise<void> {
    await backend.apply({kind: 'IPPool', name}, {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name}, spec: {cidr, ...spec}})
  }
  async function deletePool(name: string): Promise<void> {
    await backend.delete({kind: 'IPPool', name})
  }
  async function applyNode(name: string, labels: Record<string, string> = {}): Promise<void> {
    await store.node(name, labels)
  }
  async function reserve(cidrs: string[]): Promise<void> {
    await backend.apply(
      {kind: 'IPReservation', name: 'r'},
      {apiVersion: 'projectcalico.org/v3', kind: 'IPReservation', metadata: {name: 'r'}, spec: {reservedCIDRs: cidrs}},
    )
  }
  async function auto(args: Partial<AutoAssignArgs> & {hostname: string}): Promise<AutoAssignResult> {
    return ipam.autoAssign({num4: 0, num6: 0, intendedUse: 'Workload', ...args})
  }
  async function autoError(args: Partial<AutoAssignArgs> & {hostname: string}): Promise<AutoAssignError> {
    try {
      await auto(args)
    } catch (e) {
      if (e instanceof AutoAssignError) return e
      throw e
    }
    throw new Error('expected AutoAssignError')
  }
  async function blocks(): Promise<AllocationBlock[]> {
    return (await ipam.store.listBlocks()).map((kv) => kv.value)
  }

  it('1: assigns one IPv4 and one IPv6 address from new affine blocks with Calico storage shapes', async () => {
    await applyNode('test-host')
    await applyPool('v4', '192.168.1.0/24')
    await applyPool('v6', 'fd80:24e2:f998:72d6::/120')
    const r = await auto({hostname: 'test-host', num4: 1, num6: 1, handleID: 'h1', attrs: {pod: 'p', namespace: 'ns'}, ipv4Pools: ['192.168.1.0/24']})
    expect(r.v4?.ips).toHaveLength(1)
    expect(r.v6?.ips).toHaveLength(1)
    expect(r.v4?.msgs).toEqual([])
    expect(r.v4?.ips[0]).toMatch(/^192\.168\.1\.\d+\/26$/)
    expect(r.v6?.ips[0]).toMatch(/^fd80:24e2:f998:72d6::[0-9a-f]*\/122$/)

    const v4Block = parseCIDR(r.v4?.ips[0].replace(/\/26$/, '/26') ?? '')
    expect(v4Block).toBeDefined()
    const all = await blocks()
    expect(all).toHaveLength(2)
    const b4 = all.find((b) => !b.cidr.includes(':')) as AllocationBlock
    expect(b4.affinity).toBe('host:test-host')
    expect(b4.affinity_claim_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(b4.allocations).toHaveLength(64)
    expect(b4.allocations.filter((a) => a !== null)).toEqual([0])
    expect(b4.unallocated).toHaveLength(63)
    expect(b4.attributes).toEqual([{handle_id: 'h1', secondary: {pod: 'p', namespace: 'ns'}}])
    expect(b4.deleted).toBe(false)
    expect(Object.keys(b4.sequenceNumberForAllocation)).toHaveLength(1)

    const aff = await backend.get<BlockAffinityValue>({kind: 'BlockAffinity', name: `host:test-host:${b4.cidr}`})
    expect(aff.value).toEqual({state: 'confirmed', deleted: false})
    const handle = await backend.get<IPAMHandleValue>({kind: 'IPAMHandle', name: 'h1'})
    const b6 = all.find((b) => b.cidr.includes(':')) as AllocationBlock
    expect(handle.value).toEqual({block: {[b4.cidr]: 1, [b6.cidr]: 1}, deleted: false})
    expect(await ipam.ipsByHandle('h1')).toEqual([r.v4?.ips[0].split('/')[0], r.v6?.ips[0].split('/')[0]])
    expect(await ipam.getAssignmentAttributes(r.v4?.ips[0].split('/')[0] ?? '')).toEqual({handleID: 'h1', attrs: {pod: 'p', namespace: 'ns'}})
    // IPv6 affinity names contain the CIDR's colons; listing and releasing must still work.
    const v6Aff = await backend.get<BlockAffinityValue>({kind: 'BlockAffinity', name: `host:test-host:${b6.cidr}`})
    expect(v6Aff.value).toEqual({state: 'confirmed', deleted: false})
    expect((await ipam.hostBlocks('test-host')).sort()).toEqual([b4.cidr, b6.cidr].sort())
    await ipam.releaseByHandle('h1')
    await expect(backend.get({kind: 'IPAMHandle', name: 'h1'})).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    const after = await blocks()
    expect(after.map((b) => b.allocations.filter((a) => a !== null).length)).toEqual([0, 0])
    expect(after.map((b) => b.affinity)).toEqual(['host:test-host', 'host:test-host'])
  })

  it('1b: tiny (/32) and big (/20) blocks behave the same', async () => {
    await applyNode('test-host')
    await applyPool('tiny', '192.168.1.0/24', {blockSize: 32})
    await applyPool('big', '10.0.0.0/16', {blockSize: 20})
    const tiny = await auto({hostname: 'test-host', num4: 1, ipv4Pools: ['192.168.1.0/24']})
    expect(tiny.v4?.ips[0]).toMatch(/\/32$/)
    const big = await auto({hostname: 'test-host', num4: 1, ipv4Pools: ['10.0.0.0/16']})
    expect(big.v4?.ips[0]).toMatch(/^10\.0\.\d+\.\d+\/20$/)
  })

  it('2: fills a /24 and reports the exhausted pool (IPv4 and IPv6)', async () => {
    await applyNode('test-host')
    await applyPool('v4', '192.168.1.0/24')
    await applyPool('v6', 'fd80:24e2:f998:72d6::/120')
    const r = await auto({hostname: 'test-host', num4: 257})
    expect(r.v4?.ips).toHaveLength(256)
    expect(new Set(r.v4?.ips).size).toBe(256)
    expect(r.v4?.msgs).toEqual(['No IPs available in pools: [192.168.1.0/24]'])
    expect(partialFulfillmentError(r.v4 ?? {ips: [], ipVersion: 4, numRequested: 0, msgs: []})).toBe(
      'Assigned 256 out of 257 requested IPv4 addresses; No IPs available in pools: [192.168.1.0/24]',
    )
    const r6 = await auto({hostname: 'test-host', num6: 257})
    expect(r6.v6?.ips).toHaveLength(256)
    expect(r6.v6?.msgs).toEqual(['No IPs available in pools: [fd80:24e2:f998:72d6::/120]'])
  })

  it('3: stops at the per-request block limit with partial results', async () => {
    await applyNode('test-host')
    await applyPool('v4', '192.168.1.0/24')
    const e1 = await autoError({hostname: 'test-host', num4: 256, maxBlocksPerHost: 1})
    expect(e1.cause).toBeInstanceOf(BlockLimitError)
    expect(e1.v4?.ips).toHaveLength(64)
    expect(e1.v4?.msgs).toEqual(['Need to allocate an IPAM block but could not - limit of 1 blocks reached for this node'])
    await applyNode('other-host')
    const e2 = await autoError({hostname: 'other-host', num4: 256, maxBlocksPerHost: 2})
    expect(e2.v4?.ips).toHaveLength(128)
    expect(e2.v4?.msgs).toEqual(['Need to allocate an IPAM block but could not - limit of 2 blocks reached for this node'])
  })

  it('4: borrows from another host\'s block when affinity is not strict', async () => {
    await applyNode('host-a')
    await applyNode('host-b')
    await applyPool('p', '10.0.0.0/25')
    const a1 = await auto({hostname: 'host-a', num4: 1})
    const b1 = await auto({hostname: 'host-b', num4: 1})
    const blockOf = (ip: string) => (ip.startsWith('10.0.0.') && Number(ip.split('.')[3].split('/')[0]) < 64 ? 'low' : 'high')
    expect(blockOf(a1.v4?.ips[0] ?? '')).not.toBe(blockOf(b1.v4?.ips[0] ?? ''))
    const a2 = await auto({hostname: 'host-a', num4: 64})
    expect(a2.v4?.ips).toHaveLength(64)
    expect(a2.v4?.ips.filter((ip) => blockOf(ip) === blockOf(b1.v4?.ips[0] ?? ''))).toHaveLength(1)
    const bBlock = (await blocks()).find((b) => b.affinity === 'host:host-b') as AllocationBlock
    expect(bBlock.allocations.filter((a) => a !== null)).toHaveLength(2)
  })

  it('5: strict affinity never borrows and says so', async () => {
    await applyNode('test-host')
    await applyPool('a', '192.168.1.0/26')
    await applyPool('b', '192.168.1.64/26')
    await ipam.setIPAMConfig({strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0, ipCooldownSeconds: 0})
    const r = await auto({hostname: 'test-host', num4: 256, ipv4Pools: ['192.168.1.0/26']})
    expect(r.v4?.ips).toHaveLength(64)
    expect(r.v4?.msgs).toEqual(['No more free affine blocks and strict affinity enabled'])
  })

  it('6: refuses a pool whose allowedUses exclude the request', async () => {
    await applyNode('test-host')
    await applyPool('tun', '10.0.0.0/24', {allowedUses: ['Tunnel']})
    const e = await autoError({hostname: 'test-host', num4: 1, ipv4Pools: ['10.0.0.0/24']})
    expect(e.cause).toBeInstanceOf(NoQualifiedPoolError)
    expect(e.message).toBe('cannot find a qualified ippool, no pools match the required use (Workload)')
    expect(e.v4).toBeUndefined()
    const t = await auto({hostname: 'test-host', num4: 1, intendedUse: 'Tunnel'})
    expect(t.v4?.ips).toHaveLength(1)
  })

  it('7: toggling strict affinity decides whether a second node may borrow', async () => {
    await applyNode('node-1')
    await applyNode('node-2')
    await applyPool('p', '10.0.0.0/28', {blockSize: 28})
    const config = {strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0, ipCooldownSeconds: 0}
    expect((await auto({hostname: 'node-1', num4: 1})).v4?.ips).toHaveLength(1)
    expect((await auto({hostname: 'node-2', num4: 1})).v4?.ips).toHaveLength(1)
    await ipam.setIPAMConfig({...config, strictAffinity: true})
    expect((await auto({hostname: 'node-1', num4: 1})).v4?.ips).toHaveLength(1)
    expect((await auto({hostname: 'node-2', num4: 1})).v4?.ips).toHaveLength(0)
    await ipam.setIPAMConfig(config)
    expect((await auto({hostname: 'node-2', num4: 1})).v4?.ips).toHaveLength(1)
  })

  it('8: MaxBlocksPerHost in the IPAM configuration caps per-request limits', async () => {
    await applyNode('node1')
    await applyNode('node2')
    await applyPool('p', '10.0.0.0/28', {blockSize: 30})
    await ipam.setIPAMConfig({strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 2, ipCooldownSeconds: 0})
    expect((await auto({hostname: 'node1', num4: 8})).v4?.ips).toHaveLength(8)
    const e = await autoError({hostname: 'node1', num4: 1})
    expect(e.cause).toBeInstanceOf(BlockLimitError)
    expect(e.v4?.ips).toHaveLength(0)
    expect((await auto({hostname: 'node2', num4: 1})).v4?.ips).toHaveLength(1)
    expect((await autoError({hostname: 'node1', num4: 1, maxBlocksPerHost: 3})).cause).toBeInstanceOf(BlockLimitError)
    await ipam.setIPAMConfig({strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 3, ipCooldownSeconds: 0})
    expect((await autoError({hostname: 'node1', num4: 1, maxBlocksPerHost: 2})).cause).toBeInstanceOf(BlockLimitError)
    expect((await auto({hostname: 'node1', num4: 1})).v4?.ips).toHaveLength(1)
  })

  it('9: never hands out reserved addresses, nor Windows host-reserved ones', async () => {
    await applyNode('test-host')
    await applyPool('p0', '10.0.0.0/26')
    await applyPool('p1', '10.0.1.0/26')
    await applyPool('p2', '10.0.2.0/26')
    expect((await auto({hostname: 'test-host', num4: 100, ipv4Pools: ['10.0.0.0/26']})).v4?.ips).toHaveLength(64)
    await reserve(['10.0.1.1/32', '10.0.1.32/30', '11.0.0.0/30', '10.0.1.17/32', '10.0.2.1/32', '10.0.2.32/30', '10.0.2.17/32'])
    const r = await auto({hostname: 'test-host', num4: 100, ipv4Pools: ['10.0.1.0/26']})
    expect(r.v4?.ips).toHaveLength(58)
    for (const bad of ['10.0.1.1/26', '10.0.1.17/26', '10.0.1.32/26', '10.0.1.35/26']) expect(r.v4?.ips).not.toContain(bad)
    const w = await auto({hostname: 'test-host', num4: 100, ipv4Pools: ['10.0.2.0/26'], hostReservedAttrIPv4s: WINDOWS})
    expect(w.v4?.ips).toHaveLength(55)
    expect(w.v4?.ips).not.toContain('10.0.2.63/26')
  })

  it('10: a release carrying a stale sequence number is rejected', async () => {
    await applyNode('testnode')
    await applyPool('p', '10.0.0.0/24', {blockSize: 30})
    const handle = 'testnode-ipip-tunnel-address'
    const r = await auto({hostname: 'testnode', num4: 1, handleID: handle, intendedUse: 'Tunnel'})
    const ip = r.v4?.ips[0].split('/')[0] ?? ''
    const cidr = (await blocks())[0].cidr
    const ordinal = Number(ip.split('.')[3]) - Number(cidr.split('.')[3].split('/')[0])
    const seqOf = async () => (await ipam.store.getBlock(cidr)).value.sequenceNumberForAllocation[String(ordinal)]
    const oldSeq = await seqOf()
    await ipam.releaseByHandle(handle)
    await ipam.assignIP({ip, handleID: handle, hostname: 'testnode'})
    const newSeq = await seqOf()
    expect(newSeq).toBeGreaterThan(oldSeq)
    await expect(ipam.releaseIPs([{address: ip, handle, sequenceNumber: oldSeq}])).rejects.toBeInstanceOf(BadSequenceNumberError)
    expect(await ipam.ipsByHandle(handle)).toEqual([ip])
    const ok = await ipam.releaseIPs([{address: ip, handle, sequenceNumber: newSeq}])
    expect(ok).toEqual({unallocated: [], released: [{address: ip, handle, sequenceNumber: newSeq}]})
    await expect(ipam.ipsByHandle(handle)).rejects.toBeInstanceOf(ResourceDoesNotExistError)
  })

  it('11: ReleaseOptions sequence number and handle checks', async () => {
    await applyNode('test-host')
    await applyPool('p', '192.168.0.0/24')
    const cases: [string, {sequenceNumber?: number; handle?: string}, boolean][] = [
      ['192.168.0.0/26', {sequenceNumber: 0}, true],
      ['192.168.0.64/26', {sequenceNumber: 1}, false],
      ['192.168.0.128/26', {handle: 'fakehandle'}, false],
      ['192.168.0.192/26', {}, true],
    ]
    for (const [cidr, opts, ok] of cases) {
      // A block whose sequence number starts at 0, as the Go test writes it.
      const block = newBlock(parseCIDR(cidr) ?? (undefined as never), new Date())
      block.affinity = 'host:test-host'
      block.sequenceNumber = 0
      await ipam.store.createBlock(block)
      const [a, b, c, d] = cidr.split('/')[0].split('.')
      const address = `${a}.${b}.${c}.${Number(d) + 1}`
      await ipam.assignIP({ip: address, hostname: 'test-host'})
      const p = ipam.releaseIPs([{address, ...opts}])
      if (ok) await expect(p).resolves.toEqual({unallocated: [], released: [{address, ...opts}]})
      else await expect(p).rejects.toBeInstanceOf(opts.handle ? BadHandleError : BadSequenceNumberError)
    }
  })

  it('12: addresses come back in FIFO order and wrap', async () => {
    await applyNode('test-host')
    await applyPool('p', '10.0.0.0/30', {blockSize: 30})
    const seen: string[] = []
    for (let i = 0; i < 5; i++) {
      const ip = (await auto({hostname: 'test-host', num4: 1})).v4?.ips[0] ?? ''
      seen.push(ip)
      await ipam.releaseIPs([{address: ip.split('/')[0]}])
    }
    expect(new Set(seen.slice(0, 4)).size).toBe(4)
    expect(seen[4]).toBe(seen[0])
  })

  it('13: releasing the same address twice is harmless', async () => {
    await applyNode('test-host')
    await applyPool('p', '10.0.0.0/26')
    expect((await auto({hostname: 'test-host', num4: 64})).v4?.ips).toHaveLength(64)
    expect((await ipam.releaseIPs([{address: '10.0.0.1'}, {address: '10.0.0.1'}])).unallocated).toEqual([])
    await ipam.assignIP({ip: '10.0.0.1', hostname: 'test-host'})
    expect(await ipam.getAssignmentAttributes('10.0.0.1')).toEqual({attrs: {}})
    await expect(ipam.getAssignmentAttributes('99.0.0.1')).rejects.toThrow('resource does not exist: 99.0.0.1 with error: No valid IPPool')
    expect((await auto({hostname: 'test-host', num4: 1})).v4?.ips).toHaveLength(0)
  })

  it('14: a replaced pool takes over and the old affine block is ignored', async () => {
    await applyNode('host-a')
    await applyNode('host-b')
    await applyPool('p1', '10.0.0.0/24')
    const a1 = (await auto({hostname: 'host-a', num4: 1})).v4?.ips[0] ?? ''
    const a2 = (await auto({hostname: 'host-a', num4: 1})).v4?.ips[0] ?? ''
    expect(a1.split('.').slice(0, 3)).toEqual(a2.split('.').slice(0, 3))
    await deletePool('p1')
    await applyPool('p2', '20.0.0.0/24')
    expect((await auto({hostname: 'host-b', num4: 1})).v4?.ips[0]).toMatch(/^20\.0\.0\./)
    expect((await auto({hostname: 'host-a', num4: 1})).v4?.ips[0]).toMatch(/^20\.0\.0\./)
  })

  it('15: AssignIP table', async () => {
    await applyNode('test-host')
    await applyPool('v4', '192.168.1.0/24')
    await applyPool('v6', 'fd80:24e2:f998:72d6::/120')
    await ipam.assignIP({ip: '192.168.1.0', hostname: 'test-host'})
    await ipam.assignIP({ip: 'fd80:24e2:f998:72d6::', hostname: 'test-host'})
    await expect(ipam.assignIP({ip: '1.1.1.1', hostname: 'test-host'})).rejects.toThrow(/^The provided IP address is not in a configured pool\n$/)
    const dup = ipam.assignIP({ip: '192.168.1.0', hostname: 'test-host'})
    await expect(dup).rejects.toBeInstanceOf(ResourceAlreadyExistsError)
    await expect(ipam.assignIP({ip: '192.168.1.0', hostname: 'test-host'})).rejects.toThrow(
      'resource already exists: 192.168.1.0 with error: Address already assigned in block',
    )
  })

  it('16: ReleaseIPs table', async () => {
    await applyNode('test-host')
    await applyPool('v4', '192.168.1.0/24')
    expect(await ipam.releaseIPs([{address: '1.1.1.1'}])).toEqual({unallocated: ['1.1.1.1'], released: []})
    expect((await ipam.releaseIPs([{address: '192.168.1.0'}])).unallocated).toEqual(['192.168.1.0'])
    const r = await auto({hostname: 'test-host', num4: 66, ipv4Pools: ['192.168.1.0/24']})
    expect(r.v4?.ips).toHaveLength(66)
    const res = await ipam.releaseIPs((r.v4?.ips ?? []).map((ip) => ({address: ip.split('/')[0]})))
    expect(res.unallocated).toEqual([])
    expect(res.released).toHaveLength(66)
    await ipam.assignIP({ip: '192.168.1.1', hostname: 'test-host'})
    const two = await ipam.releaseIPs([{address: '192.168.1.1'}, {address: '192.168.1.2'}])
    expect(two.unallocated).toEqual(['192.168.1.2'])
    await expect(ipam.releaseIPs([{address: ''}])).rejects.toThrow(/No IP address specified/)
  })

  it('17: ClaimAffinity table', async () => {
    await applyNode('host-a')
    await applyNode('host-b')
    await applyPool('v4', '192.168.1.0/24')
    await applyPool('ten', '10.0.0.0/24')
    expect(await ipam.claimAffinity('192.168.1.0/26', 'host-a')).toEqual({claimed: ['192.168.1.0/26'], failed: []})
    await expect(ipam.claimAffinity('192.168.1.0/27', 'host-a')).rejects.toThrow(
      new InvalidSizeError('The requested CIDR (192.168.1.0/27) is smaller than the minimum.'),
    )
    await ipam.assignIP({ip: '10.0.0.1', hostname: 'host-a'})
    const b = await ipam.claimAffinity('10.0.0.0/24', 'host-b')
    expect(b.claimed).toHaveLength(3)
    expect(b.failed).toEqual(['10.0.0.0/26'])
    await applyPool('eleven', '11.0.0.0/24')
    expect((await ipam.claimAffinity('11.0.0.0/24', 'host-a')).claimed).toHaveLength(4)
    expect(await ipam.claimAffinity('11.0.0.0/24', 'host-b')).toEqual({
      claimed: [],
      failed: ['11.0.0.0/26', '11.0.0.64/26', '11.0.0.128/26', '11.0.0.192/26'],
    })
    expect((await ipam.hostBlocks('host-a')).filter((c) => c.startsWith('11.'))).toHaveLength(4)
    expect((await ipam.hostBlocks('host-b')).filter((c) => c.startsWith('11.'))).toEqual([])
  })

  it('18: a must-be-empty affinity release waits for the block to empty', async () => {
    await applyNode('test-host')
    await applyPool('p', '10.0.0.0/24')
    const r = await auto({hostname: 'test-host', num4: 1, handleID: 'h'})
    const cidr = (await blocks())[0].cidr
    await expect(ipam.releaseAffinity(cidr, 'test-host', true)).rejects.toThrow(`block '${cidr}' is not empty`)
    expect(await ipam.hostBlocks('test-host')).toEqual([cidr])
    expect(r.v4?.ips).toHaveLength(1)
    await ipam.releaseByHandle('h')
    await ipam.releaseAffinity(cidr, 'test-host', true)
    expect(await blocks()).toEqual([])
    expect(await ipam.hostBlocks('test-host')).toEqual([])
  })

  // Kubernetes Node names are lowercase (RFC 1123), so ipam_test.go's hostA/hostB are host-a/host-b here.
  it('19: another host reclaims an empty block only once its claim is a minute old', async () => {
    await applyNode('host-a')
    await applyNode('host-b')
    await applyPool('p', '10.0.0.0/26')
    await ipam.setIPAMConfig({strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0, ipCooldownSeconds: 0})
    const a = await auto({hostname: 'host-a', num4: 1, handleID: 'a'})
    expect(a.v4?.ips).toHaveLength(1)
    expect((await auto({hostname: 'host-b', num4: 1})).v4?.ips).toHaveLength(0)
    await ipam.releaseByHandle('a')
    expect((await auto({hostname: 'host-b', num4: 1})).v4?.ips).toHaveLength(0)
    clockOffsetMs = 61_000
    const b = await auto({hostname: 'host-b', num4: 1})
    expect(b.v4?.ips).toHaveLength(1)
    expect((await blocks())[0].affinity).toBe('host:host-b')
    expect(await ipam.hostBlocks('host-a')).toEqual([])
  })

  it('20: pool deletion frees affinities; block-size conflicts last until the block is gone', async () => {
    await applyNode('test-host')
    await applyPool('p', '1.2.3.0/26')
    const ip = (await auto({hostname: 'test-host', num4: 1})).v4?.ips[0].split('/')[0] ?? ''
    await ipam.releasePoolAffinities('1.2.3.0/26')
    await deletePool('p')
    expect((await blocks())[0].affinity).toBeNull()
    expect(await ipam.poolBlockSizeConflict('1.2.3.0/26', 28)).toBeInstanceOf(ValidationError)
    expect((await ipam.poolBlockSizeConflict('1.2.3.0/26', 28))?.message).toBe(
      "error with field IPPool.Spec.BlockSize = '28' (IPPool blocksSize conflicts with existing allocations that use a different blockSize)",
    )
    expect(await ipam.poolBlockSizeConflict('1.2.3.0/26', 26)).toBeUndefined()
    // The address is outside every pool now; the release finds its block by scanning.
    expect((await ipam.releaseIPs([{address: ip}])).unallocated).toEqual([])
    expect(await blocks()).toEqual([])
    expect(await ipam.poolBlockSizeConflict('1.2.3.0/26', 28)).toBeUndefined()
  })

  it('selects pools by node labels and releases empty blocks of pools that stop selecting the node', async () => {
    await applyNode('n1', {zone: 'a'})
    await applyPool('za', '10.0.0.0/24', {nodeSelector: "zone == 'a'"})
    await applyPool('zb', '10.1.0.0/24', {nodeSelector: "zone == 'b'"})
    const first = (await auto({hostname: 'n1', num4: 1, handleID: 'x'})).v4?.ips[0] ?? ''
    expect(first).toMatch(/^10\.0\.0\./)
    const [oldBlock] = await ipam.hostBlocks('n1')
    await applyNode('n1', {zone: 'b'})
    // Releasing the last address of a block whose pool no longer selects the node drops the affinity.
    await ipam.releaseByHandle('x')
    expect(await ipam.hostBlocks('n1')).toEqual([])
    expect(await blocks()).toEqual([])
    // An emptied block of a pool that stopped selecting the node is let go at the next assignment.
    await applyNode('n1', {zone: 'a'})
    const [a, b, c, d] = oldBlock.split('/')[0].split('.')
    await ipam.assignIP({ip: `${a}.${b}.${c}.${Number(d) + 5}`, hostname: 'n1', handleID: 'y'})
    await ipam.releaseByHandle('y')
    expect(await ipam.hostBlocks('n1')).toEqual([oldBlock])
    await applyNode('n1', {zone: 'b'})
    expect((await auto({hostname: 'n1', num4: 1})).v4?.ips[0]).toMatch(/^10\.1\.0\./)
    expect((await ipam.hostBlocks('n1')).filter((c) => c.startsWith('10.0.'))).toEqual([])
    await applyNode('n2', {zone: 'c'})
    expect((await autoError({hostname: 'n2', num4: 1})).message).toBe('no configured Calico pools for node n2')
    expect((await autoError({hostname: 'ghost', num4: 1})).cause).toBeInstanceOf(ResourceDoesNotExistError)
  })

  it('validates and persists the IPAM configuration', async () => {
    expect(await ipam.getIPAMConfig()).toEqual({
      strictAffinity: false,
      autoAllocateBlocks: true,
      maxBlocksPerHost: 0,
      kubeVirtVMAddressPersistence: 'Enabled',
      ipCooldownSeconds: 0,
    })
    await expect(ipam.setIPAMConfig({strictAffinity: false, autoAllocateBlocks: false, maxBlocksPerHost: 0, ipCooldownSeconds: 0})).rejects.toThrow(
      "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time",
    )
    await expect(ipam.setIPAMConfig({strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 5, ipCooldownSeconds: 0})).rejects.toThrow(
      'MaxBlocksPerHost requires StrictAffinity to be enabled',
    )
    await ipam.setIPAMConfig({strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 5, ipCooldownSeconds: 30})
    expect((await backend.get({kind: 'IPAMConfig', name: 'default'})).value).toEqual({
      strict_affinity: true,
      auto_allocate_blocks: true,
      maxBlocksPerHost: 5,
      ipCooldownSeconds: 30,
    })
    await expect(new IPAMClient(backend, {windows: true}).getIPAMConfig()).resolves.toMatchObject({strictAffinity: true})
    await ipam.setIPAMConfig({strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0, ipCooldownSeconds: 0})
    await expect(new IPAMClient(backend, {windows: true}).getIPAMConfig()).rejects.toThrow('global strict affinity should not be false for Windows node')
  })

  it('keeps released addresses out of use during the cooldown', async () => {
    await applyNode('h')
    await applyPool('p', '10.0.0.0/30', {blockSize: 30})
    await ipam.setIPAMConfig({strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0, ipCooldownSeconds: 60})
    const all = (await auto({hostname: 'h', num4: 4})).v4?.ips ?? []
    expect(all).toHaveLength(4)
    await ipam.releaseIPs([{address: '10.0.0.2'}])
    expect((await auto({hostname: 'h', num4: 1})).v4?.ips).toHaveLength(0)
    await expect(ipam.getAssignmentAttributes('10.0.0.2')).rejects.toThrow('address 10.0.0.2 is in cooldown')
    expect(await ipam.garbageCollectColdIPs()).toBe(0)
    clockOffsetMs = 61_000
    expect(await ipam.garbageCollectColdIPs()).toBe(1)
    const [stored] = await blocks()
    expect(stored.unallocated).toEqual([2])
    expect(stored.attributes).toHaveLength(1)
    expect((await auto({hostname: 'h', num4: 1})).v4?.ips).toEqual(['10.0.0.2/30'])
  })

  it('caps a handle with maxAllocPerIPVersion and returns its existing address on retry', async () => {
    await applyNode('h')
    await applyPool('p', '10.0.0.0/24')
    const first = await auto({hostname: 'h', num4: 1, handleID: 'vm', maxAllocPerIPVersion: 1})
    const again = await auto({hostname: 'h', num4: 1, handleID: 'vm', maxAllocPerIPVersion: 1})
    expect(again.v4?.ips.map((i) => i.split('/')[0])).toEqual(first.v4?.ips.map((i) => i.split('/')[0]))
    expect((await backend.get<IPAMHandleValue>({kind: 'IPAMHandle', name: 'vm'})).value.block).toEqual({[(await blocks())[0].cidr]: 1})
    const ip = first.v4?.ips[0].split('/')[0] ?? ''
    await ipam.assignIP({ip, handleID: 'vm', hostname: 'h', maxAllocPerIPVersion: 1})
    await expect(ipam.assignIP({ip: '10.0.0.200', handleID: 'vm', hostname: 'h', maxAllocPerIPVersion: 1})).rejects.toThrow(
      /handle vm already has IP\(s\) allocated/,
    )
  })

  it('records a live migration\'s owners on the stored allocation', async () => {
    await applyNode('h')
    await applyPool('p', '10.0.0.0/24')
    const r = await auto({hostname: 'h', num4: 1, handleID: 'vm', attrs: {pod: 'launcher-a', namespace: 'vms'}})
    const ip = r.v4?.ips[0].split('/')[0] ?? ''
    await ipam.setOwnerAttributes(ip, 'vm', {alternateOwnerAttrs: {pod: 'launcher-b', namespace: 'vms'}}, {verifyAlternateOwnerEmpty: true})
    expect(await ipam.getAssignmentAttributes(ip)).toEqual({
      handleID: 'vm',
      attrs: {pod: 'launcher-a', namespace: 'vms'},
      alternateOwnerAttrs: {pod: 'launcher-b', namespace: 'vms'},
    })
    await expect(
      ipam.setOwnerAttributes(ip, 'vm', {alternateOwnerAttrs: {pod: 'launcher-c', namespace: 'vms'}}, {verifyAlternateOwnerEmpty: true}),
    ).rejects.toThrow(`update conflict: ${ip}`)
    await expect(ipam.setOwnerAttributes(ip, 'vm', {clearActiveOwner: true, activeOwnerAttrs: {}})).rejects.toThrow(/mutually exclusive/)
  })

  it('recovers from interrupted claims: confirms a pending affinity, drops a stale one, recreates a missing block', async () => {
    await applyNode('a')
    await applyNode('b')
    await applyPool('p', '10.0.0.0/24')
    const first = (await auto({hostname: 'a', num4: 1})).v4?.ips[0] ?? ''
    const [blockA] = await ipam.hostBlocks('a')
    // A claimer that died between "pending" and "confirmed".
    const affA = await backend.get<BlockAffinityValue>({kind: 'BlockAffinity', name: `host:a:${blockA}`})
    await backend.update(affA.key, {state: 'pending', deleted: false}, affA.revision)
    const again = (await auto({hostname: 'a', num4: 1})).v4?.ips[0] ?? ''
    expect(again.split('.').slice(0, 3)).toEqual(first.split('.').slice(0, 3))
    expect((await backend.get<BlockAffinityValue>({kind: 'BlockAffinity', name: `host:a:${blockA}`})).value.state).toBe('confirmed')
    // An affinity of b pointing at a's block (b lost the race but its affinity survived).
    await backend.create({kind: 'BlockAffinity', name: `host:b:${blockA}`}, {state: 'confirmed', deleted: false})
    expect((await auto({hostname: 'b', num4: 1})).v4?.ips).toHaveLength(1)
    const bBlocks = await ipam.hostBlocks('b')
    expect(bBlocks).toHaveLength(1)
    expect(bBlocks).not.toContain(blockA)
    expect((await blocks()).find((b) => b.cidr === blockA)?.affinity).toBe('host:a')
    // An affinity whose block vanished (or was never written): the block is created for its host.
    const taken = (await blocks()).map((b) => b.cidr)
    const free = ['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26'].find((c) => !taken.includes(c)) ?? ''
    await backend.create({kind: 'BlockAffinity', name: `host:a:${free}`}, {state: 'confirmed', deleted: false})
    // More than blockA has left, so both affine blocks are used whatever their order.
    await auto({hostname: 'a', num4: 63})
    expect((await blocks()).find((b) => b.cidr === free)?.affinity).toBe('host:a')
  })

  it('releases all affinities of a host, keeping blocks that still hold addresses', async () => {
    await applyNode('h')
    await applyPool('p', '10.0.0.0/24')
    await ipam.claimAffinity('10.0.0.0/25', 'h')
    await ipam.assignIP({ip: '10.0.0.70', hostname: 'h'})
    await ipam.releaseHostAffinities('h', false)
    expect(await ipam.hostBlocks('h')).toEqual([])
    const left = await blocks()
    expect(left.map((b) => [b.cidr, b.affinity])).toEqual([['10.0.0.64/26', null]])
  })

  it('ensures a Windows block with its reserved addresses without allocating', async () => {
    await applyNode('win')
    await applyPool('p', '10.0.0.0/24')
    const first = await ipam.ensureBlock({hostname: 'win', hostReservedAttrIPv4s: WINDOWS})
    expect(first.v4).toMatch(/\/26$/)
    expect(first.v6).toBeUndefined()
    expect(await ipam.ensureBlock({hostname: 'win', hostReservedAttrIPv4s: WINDOWS})).toEqual(first)
    const [b] = await blocks()
    expect(b.unallocated).toHaveLength(60)
    expect(b.attributes).toEqual([{handle_id: 'windows-reserved-ipam-handle', secondary: {note: 'windows'}}])
  })

  it('gives LoadBalancer addresses virtual affinity, and uses namespace selectors for workloads', async () => {
    await applyPool('lb', '10.9.0.0/24', {allowedUses: ['LoadBalancer']})
    const lb = await auto({hostname: 'load-balancer', num4: 1, intendedUse: 'LoadBalancer', handleID: 'lb-x'})
    expect(lb.v4?.ips[0]).toMatch(/^10\.9\.0\./)
    expect((await blocks())[0].affinity).toBe('virtual:load-balancer')
    expect(await ipam.hostBlocks('load-balancer', 'virtual')).toHaveLength(1)
    await ipam.releaseByHandle('lb-x')

    await applyNode('n')
    await applyPool('team', '10.1.0.0/24', {namespaceSelector: "team == 'red'"})
    await applyPool('rest', '10.2.0.0/24', {namespaceSelector: "team != 'red'"})
    expect((await auto({hostname: 'n', num4: 1, namespaceLabels: {team: 'red'}})).v4?.ips[0]).toMatch(/^10\.1\.0\./)
    expect((await auto({hostname: 'n', num4: 1, namespaceLabels: {team: 'blue'}})).v4?.ips[0]).toMatch(/^10\.2\.0\./)
    expect((await auto({hostname: 'n', num4: 1})).v4?.ips[0]).toMatch(/^10\.2\.0\./)
    const mixed = await autoError({hostname: 'n', num4: 1, ipv4Pools: ['fd00::/64']})
    expect(mixed.message).toBe('provided IPv4 IPPools list contains one or more IPv6 IPPools')
  })

  it('reports utilization and consistency from the stored data', async () => {
    await applyNode('n1')
    await applyPool('p', '10.0.0.0/24')
    await reserve(['10.0.0.250'])
    const r = await auto({hostname: 'n1', num4: 3, handleID: 'pod1', attrs: {node: 'n1', pod: 'a', namespace: 'ns'}})
    const [used, leaked] = (r.v4?.ips ?? []).map((ip) => ip.split('/')[0])
    await store.pod('ns', 'a', 'n1')
    await backend.apply(
      {kind: 'WorkloadEndpoint', name: 'n1-k8s-a-eth0', namespace: 'ns'},
      {apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: {name: 'n1-k8s-a-eth0', namespace: 'ns'}, spec: {ipNetworks: [`${used}/32`]}},
    )
    await backend.create({kind: 'IPAMHandle', name: 'ghost'}, {block: {'10.0.0.0/26': 1}, deleted: false})

    const [pool, orphan] = await ipam.getUtilization()
    expect(pool).toMatchObject({name: 'p', cidr: '10.0.0.0/24', capacity: 256n, inUse: 3n, reserved: 1n, available: 252n})
    expect(pool.blocks).toHaveLength(1)
    expect(orphan.blocks).toEqual([])

    const {checkIPAM} = await import('../../src/ipam/check.js')
    const result = checkIPAM(await ipam.loadCheckInput())
    expect(result.leakedIPs).toContain(leaked)
    expect(result.leakedIPs).not.toContain(used)
    expect(result.leakedIPs).toHaveLength(2)
    expect(result.allocations.get(used)?.[0].owners).toEqual(['Workload(ns/n1-k8s-a-eth0)'])
    expect(result.handlesWithoutIPs).toEqual(['ghost'])
    expect(result.invalidBlocks).toEqual([])
  })
})
