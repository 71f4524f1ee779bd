// A Pod's allowedSourcePrefixes annotation through the Kubernetes backend, as the agent and calicoctl read it: the
// endpoint's allowSpoofedSourcePrefixes hold networks exactly as the CNI plugin stores them on etcd, and a Pod whose
// annotation is malformed is left out of lists (Calico's paged list skips it) while reading it alone fails with
// Calico's message, so one bad annotation cannot stop a node's agent from syncing the rest.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Resource} from '../../src/api/resource.js'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {PodConversionError} from '../../src/datastore/kubernetes/convert.js'
import {startServer} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'

const ANNOTATION = 'cni.projectcalico.org/allowedSourcePrefixes'

describe('allowedSourcePrefixes on the Kubernetes datastore', () => {
  let server: TestApiServer
  let backend: KubernetesBackend

  const pod = (name: string, annotations: Record<string, string>, podIP: string): void => {
    server.seed('', 'pods', {metadata: {name, namespace: 'web', annotations}, spec: {nodeName: 'node-a', containers: [{name: 'c'}]}, status: {phase: 'Running', podIP}}, 'web')
  }

  beforeAll(async () => {
    server = await startServer()
    // Pages of one pod: the malformed pod is skipped within a page, not by failing the page.
    backend = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url}, {pageSize: 1})
    pod('spoofer', {[ANNOTATION]: '["10.70.1.9/16", "fd00:70::1/48"]'}, '10.70.0.5')
    pod('broken', {[ANNOTATION]: '["10.70.1.9"]'}, '10.70.0.6')
    pod('plain', {}, '10.70.0.7')
  })

  afterAll(async () => {
    await backend?.close()
    await server?.stop()
  })

  it('lists the endpoints with their prefixes as networks and leaves the malformed pod out', async () => {
    const {items} = await backend.list<Resource>({kind: 'WorkloadEndpoint', namespace: 'web'})
    expect(items.map((i) => i.key.name)).toEqual(['node--a-k8s-plain-eth0', 'node--a-k8s-spoofer-eth0'])
    const spoofed = items.map((i) => (i.value.spec as {allowSpoofedSourcePrefixes?: string[]}).allowSpoofedSourcePrefixes)
    expect(spoofed).toEqual([undefined, ['10.70.0.0/16', 'fd00:70::/48']])
  })

  it('fails a read of the malformed pod\'s endpoint with Calico\'s message', async () => {
    const read = backend.get({kind: 'WorkloadEndpoint', namespace: 'web', name: 'node--a-k8s-broken-eth0'})
    await expect(read).rejects.toBeInstanceOf(PodConversionError)
    await expect(read).rejects.toThrow("failed to parse '10.70.1.9' as a CIDR: invalid CIDR address: 10.70.1.9")
  })
})
