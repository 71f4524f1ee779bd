// calicoctl's resource client and the IPAM client over the Kubernetes backend: initialisation,
// defaulted writes, conflicts, pool deletion with its affinities, and address assignment, all
// stored in the test API server the way Calico stores them.

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ResourceUpdateConflictError} from '../../src/api/errors.js'
import {ResourceClient} from '../../src/datastore/client.js'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {KubeClient} from '../../src/datastore/kubernetes/client.js'
import {IPAMClient} from '../../src/ipam/index.js'
import {startServer} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'

describe('resource client over the Kubernetes datastore', () => {
  let server: TestApiServer
  let client: ResourceClient

  beforeAll(async () => {
    server = await startServer()
    const backend = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url})
    // Wired as calicoctl's session wires it: deleting a pool releases its blocks' affinities.
    client = new ResourceClient(backend, {
      beforePoolDelete: async (pool) => new IPAMClient(backend).releasePoolAffinities(String(pool.spec?.cidr)),
    })
  })
  afterAll(async () => {
    await client?.close()
    await server?.stop()
  })

  it('EnsureInitialized creates the cluster information (cluster type kdd) and the built-in tiers as CRs', async () => {
    await client.ensureInitialized('v3.31.0', 'k8s')
    const info = await client.get('ClusterInformation', 'default')
    expect(info.spec).toMatchObject({calicoVersion: 'v3.31.0', clusterType: 'k8s,kdd', datastoreReady: true})
    expect(server.objects('crd.projectcalico.org', 'tiers').map((t) => t.metadata.name).sort()).toEqual(['default', 'kube-admin', 'kube-baseline'])
  })

  it('writes defaulted resources, detects stale updates, and lists them back', async () => {
    const pool = await client.create({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'pool1'}, spec: {cidr: '10.20.0.0/16'}})
    expect(pool.spec).toMatchObject({cidr: '10.20.0.0/16', blockSize: 26, nodeSelector: 'all()'})
    expect(server.object('crd.projectcalico.org', 'ippools', 'pool1')?.spec).toMatchObject({blockSize: 26})
    await client.update({...pool, spec: {...pool.spec, natOutgoing: true}})
    await expect(client.update({...pool, spec: {...pool.spec, disabled: true}})).rejects.toBeInstanceOf(ResourceUpdateConflictError)

    const np = await client.create({apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: {name: 'allow-dns', namespace: 'ns1'}, spec: {selector: 'all()', egress: [{action: 'Allow', protocol: 'UDP', destination: {ports: [53]}}]}})
    expect(np.metadata.labels).toMatchObject({'projectcalico.org/tier': 'default'})
    expect((await client.list('NetworkPolicy')).items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(['ns1/allow-dns'])
    const profiles = await client.list('Profile')
    expect(profiles.items.map((p) => p.metadata.name)).toEqual(['projectcalico-default-allow'])
  })

  it('IPAM assigns from the pool through IPAM CRs and releases by handle', async () => {
    server.seed('', 'nodes', {metadata: {name: 'node-a'}})
    const ipam = new IPAMClient(client.backend)
    const result = await ipam.autoAssign({num4: 3, num6: 0, handleID: 'k8s-pod-network.abc', hostname: 'node-a', intendedUse: 'Workload', attrs: {node: 'node-a', pod: 'web', namespace: 'ns1'}})
    expect(result.v4?.ips).toHaveLength(3)
    const blocks = server.objects('crd.projectcalico.org', 'ipamblocks')
    expect(blocks).toHaveLength(1)
    expect(blocks[0].spec).toMatchObject({affinity: 'host:node-a'})
    expect(server.objects('crd.projectcalico.org', 'blockaffinities').map((a) => a.spec)).toEqual([
      {state: 'confirmed', node: 'node-a', type: 'host', cidr: (blocks[0].spec as {cidr: string}).cidr, deleted: 'false'},
    ])
    expect(server.object('crd.projectcalico.org', 'ipamhandles', 'k8s-pod-network.abc')?.spec).toMatchObject({handleID: 'k8s-pod-network.abc'})
    await ipam.releaseByHandle('k8s-pod-network.abc')
    expect(server.object('crd.projectcalico.org', 'ipamhandles', 'k8s-pod-network.abc')).toBeUndefined()
  })

  it('apply of a Node updates the Kubernetes Node (create is not supported there), as calicoctl apply does', async () => {
    server.seed('', 'nodes', {metadata: {name: 'node-apply', labels: {'kubernetes.io/hostname': 'node-apply'}}})
    const node = {apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name: 'node-apply', labels: {rack: 'r1'}}, spec: {bgp: {ipv4Address: '10.9.0.1/24', asNumber: 64513}}}
    await expect(client.create(node)).rejects.toThrow(/not supported/)
    const applied = await client.apply(node)
    expect(applied.spec).toMatchObject({bgp: {ipv4Address: '10.9.0.1/24', asNumber: 64513}})
    expect(applied.metadata.labels).toMatchObject({rack: 'r1'})
    expect(server.object('', 'nodes', 'node-apply')?.metadata.annotations).toMatchObject({'projectcalico.org/IPv4Address': '10.9.0.1/24', 'projectcalico.org/ASNumber': '64513'})
    // A Node with no Kubernetes Node behind it stays an error (migrate import warns and skips it).
    await expect(client.apply({...node, metadata: {name: 'no-such-node'}})).rejects.toThrow(/does not exist/)
  })

  it('deletes a pool and the affinities of its blocks', async () => {
    await client.delete('IPPool', 'pool1')
    expect(server.object('crd.projectcalico.org', 'ippools', 'pool1')).toBeUndefined()
    expect(server.objects('crd.projectcalico.org', 'blockaffinities')).toEqual([])
  })
})

