// Storage compatibility with libcalico-go on the Kubernetes datastore, for both CRD groups: we read the IPAM custom
// resources Calico wrote, keep working on them, and write objects with Calico's names, labels and spec shapes that
// Calico's own CRD schemas accept unpruned (the API server would reject a missing required field).
import {readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Backend} from '../../src/datastore/backend.js'
import {IPAMClient} from '../../src/ipam/ipam.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import {calicoCrdSchema, schemaProblems} from './ipam-crd-schema.js'
import {applyGoWrittenPool, expectGoWrittenIPAM, kubernetesNode} from './ipam-harness.js'
import {kubernetesHarness} from './k8s-harness.js'
import type {Harness} from './harness.js'

interface StoredObject {
  metadata: {name: string; labels?: Record<string, string>; annotations?: Record<string, string>}
  spec: Record<string, unknown>
}
type Fixture = Record<'v1' | 'v3', Record<string, StoredObject[]>>
const fixture = JSON.parse(readFileSync(new URL('../fixtures/ipam/go-written-kdd.json', import.meta.url), 'utf8')) as Fixture

const GROUPS = {v1: 'crd.projectcalico.org', v3: 'projectcalico.org'} as const

describe('the CRD schema check', () => {
  it('finds what kube-apiserver would reject or prune', () => {
    const schema = calicoCrdSchema('crd.projectcalico.org', 'ipamblocks')
    const block = {apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMBlock', metadata: {name: 'x'}, spec: {cidr: '10.0.0.0/30', allocations: [0, null], unallocated: [1], attributes: [{handle_id: 'h'}]}}
    expect(schemaProblems(schema, block)).toEqual(['spec: required field strictAffinity is missing'])
    expect(schemaProblems(schema, {...block, spec: {...block.spec, strictAffinity: false, affinity: null, affinity_claim_time: 'x', unallocated: ['1']}})).toEqual([
      'spec.unallocated[0]: expected an integer, got "1"',
      'spec.affinity: null is not allowed',
      'spec.affinity_claim_time: not in the schema (pruned)',
    ])
  })
})

describe.each(['v1', 'v3'] as const)('IPAM storage on the Kubernetes datastore (%s CRDs)', (crds) => {
  const group = GROUPS[crds]
  const configPlural = crds === 'v1' ? 'ipamconfigs' : 'ipamconfigurations'
  let harness: Harness & {server(): TestApiServer}
  let backend: Backend
  let ipam: IPAMClient
  const server = () => harness.server()
  const stored = (plural: string): StoredObject[] => server().objects(group, plural) as unknown as StoredObject[]

  beforeAll(async () => {
    harness = await kubernetesHarness(crds)
    for (const [plural, objects] of Object.entries(fixture[crds])) for (const o of objects) server().seed(group, plural, o)
    backend = await harness.open()
    ipam = new IPAMClient(backend)
    await kubernetesNode(server(), 'node-go')
    await applyGoWrittenPool(backend)
  })
  afterAll(async () => {
    await harness.teardown()
  })

  it('reads Calico-written configuration, blocks, affinities and handles', async () => {
    await expectGoWrittenIPAM(ipam)
  })

  it('continues allocating in the existing affine block and writes the spec Calico marshals', async () => {
    const r = await ipam.autoAssign({num4: 1, num6: 0, hostname: 'node-go', handleID: 'k8s-pod-network.def', intendedUse: 'Workload'})
    expect(r.v4?.ips).toEqual(['10.0.0.2/26'])
    const [block] = stored('ipamblocks')
    expect(block?.metadata.name).toBe('10-0-0-0-26')
    // IPAMBlockSpec's fields in Go's order: omitempty affinity/affinityClaimTime present here, the deprecated strictAffinity always.
    expect(Object.keys(block?.spec ?? {})).toEqual([
      'cidr', 'affinity', 'affinityClaimTime', 'allocations', 'unallocated', 'attributes', 'sequenceNumber', 'sequenceNumberForAllocation', 'deleted',
      'strictAffinity',
    ])
    expect(block?.spec).toMatchObject({cidr: '10.0.0.0/26', affinity: 'host:node-go', affinityClaimTime: '2026-01-01T00:00:00Z', deleted: false, strictAffinity: false})
    expect((block?.spec.allocations as unknown[]).slice(0, 4)).toEqual([0, 0, 1, null])
    expect(block?.spec.attributes).toEqual([
      {handle_id: 'k8s-pod-network.abc', secondary: {namespace: 'default', node: 'node-go', pod: 'web-1', timestamp: '2026-01-01 00:00:01.1 +0000 UTC'}},
      {handle_id: 'k8s-pod-network.def'},
    ])
    expect(block?.spec.sequenceNumber).toBeGreaterThan(1767225600123456789)
    expect(stored('ipamhandles').find((h) => h.metadata.name === 'k8s-pod-network.def')?.spec).toEqual({
      handleID: 'k8s-pod-network.def',
      block: {'10.0.0.0/26': 1},
      deleted: false,
    })
  })

  it('names and labels new objects as Calico does, and every object passes Calico\'s CRD schema unpruned', async () => {
    await ipam.setIPAMConfig({strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0, ipCooldownSeconds: 0})
    await kubernetesNode(server(), 'node-ts')
    // Mixed case survives in spec.handleID; the object name is lowercased (ipam_handle.go).
    const r = await ipam.autoAssign({num4: 1, num6: 0, hostname: 'node-ts', handleID: 'VXLAN-tunnel-addr-node-ts', intendedUse: 'Tunnel'})
    const cidr = (r.v4?.ips[0] ?? '').replace(/\.\d+\/26$/, '')
    const blockName = stored('ipamblocks').map((b) => b.metadata.name).find((n) => n !== '10-0-0-0-26') ?? ''
    expect(blockName).toMatch(new RegExp(`^${cidr.replaceAll('.', '-')}-\\d+-26$`))
    const blockCidr = `${blockName.split('-').slice(0, 4).join('.')}/26`

    const affinity = stored('blockaffinities').find((a) => a.metadata.name === `node-ts-${blockName}`)
    expect(affinity?.metadata.labels).toEqual({
      'projectcalico.org/affinity-type': 'host',
      'projectcalico.org/hostname-hash': expect.stringMatching(/^[A-Z2-7]{52}$/) as unknown as string,
      'projectcalico.org/ip-version': '4',
    })
    expect(affinity?.spec).toEqual({state: 'confirmed', node: 'node-ts', type: 'host', cidr: blockCidr, deleted: crds === 'v1' ? 'false' : false})
    const handle = stored('ipamhandles').find((h) => h.spec.handleID === 'VXLAN-tunnel-addr-node-ts')
    expect(handle?.metadata.name).toBe('vxlan-tunnel-addr-node-ts')
    // StrictAffinity false is still written: the CRD requires it (Go's bools are not omitempty there).
    expect(stored(configPlural).map((c) => c.spec)).toEqual([{strictAffinity: false, autoAllocateBlocks: true}])

    for (const plural of ['ipamblocks', 'blockaffinities', 'ipamhandles', configPlural]) {
      const schema = calicoCrdSchema(group, plural)
      for (const o of stored(plural)) expect(schemaProblems(schema, o), `${plural}/${o.metadata.name}`).toEqual([])
    }
  })

  it('writes the projectcalico.org/metadata annotation on every object in v1 mode, as Calico\'s backend does, and none in v3', async () => {
    const annotations = (plural: string) => stored(plural).map((o) => o.metadata.annotations)
    if (crds === 'v3') {
      for (const plural of ['ipamblocks', 'blockaffinities', 'ipamhandles', configPlural]) expect(annotations(plural).filter((a) => a !== undefined), plural).toEqual([])
      return
    }
    // Objects Calico wrote and this implementation rewrote carry exactly what Calico wrote.
    const goBlock = fixture.v1.ipamblocks?.[0]
    expect(stored('ipamblocks').find((b) => b.metadata.name === goBlock?.metadata.name)?.metadata.annotations).toEqual(goBlock?.metadata.annotations)
    const empty = {'projectcalico.org/metadata': '{"creationTimestamp":null}'}
    for (const plural of ['ipamblocks', 'ipamhandles', configPlural]) expect(new Set(annotations(plural).map((a) => JSON.stringify(a))), plural).toEqual(new Set([JSON.stringify(empty)]))
    // An affinity's metadata carries its labels too (Go marshals the map with its keys sorted).
    for (const a of stored('blockaffinities')) {
      const labels = Object.entries(a.metadata.labels ?? {}).sort(([x], [y]) => (x < y ? -1 : 1))
      expect(a.metadata.annotations, a.metadata.name).toEqual({'projectcalico.org/metadata': `{"creationTimestamp":null,"labels":${JSON.stringify(Object.fromEntries(labels))}}`})
    }
  })

  it('frees a block as Calico does: soft delete, then the object is gone', async () => {
    await ipam.releaseByHandle('VXLAN-tunnel-addr-node-ts')
    const [block] = await ipam.hostBlocks('node-ts')
    expect(block).toBeDefined()
    await ipam.releaseAffinity(block ?? '', 'node-ts', true)
    expect(stored('blockaffinities').map((a) => a.metadata.name)).toEqual(['node-go-10-0-0-0-26'])
    expect(stored('ipamblocks').map((b) => b.metadata.name)).toEqual(['10-0-0-0-26'])
    expect(stored('ipamhandles').map((h) => h.metadata.name).sort()).toEqual(['k8s-pod-network.abc', 'k8s-pod-network.def'])
  })
})
