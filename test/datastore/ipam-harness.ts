// The stores the IPAM suites run on, and the two things IPAM needs that the datastores keep differently: Nodes
// (a Calico Node in embedded and etcd; a core/v1 Node in the Kubernetes datastore, whose labels Calico reads) and
// Pods (the Kubernetes datastore has no WorkloadEndpoint objects: an endpoint is a Pod CNI has annotated).
import {expect} from 'vitest'
import type {Backend} from '../../src/datastore/backend.js'
import type {IPAMClient} from '../../src/ipam/ipam.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {kubeApply} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import {embeddedHarness, etcdHarness, type Harness} from './harness.js'
import {kubernetesHarness} from './k8s-harness.js'

export interface IpamStore {
  readonly name: string
  /** A backend on an empty store (the previous one is closed). */
  fresh(): Promise<Backend>
  /** Creates the node, or sets its labels to `labels` (as `kubectl label` would on a cluster). */
  node(name: string, labels?: Record<string, string>): Promise<void>
  /** A scheduled pod (KDD: the Pod object CNI would annotate); nothing on the other stores, where CNI writes the endpoint. */
  pod(namespace: string, name: string, node: string): Promise<void>
  teardown(): Promise<void>
  readonly harness: Harness
}

function calicoStore(harness: Harness): IpamStore {
  let backend: Backend | undefined
  return {
    name: harness.name,
    harness,
    async fresh() {
      await harness.reset()
      backend = await harness.open()
      return backend
    },
    async node(name, labels = {}) {
      if (!backend) throw new Error('fresh() first')
      await backend.apply({kind: 'Node', name}, {apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name, labels}, spec: {}})
    },
    async pod() {
      // Embedded and etcd keep endpoints as objects of their own: nothing to prepare.
    },
    teardown: () => harness.teardown(),
  }
}

/** Creates the Node or replaces its labels, as `kubectl apply` would. */
export async function kubernetesNode(server: TestApiServer, name: string, labels: Record<string, string> = {}): Promise<void> {
  await kubeApply(server, '/api/v1/nodes', {apiVersion: 'v1', kind: 'Node', metadata: {name, labels: {'kubernetes.io/hostname': name, ...labels}}})
}

export async function kubernetesPod(server: TestApiServer, namespace: string, name: string, node: string): Promise<void> {
  await kubeApply(server, `/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name, namespace},
    spec: {nodeName: node, containers: [{name: 'c', image: 'busybox'}]},
  })
}

function kubernetesStore(harness: Harness & {server(): TestApiServer}, name: string): IpamStore {
  return {
    name,
    harness,
    async fresh() {
      await harness.reset()
      return harness.open()
    },
    node: (node, labels = {}) => kubernetesNode(harness.server(), node, labels),
    pod: (namespace, pod, node) => kubernetesPod(harness.server(), namespace, pod, node),
    teardown: () => harness.teardown(),
  }
}

export type IpamStoreFactory = [name: string, make: () => Promise<IpamStore>]

/** embedded, etcd (when etcd-server is installed), and the Kubernetes datastore with v1 and with v3 CRDs. */
export function ipamStores(): IpamStoreFactory[] {
  const out: IpamStoreFactory[] = [['embedded', async () => calicoStore(await embeddedHarness())]]
  if (!etcdSkipReason()) out.push(['etcd', async () => calicoStore(await etcdHarness())])
  out.push(['kubernetes (crd.projectcalico.org/v1)', async () => kubernetesStore(await kubernetesHarness('v1'), 'kubernetes-v1')])
  out.push(['kubernetes (projectcalico.org/v3 CRDs)', async () => kubernetesStore(await kubernetesHarness('v3'), 'kubernetes-v3')])
  return out
}

/** The pool of the libcalico-go-written fixtures (test/fixtures/ipam/go-written-*.json): 10.0.0.0/24 in /26 blocks. */
export async function applyGoWrittenPool(backend: Backend): Promise<void> {
  await backend.apply(
    {kind: 'IPPool', name: 'default-ipv4-ippool'},
    {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'default-ipv4-ippool'}, spec: {cidr: '10.0.0.0/24', blockSize: 26}},
  )
}

/** What those fixtures hold, as the client reads it on any datastore: node-go's block and the pod web-1's handle. */
export async function expectGoWrittenIPAM(ipam: IPAMClient): Promise<void> {
  expect(await ipam.getIPAMConfig()).toMatchObject({strictAffinity: true, autoAllocateBlocks: true})
  expect(await ipam.hostBlocks('node-go')).toEqual(['10.0.0.0/26'])
  expect(await ipam.ipsByHandle('k8s-pod-network.abc')).toEqual(['10.0.0.0', '10.0.0.1'])
  expect(await ipam.getAssignmentAttributes('10.0.0.1')).toEqual({
    handleID: 'k8s-pod-network.abc',
    attrs: {namespace: 'default', node: 'node-go', pod: 'web-1', timestamp: '2026-01-01 00:00:01.1 +0000 UTC'},
  })
}
