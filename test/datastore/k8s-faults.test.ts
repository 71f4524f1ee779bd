// Connecting to a cluster and surviving it: kubeconfig resolution (file, context, calicoctl's
// overrides, tokens, TLS with client certificates), one clear line for each way that fails, and a
// watch that loses nothing across API server restarts, dead streams and 410 Gone.

import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {DatastoreError} from '../../src/api/errors.js'
import type {Resource} from '../../src/api/resource.js'
import type {WatchEvent, Watcher} from '../../src/datastore/backend.js'
import type {DatastoreConfig} from '../../src/datastore/config.js'
import {openBackend} from '../../src/datastore/factory.js'
import {KubernetesBackend, type KubernetesBackendOptions} from '../../src/datastore/kubernetes/backend.js'
import {watchForever, type SyncEvent} from '../../src/datastore/sync.js'
import {makeCertificates} from '../helpers/etcd.js'
import {startServer, writeKubeconfig} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import {freePort} from '../helpers/ports.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function serve(opts: Parameters<typeof startServer>[0] = {}): Promise<TestApiServer> {
  const server = await startServer(opts)
  cleanups.push(() => server.stop())
  return server
}

async function connect(config: Omit<DatastoreConfig, 'datastoreType'>, opts: KubernetesBackendOptions = {}): Promise<KubernetesBackend> {
  const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', ...config}, opts)
  cleanups.push(() => b.close())
  return b
}

/** A temp directory removed after the test. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  cleanups.push(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}

/** writeKubeconfig, with its temp directory removed after the test. */
function kubeconfigFor(...args: Parameters<typeof writeKubeconfig>): string {
  const file = writeKubeconfig(...args)
  cleanups.push(() => rmSync(dirname(file), {recursive: true, force: true}))
  return file
}

function pool(name: string): Resource {
  return {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name}, spec: {cidr: '10.0.0.0/16'}}
}

