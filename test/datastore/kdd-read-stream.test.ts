// `calicoctl get -o yaml|json` of a list on the Kubernetes datastore writes each page (limit/continue, 500 a page) as
// it is read: the built binary against the test API server prints the bytes of the whole list formatted at once, for
// a custom-resource kind and for kinds derived from native objects (Nodes stream; WorkloadEndpoints, whose order is
// not the API server's, come as one page); a continue token that expires after the first page leaves that page on
// stdout, the error on stderr and exit status 1; a reader that goes away ends it quietly. The backend's pages: one
// consistent list, filters kept, legacy policy names and v3 CRDs.

import {spawn} from 'node:child_process'
import {rmSync} from 'node:fs'
import {dirname} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Resource} from '../../src/api/resource.js'
import {formatResources} from '../../src/cli/output/index.js'
import type {KVPair, ListOptions, ListResult} from '../../src/datastore/backend.js'
import {ResourceClient} from '../../src/datastore/client.js'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {BIN, builtOrExplain, runCalicoctlAsync} from '../e2e/harness.js'
import {startServer, writeKubeconfig} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'

/** More than two of the backend's 500-object pages, also within namespace `ns-b` alone. */
const COUNT = 1100
const NAMESPACES = ['ns-b', 'ns-a', 'ns-c']
/** Objects of a namespace: most in `ns-b`, so a list of that namespace has pages too. */
const namespaceOf = (i: number) => NAMESPACES[i % 11 < 7 ? 0 : i % 11 < 9 ? 1 : 2]
/** Ascending numbers, in an order unlike the names' (so nothing is in key order by accident of creation). */
const shuffled = Array.from({length: COUNT}, (_, i) => (i * 487) % COUNT)

