// Several processes on two hosts allocate and release from one store at once: compare-and-swap on
// every write must keep any address from being handed out twice.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Backend} from '../../src/datastore/backend.js'
import {IPAMClient} from '../../src/ipam/ipam.js'
import type {AllocationBlock} from '../../src/ipam/model.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {EmbeddedBackend} from '../../src/datastore/embedded/backend.js'
import {etcdHarness} from './harness.js'
import {kubernetesNode} from './ipam-harness.js'
import {kubernetesHarness} from './k8s-harness.js'

const ROOT = resolve(import.meta.dirname, '../..')
// Inside node_modules so the compiled modules resolve the project's dependencies.
const BUILD = join(ROOT, 'node_modules', '.cache', `ipam-concurrency-${process.pid}`)

const WORKER = `
const [build, store, host, rounds, pool] = process.argv.slice(2)
const {IPAMClient} = await import(build + '/ipam/ipam.js')
let backend
if (store.startsWith('embedded:')) {
  const {EmbeddedBackend} = await import(build + '/datastore/embedded/backend.js')
  backend = EmbeddedBackend.open({dir: store.slice('embedded:'.length), busyTimeoutMs: 30000}).backend
} else if (store.startsWith('kubernetes:')) {
  const {KubernetesBackend} = await import(build + '/datastore/kubernetes/backend.js')
  backend = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: store.slice('kubernetes:'.length)})
} else {
  const {EtcdBackend} = await import(build + '/datastore/etcd/backend.js')
  backend = await EtcdBackend.connect({datastoreType: 'etcdv3', etcdEndpoints: store.slice('etcd:'.length)})
}
const ipam = new IPAMClient(backend)
const held = []
for (let i = 0; i < Number(rounds); i++) {
  const handleID = host + '-' + process.pid + '-' + i
  const r = await ipam.autoAssign({num4: 3, num6: 0, handleID, hostname: host, intendedUse: 'Workload', attrs: {node: host}, ipv4Pools: [pool]})
  const ips = r.v4.ips.map((ip) => ip.split('/')[0])
  if (ips.length === 0) continue
  // Give one back so released addresses are reused while others allocate.
  await ipam.releaseIPs([{address: ips[0], handle: handleID}])
  for (const ip of ips.slice(1)) held.push({ip, handleID})
}
await backend.close()
process.stdout.write(JSON.stringify(held))
`

interface Held {
  ip: string
  handleID: string
}

function compile(): void {
  mkdirSync(BUILD, {recursive: true})
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const files = ['src/ipam/ipam.ts', 'src/datastore/embedded/backend.ts', 'src/datastore/etcd/backend.ts', 'src/datastore/kubernetes/backend.ts'].map((f) => join(ROOT, f))
  const flags = ['--outDir', BUILD, '--rootDir', join(ROOT, 'src'), '--module', 'node16', '--moduleResolution', 'node16']
  flags.push('--target', 'es2022', '--skipLibCheck', '--esModuleInterop', '--types', 'node', '--noCheck')
  const r = spawnSync(process.execPath, [tsc, ...flags, ...files], {encoding: 'utf8'})
  if (!existsSync(join(BUILD, 'ipam', 'ipam.js'))) throw new Error(`compiling the IPAM modules failed:\n${r.stdout}${r.stderr}`)
  writeFileSync(join(BUILD, 'package.json'), '{"type": "module"}\n')
  writeFileSync(join(BUILD, 'worker.mjs'), WORKER)
}

function runWorker(store: string, host: string, rounds: number, pool: string): Promise<Held[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(BUILD, 'worker.mjs'), BUILD, store, host, String(rounds), pool], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`worker for ${host} exited with ${code}:\n${err}`))
      else resolvePromise(JSON.parse(out) as Held[])
    })
  })
}

interface Store {
  backend: Backend
  /** How a worker process reaches the same store. */
  arg: string
  /** Creates a node the way the store keeps nodes (KDD: a core/v1 Node). */
  node(name: string): Promise<void>
  close(): Promise<void>
}

function calicoNode(backend: Backend): (name: string) => Promise<void> {
  return async (name) => {
    await backend.apply({kind: 'Node', name}, {apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name}, spec: {}})
  }
}

