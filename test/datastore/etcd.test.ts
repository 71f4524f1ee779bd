// etcd-specific guarantees: the exact keys and JSON that libcalico-go reads and writes (checked with
// etcdctl, not through our own reader), data written by other Calico tooling, paging, connection and
// TLS errors a user can act on, and watches that survive an etcd restart.

import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {DatastoreError} from '../../src/api/errors.js'
import type {Resource} from '../../src/api/resource.js'
import type {WatchEvent} from '../../src/datastore/backend.js'
import type {DatastoreConfig} from '../../src/datastore/config.js'
import {etcdSkipReason, type EtcdTlsFiles} from '../helpers/etcd.js'
import {useEtcd} from '../helpers/etcd-vitest.js'
import {freePort} from '../helpers/ports.js'
import {waitFor} from '../helpers/wait.js'

const skip = etcdSkipReason() !== undefined
const fixtures = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'datastore', 'calico-etcd-rows.json'), 'utf8')) as {
  rows: {path: string; value: string}[]
}

describe.skipIf(skip)('etcd backend against a real etcd', () => {
  const etcd = useEtcd()
  const raw = async (path: string) => etcd.etcdctl(['get', path, '--print-value-only']).then((s) => s.replace(/\n$/, ''))
  const keys = async () => (await etcd.etcdctl(['get', '--prefix', '/calico/', '--keys-only'])).split('\n').filter((l) => l !== '')
  const modRevision = async (path: string) => {
    const out = JSON.parse(await etcd.etcdctl(['get', path, '-w', 'json'])) as {kvs: {mod_revision: number}[]}
    return String(out.kvs[0].mod_revision)
  }

  it('writes Calico key paths and JSON without resourceVersion, with the policy-name annotation', async () => {
    const b = await etcd.connect()
    const pool: Resource = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: {name: 'default-ipv4-ippool', resourceVersion: '42', selfLink: '/x', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z'},
      spec: {cidr: '192.168.0.0/16', blockSize: 26},
    }
    const created = await b.create({kind: 'IPPool', name: 'default-ipv4-ippool'}, pool)
    await b.create({kind: 'GlobalNetworkPolicy', name: 'deny'}, {apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: {name: 'deny'}, spec: {tier: 'default'}})
    await b.create({kind: 'StagedNetworkPolicy', namespace: 'ns1', name: 'try'}, {apiVersion: 'projectcalico.org/v3', kind: 'StagedNetworkPolicy', metadata: {name: 'try', namespace: 'ns1', annotations: {a: 'b'}}, spec: {}})
    await b.create({kind: 'WorkloadEndpoint', namespace: 'ns1', name: 'node1-k8s-web--0-eth0'}, {apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: {name: 'node1-k8s-web--0-eth0', namespace: 'ns1'}})
    await b.create({kind: 'IPAMBlock', name: 'fd80:24e2:f998:72d6::/122'}, {cidr: 'fd80:24e2:f998:72d6::/122'})
    await b.create({kind: 'BlockAffinity', name: 'host:node1:10.0.0.0/26'}, {state: 'pending', deleted: false})
    await b.create({kind: 'BlockAffinity', name: 'virtual:load-balancer:10.0.1.0/26'}, {state: 'confirmed', deleted: false})
    await b.create({kind: 'IPAMHandle', name: 'k8s-pod-network.abc'}, {block: {'10.0.0.0/26': 1}, deleted: false})
    await b.create({kind: 'IPAMConfig', name: 'default'}, {strict_affinity: true})

    expect((await keys()).sort()).toEqual([
      '/calico/ipam/v2/assignment/ipv6/block/fd80:24e2:f998:72d6::-122',
      '/calico/ipam/v2/config',
      '/calico/ipam/v2/handle/k8s-pod-network.abc',
      '/calico/ipam/v2/host/node1/ipv4/block/10.0.0.0-26',
      '/calico/ipam/v2/virtual/load-balancer/ipv4/block/10.0.1.0-26',
      '/calico/resources/v3/projectcalico.org/globalnetworkpolicies/deny',
      '/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool',
      '/calico/resources/v3/projectcalico.org/stagednetworkpolicies/ns1/try',
      '/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/node1-k8s-web--0-eth0',
    ])
    expect(await raw('/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool')).toBe(
      '{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"default-ipv4-ippool","uid":"u1","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"cidr":"192.168.0.0/16","blockSize":26}}',
    )
    expect(created.revision).toBe(await modRevision('/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool'))
    expect(JSON.parse(await raw('/calico/resources/v3/projectcalico.org/globalnetworkpolicies/deny'))).toMatchObject({
      metadata: {name: 'deny', annotations: {'projectcalico.org/metadata': '{"name":"deny"}'}},
    })
    expect(JSON.parse(await raw('/calico/resources/v3/projectcalico.org/stagednetworkpolicies/ns1/try'))).toMatchObject({
      metadata: {annotations: {a: 'b', 'projectcalico.org/metadata': '{"name":"try"}'}},
    })
    // Non-policy kinds get no annotation.
    expect(await raw('/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/node1-k8s-web--0-eth0')).not.toContain('annotations')
    expect(await raw('/calico/ipam/v2/host/node1/ipv4/block/10.0.0.0-26')).toBe('{"state":"pending","deleted":false}')
    expect(await raw('/calico/ipam/v2/config')).toBe('{"strict_affinity":true}')
  })

  it('reads rows written in Calico layout by other tools (fixtures from libcalico-model.md)', async () => {
    for (const row of fixtures.rows) await etcd.etcdctl(['put', row.path, row.value])
    const b = await etcd.connect()

    const pool = await b.get<Resource>({kind: 'IPPool', name: 'default-ipv4-ippool'})
    expect(pool.revision).toBe(await modRevision('/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool'))
    expect(pool.value.metadata.resourceVersion).toBe(pool.revision)
    expect(pool.value.spec).toMatchObject({cidr: '192.168.0.0/16', assignmentMode: 'Automatic'})

    const np = await b.get<Resource>({kind: 'NetworkPolicy', namespace: 'ns1', name: 'allow-dns'})
    expect(np.value.metadata.name).toBe('allow-dns')
    expect(np.value.metadata.annotations).toBeUndefined()
    expect(np.value.metadata.labels).toEqual({'projectcalico.org/tier': 'default'})

    expect((await b.get({kind: 'IPAMBlock', name: '10.0.0.0/26'})).value).toMatchObject({affinity: 'host:node1', unallocated: [1, 2, 3]})
    expect((await b.list({kind: 'BlockAffinity', namePrefix: 'host:node1:'})).items.map((i) => [i.key.name, i.value])).toEqual([
      ['host:node1:10.0.0.0/26', {state: 'confirmed', deleted: false}],
    ])
    expect((await b.get({kind: 'IPAMHandle', name: 'k8s-pod-network.abc'})).value).toEqual({block: {'10.0.0.0/26': 1}, deleted: false})
    expect((await b.get({kind: 'IPAMConfig', name: 'default'})).value).toEqual({strict_affinity: false, auto_allocate_blocks: true})
  })

  it('reads legacy rows: tier-prefixed policy names, empty affinities, and skips foreign keys', async () => {
    const legacy = (name: string, tier?: string) =>
      JSON.stringify({kind: 'NetworkPolicy', apiVersion: 'projectcalico.org/v3', metadata: {name, namespace: 'ns1'}, spec: tier ? {tier} : {}})
    await etcd.etcdctl(['put', '/calico/resources/v3/projectcalico.org/networkpolicies/ns1/default.foo', legacy('default.foo', 'default')])
    await etcd.etcdctl(['put', '/calico/resources/v3/projectcalico.org/networkpolicies/ns1/default.notier', legacy('default.notier')])
    await etcd.etcdctl(['put', '/calico/resources/v3/projectcalico.org/networkpolicies/ns1/tier1.bar', legacy('tier1.bar', 'tier1')])
    await etcd.etcdctl(['put', '/calico/ipam/v2/host/node1/ipv4/block/10.0.0.0-26', ''])
    await etcd.etcdctl(['put', '/calico/ipam/v2/host/node1', '{}']) // legacy IPAMHost
    await etcd.etcdctl(['put', '/calico/felix/v2/no-region/host/node1/status', '{"time":"x"}'])
    const b = await etcd.connect()

    const policies = await b.list<Resource>({kind: 'NetworkPolicy', namespace: 'ns1'})
    expect(policies.items.map((i) => [i.key.name, i.value.metadata.name])).toEqual([
      ['default.foo', 'foo'],
      ['default.notier', 'notier'],
      ['tier1.bar', 'tier1.bar'],
    ])
    const affinities = await b.list({kind: 'BlockAffinity'})
    expect(affinities.items.map((i) => [i.key.name, i.value])).toEqual([['host:node1:10.0.0.0/26', {}]])
  })

  it('lists in pages at one revision and returns every item in key order', async () => {
    const b = await etcd.connect({pageSize: 7})
    const names = Array.from({length: 50}, (_, i) => `p-${String(i).padStart(2, '0')}`)
    await Promise.all(names.map((name) => b.create({kind: 'IPAMHandle', name}, {block: {}})))
    const head = await b.get({kind: 'IPAMHandle', name: 'p-49'})
    const listed = await b.list({kind: 'IPAMHandle'})
    expect(listed.items.map((i) => i.key.name)).toEqual(names)
    expect(Number(listed.revision)).toBeGreaterThanOrEqual(Number(head.revision))
    const prefixed = await b.list({kind: 'IPAMHandle', namePrefix: 'p-1'})
    expect(prefixed.items.map((i) => i.key.name)).toEqual(names.slice(10, 20))
  })

  it('a watch of all kinds ignores keys outside the Calico resource and IPAM layout', async () => {
    const b = await etcd.connect()
    const {revision} = await b.list({kind: 'IPPool'})
    const w = b.watch({fromRevision: revision})
    await etcd.etcdctl(['put', '/calico/felix/v2/no-region/host/node1/status', '{}'])
    await b.create({kind: 'IPAMHandle', name: 'h1'}, {block: {}})
    try {
      for await (const ev of w) {
        expect([ev.type, ev.key]).toEqual(['added', {kind: 'IPAMHandle', name: 'h1'}])
        break
      }
    } finally {
      w.close()
    }
  })

  it('an unreachable etcd fails fast with one line naming the endpoint', async () => {
    const port = await freePort()
    const endpoints = `http://127.0.0.1:${port}`
    const backend = await etcd.open({etcdEndpoints: endpoints})
    const started = Date.now()
    const err = await backend.get({kind: 'IPPool', name: 'x'}).catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(err).toBeInstanceOf(DatastoreError)
    expect((err as Error).message).toBe(`cannot connect to etcd at ${endpoints}: connect ECONNREFUSED 127.0.0.1:${port}`)
    // Later calls are refused by the client's circuit breaker; the message still says why.
    const again = await backend.list({kind: 'IPPool'}).catch((e: unknown) => e)
    expect((again as Error).message).toBe(`cannot connect to etcd at ${endpoints}: connect ECONNREFUSED 127.0.0.1:${port}`)
  })

  it('with several endpoints, a dead member does not fail requests', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const backend = await etcd.open({etcdEndpoints: `${dead},${etcd.endpoints}`})
    await backend.apply({kind: 'IPAMHandle', name: 'ha'}, {n: 0})
    for (let i = 0; i < 20; i++) expect((await backend.get({kind: 'IPAMHandle', name: 'ha'})).value).toEqual({n: 0})
  })

  it('an endpoint that accepts connections but never answers fails within the dial timeout', async () => {
    const {createServer} = await import('node:net')
    const sockets = new Set<import('node:net').Socket>()
    const hung = createServer((s) => {
      sockets.add(s)
      s.on('error', () => undefined)
    })
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()))
    const addr = hung.address()
    const endpoints = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`
    try {
      const backend = await etcd.open({etcdEndpoints: endpoints}, {etcdDialTimeoutMs: 1000})
      const started = Date.now()
      const err = await backend.list({kind: 'IPPool'}).catch((e: unknown) => e)
      expect(Date.now() - started).toBeLessThan(4000)
      expect((err as Error).message).toBe(`cannot connect to etcd at ${endpoints}: timed out waiting for a response`)
    } finally {
      for (const s of sockets) s.destroy()
      hung.close()
    }
  })

  it('a watch on an unreachable etcd ends with the same one-line DatastoreError', async () => {
    const port = await freePort()
    const backend = await etcd.open({etcdEndpoints: `http://127.0.0.1:${port}`})
    const w = backend.watch({kinds: ['IPPool']})
    const err = await (async () => {
      for await (const ev of w) void ev
    })().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatastoreError)
    expect((err as Error).message).toBe(`cannot connect to etcd at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`)
  })

  it('reports unreadable TLS files and bad endpoints before connecting', async () => {
    await expect(etcd.open({etcdCACertFile: '/nonexistent/ca.pem'})).rejects.toThrow(
      new DatastoreError('cannot read etcd CA certificate file /nonexistent/ca.pem: no such file or directory'),
    )
    await expect(
      etcd.open({etcdCertFile: '/nonexistent/c.pem', etcdKeyFile: '/nonexistent/k.pem'}),
    ).rejects.toThrow('cannot read etcd certificate file /nonexistent/c.pem: no such file or directory')
    await expect(etcd.open({etcdEndpoints: '127.0.0.1:2379'})).rejects.toThrow(
      'invalid etcd endpoint "127.0.0.1:2379": expected http://host:port or https://host:port',
    )
    await expect(etcd.open({etcdCACert: 'x', etcdCertFile: '/c'})).rejects.toThrow(
      'cannot mix inline etcd certificates/keys',
    )
  })

  it('a watch resumes after etcd restarts without losing or repeating events', async () => {
    const b = await etcd.connect()
    const first = await b.create({kind: 'IPAMHandle', name: 'h'}, {n: 0})
    const w = b.watch({kinds: ['IPAMHandle'], fromRevision: first.revision})
    const seen: WatchEvent[] = []
    const collecting = (async () => {
      for await (const ev of w) {
        seen.push(ev)
        if (seen.length === 2) break
      }
    })()
    try {
      const second = await b.update({kind: 'IPAMHandle', name: 'h'}, {n: 1}, first.revision)
      expect(await waitFor(() => seen.length === 1, 5000, 20)).toBe(true)
      await etcd.halt()
      await expect(b.get({kind: 'IPAMHandle', name: 'h'})).rejects.toBeInstanceOf(DatastoreError)
      await etcd.restart()
      // Write through another client, as another process would: the watch must see others' writes after the restart.
      const writer = await etcd.connect()
      await writer.update({kind: 'IPAMHandle', name: 'h'}, {n: 2}, second.revision)
      await Promise.race([collecting, new Promise((_, reject) => setTimeout(() => reject(new Error('no event after restart')), 20_000))])
      expect(seen.map((e) => (e.value as {n: number}).n)).toEqual([1, 2])
    } finally {
      w.close()
    }
  })
})

