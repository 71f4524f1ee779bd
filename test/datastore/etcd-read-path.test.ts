// The etcd backend without etcd3: gets, lists and writes go through the small gRPC client, so only a watch loads
// etcd3 (grpc-js, protobufjs; the built calicoctl and CNI plugin: test/e2e/cli-bundle.test.ts, test/unit/cni-bundle.test.ts).
// Also closing, and the one-line error a read gives when etcd refuses it.

import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {DatastoreError} from '../../src/api/errors.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {useEtcd} from '../helpers/etcd-vitest.js'
import {execArgv} from '../helpers/exec.js'

const skip = etcdSkipReason() !== undefined

/** Runs an ES module script (TypeScript sources importable) in a fresh Node process; resolves with its stdout. */
async function node(script: string): Promise<string> {
  const register = join(import.meta.dirname, 'helpers/register.mjs')
  const r = await execArgv([process.execPath, '--import', register, '--input-type=module', '-e', script], {timeoutMs: 30_000})
  if (r.code !== 0) throw new Error(`child exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

describe.skipIf(skip)('etcd backend reads and writes without etcd3', () => {
  const etcd = useEtcd()

  it('get, list, create, update, apply and delete load no etcd3 module; a watch does', async () => {
    await etcd.etcdctl(['put', '/calico/resources/v3/projectcalico.org/ippools/p1', '{"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"p1"},"spec":{"cidr":"10.0.0.0/16"}}'])
    const backend = join(import.meta.dirname, '../../src/datastore/etcd/backend.ts')
    const out = await node(`
      import {createRequire} from 'node:module'
      const {EtcdBackend} = await import(${JSON.stringify(backend)})
      const etcd3Files = () => Object.keys(createRequire(import.meta.url).cache).filter((p) => /[\\\\/]node_modules[\\\\/](etcd3|@grpc)[\\\\/]/.test(p)).length
      const b = await EtcdBackend.connect({datastoreType: 'etcdv3', etcdEndpoints: ${JSON.stringify(etcd.endpoints)}})
      const listed = await b.list({kind: 'IPPool'})
      const got = await b.get({kind: 'IPPool', name: 'p1'})
      console.log(JSON.stringify({names: listed.items.map((i) => i.key.name), cidr: got.value.spec.cidr, afterReads: etcd3Files()}))
      const h = {kind: 'IPAMHandle', name: 'h'}
      const created = await b.create(h, {block: {}})
      await b.delete(h, (await b.update(h, {block: {a: 1}}, created.revision)).revision)
      await b.apply(h, {block: {}})
      await b.delete(h)
      console.log(JSON.stringify({afterWrites: etcd3Files()}))
      const w = b.watch({kinds: ['IPAMHandle'], fromRevision: created.revision})
      await w[Symbol.asyncIterator]().next()
      w.close()
      console.log(JSON.stringify({afterWatch: etcd3Files() > 0}))
      await b.close()
    `)
    const [reads, writes, watch] = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(reads).toEqual({names: ['p1'], cidr: '10.0.0.0/16', afterReads: 0})
    expect(writes).toEqual({afterWrites: 0})
    expect(watch).toEqual({afterWatch: true})
  })

  it('after close(), reads and writes both say the client is closed (and open nothing new)', async () => {
    const b = await etcd.connect()
    await b.apply({kind: 'IPAMHandle', name: 'c'}, {block: {}})
    await b.close()
    const closed = `the etcd client for ${etcd.endpoints} is closed`
    await expect(b.get({kind: 'IPAMHandle', name: 'c'})).rejects.toThrow(new DatastoreError(closed))
    await expect(b.list({kind: 'IPAMHandle'})).rejects.toThrow(new DatastoreError(closed))
    await expect(b.apply({kind: 'IPAMHandle', name: 'c'}, {block: {}})).rejects.toThrow(new DatastoreError(closed))
  })
})

describe.skipIf(skip)('etcd backend lists page by page', () => {
  const etcd = useEtcd()
  const names = Array.from({length: 20}, (_, i) => `h-${String(i).padStart(2, '0')}`)

  it('listPages hands out each page as read, all at the first one\'s revision: together what list() returns', async () => {
    const b = await etcd.connect({pageSize: 7})
    await Promise.all(names.map((name) => b.create({kind: 'IPAMHandle', name}, {block: {}})))
    const pages = []
    for await (const page of b.listPages({kind: 'IPAMHandle'})) pages.push(page)
    expect(pages.map((p) => p.items.length)).toEqual([7, 7, 6])
    const whole = await b.list({kind: 'IPAMHandle'})
    expect(pages.flatMap((p) => p.items)).toEqual(whole.items)
    expect(new Set(pages.map((p) => p.revision))).toEqual(new Set([whole.revision]))
  })

  it('an empty list is one empty page with the store\'s revision, also when there is no range to read', async () => {
    const b = await etcd.connect()
    const {revision} = await b.create({kind: 'IPAMHandle', name: 'x'}, {block: {}})
    const collect = async (kind: string, namePrefix?: string) => {
      const pages = []
      for await (const page of b.listPages({kind, namePrefix})) pages.push(page)
      return pages
    }
    expect(await collect('IPPool')).toEqual([{items: [], revision}])
    // No IPAMConfig name starts with `x`: nothing is read but the revision.
    expect(await collect('IPAMConfig', 'x')).toEqual([{items: [], revision}])
  })

  it('a compaction that overtakes the pages is one line, after the pages before it', async () => {
    const b = await etcd.connect({pageSize: 3})
    await Promise.all(names.map((name) => b.create({kind: 'IPAMHandle', name}, {block: {}})))
    const pages = b.listPages({kind: 'IPAMHandle'})[Symbol.asyncIterator]()
    const first = await pages.next()
    expect(first.done ? [] : first.value.items.map((i) => i.key.name)).toEqual(names.slice(0, 3))
    const {revision} = await b.apply({kind: 'IPAMHandle', name: 'later'}, {block: {}})
    await etcd.etcdctl(['compact', revision])
    // The second page was requested when the first arrived (possibly before the compaction); a later one fails.
    const rest = async () => {
      for (let page = await pages.next(); !page.done; page = await pages.next()) expect(page.value.items.length).toBe(3)
    }
    const err = await rest().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatastoreError)
    expect((err as Error).message).toBe(`etcd at ${etcd.endpoints}: etcdserver: mvcc: required revision has been compacted`)
  })
})

describe.skipIf(skip)('etcd backend read errors', () => {
  const etcd = useEtcd({wipe: false})

  it('a user without read access to a kind: one line saying etcd denied access', async () => {
    await etcd.etcdctl(['user', 'add', 'root', '--new-user-password=s3cret'])
    await etcd.etcdctl(['user', 'add', 'pools', '--new-user-password=p00ls'])
    await etcd.etcdctl(['role', 'add', 'pools'])
    await etcd.etcdctl(['role', 'grant-permission', 'pools', 'read', '/calico/resources/v3/projectcalico.org/ippools/', '--prefix'])
    await etcd.etcdctl(['user', 'grant-role', 'pools', 'pools'])
    await etcd.etcdctl(['auth', 'enable'])
    const b = await etcd.open({etcdUsername: 'pools', etcdPassword: 'p00ls'})
    expect((await b.list({kind: 'IPPool'})).items).toEqual([])
    const err = await b.list({kind: 'GlobalNetworkPolicy'}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatastoreError)
    expect((err as Error).message).toBe(`etcd at ${etcd.endpoints} denied access: etcdserver: permission denied`)
  })
})
