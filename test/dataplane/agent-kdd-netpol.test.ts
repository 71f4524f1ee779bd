// The NetworkPolicy conformance model (test/fixtures/netpol/README.md: 3 namespaces × 3 pods, test/lab/netpol.ts)
// enforced by the real agent on the Kubernetes datastore, in a lab on the test API server (test/lab): the server is
// reached from the node namespace through the lab's Unix-socket relay (no address or route anywhere); the Node,
// Namespaces, Pods (scheduled on the agent's node, with their IPs in status as kubelet reports them) and
// networking.k8s.io NetworkPolicies are real Kubernetes objects, Calico policies and tiers are Calico's CRDs.
// `calicoctl node run` (bin/calicoctl, a KDD config) runs in the node namespace; pods are namespaces on veths named
// as Calico names a pod's interface. Every step of a case is applied while the agent runs, then the 9×9 matrix is
// measured with real TCP connections and UDP echoes until it converges to the case's table.
//
// By default a representative subset runs (kept to a few minutes on a busy machine); NETPOL_KDD_ALL=1 runs every
// Kubernetes and Calico case.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {kubeRequest} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import {waitFor} from '../helpers/wait.js'
import {agentSkipReason, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab, type LabNode} from '../lab/lab.js'
import {allOpen, NetpolModel} from '../lab/netpol.js'
import {ROOT} from '../lab/plugin.js'
import {ALL_PODS, loadCases, type NetpolCase, type Probe} from '../unit/nft-netpol-harness.js'

const why = agentSkipReason()

const ALL = process.env.NETPOL_KDD_ALL === '1'
/** The default subset: selectors on pods and namespaces, ports by name and range, egress, ipBlock, label changes, deletes, UDP. */
const K8S_SUBSET = new Set([
  'e2e-04-deny-all-then-allow-target', 'e2e-18-ingress-named-port-from-namespace', 'e2e-21-updated-namespace-labels',
  'e2e-22-updated-pod-labels', 'e2e-28-deny-egress-client-side', 'e2e-33-stop-enforcing-after-delete',
  'e2e-36-egress-cidr-except-then-update', 'e2e-43-udp-default-deny-ingress',
])
/** Calico policy next to Kubernetes policy through the same datastore: tiers, Pass, order against the k8s policies. */
const CALICO_SUBSET = new Set([
  'calico-03-namespaced-deny-before-k8s-allow', 'calico-05-pass-skips-rest-of-default-tier', 'calico-06-tier-pass-to-k8s',
])
const FIXTURES = join(ROOT, 'test', 'fixtures', 'netpol')
const K8S_CASES = loadCases(join(FIXTURES, 'cases')).filter((c) => ALL || K8S_SUBSET.has(c.id))
const CALICO_CASES = loadCases(join(FIXTURES, 'calico-cases')).filter((c) => ALL || CALICO_SUBSET.has(c.id))

const NETPOL = 'networking.k8s.io/v1'