describe.skipIf(skip)('etcd backend over TLS with client certificates', () => {
  // No wipe: 'connects with inline PEM' reads what the first test wrote.
  const etcd = useEtcd({tls: true, wipe: false})

  it('connects with CA, certificate and key files', async () => {
    const tls = etcd.tls!
    const b = await etcd.open({etcdCACertFile: tls.caFile, etcdCertFile: tls.certFile, etcdKeyFile: tls.keyFile})
    await b.apply({kind: 'IPAMHandle', name: 'tls-files'}, {ok: true})
    expect(await etcd.etcdctl(['get', '/calico/ipam/v2/handle/tls-files', '--print-value-only'])).toBe('{"ok":true}\n')
  })

  it('does not make Node print DEP0123 for an IP-address TLS endpoint, and keeps other warnings', async () => {
    const tls = etcd.tls!
    const b = await etcd.open({etcdCACertFile: tls.caFile, etcdCertFile: tls.certFile, etcdKeyFile: tls.keyFile}) // https://127.0.0.1:<port>
    // A watch is what loads grpc-js (whose TLS server name is the warning's cause): an event proves it is running.
    const key = {kind: 'IPAMHandle', name: 'dep0123'}
    const first = await b.apply(key, {n: 0})
    const w = b.watch({kinds: ['IPAMHandle'], fromRevision: first.revision})
    await b.apply(key, {n: 1})
    expect((await w[Symbol.asyncIterator]().next()).value).toMatchObject({type: 'modified', value: {n: 1}})
    w.close()
    const seen: string[] = []
    const listener = (w: Error & {code?: string}) => seen.push(w.code ?? w.message)
    process.on('warning', listener)
    try {
      process.emitWarning('Setting the TLS ServerName to an IP address is not permitted by RFC 6066.', 'DeprecationWarning', 'DEP0123')
      process.emitWarning('(expected in this test) another warning', {type: 'Warning', code: 'CALICO_TS_TEST'})
      await new Promise((r) => setImmediate(r))
      expect(seen).toEqual(['CALICO_TS_TEST'])
    } finally {
      process.off('warning', listener)
    }
  })

  it('connects with inline PEM', async () => {
    const tls = etcd.tls!
    const b = await etcd.open({
      etcdCACert: readFileSync(tls.caFile, 'utf8'),
      etcdCert: readFileSync(tls.certFile, 'utf8'),
      etcdKey: readFileSync(tls.keyFile, 'utf8'),
    })
    expect((await b.get({kind: 'IPAMHandle', name: 'tls-files'})).value).toEqual({ok: true})
  })

  it.each<[string, (tls: EtcdTlsFiles, endpoints: string) => Partial<DatastoreConfig>, RegExp]>([
    [
      'no client certificate',
      (tls) => ({etcdCACertFile: tls.caFile}),
      /: TLS handshake failed: .*alert.* \(etcd rejected the client certificate: check etcdCertFile\/etcdKeyFile\)$/,
    ],
    [
      'no CA (system roots)',
      (tls) => ({etcdCertFile: tls.certFile, etcdKeyFile: tls.keyFile}),
      /: TLS: unable to verify the first certificate \(set etcdCACertFile to the CA that signed etcd's certificate\)$/,
    ],
    [
      'plain http to a TLS port',
      (_tls, endpoints) => ({etcdEndpoints: endpoints.replace('https://', 'http://')}),
      /: Failed to connect \(if etcd serves TLS, use https:\/\/ endpoints\)$/,
    ],
  ])('%s: a one-line DatastoreError with a hint', async (_case, config, expected) => {
    const b = await etcd.open(config(etcd.tls!, etcd.endpoints))
    const err = await b.get({kind: 'IPAMHandle', name: 'tls-files'}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatastoreError)
    expect((err as Error).message).toMatch(/^cannot connect to etcd at https?:\/\/127\.0\.0\.1:\d+: /)
    expect((err as Error).message).toMatch(expected)
    expect((err as Error).message).not.toContain('\n')
  })
})

describe.skipIf(skip)('etcd backend with username/password authentication', () => {
  // No wipe: etcdctl without credentials cannot write once authentication is on.
  const etcd = useEtcd({wipe: false})

  beforeAll(async () => {
    await etcd.etcdctl(['user', 'add', 'root', '--new-user-password=s3cret'])
    await etcd.etcdctl(['auth', 'enable'])
  })

  const attempt = async (config: Partial<DatastoreConfig>) => (await etcd.open(config)).apply({kind: 'IPAMHandle', name: 'auth'}, {ok: true})

  it('authenticates with etcdUsername/etcdPassword', async () => {
    await expect(attempt({etcdUsername: 'root', etcdPassword: 's3cret'})).resolves.toMatchObject({value: {ok: true}})
    expect(await etcd.etcdctl(['--user', 'root:s3cret', 'get', '/calico/ipam/v2/handle/auth', '--print-value-only'])).toBe('{"ok":true}\n')
  })

  it('wrong or missing credentials are a one-line DatastoreError', async () => {
    const wrong = await attempt({etcdUsername: 'root', etcdPassword: 'nope'}).catch((e: unknown) => e)
    expect(wrong).toBeInstanceOf(DatastoreError)
    expect((wrong as Error).message).toMatch(new RegExp(`^etcd at ${etcd.endpoints} rejected the credentials: .*authentication failed`))
    const missing = await attempt({}).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(DatastoreError)
    expect((missing as Error).message).toBe(`etcd at ${etcd.endpoints} requires authentication: set etcdUsername and etcdPassword`)
  })
})
