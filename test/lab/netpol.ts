// The NetworkPolicy conformance model (test/fixtures/netpol/README.md: 3 namespaces × 3 pods) on a lab node, for
// tests of the real agent: the pods are attached with the model's addresses and serve TCP and UDP on ports 80 and
// 81, their namespaces and endpoints are written to the lab's datastore (Namespaces and Pods on the Kubernetes
// datastore), a case's actions are applied as their writers would apply them, and the 9×9 matrix of a probe is
// measured with real connections until it converges to the case's table (self-connections never leave the pod).
//
//   const model = await NetpolModel.attach(lab, node)      // before or after the agent starts
//   await model.run(netpolCase)                             // every step converged, then reset (also on failure)
//   await model.act(action)                                 // or step by step:
//   expect(await model.converge(probe)).toEqual([])        // the mismatches left, none when converged
//   await model.reset()                                     // no policies, the original labels
import {expect} from 'vitest'
import type {Key} from '../../src/datastore/backend.js'
import {vethName} from '../../src/datastore/kubernetes/names.js'
import {ALL_PODS, NAMESPACES, parseTable, podIP, substitute, type NetpolCase, type Probe} from '../unit/nft-netpol-harness.js'
import {kubeApply, kubeRequest} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import type {AttachedPod, Lab, LabNode} from './lab.js'
import {untilReach, type Probe as ReachProbe} from './reach.js'

const PORTS = [80, 81]
const NETPOL = 'networking.k8s.io/v1'
const PROTOCOLS = ['tcp', 'udp'] as const

type Manifest = {apiVersion: string; kind: string; metadata: {name: string; namespace?: string}; spec?: unknown}
type Labels = Record<string, string>

const split = (pod: string): [string, string] => pod.split('/') as [string, string]
const namespaceLabels = (ns: string): Labels => ({'kubernetes.io/metadata.name': ns, ns})
const podLabels = (pod: string): Labels => ({pod: split(pod)[1]})
const netpolPath = (ns: string, name = ''): string => `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies${name ? `/${name}` : ''}`

/** Every pod reaching every other: the model with no policy (the namespaces' profiles allow everything). */
export function allOpen(protocol: 'TCP' | 'UDP', port = 80): Probe {
  return {protocol, port, expected: [`- ${ALL_PODS.join(' ')}`, ...ALL_PODS.map((p) => `${p} ${ALL_PODS.map(() => '.').join(' ')}`)].join('\n')}
}

export class NetpolModel {
  /** The lab pod of each model pod (`x/a`). */
  readonly pods = new Map<string, AttachedPod>()
  private readonly labels = new Map<string, Labels>()
  private readonly nsLabels = new Map<string, Labels>()
  /** Calico objects the current case wrote, removed by reset(). */
  private readonly written: Key[] = []

  private constructor(
    private readonly lab: Lab,
    readonly node: LabNode,
  ) {}

  /** Attaches the nine pods to `node` with their servers, and writes their namespaces and endpoints. */
  static async attach(lab: Lab, node: LabNode): Promise<NetpolModel> {
    const model = new NetpolModel(lab, node)
    for (const pod of ALL_PODS) {
      const [ns, name] = split(pod)
      // The interface name Calico derives from the pod: the one the Kubernetes datastore's endpoint view names.
      model.pods.set(pod, lab.attachPod(node, `${ns}${name}`, podIP(pod), {iface: vethName(ns, name)}))
    }
    await Promise.all([...model.pods.values()].map((p) => lab.serve(p, PORTS)))
    for (const ns of NAMESPACES) await model.writeNamespace(ns, namespaceLabels(ns))
    for (const pod of ALL_PODS) await model.writePod(pod, podLabels(pod))
    return model
  }

  private get api(): TestApiServer {
    if (!this.lab.apiServer) throw new Error('Kubernetes NetworkPolicies need the lab\'s Kubernetes datastore')
    return this.lab.apiServer
  }

  private async writePod(pod: string, labels: Labels): Promise<void> {
    this.labels.set(pod, labels)
    const [ns, name] = split(pod)
    await this.lab.writeWorkloadEndpoint(this.pods.get(pod)!, {
      namespace: ns, k8sPod: name, labels,
      ports: PORTS.flatMap((port) => PROTOCOLS.map((p) => ({name: `serve-${port}-${p}`, protocol: p.toUpperCase(), port}))),
    })
  }

  private async writeNamespace(ns: string, labels: Labels): Promise<void> {
    this.nsLabels.set(ns, labels)
    await this.lab.writeNamespace(ns, labels)
  }