async function embeddedStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'calico-ts-ipam-'))
  const {backend} = EmbeddedBackend.open({dir})
  return {
    backend,
    arg: `embedded:${dir}`,
    node: calicoNode(backend),
    async close() {
      await backend.close()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

async function etcdStore(): Promise<Store> {
  const h = await etcdHarness()
  const backend = await h.open()
  return {backend, arg: `etcd:${h.etcd.endpoints}`, node: calicoNode(backend), close: () => h.teardown()}
}

/** The test API server with Calico's v1 CRDs: compare-and-swap is resourceVersion on PUT, AlreadyExists on POST. */
async function kubernetesStore(): Promise<Store> {
  const h = await kubernetesHarness('v1')
  const server = h.server()
  return {backend: await h.open(), arg: `kubernetes:${server.url}`, node: (name) => kubernetesNode(server, name), close: () => h.teardown()}
}

const stores: [string, () => Promise<Store>][] = [['embedded', embeddedStore]]
if (!etcdSkipReason()) stores.push(['etcd', etcdStore])
stores.push(['kubernetes', kubernetesStore])

beforeAll(() => compile(), 120_000)
afterAll(() => rmSync(BUILD, {recursive: true, force: true}))

describe.each(stores)('concurrent allocation on %s', (_name, make) => {
  let store: Store
  beforeAll(async () => {
    store = await make()
    await setup()
  })
  afterAll(async () => {
    await store.close()
  })

  async function setup(): Promise<void> {
    for (const name of ['host-a', 'host-b']) await store.node(name)
    for (const [name, cidr, blockSize] of [['roomy', '10.0.0.0/24', 28], ['tight', '10.1.0.0/26', 29]] as const) {
      await store.backend.apply(
        {kind: 'IPPool', name},
        {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name}, spec: {cidr, blockSize}},
      )
    }
  }

  /** What the blocks of a pool say is allocated, by address; also checks every block's bookkeeping. */
  async function storedAllocations(prefix: string, blockSize: number): Promise<Map<string, string>> {
    const ipam = new IPAMClient(store.backend)
    const stored = new Map<string, string>()
    for (const kv of await ipam.store.listBlocks()) {
      const b = kv.value as AllocationBlock
      if (!b.cidr.startsWith(prefix)) continue
      const base = b.cidr.split('/')[0].split('.').map(Number)
      b.allocations.forEach((idx, ordinal) => {
        if (idx === null) return
        stored.set(`${base[0]}.${base[1]}.${base[2]}.${base[3] + ordinal}`, b.attributes[idx].handle_id ?? '')
      })
      expect(b.unallocated.length + b.allocations.filter((a) => a !== null).length).toBe(blockSize)
      // Each block has exactly one owner and a confirmed affinity.
      expect(b.affinity).toMatch(/^host:host-[ab]$/)
      const aff = await store.backend.get<{state: string}>({kind: 'BlockAffinity', name: `${b.affinity}:${b.cidr}`})
      expect(aff.value.state).toBe('confirmed')
    }
    return stored
  }

  it('never hands out an address twice across processes and hosts', async () => {
    const hosts = ['host-a', 'host-b', 'host-a', 'host-b', 'host-a', 'host-b']
    const held = (await Promise.all(hosts.map((h) => runWorker(store.arg, h, 8, '10.0.0.0/24')))).flat()
    expect(held).toHaveLength(6 * 8 * 2)
    expect(new Set(held.map((h) => h.ip)).size).toBe(held.length)
    // The store agrees: exactly these addresses are allocated, each to the handle that got it.
    expect(await storedAllocations('10.0.', 16)).toEqual(new Map(held.map((h) => [h.ip, h.handleID])))
    // Handles count what the blocks hold.
    const ipam = new IPAMClient(store.backend)
    for (const kv of await ipam.store.listHandles()) {
      if (!held.some((h) => h.handleID === kv.key.name)) continue
      const count = Object.values(kv.value.block).reduce((a, b) => a + b, 0)
      expect(count).toBe(held.filter((h) => h.handleID === kv.key.name).length)
    }
  })

  it('stays consistent when the pool runs out (borrowing under contention)', async () => {
    // 64 addresses in eight /29 blocks; six processes want up to 90 and keep up to 60.
    const hosts = ['host-a', 'host-b', 'host-a', 'host-b', 'host-a', 'host-b']
    const held = (await Promise.all(hosts.map((h) => runWorker(store.arg, h, 5, '10.1.0.0/26')))).flat()
    expect(held.length).toBeGreaterThan(40)
    expect(held.length).toBeLessThanOrEqual(64)
    expect(new Set(held.map((h) => h.ip)).size).toBe(held.length)
    expect(await storedAllocations('10.1.', 8)).toEqual(new Map(held.map((h) => [h.ip, h.handleID])))
  })
})