/** etcd key order: namespace, then name (a `/` between them, as in the keys). */
const keyOrder = (a: {ns?: string; name: string}, b: {ns?: string; name: string}) => {
  const ka = `${a.ns ?? ''}/${a.name}`
  const kb = `${b.ns ?? ''}/${b.name}`
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

const skip = builtOrExplain()

describe.skipIf(skip !== undefined)('calicoctl get of a list on Kubernetes, written page by page', () => {
  let server: TestApiServer
  let backend: KubernetesBackend
  let client: ResourceClient
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    server = await startServer({crds: 'v1'})
    const kubeconfig = writeKubeconfig(server.url)
    env = {...process.env, DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kubeconfig, NO_COLOR: '1'}
    backend = await KubernetesBackend.connect({datastoreType: 'kubernetes', kubeconfig})
    client = new ResourceClient(backend)
    await client.ensureInitialized()
    for (let from = 0; from < COUNT; from += 100) {
      await Promise.all(shuffled.slice(from, from + 100).map((i) => client.create({
        apiVersion: 'projectcalico.org/v3',
        kind: 'NetworkPolicy',
        metadata: {name: `np-${i}`, namespace: namespaceOf(i), labels: {app: `a-${i % 9}`}},
        spec: {order: i, selector: `app == 'a-${i % 9}'`, ingress: [{action: 'Allow', source: {nets: [`10.${i >> 8}.${i % 256}.0/24`]}}]},
      })))
    }
    for (const i of shuffled) {
      const node = `node-${i}`
      server.seed('', 'nodes', {metadata: {name: node, labels: {'kubernetes.io/hostname': node}}, status: {addresses: [{type: 'InternalIP', address: `192.168.${i >> 8}.${i % 256}`}]}})
      // Pods on 13 nodes: endpoint names (`<node>-k8s-<pod>-eth0`) sort unlike pod names.
      server.seed('', 'pods', {
        metadata: {name: `pod-${i}`, namespace: namespaceOf(i), labels: {app: `a-${i % 9}`}},
        spec: {nodeName: `node-${i % 13}`, containers: [{name: 'c', image: 'busybox'}]},
        status: {phase: 'Running', podIP: `10.${i >> 8}.${i % 256}.1`},
      }, namespaceOf(i))
    }
  }, 120_000)

  afterAll(async () => {
    await client?.close()
    await server?.stop()
    if (env?.KUBECONFIG) rmSync(dirname(env.KUBECONFIG), {recursive: true, force: true})
  })

  /** The list requests the server saw for `plural` since request number `from`: whether each carried a continue token. */
  const listPages = (plural: string, from: number) => server.requests.slice(from)
    .map((r) => new URL(r.url, 'http://x'))
    .filter((u) => u.pathname.endsWith(`/${plural}`) && u.searchParams.get('watch') === null)
    .map((u) => ({limit: u.searchParams.get('limit'), continued: u.searchParams.has('continue')}))

  const cases = [
    {what: 'NetworkPolicies (custom resources)', kind: 'NetworkPolicy', args: ['networkpolicies', '-A'], plural: 'networkpolicies', pages: 3},
    {what: 'Nodes (native)', kind: 'Node', args: ['nodes'], plural: 'nodes', pages: 3},
    {what: 'WorkloadEndpoints (from Pods, read whole and sorted)', kind: 'WorkloadEndpoint', args: ['workloadendpoints', '-A'], plural: 'pods', pages: 3},
  ]

  describe.each(cases)('$what', ({kind, args, plural, pages}) => {
    let whole: Awaited<ReturnType<ResourceClient['list']>>

    beforeAll(async () => {
      whole = await client.list(kind)
    })

    it('the whole list has every object, in etcd key order', () => {
      expect(whole.items).toHaveLength(COUNT)
      const ids = whole.items.map((r) => ({ns: r.metadata.namespace, name: r.metadata.name ?? ''}))
      expect(ids).toEqual([...ids].sort(keyOrder))
    })

    it.each(['yaml', 'json', 'wide'])('-o %s: the same bytes as the whole list formatted at once, read in pages of 500', async (format) => {
      const before = server.requests.length
      const r = await runCalicoctlAsync(['get', ...args, '-o', format], env)
      expect(r.stderr).toBe('')
      expect(r.exit).toBe(0)
      expect(r.stdout).toBe(await formatResources([whole], format, {printNamespace: args.includes('-A')}))
      expect(listPages(plural, before)).toEqual(Array.from({length: pages}, (_, i) => ({limit: '500', continued: i > 0})))
    })
  })

  it('-n: only that namespace, in pages, the same bytes as its whole list', async () => {
    const ns = await client.list('NetworkPolicy', {namespace: 'ns-b'})
    expect(ns.items.length).toBeGreaterThan(500)
    expect(new Set(ns.items.map((r) => r.metadata.namespace))).toEqual(new Set(['ns-b']))
    expect(ns.items.length).toBe(shuffled.filter((i) => namespaceOf(i) === 'ns-b').length)
    for (const format of ['yaml', 'json']) {
      const r = await runCalicoctlAsync(['get', 'networkpolicies', '-n', 'ns-b', '-o', format], env)
      expect({exit: r.exit, stderr: r.stderr}).toEqual({exit: 0, stderr: ''})
      expect(r.stdout).toBe(await formatResources([ns], format))
    }
  })

  it('a reader that closes early ends the command quietly with exit status 1', async () => {
    const child = spawn(process.execPath, [BIN, 'get', 'networkpolicies', '-A', '-o', 'yaml'], {env, stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    // Like `| head -c 1`: read the first chunk, then go away.
    child.stdout.once('data', () => child.stdout.destroy())
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect({code, stderr}).toEqual({code: 1, stderr: ''})
  })

  it.each(['yaml', 'json'])('-o %s: a continue token expired after the first page leaves that page, cut after a whole item; the error; exit 1', async (format) => {
    const full = await formatResources([await client.list('NetworkPolicy')], format)
    let fired = false
    // Between the first page and the second, something is written and the server compacts past the list's revision.
    const remove = server.beforeRequest((info, query) => {
      if (fired || info.verb !== 'list' || info.resource !== 'networkpolicies' || !query.has('continue')) return
      fired = true
      server.seed('', 'configmaps', {metadata: {name: `bump-${format}`}}, 'ns-a')
      server.compact(server.resourceVersion)
    })
    try {
      const r = await runCalicoctlAsync(['get', 'networkpolicies', '-A', '-o', format], env)
      expect(fired).toBe(true)
      expect(r.exit).toBe(1)
      expect(r.stderr).toBe('the Kubernetes API server failed the request for networkpolicies.crd.projectcalico.org (410 Expired): The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.\n')
      // The first 500 items as the whole list prints them, and nothing of the 501st.
      expect(full.startsWith(r.stdout)).toBe(true)
      const rest = full.slice(r.stdout.length)
      if (format === 'yaml') {
        expect(r.stdout.match(/^- /gm)).toHaveLength(500)
        // The writer holds back each line's newline until it knows what follows.
        expect(rest.startsWith('\n- ')).toBe(true)
      } else {
        expect(r.stdout.match(/^ {4}\{$/gm)).toHaveLength(500)
        expect(rest.startsWith(',\n    {\n')).toBe(true)
      }
    } finally {
      remove()
    }
  })
})

describe('the Kubernetes backend\'s pages', () => {
  let server: TestApiServer
  let backend: KubernetesBackend

  beforeAll(async () => {
    server = await startServer({crds: 'v1'})
    backend = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url}, {pageSize: 7})
    for (const i of shuffled.slice(0, 40)) {
      await backend.create({kind: 'NetworkPolicy', namespace: namespaceOf(i), name: `np-${i}`}, {
        apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: {name: `np-${i}`, namespace: namespaceOf(i)}, spec: {selector: 'all()'},
      })
    }
  })

  afterAll(async () => {
    await backend?.close()
    await server?.stop()
  })

  async function collect(opts: ListOptions): Promise<ListResult<Resource>[]> {
    const pages: ListResult<Resource>[] = []
    for await (const page of backend.listPages<Resource>(opts)) pages.push(page)
    return pages
  }
  const ids = (items: KVPair[]) => items.map((p) => `${p.key.namespace ?? ''}/${p.key.name}`)

  it('hand out each page as read, all at the first one\'s revision: together what list() returns, also for a namespace or a name prefix', async () => {
    for (const opts of [{kind: 'NetworkPolicy'}, {kind: 'NetworkPolicy', namespace: 'ns-b'}, {kind: 'NetworkPolicy', namePrefix: 'np-1'}]) {
      const pages = await collect(opts)
      const whole = await backend.list<Resource>(opts)
      expect(ids(pages.flatMap((p) => p.items))).toEqual(ids(whole.items))
      expect(new Set(pages.map((p) => p.revision))).toEqual(new Set([whole.revision]))
      expect(pages.length).toBeGreaterThan(1)
      for (const p of pages) expect(p.items.length).toBeLessThanOrEqual(7)
    }
    const inB = (await collect({kind: 'NetworkPolicy', namespace: 'ns-b'})).flatMap((p) => p.items)
    expect(inB.length).toBe(shuffled.slice(0, 40).filter((i) => namespaceOf(i) === 'ns-b').length)
    expect(inB.every((p) => p.key.namespace === 'ns-b')).toBe(true)
  })

  it('are one consistent list: what is written after the first page is not in the later ones', async () => {
    const before = await backend.list<Resource>({kind: 'NetworkPolicy'})
    const pages = backend.listPages<Resource>({kind: 'NetworkPolicy'})[Symbol.asyncIterator]()
    const first = await pages.next()
    // The last one listed goes, and a new one that sorts last comes.
    const last = before.items[before.items.length - 1].key
    await backend.delete(last)
    await backend.create({kind: 'NetworkPolicy', namespace: 'ns-c', name: 'zz-new'}, {
      apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: {name: 'zz-new', namespace: 'ns-c'}, spec: {selector: 'all()'},
    })
    const items = first.done ? [] : [...first.value.items]
    for (let page = await pages.next(); !page.done; page = await pages.next()) items.push(...page.value.items)
    expect(ids(items)).toEqual(ids(before.items))
    expect(ids((await backend.list({kind: 'NetworkPolicy'})).items)).toContain('ns-c/zz-new')
  })

  it('a legacy `default.<name>` policy CR keeps the API server\'s place in list() and in the pages alike', async () => {
    for (const name of ['alpha', 'default.zeta', 'yak', 'default.beta']) {
      server.seed('crd.projectcalico.org', 'globalnetworkpolicies', {metadata: {name}, spec: {tier: 'default', selector: 'all()'}})
    }
    const small = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url}, {pageSize: 2})
    try {
      const pages = []
      for await (const page of small.listPages<Resource>({kind: 'GlobalNetworkPolicy'})) pages.push(page.items.map((p) => p.key.name))
      // In object-name order (alpha, default.beta, default.zeta, yak), shown by v3 name, as Calico's pagedList does.
      expect(pages).toEqual([['alpha', 'beta'], ['zeta', 'yak']])
      expect((await small.list({kind: 'GlobalNetworkPolicy'})).items.map((p) => p.key.name)).toEqual(['alpha', 'beta', 'zeta', 'yak'])
    } finally {
      await small.close()
    }
  })

  it('with projectcalico.org/v3 CRDs too: the pages together are list()', async () => {
    const v3 = await startServer({crds: 'v3'})
    const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: v3.url}, {pageSize: 3})
    try {
      for (const i of shuffled.slice(0, 8)) {
        await b.create({kind: 'GlobalNetworkPolicy', name: `gnp-${i}`}, {apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: {name: `gnp-${i}`}, spec: {selector: 'all()'}})
      }
      const pages = []
      for await (const page of b.listPages({kind: 'GlobalNetworkPolicy'})) pages.push(page.items.map((p) => p.key.name))
      expect(pages.map((p) => p.length)).toEqual([3, 3, 2])
      expect(pages.flat()).toEqual((await b.list({kind: 'GlobalNetworkPolicy'})).items.map((p) => p.key.name))
      expect(pages.flat()).toEqual([...pages.flat()].sort())
    } finally {
      await b.close()
      await v3.stop()
    }
  })

  it('label-selected kinds (one host\'s block affinities) are read in selected pages and handed out whole and sorted', async () => {
    const blocks = Array.from({length: 20}, (_, i) => `10.${i}.0.0/26`)
    for (const [i, cidr] of blocks.entries()) {
      for (const host of ['node1', 'node10', 'node2']) {
        await backend.create({kind: 'BlockAffinity', name: `host:${host}:${cidr}`}, {state: 'confirmed', deleted: false, i})
      }
    }
    const before = server.requests.length
    const pages = await collect({kind: 'BlockAffinity', namePrefix: 'host:node1:'})
    // Each of the server's pages (20 affinities, 7 a page) asked for node1's label selector only.
    const lists = server.requests.slice(before).map((r) => new URL(r.url, 'http://x')).filter((u) => u.pathname.endsWith('/blockaffinities'))
    expect(lists.map((u) => u.searchParams.has('continue'))).toEqual([false, true, true])
    for (const u of lists) expect(u.searchParams.get('labelSelector')).toMatch(/hostname-hash/)
    expect(pages).toHaveLength(1)
    const whole = await backend.list({kind: 'BlockAffinity', namePrefix: 'host:node1:'})
    expect(pages[0].items.map((p) => p.key.name)).toEqual(whole.items.map((p) => p.key.name))
    expect(pages[0].items.map((p) => p.key.name)).toEqual(blocks.map((c) => `host:node1:${c}`).sort())
  })
})