/** Collects events until `done` says stop (or fails after `ms`). */
async function collect(w: Watcher, done: (evs: WatchEvent[]) => boolean, ms = 15_000): Promise<WatchEvent[]> {
  const events: WatchEvent[] = []
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(events.map((e) => [e.type, e.key.name]))}`)), ms)))
  try {
    await Promise.race([(async () => {
      for await (const ev of w) {
        events.push(ev)
        if (done(events)) return
      }
    })(), timeout])
  } finally {
    clearTimeout(timer)
  }
  return events
}

describe('configuration and its failures', () => {
  it('a missing kubeconfig says which file and what to set', async () => {
    await expect(openBackend({datastoreType: 'kubernetes', kubeconfig: '/nonexistent/kubeconfig'})).rejects.toThrow(
      new DatastoreError('cannot load kubeconfig "/nonexistent/kubeconfig": file does not exist; set "kubeconfig" in the calicoctl config or KUBECONFIG to a readable file'))
  })

  it('a malformed kubeconfig is reported as malformed, with the parser\'s reason', async () => {
    const file = join(tempDir('calico-ts-k8s-'), 'config')
    writeFileSync(file, 'clusters: [\n  - name: x\n')
    const err = await openBackend({datastoreType: 'kubernetes', kubeconfig: file}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatastoreError)
    expect((err as Error).message).toMatch(new RegExp(`^cannot load kubeconfig "${file}": malformed: `))
    expect((err as Error).message).not.toContain('\n')
  })

  it('no configuration at all says what to configure', async () => {
    await expect(KubernetesBackend.connect({datastoreType: 'kubernetes'}, {env: {}})).rejects.toThrow(
      'no Kubernetes API server configured: set "kubeconfig" or "k8sAPIEndpoint" in the calicoctl config, or KUBECONFIG / K8S_API_ENDPOINT')
  })

  it('an unreachable API server names the address and where it came from', async () => {
    const port = await freePort()
    const b = await connect({k8sAPIEndpoint: `http://127.0.0.1:${port}`})
    await expect(b.list({kind: 'IPPool'})).rejects.toThrow(
      `cannot reach the Kubernetes API server at http://127.0.0.1:${port}: connection refused; check that it is running and that k8sAPIEndpoint points at it`)
  })

  it('RBAC denial (403) is one line with the server\'s reason and what to grant', async () => {
    const server = await serve()
    server.deny((r) => r.resource === 'ippools' && r.verb === 'list')
    const b = await connect({k8sAPIEndpoint: server.url})
    await expect(b.list({kind: 'IPPool'})).rejects.toThrow(
      'the Kubernetes API server denied access (403 Forbidden): ippools.crd.projectcalico.org is forbidden: User "system:serviceaccount:test:calico" cannot list resource "ippools" in API group "crd.projectcalico.org" at the cluster scope; grant the Calico ClusterRole (manifests/rbac) to this user')
    await b.create({kind: 'IPPool', name: 'p1'}, pool('p1')) // other verbs still work
  })

  it('uses the kubeconfig token; --context picks another context; a wrong token or unknown context is explained', async () => {
    const server = await serve({token: 's3cret'})
    const port = await freePort()
    const kubeconfig = kubeconfigFor(server.url, {token: 's3cret', extraContexts: [{name: 'dead', server: `http://127.0.0.1:${port}`}], currentContext: 'dead'})
    const viaContext = await connect({kubeconfig, k8sCurrentContext: 'test'})
    await viaContext.create({kind: 'IPPool', name: 'p1'}, pool('p1'))
    await expect((await connect({kubeconfig})).list({kind: 'IPPool'})).rejects.toThrow(/cannot reach the Kubernetes API server at http:\/\/127.0.0.1:\d+: connection refused/)
    await expect(connect({kubeconfig, k8sCurrentContext: 'nope'})).rejects.toThrow(`context "nope" does not exist in kubeconfig "${kubeconfig}"; available: test, dead`)
    // calicoctl's explicit token overrides the kubeconfig's.
    const wrong = await connect({kubeconfig, k8sCurrentContext: 'test', k8sAPIToken: 'wrong'})
    await expect(wrong.list({kind: 'IPPool'})).rejects.toThrow('the Kubernetes API server rejected the credentials (401 Unauthorized); check the token or client certificate in the kubeconfig')
    const endpointAndToken = await connect({k8sAPIEndpoint: server.url, k8sAPIToken: 's3cret'})
    expect((await endpointAndToken.list({kind: 'IPPool'})).items).toHaveLength(1)
  })

  it('speaks TLS with the kubeconfig CA and client certificate; K8S_CA_FILE-style overrides work too', async () => {
    const dir = tempDir('calico-ts-k8s-tls-')
    const certs = makeCertificates(dir)
    const server = await serve({
      token: 'unused-with-client-certs',
      tls: {cert: readFileSync(certs.serverCert, 'utf8'), key: readFileSync(certs.serverKey, 'utf8'), ca: readFileSync(certs.caFile, 'utf8')},
    })
    expect(server.url).toMatch(/^https:/)
    const kubeconfig = kubeconfigFor(server.url, {caFile: certs.caFile, certFile: certs.certFile, keyFile: certs.keyFile})
    const b = await connect({kubeconfig})
    await b.create({kind: 'IPPool', name: 'p1'}, pool('p1'))
    const overrides = await connect({k8sAPIEndpoint: server.url, k8sCAFile: certs.caFile, k8sCertFile: certs.certFile, k8sKeyFile: certs.keyFile})
    expect((await overrides.list({kind: 'IPPool'})).items.map((i) => i.key.name)).toEqual(['p1'])
    const noCA = await connect({k8sAPIEndpoint: server.url, k8sCertFile: certs.certFile, k8sKeyFile: certs.keyFile})
    await expect(noCA.list({kind: 'IPPool'})).rejects.toThrow(/cannot reach the Kubernetes API server at https:\/\/127.0.0.1:\d+: .*certificate/)
    const insecure = await connect({k8sAPIEndpoint: server.url, k8sCertFile: certs.certFile, k8sKeyFile: certs.keyFile, k8sInsecureSkipTLSVerify: true})
    expect((await insecure.list({kind: 'IPPool'})).items).toHaveLength(1)
  })
})

