// The etcd backend's read path: gets and lists go through the small gRPC client, so a read-only process never
// loads etcd3 (grpc-js, protobufjs); the first write loads it (the built calicoctl: test/e2e/cli-bundle.test.ts).
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

describe.skipIf(skip)('etcd backend reads without etcd3', () => {
  const etcd = useEtcd()

  it('get and list load no etcd3 module; the first write does', async () => {
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
      await b.apply({kind: 'IPAMHandle', name: 'h'}, {block: {}})
      console.log(JSON.stringify({afterWrite: etcd3Files() > 0}))
      await b.close()
    `)
    const [reads, write] = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(reads).toEqual({names: ['p1'], cidr: '10.0.0.0/16', afterReads: 0})
    expect(write).toEqual({afterWrite: true})
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
