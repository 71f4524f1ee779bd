// The lab (test/lab) with the real CNI plugin creating the pods and their WorkloadEndpoints, and the agent
// (`calicoctl node run`) enforcing policy for them inside the same node namespace: the whole node, end to end.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {waitFor} from '../helpers/wait.js'
import {agentSkipReason, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab, type LabNode, type LabPod} from '../lab/lab.js'
import {reaches} from '../lab/reach.js'

const why = agentSkipReason()

describe.skipIf(why !== undefined)('node run with pods made by the real CNI plugin', () => {
  let lab: Lab
  let node: LabNode
  let a: LabPod
  let b: LabPod
  let agent: LabAgent

  const health = async (): Promise<number> => (await lab.httpGet(node, 19099, '/readiness')).status
  const reach = (from: LabPod, to: LabPod): Promise<boolean> => reaches(lab, from, to, 80, 500)

  beforeAll(async () => {
    lab = await Lab.start()
    node = await lab.addNode('n1')
    await lab.addPool('pool1', '10.79.0.0/16')
    for (const ns of ['na', 'nb']) await lab.writeNamespace(ns, {})
    await lab.put('FelixConfiguration', 'default', {healthHost: '127.0.0.1', healthPort: 19099, prometheusMetricsEnabled: false})
    a = await lab.addPod(node, {namespace: 'na', name: 'pod-a'})
    b = await lab.addPod(node, {namespace: 'nb', name: 'pod-b'})
    await lab.serve(a, 80)
    await lab.serve(b, 80)
    agent = startAgent(lab, node)
  }, 180_000)

  afterAll(async () => {
    await agent?.stop()
    await lab?.destroy()
  })

  it('becomes ready and keeps the addresses the CNI plugin assigned routable', async () => {
    expect(await waitFor(async () => (await health()) === 200, 30_000), agent.log()).toBe(true)
    expect(a.ips[0]).toMatch(/^10\.79\./)
    expect(await reach(a, b)).toBe(true)
    expect(await reach(b, a)).toBe(true)
  })

  it('enforces a policy over the CNI-created endpoints, and lifts it', async () => {
    const key = {kind: 'GlobalNetworkPolicy', name: 'na-ingress'}
    await lab.put(key.kind, key.name, {selector: "projectcalico.org/namespace == 'na'", types: ['Ingress'], ingress: [{action: 'Deny', source: {namespaceSelector: "projectcalico.org/name == 'nb'"}}, {action: 'Allow'}]})
    expect(await waitFor(async () => !(await reach(b, a)), 10_000, 100)).toBe(true)
    expect(await reach(a, b)).toBe(true)
    await lab.backend.delete(key)
    expect(await waitFor(() => reach(b, a), 10_000, 100)).toBe(true)
  })

  it('a pod deleted by CNI DEL loses its route', async () => {
    await lab.deletePod(b)
    expect(await waitFor(async () => !(await lab.inNs(node.netns, ['ip', '-4', 'route', 'show'])).includes(`${b.ips[0]} `), 10_000, 100)).toBe(true)
    expect(await agent.stop()).toBe(0)
  })
})
