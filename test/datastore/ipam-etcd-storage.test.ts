// Storage compatibility with libcalico-go in etcd: we read IPAM objects Calico wrote, keep working
// on them, and write keys and JSON Calico reads.
import {readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Backend} from '../../src/datastore/backend.js'
import {IPAMClient} from '../../src/ipam/ipam.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {etcdHarness} from './harness.js'
import {applyGoWrittenPool, expectGoWrittenIPAM} from './ipam-harness.js'
import type {Harness} from './harness.js'
import type {EtcdInstance} from '../helpers/etcd.js'

const fixture = JSON.parse(readFileSync(new URL('../fixtures/ipam/go-written-etcd.json', import.meta.url), 'utf8')) as {kvs: Record<string, string>}

describe.skipIf(etcdSkipReason() !== undefined)('IPAM storage in etcd', () => {
  let harness: Harness & {etcd: EtcdInstance}
  let backend: Backend
  let ipam: IPAMClient

  beforeAll(async () => {
    harness = await etcdHarness()
    backend = await harness.open()
    ipam = new IPAMClient(backend)
    for (const [key, value] of Object.entries(fixture.kvs)) await harness.etcd.etcdctl(['put', key, value])
    await backend.apply({kind: 'Node', name: 'node-go'}, {apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name: 'node-go'}, spec: {}})
    await applyGoWrittenPool(backend)
  })
  afterAll(async () => {
    await harness.teardown()
  })

  async function raw(key: string): Promise<Record<string, unknown>> {
    const out = await harness.etcd.etcdctl(['get', key, '--print-value-only'])
    return JSON.parse(out) as Record<string, unknown>
  }

  it('reads Calico-written configuration, blocks, affinities and handles', async () => {
    await expectGoWrittenIPAM(ipam)
  })

  it('continues allocating in the existing affine block and writes a shape Calico reads', async () => {
    const r = await ipam.autoAssign({num4: 1, num6: 0, hostname: 'node-go', handleID: 'k8s-pod-network.def', intendedUse: 'Workload'})
    expect(r.v4?.ips).toEqual(['10.0.0.2/26'])
    const block = await raw('/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26')
    expect(Object.keys(block)).toEqual([
      'cidr',
      'affinity',
      'affinity_claim_time',
      'allocations',
      'unallocated',
      'attributes',
      'sequenceNumber',
      'sequenceNumberForAllocation',
      'deleted',
    ])
    expect((block.allocations as unknown[]).slice(0, 4)).toEqual([0, 0, 1, null])
    expect((block.unallocated as number[])[0]).toBe(3)
    expect(block.attributes).toEqual([
      {handle_id: 'k8s-pod-network.abc', secondary: {namespace: 'default', node: 'node-go', pod: 'web-1', timestamp: '2026-01-01 00:00:01.1 +0000 UTC'}},
      {handle_id: 'k8s-pod-network.def'},
    ])
    // The nanosecond-seeded counter still moves forward and is written as a plain integer.
    const text = await harness.etcd.etcdctl(['get', '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26', '--print-value-only'])
    const seq = /"sequenceNumber":(\d+)/.exec(text)?.[1] ?? ''
    expect(BigInt(seq)).toBeGreaterThan(1767225600123456789n)
    expect(await raw('/calico/ipam/v2/handle/k8s-pod-network.def')).toEqual({block: {'10.0.0.0/26': 1}, deleted: false})
  })

  it('uses Calico\'s key layout for new blocks, affinities, handles and configuration', async () => {
    await ipam.setIPAMConfig({strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0, ipCooldownSeconds: 0})
    await backend.apply({kind: 'Node', name: 'node-ts'}, {apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name: 'node-ts'}, spec: {}})
    const r = await ipam.autoAssign({num4: 1, num6: 0, hostname: 'node-ts', handleID: 'vxlan-tunnel-addr-node-ts', intendedUse: 'Tunnel'})
    const cidr = (r.v4?.ips[0] ?? '').replace(/\.\d+\/26$/, '')
    const keys = (await harness.etcd.etcdctl(['get', '--prefix', '/calico/ipam/v2/', '--keys-only'])).split('\n').filter((l) => l !== '')
    const blockKey = keys.find((k) => k.startsWith('/calico/ipam/v2/assignment/ipv4/block/') && !k.endsWith('10.0.0.0-26')) ?? ''
    expect(blockKey).toMatch(new RegExp(`^/calico/ipam/v2/assignment/ipv4/block/${cidr.replace(/\./g, '\\.')}\\.\\d+-26$`))
    const blockName = blockKey.split('/').pop() ?? ''
    expect(keys).toContain(`/calico/ipam/v2/host/node-ts/ipv4/block/${blockName}`)
    expect(keys).toContain('/calico/ipam/v2/handle/vxlan-tunnel-addr-node-ts')
    expect(keys).toContain('/calico/ipam/v2/config')
    expect(await raw(`/calico/ipam/v2/host/node-ts/ipv4/block/${blockName}`)).toEqual({state: 'confirmed', deleted: false})
    expect(await raw('/calico/ipam/v2/config')).toEqual({strict_affinity: true, auto_allocate_blocks: true})
    const block = await raw(blockKey)
    expect(block.affinity).toBe('host:node-ts')
    expect(block.affinity_claim_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  })
})
