// The test API server is only useful if it behaves like the real one for real clients: drive it with
// kubectl (install Calico's CRDs, apply/patch/get/delete Calico objects, namespaces and
// NetworkPolicies) and check that what kubectl stores is what our Kubernetes backend reads, and back.

import {execFile} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ResourceDoesNotExistError} from '../../src/api/errors.js'
import type {Resource} from '../../src/api/resource.js'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {makeCertificates} from '../helpers/etcd.js'
import {KUBECTL, kubectlSkipReason, MANIFESTS, startServer, writeKubeconfig} from './helpers.js'
import type {TestApiServer} from './server.js'

const skip = kubectlSkipReason()
if (skip) console.warn(skip)
const run = promisify(execFile)

describe.skipIf(skip !== undefined)('kubectl against the test API server', () => {
  let server: TestApiServer
  let b: KubernetesBackend
  let dir: string
  let kubeconfig: string

  // Async spawn only: the server runs in this process, so a blocking spawn would deadlock it.
  const kubectl = async (...args: string[]): Promise<string> => {
    try {
      const {stdout} = await run(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], {timeout: 60_000})
      return stdout
    } catch (err) {
      const e = err as {stderr?: string; message: string}
      throw new Error(`kubectl ${args.join(' ')}: ${e.stderr ?? e.message}`)
    }
  }
  const file = (name: string, text: string): string => {
    const path = join(dir, name)
    writeFileSync(path, text)
    return path
  }

  beforeAll(async () => {
    // HTTPS with a bearer token, as a real cluster (kubectl sends no token over plain http).
    dir = mkdtempSync(join(tmpdir(), 'calico-ts-kubectl-'))
    const certs = makeCertificates(dir)
    server = await startServer({token: 'kubectl-token', crds: 'none', tls: {cert: readFileSync(certs.serverCert, 'utf8'), key: readFileSync(certs.serverKey, 'utf8')}})
    kubeconfig = writeKubeconfig(server.url, {token: 'kubectl-token', caFile: certs.caFile})
    b = await KubernetesBackend.connect({datastoreType: 'kubernetes', kubeconfig})
  })
  afterAll(async () => {
    await b?.close()
    await server?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
    if (kubeconfig) rmSync(dirname(kubeconfig), {recursive: true, force: true})
  })

  it('kubectl apply -f manifests/crds installs every CRD, and a second apply changes nothing', async () => {
    const out = await kubectl('apply', '-f', MANIFESTS)
    expect(out.trim().split('\n')).toHaveLength(22)
    expect(out).toContain('customresourcedefinition.apiextensions.k8s.io/ippools.crd.projectcalico.org created')
    const again = await kubectl('apply', '-f', MANIFESTS)
    expect(again.trim().split('\n').every((l) => l.endsWith(' unchanged'))).toBe(true)
    const names = (await kubectl('get', 'crds', '-o', 'name')).trim().split('\n')
    expect(names).toContain('customresourcedefinition.apiextensions.k8s.io/networkpolicies.crd.projectcalico.org')
  })

  it('kubectl apply -f manifests/rbac creates the ClusterRoles, bindings and service accounts', async () => {
    const out = await kubectl('apply', '-f', join(MANIFESTS, '..', 'rbac'))
    expect(out.trim().split('\n').sort()).toEqual([
      'clusterrole.rbac.authorization.k8s.io/calico-node created',
      'clusterrole.rbac.authorization.k8s.io/calicoctl created',
      'clusterrolebinding.rbac.authorization.k8s.io/calico-node created',
      'clusterrolebinding.rbac.authorization.k8s.io/calicoctl created',
      'serviceaccount/calico-node created',
      'serviceaccount/calicoctl created',
    ])
    expect(server.object('', 'serviceaccounts', 'calico-node', 'kube-system')).toBeDefined()
  })

  it('a Calico object applied and patched with kubectl is what the backend reads', async () => {
    await kubectl('apply', '-f', file('pool.yaml', [
      'apiVersion: crd.projectcalico.org/v1', 'kind: IPPool', 'metadata:', '  name: pool-a', '  labels: {team: a}',
      'spec:', '  cidr: 10.10.0.0/16', '  blockSize: 26', '  natOutgoing: true', '',
    ].join('\n')))
    let got = await b.get<Resource>({kind: 'IPPool', name: 'pool-a'})
    expect(got.value.spec).toEqual({cidr: '10.10.0.0/16', blockSize: 26, natOutgoing: true})
    expect(got.value.metadata.labels).toEqual({team: 'a'})

    await kubectl('patch', 'ippools.crd.projectcalico.org', 'pool-a', '--type', 'merge', '-p', '{"spec":{"natOutgoing":false}}')
    got = await b.get<Resource>({kind: 'IPPool', name: 'pool-a'})
    expect(got.value.spec?.natOutgoing).toBe(false)

    const listed = JSON.parse(await kubectl('get', 'ippools.crd.projectcalico.org', '-l', 'team=a', '-o', 'json')) as {items: {metadata: {name: string}}[]}
    expect(listed.items.map((i) => i.metadata.name)).toEqual(['pool-a'])
    expect(JSON.parse(await kubectl('get', 'ippools.crd.projectcalico.org', '-l', 'team=b', '-o', 'json')).items).toEqual([])

    await kubectl('delete', 'ippools.crd.projectcalico.org', 'pool-a')
    await expect(b.get({kind: 'IPPool', name: 'pool-a'})).rejects.toBeInstanceOf(ResourceDoesNotExistError)
  })

  it('what the backend writes, kubectl shows in Calico\'s v1 layout', async () => {
    await b.create({kind: 'GlobalNetworkPolicy', name: 'deny-all'}, {
      apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy',
      metadata: {name: 'deny-all', labels: {owner: 'sec'}}, spec: {tier: 'default', order: 10, selector: 'all()', types: ['Ingress']},
    })
    const cr = JSON.parse(await kubectl('get', 'globalnetworkpolicies.crd.projectcalico.org', 'deny-all', '-o', 'json')) as Resource
    expect(cr.apiVersion).toBe('crd.projectcalico.org/v1')
    expect(cr.spec).toEqual({tier: 'default', order: 10, selector: 'all()', types: ['Ingress']})
    expect(JSON.parse(cr.metadata.annotations?.['projectcalico.org/metadata'] ?? '{}')).toEqual({name: 'deny-all', creationTimestamp: null, labels: {owner: 'sec'}})
    // Server-side apply from kubectl onto an object the backend wrote.
    await kubectl('apply', '--server-side', '--force-conflicts', '-f', file('gnp.yaml', [
      'apiVersion: crd.projectcalico.org/v1', 'kind: GlobalNetworkPolicy', 'metadata:', '  name: deny-all', 'spec:', '  order: 20', '',
    ].join('\n')))
    const got = await b.get<Resource>({kind: 'GlobalNetworkPolicy', name: 'deny-all'})
    expect(got.value.spec?.order).toBe(20)
    expect(got.value.metadata.labels).toEqual({owner: 'sec'})
    await kubectl('delete', '-f', join(dir, 'gnp.yaml'))
    expect((await b.list({kind: 'GlobalNetworkPolicy'})).items).toEqual([])
  })

  it('namespaces and NetworkPolicies from kubectl become Profiles and KubernetesNetworkPolicies', async () => {
    const manifest = (port: number) => [
      'apiVersion: v1', 'kind: Namespace', 'metadata:', '  name: shop', '  labels: {env: prod}', '---',
      'apiVersion: networking.k8s.io/v1', 'kind: NetworkPolicy', 'metadata:', '  name: web', '  namespace: shop',
      'spec:', '  podSelector:', '    matchLabels: {app: web}', '  ingress:', '  - ports:', `    - port: ${port}`, '',
    ].join('\n')
    await kubectl('apply', '-f', file('shop.yaml', manifest(80)))
    const profile = await b.get<Resource>({kind: 'Profile', name: 'kns.shop'})
    expect(profile.value.spec?.labelsToApply).toEqual({'pcns.env': 'prod', 'pcns.projectcalico.org/name': 'shop'})
    let knp = await b.get<Resource>({kind: 'KubernetesNetworkPolicy', namespace: 'shop', name: 'web'})
    expect(knp.value.spec?.ingress).toEqual([{action: 'Allow', protocol: 'TCP', destination: {ports: [80]}}])

    // A second apply is a strategic merge patch of the native object.
    await kubectl('apply', '-f', file('shop.yaml', manifest(8080)))
    knp = await b.get<Resource>({kind: 'KubernetesNetworkPolicy', namespace: 'shop', name: 'web'})
    expect(knp.value.spec?.ingress).toEqual([{action: 'Allow', protocol: 'TCP', destination: {ports: [8080]}}])
    expect(await kubectl('get', 'networkpolicies', '-n', 'shop', '-o', 'name')).toBe('networkpolicy.networking.k8s.io/web\n')

    await kubectl('delete', '-f', join(dir, 'shop.yaml'))
    await expect(b.get({kind: 'Profile', name: 'kns.shop'})).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    expect((await b.list({kind: 'KubernetesNetworkPolicy'})).items).toEqual([])
  })
})