describe('watch recovery', () => {
  it('an API server restart during a watch loses no event', async () => {
    const server = await serve()
    const b = await connect({k8sAPIEndpoint: server.url})
    const start = await b.list({kind: 'IPPool'})
    const w = b.watch({kinds: ['IPPool'], fromRevision: start.revision})
    cleanups.push(() => w.close())
    await b.create({kind: 'IPPool', name: 'before'}, pool('before'))
    const first = await collect(w, (evs) => evs.length === 1)
    expect(first[0].key.name).toBe('before')

    await server.restart(200)
    // Written before the watcher has reconnected: it must come from the resumed watch's replay.
    await b.create({kind: 'IPPool', name: 'after-1'}, pool('after-1'))
    await b.delete({kind: 'IPPool', name: 'before'})
    await server.restart()
    await b.create({kind: 'IPPool', name: 'after-2'}, pool('after-2'))
    const rest = await collect(w, (evs) => evs.length === 3)
    expect(rest.map((e) => [e.type, e.key.name])).toEqual([['added', 'after-1'], ['deleted', 'before'], ['added', 'after-2']])
    const watches = server.requests.filter((r) => r.url.startsWith('/apis/crd.projectcalico.org/v1/ippools?') && r.url.includes('watch=1'))
    expect(watches.length).toBeGreaterThanOrEqual(2) // at least one resume (both restarts may fall in one backoff)
  })

  it('a stream that goes silent is reopened from the last revision', async () => {
    const server = await serve({bookmarkIntervalMs: 60_000})
    const b = await connect({k8sAPIEndpoint: server.url}, {watch: {idleTimeoutMs: 300}})
    const w = b.watch({kinds: ['IPPool']})
    cleanups.push(() => w.close())
    await new Promise((r) => setTimeout(r, 1000))
    await b.create({kind: 'IPPool', name: 'late'}, pool('late'))
    const events = await collect(w, (evs) => evs.length === 1)
    expect(events[0].key.name).toBe('late')
    const watches = server.requests.filter((r) => r.url.startsWith('/apis/crd.projectcalico.org/v1/ippools?') && r.url.includes('watch=1'))
    expect(watches.length).toBeGreaterThanOrEqual(2)
  })

  it('410 Gone while resuming ends the watch; watchForever re-lists and nothing is missed', async () => {
    const server = await serve()
    const b = await connect({k8sAPIEndpoint: server.url})
    await b.create({kind: 'IPPool', name: 'p0'}, pool('p0'))
    const abort = new AbortController()
    cleanups.push(() => abort.abort())
    const seen: SyncEvent[] = []
    const errors: Error[] = []
    const stream = watchForever(b, {kinds: ['IPPool'], signal: abort.signal, retryDelayMs: 50, onError: (e) => errors.push(e)})
    const next = async () => {
      const r = await stream.next()
      if (r.done) throw new Error('stream ended')
      seen.push(r.value)
      return r.value
    }
    const snap = await next()
    expect(snap.type === 'snapshot' && snap.items.map((i) => i.key.name)).toEqual(['p0'])
    const resume = server.pauseWatches()
    const p1 = await b.create({kind: 'IPPool', name: 'p1'}, pool('p1'))
    await b.create({kind: 'IPPool', name: 'p2'}, pool('p2'))
    server.compact(Number(p1.revision) + 1)
    resume()
    const resync = await next()
    expect(resync.type).toBe('snapshot')
    expect(resync.type === 'snapshot' && resync.items.map((i) => i.key.name)).toEqual(['p0', 'p1', 'p2'])
    expect(errors.map((e) => e.constructor.name)).toContain('WatchExpiredError')
    abort.abort()
    await stream.return(undefined)
  })
})