describe.skipIf(why !== undefined)('NetworkPolicy conformance by node run on the Kubernetes datastore (real TCP and UDP)', () => {
  let lab: Lab
  let api: TestApiServer
  let node: LabNode
  let agent: LabAgent
  let model: NetpolModel

  /** The Node as kubelet registers it: no Calico annotation until the agent adds its address. */
  const registerNode = (name: string) => kubeRequest(api, 'POST', '/api/v1/nodes', {apiVersion: 'v1', kind: 'Node', metadata: {name, labels: {'kubernetes.io/hostname': name}}})

  beforeAll(async () => {
    lab = await Lab.start({datastore: 'kubernetes'})
    api = lab.apiServer!
    node = await lab.addNode('kn', {}, {nodeResource: false, forwarding: false})
    await registerNode(node.name)
    await lab.put('FelixConfiguration', 'default', {healthHost: '127.0.0.1', healthPort: 19099, prometheusMetricsEnabled: false})
    // The cluster as kubelet and the e2e suite leave it: the namespaces, the pods running with their IPs.
    model = await NetpolModel.attach(lab, node)
    agent = startAgent(lab, node, {args: ['--ip', `${node.address}/24`]})
    await agent.ready(60_000)
  }, 180_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  it('registers the node into the core Node and reads every pod as an endpoint', async () => {
    const annotations = api.object('', 'nodes', node.name)?.metadata.annotations
    expect(annotations?.['projectcalico.org/IPv4Address']).toBe(`${node.address}/24`)
    expect(agent.log()).toMatch(/datastore in sync: \d+ objects/)
    // Every pod is open on both protocols with no policy at all (the namespace profiles allow everything).
    for (const protocol of ['TCP', 'UDP'] as const) expect(await model.converge(allOpen(protocol))).toEqual([])
  }, 60_000)

  it('says why it cannot start when kubelet has not registered the node, and starts once the Node exists', async () => {
    // Its own node namespace: once registered it programs a dataplane, which must not touch the conformance node's.
    const ghost = await lab.addNode('ghost', {}, {nodeResource: false})
    const ghostAgent = startAgent(lab, ghost, {args: ['--ip', `${ghost.address}/24`]})
    const seen = (text: string, ms: number): Promise<boolean> => waitFor(() => ghostAgent.log().includes(text), ms, 100)
    try {
      // The log is logfmt: the node name's quotes are escaped there.
      expect(await seen('does not exist in the Kubernetes API: on the Kubernetes datastore the Calico Node is a view of the core Node', 60_000), ghostAgent.log()).toBe(true)
      expect(ghostAgent.log()).toContain('start kubelet on this node')
      await registerNode(ghost.name)
      expect(await seen('Node ghost registered', 30_000), ghostAgent.log()).toBe(true)
      expect(api.object('', 'nodes', ghost.name)?.metadata.annotations?.['projectcalico.org/IPv4Address']).toBe(`${ghost.address}/24`)
    } finally {
      await ghostAgent.kill()
      await kubeRequest(api, 'DELETE', `/api/v1/nodes/${ghost.name}`).catch(() => undefined)
    }
  }, 90_000)

  it('re-lists after its watch history was compacted (410 Gone) and enforces what changed while it was cut off', async () => {
    // Ingress to every pod of x denied: the only change made while the agent's watches are down.
    const denyX = {apiVersion: NETPOL, kind: 'NetworkPolicy', metadata: {name: 'deny-x', namespace: 'x'}, spec: {podSelector: {}, policyTypes: ['Ingress']}}
    const closedToX: Probe = {
      protocol: 'TCP', port: 80,
      expected: [`- ${ALL_PODS.join(' ')}`, ...ALL_PODS.map((from) => `${from} ${ALL_PODS.map((to) => (to.startsWith('x/') ? 'X' : '.')).join(' ')}`)].join('\n'),
    }
    const resyncs = (): number => agent.log().split('datastore snapshot received').length - 1
    const before = resyncs()
    const resume = api.pauseWatches()
    try {
      await model.act({apply: denyX})
      // One more write, so that compacting up to it leaves no history to resume from (the server keeps one revision).
      await kubeRequest(api, 'POST', '/api/v1/namespaces/default/configmaps', {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'after-deny-x'}})
      api.compact(api.resourceVersion)
    } finally {
      resume()
    }
    expect(await model.converge(closedToX)).toEqual([])
    expect(resyncs()).toBeGreaterThan(before)
    await model.act({delete: {apiVersion: NETPOL, kind: 'NetworkPolicy', namespace: 'x', name: 'deny-x'}})
    expect(await model.converge(allOpen('TCP'))).toEqual([])
  }, 90_000)

  const runCase = (c: NetpolCase): void => {
    it(c.id, async () => {
      await model.run(c)
      // The next case starts from a clean dataplane, not from this case's last rules.
      expect(await model.converge(allOpen('TCP')), 'after removing the case\'s policies').toEqual([])
    }, 180_000)
  }

  it('has cases to run', () => {
    expect(K8S_CASES.length).toBeGreaterThanOrEqual(ALL ? 40 : K8S_SUBSET.size)
    expect(CALICO_CASES.length).toBeGreaterThanOrEqual(ALL ? 15 : CALICO_SUBSET.size)
  })
  describe('Kubernetes NetworkPolicy cases', () => K8S_CASES.forEach(runCase))
  describe('Calico policy cases (projectcalico.org/v3 CRDs next to Kubernetes policies)', () => CALICO_CASES.forEach(runCase))
})
