// The NetworkPolicy conformance model (test/fixtures/netpol/README.md: 3 namespaces × 3 pods) enforced by the real
// agent: each step's resources are written to the store while `calicoctl node run` runs in the node namespace, and
// the 9×9 TCP matrix is measured with real connections until it converges to the expected table.
// Scope: the Calico cases that use only projectcalico.org/v3 resources (Kubernetes NetworkPolicies are not stored
// in an etcd-style datastore) and their TCP probes.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {namespaceProfile, type CalcResource} from '../../src/dataplane/calc/index.js'
import {ALL_PODS, POD_CIDR, loadCases, parseTable, podIP, type NetpolCase} from '../unit/nft-netpol-harness.js'
import {waitFor} from '../helpers/wait.js'
import {agentSkipReason, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab, type AttachedPod, type LabNode} from '../lab/lab.js'
import {POD_PROBE_TIMEOUT_MS} from '../lab/reach.js'
import {ROOT} from '../lab/plugin.js'

const why = agentSkipReason()

const CASES: NetpolCase[] = loadCases(join(ROOT, 'test', 'fixtures', 'netpol', 'calico-cases')).filter(
  (c) => !JSON.stringify(c.steps).includes('networking.k8s.io'),
)

function substitute<T>(v: T): T {
  if (typeof v === 'string') return v.replace(/\{\{\s*podCIDR\s*\}\}/g, POD_CIDR).replace(/\{\{\s*ip\s+([xyz]\/[abc])\s*\}\}/g, (_, p: string) => podIP(p)) as T
  if (Array.isArray(v)) return v.map(substitute) as T
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x)])) as T
  return v
}

describe.skipIf(why !== undefined)('Calico conformance cases enforced by node run (real TCP)', () => {
  let lab: Lab
  let node: LabNode
  let agent: LabAgent
  /** The lab pod of each conformance pod (`x/a`). */
  const pods = new Map<string, AttachedPod>()
  const podLabels = new Map<string, Record<string, string>>()
  /** Policy and tier keys written by the current case, removed before the next. */
  const written: {kind: string; name: string; namespace?: string}[] = []

  const putPod = async (pod: string): Promise<void> => {
    const [ns, name] = pod.split('/') as [string, string]
    await lab.writeWorkloadEndpoint(pods.get(pod)!, {
      namespace: ns, k8sPod: name, labels: podLabels.get(pod)!,
      ports: [80, 81].flatMap((port) => ['tcp', 'udp'].map((p) => ({name: `serve-${port}-${p}`, protocol: p.toUpperCase(), port}))),
    })
  }

  /** The measured matrix for one TCP port, self-connections excluded (they never leave the pod). */
  const matrix = async (port: number): Promise<Map<string, boolean>> => {
    const out = new Map<string, boolean>()
    await Promise.all(ALL_PODS.map(async (from) => {
      const targets = ALL_PODS.filter((to) => to !== from)
      const res = await lab.probe(pods.get(from)!, targets.map((to) => [podIP(to), port, 'tcp'] as const), POD_PROBE_TIMEOUT_MS)
      targets.forEach((to, i) => out.set(`${from}>${to}`, res[i]!))
    }))
    return out
  }

  beforeAll(async () => {
    lab = await Lab.start()
    node = await lab.addNode('kn', {}, {forwarding: false})
    for (const pod of ALL_PODS) pods.set(pod, lab.attachPod(node, pod.replace('/', ''), podIP(pod)))
    await Promise.all([...pods.values()].map((p) => lab.serve(p, [80, 81])))
    await lab.put('FelixConfiguration', 'default', {healthHost: '127.0.0.1', healthPort: 19099, prometheusMetricsEnabled: false})
    for (const ns of ['x', 'y', 'z']) {
      const prof = namespaceProfile(ns, {ns, 'kubernetes.io/metadata.name': ns})
      await lab.backend.apply({kind: 'Profile', name: prof.metadata.name!}, prof)
    }
    for (const pod of ALL_PODS) {
      podLabels.set(pod, {pod: pod.split('/')[1]!})
      await putPod(pod)
    }
    agent = startAgent(lab, node, {args: ['--ip', `${node.address}/24`]})
    if (!(await waitFor(async () => (await lab.httpGet(node, 19099, '/readiness')).status === 200, 30_000))) throw new Error(`agent not ready: ${agent.log()}`)
  }, 180_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  it('has cases to run', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(10)
  })

  for (const c of CASES) {
    it(c.id, async () => {
      for (const step of c.steps) {
        for (const action of step.actions) {
          const [verb, raw] = Object.entries(action)[0]!
          const arg = substitute(raw) as Record<string, unknown>
          if (verb === 'apply') {
            const r = arg as unknown as CalcResource
            const key = {kind: r.kind, name: r.metadata.name!, namespace: r.metadata.namespace}
            await lab.backend.apply(key, r)
            written.push(key)
          } else if (verb === 'delete') {
            const d = arg as {kind: string; name: string; namespace?: string}
            await lab.backend.delete({kind: d.kind, name: d.name, namespace: d.namespace}).catch(() => undefined)
          } else if (verb === 'labelPod' || verb === 'unlabelPod') {
            const a = arg as {pod: string; labels?: Record<string, string>; keys?: string[]}
            const labels = {...podLabels.get(a.pod)!, ...(a.labels ?? {})}
            for (const k of a.keys ?? []) delete labels[k]
            podLabels.set(a.pod, labels)
            await putPod(a.pod)
          } else {
            throw new Error(`action ${verb} is not supported by this runner`)
          }
        }
        for (const probe of step.probes ?? []) {
          if (probe.protocol !== 'TCP') continue
          const want = parseTable(probe.expected)
          for (const pod of ALL_PODS) want.delete(`${pod}>${pod}`)
          let got = new Map<string, boolean>()
          const converged = await waitFor(async () => {
            got = await matrix(probe.port)
            return [...want].every(([k, v]) => got.get(k) === v)
          }, 8000, 100)
          const diff = [...want].filter(([k, v]) => got.get(k) !== v).map(([k, v]) => `${k} want ${v ? 'open' : 'closed'}`)
          expect(converged, `${step.name}, TCP ${probe.port}: ${diff.join(', ')}`).toBe(true)
        }
      }
      // Back to the starting state: no policies or tiers, original labels.
      for (const key of written.splice(0).reverse()) await lab.backend.delete(key).catch(() => undefined)
      for (const pod of ALL_PODS) {
        const original = {pod: pod.split('/')[1]!}
        if (JSON.stringify(podLabels.get(pod)) !== JSON.stringify(original)) {
          podLabels.set(pod, original)
          await putPod(pod)
        }
      }
    }, 120_000)
  }
})