  /** One action of a case step (fixture README): its manifest's placeholders filled, written as its writer would. */
  async act(action: Record<string, unknown>): Promise<void> {
    const [verb, raw] = Object.entries(action)[0]!
    const arg = substitute(raw) as Record<string, unknown>
    switch (verb) {
      case 'apply': {
        const m = arg as unknown as Manifest
        if (m.apiVersion === NETPOL) return void (await kubeApply(this.api, netpolPath(m.metadata.namespace ?? 'default'), m))
        const key: Key = {kind: m.kind, name: m.metadata.name, ...(m.metadata.namespace ? {namespace: m.metadata.namespace} : {})}
        await this.lab.backend.apply(key, m)
        this.written.push(key)
        return
      }
      case 'delete': {
        const d = arg as {apiVersion: string; kind: string; namespace?: string; name: string}
        if (d.apiVersion === NETPOL) return void (await kubeRequest(this.api, 'DELETE', netpolPath(d.namespace ?? 'default', d.name)))
        await this.lab.backend.delete({kind: d.kind, name: d.name, ...(d.namespace ? {namespace: d.namespace} : {})})
        return
      }
      case 'deleteAllNetworkPolicies':
        return this.deleteAllNetworkPolicies()
      case 'labelPod':
      case 'unlabelPod': {
        const a = arg as {pod: string; labels?: Labels; keys?: string[]}
        return this.writePod(a.pod, relabel(this.labels.get(a.pod)!, a))
      }
      case 'labelNamespace':
      case 'unlabelNamespace': {
        const a = arg as {namespace: string; labels?: Labels; keys?: string[]}
        return this.writeNamespace(a.namespace, relabel(this.nsLabels.get(a.namespace)!, a))
      }
      default:
        throw new Error(`action ${verb} is not supported by this runner`)
    }
  }

  private async deleteAllNetworkPolicies(): Promise<void> {
    if (!this.lab.apiServer) return
    for (const np of this.api.objects('networking.k8s.io', 'networkpolicies')) await kubeRequest(this.api, 'DELETE', netpolPath(np.metadata.namespace!, np.metadata.name))
  }

  /**
   * Measures the probe's matrix until it matches the expected table or `timeoutMs` passes; the mismatches of the last
   * measurement (`xa → 10.65.0.11:80/tcp: want open, got closed`), none when it converged.
   */
  async converge(probe: Probe, timeoutMs = 10_000): Promise<string[]> {
    const want = parseTable(probe.expected)
    const proto = probe.protocol === 'UDP' ? 'udp' : 'tcp'
    const pairs = ALL_PODS.flatMap((from) => ALL_PODS.filter((to) => to !== from).map((to) => [from, to] as const))
    const probes = pairs.map(([from, to]): ReachProbe => [this.pods.get(from)!, podIP(to), probe.port, proto])
    return untilReach(this.lab, probes, pairs.map(([from, to]) => want.get(`${from}>${to}`)!), timeoutMs)
  }

  /**
   * A whole case: each step's actions, then each of its probes until it converges (an assertion naming the step and
   * the mismatches when one does not); back to the starting state afterwards, also when it failed.
   */
  async run(c: NetpolCase, timeoutMs = 10_000): Promise<void> {
    try {
      for (const step of c.steps) {
        for (const action of step.actions) await this.act(action)
        for (const probe of step.probes ?? []) {
          const diff = await this.converge(probe, timeoutMs)
          expect(diff, `${step.name}, ${probe.protocol} ${probe.port}: ${diff.join(', ')}`).toEqual([])
        }
      }
    } finally {
      await this.reset()
    }
  }

  /** Back to the model's starting state: no policies or tiers, the original pod and namespace labels. */
  async reset(): Promise<void> {
    await this.deleteAllNetworkPolicies()
    for (const key of this.written.splice(0).reverse()) await this.lab.backend.delete(key).catch(() => undefined)
    for (const ns of NAMESPACES) if (!sameLabels(this.nsLabels.get(ns)!, namespaceLabels(ns))) await this.writeNamespace(ns, namespaceLabels(ns))
    for (const pod of ALL_PODS) if (!sameLabels(this.labels.get(pod)!, podLabels(pod))) await this.writePod(pod, podLabels(pod))
  }
}

function relabel(current: Labels, change: {labels?: Labels; keys?: string[]}): Labels {
  const labels = {...current, ...(change.labels ?? {})}
  for (const k of change.keys ?? []) delete labels[k]
  return labels
}

function sameLabels(a: Labels, b: Labels): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k])
}