describe('paged lists (KubeClient.listPaged)', () => {
  let server: TestApiServer
  let kube: KubeClient
  const POOLS = '/apis/crd.projectcalico.org/v1/ippools'

  beforeAll(async () => {
    server = await startServer()
    for (let i = 0; i < 7; i++) server.seed('crd.projectcalico.org', 'ippools', {metadata: {name: `pool${i}`}, spec: {cidr: `10.${i}.0.0/16`}})
    kube = await KubeClient.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url})
  })
  afterAll(async () => {
    kube?.close()
    await server?.stop()
  })

  const listRequests = (from: number) => server.requests.slice(from).filter((r) => r.url.startsWith(POOLS)).map((r) => new URL(r.url, 'http://x').searchParams)

  it('follows continue tokens page by page, converting and dropping objects as it goes', async () => {
    const before = server.requests.length
    const {items, resourceVersion} = await kube.listPaged(POOLS, {}, 3, (o) => (o.metadata.name === 'pool4' ? undefined : o.metadata.name))
    expect(items).toEqual(['pool0', 'pool1', 'pool2', 'pool3', 'pool5', 'pool6'])
    expect(Number(resourceVersion)).toBeGreaterThan(0)
    const pages = listRequests(before)
    expect(pages.map((q) => q.get('limit'))).toEqual(['3', '3', '3'])
    expect(pages.map((q) => q.has('continue'))).toEqual([false, true, true])
  })

  it('falls back to one unpaged list when a continue token expires, keeping nothing from the stale pages', async () => {
    const before = server.requests.length
    let seen = 0
    const {items} = await kube.listPaged(POOLS, {}, 3, (o) => {
      // The first page is in hand and the second already requested: expire every continue token now.
      if (seen++ === 0) server.compact(Number.MAX_SAFE_INTEGER)
      return o.metadata.name
    })
    expect(items).toEqual(['pool0', 'pool1', 'pool2', 'pool3', 'pool4', 'pool5', 'pool6'])
    expect(listRequests(before).map((q) => [q.get('limit'), q.has('continue')])).toEqual([['3', false], ['3', true], [null, false]])
  })

  it('passes a failed page on; a conversion failure leaves no unhandled rejection from the prefetched page', async () => {
    let lists = 0
    const lift = server.deny((info) => info.verb === 'list' && info.resource === 'ippools' && ++lists % 2 === 0)
    try {
      await expect(kube.listPaged(POOLS, {}, 3, (o) => o)).rejects.toMatchObject({code: 403})
      // The second page (already requested when the first is converted) fails too; vitest reports unhandled rejections.
      await expect(kube.listPaged(POOLS, {}, 3, () => {
        throw new Error('cannot convert')
      })).rejects.toThrow('cannot convert')
      await new Promise((r) => setTimeout(r, 100))
    } finally {
      lift()
    }
  })
})

describe('KubeClient requests', () => {
  it('fails, rather than hangs, when the connection drops in the middle of a response body', async () => {
    const {createServer} = await import('node:http')
    const server = createServer((_req, res) => {
      res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': '1000'})
      res.write('{"items": [')
      setTimeout(() => res.socket?.destroy(), 20)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as {port: number}
    const kube = await KubeClient.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: `http://127.0.0.1:${port}`})
    try {
      await expect(kube.request('GET', '/api/v1/namespaces')).rejects.toThrow(/^cannot reach the Kubernetes API server at http:\/\/127\.0\.0\.1:\d+: /)
    } finally {
      kube.close()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe('KubeClient.listPaged pipelining', () => {
  it('sends the request for the next page before converting the current one', async () => {
    const {spawn} = await import('node:child_process')
    const {existsSync, mkdtempSync, rmSync} = await import('node:fs')
    const {tmpdir} = await import('node:os')
    const {join} = await import('node:path')
    const {createInterface} = await import('node:readline')
    const dir = mkdtempSync(join(tmpdir(), 'calico-listpaged-'))
    const marker = join(dir, 'page2-requested')
    // A separate process, so it can take the second request while this one is busy converting the first page.
    const source = `
      const {createServer} = require('node:http'); const {writeFileSync} = require('node:fs')
      const s = createServer((req, res) => {
        const page2 = new URL(req.url, 'http://x').searchParams.has('continue')
        if (page2) writeFileSync(${JSON.stringify(marker)}, '')
        res.setHeader('Content-Type', 'application/json')
        res.end(JSON.stringify({metadata: {resourceVersion: '1', continue: page2 ? undefined : 'next'}, items: [{metadata: {name: page2 ? 'b' : 'a'}}]}))
      })
      s.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + s.address().port))`
    const child = spawn(process.execPath, ['-e', source], {stdio: ['ignore', 'pipe', 'inherit']})
    try {
      const url = await new Promise<string>((resolve) => createInterface({input: child.stdout}).once('line', resolve))
      const kube = await KubeClient.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: url.trim()})
      const seenDuringFirstPage: boolean[] = []
      const {items} = await kube.listPaged('/apis/crd.projectcalico.org/v1/ippools', {}, 1, (o) => {
        if (o.metadata.name === 'a') {
          // Blocks this event loop: only a request already on the wire can reach the server meanwhile.
          const deadline = Date.now() + 5000
          while (!existsSync(marker) && Date.now() < deadline);
          seenDuringFirstPage.push(existsSync(marker))
        }
        return o.metadata.name
      })
      kube.close()
      expect(items).toEqual(['a', 'b'])
      expect(seenDuringFirstPage).toEqual([true])
    } finally {
      child.kill('SIGTERM')
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
