// calicoctl datastore migrate, end to end through the library the commands call: lock an etcd
// datastore, export it, import the file into a Kubernetes datastore (test API server), unlock.

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Resource} from '../../src/api/resource.js'
import {exportDatastore, importDatastore, isLocked, NOT_LOCKED, setDatastoreReady} from '../../src/cli/migrate/migrate.js'
import {INITIAL_PROGRESS, reduceProgress, type ProgressEvent} from '../../src/cli/migrate/progress.js'
import {ResourceClient} from '../../src/datastore/client.js'
import {EtcdBackend} from '../../src/datastore/etcd/backend.js'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {useEtcd} from '../helpers/etcd-vitest.js'
import {startServer} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'

const skip = etcdSkipReason()

describe.skipIf(skip !== undefined)('datastore migrate from etcd to Kubernetes', () => {
  // The steps build on each other: no wipe between them.
  const etcd = useEtcd({wipe: false})
  let server: TestApiServer
  let source: ResourceClient
  let target: ResourceClient
  let exported = ''

  beforeAll(async () => {
    source = new ResourceClient(await EtcdBackend.connect({datastoreType: 'etcdv3', etcdEndpoints: etcd.endpoints}))
    server = await startServer({crds: 'none'})
    server.seed('', 'nodes', {metadata: {name: 'k8s-node1'}})
    target = new ResourceClient(await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url}))
  })
  afterAll(async () => {
    await source?.close()
    await target?.close()
    await server?.stop()
  })

  it('export refuses an unlocked datastore; lock and unlock report as calicoctl does', async () => {
    await expect(exportDatastore(source)).rejects.toThrow(NOT_LOCKED)
    expect(await setDatastoreReady(source, false)).toBe('Datastore locked.\n')
    expect(await isLocked(source)).toBe(true)
    expect(await setDatastoreReady(source, true)).toBe('Datastore unlocked.\n')
    expect(await isLocked(source)).toBe(false)
    await expect(importDatastore(source, '', 'f', () => undefined)).rejects.toThrow(
      'invalid datastore type: etcdv3 to import to for datastore migration. Datastore type must be kubernetes')
    await expect(exportDatastore(target)).rejects.toThrow(
      'invalid datastore type: kubernetes to export from for datastore migration. Datastore type must be etcdv3')
  })

  it('exports v3 resources, cluster information and IPAM, renaming etcd nodes to their Kubernetes names', async () => {
    await source.create({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'pool1'}, spec: {cidr: '10.0.0.0/16'}})
    await source.create({apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: {name: 'allow', namespace: 'ns1'}, spec: {selector: 'all()'}})
    await source.create({apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name: 'etcd-node1'}, spec: {bgp: {ipv4Address: '192.168.0.1/24'}, orchRefs: [{orchestrator: 'k8s', nodeName: 'k8s-node1'}]}})
    await source.create({apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: {name: 'node.etcd-node1'}, spec: {logSeverityScreen: 'Debug'}})
    await source.backend.create({kind: 'IPAMBlock', name: '10.0.0.0/26'}, {cidr: '10.0.0.0/26', affinity: 'host:etcd-node1', allocations: [0], unallocated: [], attributes: [{handle_id: 'vxlan-tunnel-addr-etcd-node1', secondary: {node: 'etcd-node1', type: 'vxlanTunnelAddress'}}], deleted: false})
    await source.backend.create({kind: 'BlockAffinity', name: 'host:etcd-node1:10.0.0.0/26'}, {state: 'confirmed', deleted: false})
    await source.backend.create({kind: 'IPAMHandle', name: 'vxlan-tunnel-addr-k8s-node1'}, {block: {'10.0.0.0/26': 1}, deleted: false})
    await setDatastoreReady(source, false)

    const events: ProgressEvent[] = []
    exported = await exportDatastore(source, (e) => events.push(e))
    // Progress: every kind is one step, and the counts match what was written.
    expect(events.filter((e) => e.type === 'stage').map((e) => e.type === 'stage' && [e.stage, e.total])).toEqual([['export', 17], ['export-ipam', 4]])
    const done = events.reduce(reduceProgress, INITIAL_PROGRESS)
    expect([...done.resources]).toEqual([['IPPool', 1], ['Tier', 3], ['NetworkPolicy', 1], ['Node', 1], ['FelixConfiguration', 1]])
    expect(done.ipam).toBe(3)
    const [v3, info, ipam] = exported.split('===\n')
    expect(v3).toContain('kind: IPPoolList')
    expect(v3).toContain('name: k8s-node1')
    expect(v3).toContain('name: node.k8s-node1')
    expect(v3).not.toContain('etcd-node1')
    expect(v3.split('---\n')).toHaveLength(18)
    expect((JSON.parse(info) as Resource).kind).toBe('ClusterInformation')
    const rows = JSON.parse(ipam) as {blocks: {Key: string; Value: {affinity: string; attributes: {handle_id: string}[]}}[]; block_affinities: {Key: string}[]; handles: {Key: string}[]}
    expect(rows.blocks[0].Key).toBe('/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26')
    expect(rows.blocks[0].Value.affinity).toBe('host:k8s-node1')
    expect(rows.blocks[0].Value.attributes[0].handle_id).toBe('vxlan-tunnel-addr-k8s-node1')
    expect(rows.block_affinities[0].Key).toBe('/calico/ipam/v2/host/k8s-node1/ipv4/block/10.0.0.0-26')
    expect(rows.handles[0].Key).toBe('/calico/ipam/v2/handle/vxlan-tunnel-addr-k8s-node1')
  })

  it('imports the file into the Kubernetes datastore: CRDs, resources, node annotations, IPAM, cluster identity', async () => {
    const printed: string[] = []
    const events: ProgressEvent[] = []
    await importDatastore(target, exported, 'etcd-data', (s) => printed.push(s), (e) => events.push(e))
    expect(events.filter((e) => e.type === 'stage').map((e) => e.type === 'stage' && e.stage)).toEqual(['prepare', 'import', 'import-ipam'])
    const done = events.reduce(reduceProgress, INITIAL_PROGRESS)
    expect(Object.fromEntries(done.resources)).toMatchObject({IPPool: 1, NetworkPolicy: 1, Node: 1, FelixConfiguration: 1})
    expect([done.ipam, done.skipped, done.failed]).toEqual([3, 0, 0])
    const out = printed.join('')
    expect(out).toMatch(/^Successfully applied \d+ resource\(s\)\nImporting IPAM resources\nSuccessfully applied 3 IPAM resource\(s\)\n/)
    expect(out.endsWith('Datastore information successfully imported. Please refer to the datastore migration documentation for next steps.\n')).toBe(true)
    expect(server.objects('apiextensions.k8s.io', 'customresourcedefinitions')).toHaveLength(22)
    expect((await target.get('IPPool', 'pool1')).spec?.cidr).toBe('10.0.0.0/16')
    expect((await target.get('NetworkPolicy', 'allow', 'ns1')).spec?.selector).toBe('all()')
    expect((await target.get('FelixConfiguration', 'node.k8s-node1')).spec?.logSeverityScreen).toBe('Debug')
    expect(server.object('', 'nodes', 'k8s-node1')?.metadata.annotations?.['projectcalico.org/IPv4Address']).toBe('192.168.0.1/24')
    expect((await target.backend.get({kind: 'BlockAffinity', name: 'host:k8s-node1:10.0.0.0/26'})).value).toEqual({state: 'confirmed', deleted: false})
    expect(await isLocked(target)).toBe(true)
    const sourceInfo = await source.get('ClusterInformation', 'default')
    expect((await target.get('ClusterInformation', 'default')).spec?.clusterGUID).toBe(sourceInfo.spec?.clusterGUID)

    await expect(importDatastore(target, exported, 'etcd-data', () => undefined)).rejects.toThrow(
      'datastore already has Calico resources: found existing Calico IPPool resource. Clear out all Calico resources by deleting all Calico CRDs')
    expect(await setDatastoreReady(target, true)).toBe('Datastore unlocked.\n')
  })

  it('a file without the three sections is refused', async () => {
    const fresh = await startServer({crds: 'none'})
    const client = new ResourceClient(await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: fresh.url}))
    try {
      await expect(importDatastore(client, 'kind: IPPoolList\n', 'bad.yaml', () => undefined)).rejects.toThrow(
        "imported file: bad.yaml is improperly formatted. Try recreating with 'calicoctl export'")
    } finally {
      await client.close()
      await fresh.stop()
    }
  })
})
