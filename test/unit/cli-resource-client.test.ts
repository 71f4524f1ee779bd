import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {
  OperationNotSupportedError,
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
  ResourceUpdateConflictError,
  ValidationError,
} from '../../src/api/errors.js'
import type {Resource} from '../../src/api/resource.js'
import {ClientError, DEFAULT_ALLOW_PROFILE, ResourceClient, workloadEndpointName} from '../../src/datastore/client.js'
import {EmbeddedBackend} from '../../src/datastore/embedded/backend.js'

function r(kind: string, name: string, spec: Record<string, unknown> = {}, namespace?: string): Resource {
  return {apiVersion: 'projectcalico.org/v3', kind, metadata: namespace ? {name, namespace} : {name}, spec}
}

let dir: string
let client: ResourceClient

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'client-'))
  client = new ResourceClient(EmbeddedBackend.open({dir}).backend, {now: () => new Date('2026-01-02T03:04:05.678Z')})
})

afterEach(async () => {
  await client.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('metadata rules', () => {
  it('create stamps uid, creationTimestamp and the revision', async () => {
    const out = await client.create(r('GlobalNetworkSet', 'gns', {nets: ['10.0.0.0/8']}))
    expect(out.metadata.uid).toMatch(/^[0-9a-f-]{36}$/)
    expect(out.metadata.creationTimestamp).toBe('2026-01-02T03:04:05Z')
    expect(out.metadata.resourceVersion).toMatch(/^\d+$/)
    expect((await client.get('GlobalNetworkSet', 'gns')).metadata).toEqual(out.metadata)
  })

  it('create refuses a resourceVersion or a missing name', async () => {
    const withRV = r('GlobalNetworkSet', 'gns')
    withRV.metadata.resourceVersion = '12'
    await expect(client.create(withRV)).rejects.toThrow(
      "error with field Metadata.ResourceVersion = '12' (field must not be set for a Create request)",
    )
    await expect(client.create(r('GlobalNetworkSet', ''))).rejects.toThrow('Metadata.Name')
    await client.create(r('GlobalNetworkSet', 'gns'))
    await expect(client.create(r('GlobalNetworkSet', 'gns'))).rejects.toThrow(
      'resource already exists: GlobalNetworkSet(gns) with error: <nil>',
    )
  })

  it('update needs the stored resourceVersion and detects conflicts', async () => {
    const created = await client.create(r('GlobalNetworkSet', 'gns', {nets: ['10.0.0.0/8']}))
    await expect(client.update(r('GlobalNetworkSet', 'gns'))).rejects.toThrow('field must be set for an Update request')
    const updated = await client.update({...created, spec: {nets: ['11.0.0.0/8']}})
    expect(updated.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion)
    expect(updated.metadata.uid).toBe(created.metadata.uid)
    await expect(client.update({...created, spec: {nets: ['12.0.0.0/8']}})).rejects.toBeInstanceOf(ResourceUpdateConflictError)
    await expect(client.update({...created, spec: {}})).rejects.toThrow('update conflict: GlobalNetworkSet(gns)')
  })

  it('errors name the resource the way Calico does', async () => {
    await expect(client.get('NetworkPolicy', 'p', 'ns1')).rejects.toThrow('resource does not exist: NetworkPolicy(ns1/p) with error: <nil>')
    await expect(client.delete('IPPool', 'nope')).rejects.toBeInstanceOf(ResourceDoesNotExistError)
  })

  it('delete honours a resourceVersion precondition', async () => {
    const created = await client.create(r('GlobalNetworkSet', 'gns'))
    await client.update({...created, spec: {nets: ['10.0.0.0/8']}})
    await expect(client.delete('GlobalNetworkSet', 'gns', undefined, {resourceVersion: created.metadata.resourceVersion})).rejects.toBeInstanceOf(
      ResourceUpdateConflictError,
    )
    await client.delete('GlobalNetworkSet', 'gns')
    expect((await client.list('GlobalNetworkSet')).items).toEqual([])
  })

  it('namespaced kinds need a namespace', async () => {
    await expect(client.create(r('NetworkSet', 'ns'))).rejects.toThrow('namespace is not specified on namespaced resource')
  })
})

describe('built-ins', () => {
  it('ensureInitialized creates ClusterInformation and the tiers once', async () => {
    await client.ensureInitialized()
    const info = await client.get('ClusterInformation', 'default')
    expect(info.spec).toMatchObject({datastoreReady: true})
    expect((info.spec as {clusterGUID: string}).clusterGUID).toMatch(/^[0-9a-f]{32}$/)
    await client.ensureInitialized('v3.32.0')
    const again = await client.get('ClusterInformation', 'default')
    expect(again.spec).toMatchObject({clusterGUID: (info.spec as {clusterGUID: string}).clusterGUID, calicoVersion: 'v3.32.0'})
    const tiers = (await client.list('Tier')).items.map((t) => [t.metadata.name, (t.spec as {order: number}).order])
    expect(tiers).toEqual(expect.arrayContaining([['default', 1e6], ['kube-admin', 1000], ['kube-baseline', 1e7]]))
  })

  it('the default-allow profile is always there and cannot be changed', async () => {
    expect((await client.list('Profile')).items.map((p) => p.metadata.name)).toEqual([DEFAULT_ALLOW_PROFILE])
    expect((await client.get('Profile', DEFAULT_ALLOW_PROFILE)).metadata.resourceVersion).toBe('1')
    await expect(client.create(r('Profile', DEFAULT_ALLOW_PROFILE))).rejects.toBeInstanceOf(ResourceAlreadyExistsError)
    await expect(client.delete('Profile', DEFAULT_ALLOW_PROFILE)).rejects.toBeInstanceOf(OperationNotSupportedError)
  })

  it('built-in and non-empty tiers cannot be deleted', async () => {
    await client.ensureInitialized()
    await expect(client.delete('Tier', 'default')).rejects.toThrow('Cannot delete default tier')
    await client.create(r('Tier', 'admin', {order: 10}))
    await client.create(r('GlobalNetworkPolicy', 'admin.p', {tier: 'admin', selector: 'all()'}))
    await expect(client.delete('Tier', 'admin')).rejects.toThrow('Cannot delete a non-empty tier')
  })
})

describe('per-kind rules', () => {
  it('policies need their tier and carry the tier label', async () => {
    await expect(client.create(r('GlobalNetworkPolicy', 'p', {tier: 'missing'}))).rejects.toThrow('resource does not exist: Tier(missing)')
    await client.ensureInitialized()
    const p = await client.create(r('NetworkPolicy', 'p', {selector: 'all()'}, 'ns1'))
    expect(p.metadata.labels).toEqual({'projectcalico.org/tier': 'default'})
  })

  it('knp.default.* policies are managed by Kubernetes', async () => {
    await client.ensureInitialized()
    await expect(client.create(r('NetworkPolicy', 'knp.default.x', {}, 'ns1'))).rejects.toThrow(
      'operation create or apply is not supported on NetworkPolicy(ns1/knp.default.x): kubernetes network policies must be managed through the kubernetes API',
    )
    await expect(client.delete('NetworkPolicy', 'knp.default.x', 'ns1')).rejects.toThrow('operation delete is not supported')
  })

  it('some kinds only allow the name default', async () => {
    await expect(client.create(r('KubeControllersConfiguration', 'other'))).rejects.toThrow(ClientError)
    await expect(client.create(r('IPAMConfiguration', 'x'))).rejects.toThrow(
      'Cannot create an IPAMConfiguration resource with a name other than "default"',
    )
  })

  it('non-default BGPConfiguration rejects default-only fields', async () => {
    await expect(client.create(r('BGPConfiguration', 'node.a', {nodeToNodeMeshEnabled: true, asNumber: 65000}))).rejects.toThrow(
      'Cannot set nodeToNodeMeshEnabled on a non default BGP Configuration.',
    )
    await expect(client.create(r('BGPConfiguration', 'default', {nodeToNodeMeshEnabled: true}))).resolves.toBeDefined()
  })

  it('IP pools: no overlap, CIDR immutable, disabled before delete', async () => {
    const pool = await client.create(r('IPPool', 'a', {cidr: '10.0.0.0/16'}))
    await expect(client.create(r('IPPool', 'b', {cidr: '10.0.1.0/24'}))).rejects.toThrow('IPPool(b) CIDR overlaps with IPPool(a) CIDR 10.0.0.0/16')
    await expect(client.update({...pool, spec: {...pool.spec, cidr: '10.1.0.0/16'}})).rejects.toBeInstanceOf(ValidationError)
    expect(pool.spec).toMatchObject({blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', nodeSelector: 'all()'})
    const deleted = await client.delete('IPPool', 'a')
    expect(deleted.spec).toMatchObject({disabled: true})
  })

  it('IP pool deletion runs the release hook on the disabled pool', async () => {
    const seen: Resource[] = []
    const hooked = new ResourceClient(EmbeddedBackend.open({dir}).backend, {beforePoolDelete: async (p) => void seen.push(p)})
    try {
      await hooked.create(r('IPPool', 'p', {cidr: '10.9.0.0/16'}))
      await hooked.delete('IPPool', 'p')
      expect(seen.map((p) => [p.metadata.name, (p.spec as {disabled?: boolean}).disabled])).toEqual([['p', true]])
    } finally {
      await hooked.close()
    }
  })

  it('workload endpoints: name from identifiers, labels added', async () => {
    const spec = {node: 'node-1', orchestrator: 'k8s', pod: 'p', endpoint: 'eth0', interfaceName: 'cali1', ipNetworks: ['10.0.0.1/32']}
    expect(workloadEndpointName(spec)).toBe('node--1-k8s-p-eth0')
    await expect(client.create(r('WorkloadEndpoint', 'wrong', spec, 'ns1'))).rejects.toThrow('expected name node--1-k8s-p-eth0')
    const wep = await client.create(r('WorkloadEndpoint', '', spec, 'ns1'))
    expect(wep.metadata.name).toBe('node--1-k8s-p-eth0')
    expect(wep.metadata.labels).toEqual({'projectcalico.org/namespace': 'ns1', 'projectcalico.org/orchestrator': 'k8s'})
  })
})
