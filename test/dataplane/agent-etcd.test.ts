// The agent against etcd, and an etcd outage: enforcement must stay exactly as programmed while the datastore is
// gone, the agent must stay alive, and changes made after etcd returns must be enforced (resync).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EtcdBackend} from '../../src/datastore/etcd/backend.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {waitFor} from '../helpers/wait.js'
import {agentSkipReason, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab, type AttachedPod, type LabNode} from '../lab/lab.js'
import {reaches} from '../lab/reach.js'

const why = agentSkipReason() ?? etcdSkipReason()
if (why && process.env.CI) throw new Error(`agent etcd tests cannot run in CI: ${why}`)

describe.skipIf(why !== undefined)('node run against etcd, through an etcd outage', () => {
  let lab: Lab
  let node: LabNode
  const pods = new Map<string, AttachedPod>()
  let agent: LabAgent
  const reach = (from: string, to: string): Promise<boolean> => reaches(lab, pods.get(from)!, pods.get(to)!, 80)
  const eventually = (from: string, to: string, want: boolean, timeoutMs = 10_000): Promise<boolean> =>
    waitFor(async () => (await reach(from, to)) === want, timeoutMs, 50)
  const health = async (path: string): Promise<number> => (await lab.httpGet(node, 19099, path)).status

  beforeAll(async () => {
    lab = await Lab.start({datastore: 'etcd'})
    node = await lab.addNode('kn', {}, {forwarding: false})
    for (const [p, address] of [['a', '10.78.0.10'], ['b', '10.78.0.11']] as const) {
      const pod = lab.attachPod(node, p, address)
      pods.set(p, pod)
      await lab.serve(pod, 80)
    }
    await lab.put('FelixConfiguration', 'default', {healthHost: '127.0.0.1', healthPort: 19099, prometheusMetricsEnabled: false})
    await lab.writeNamespace('t', {})
    for (const pod of pods.values()) await lab.writeWorkloadEndpoint(pod, {namespace: 't', labels: {pod: pod.name}})
    await lab.put('NetworkPolicy', 'a-in', {selector: "pod == 'a'", types: ['Ingress'], ingress: [{action: 'Deny', source: {selector: "pod == 'b'"}}]}, {namespace: 't'})
  })

  afterAll(async () => {
    await agent?.stop()
    await lab?.destroy()
  })

  it('enforces policy from etcd', async () => {
    agent = startAgent(lab, node, {args: ['--ip', `${node.address}/24`]})
    expect(await waitFor(async () => (await health('/readiness')) === 200, 20_000), agent.log()).toBe(true)
    expect(await eventually('b', 'a', false)).toBe(true)
    expect(await reach('a', 'b')).toBe(true)
  })

  it('keeps enforcing, and stays alive, while etcd is down', async () => {
    await lab.etcd!.halt()
    await new Promise((r) => setTimeout(r, 3000))
    expect(agent.child.exitCode).toBeNull()
    expect(await health('/liveness')).toBe(200)
    expect(await reach('b', 'a')).toBe(false)
    expect(await reach('a', 'b')).toBe(true)
  })

  it('after etcd returns, new changes are enforced', async () => {
    await lab.etcd!.restart()
    // A fresh client: the lab's own may still be backing off from the outage.
    const store = await EtcdBackend.connect({datastoreType: 'etcdv3', etcdEndpoints: lab.etcd!.endpoints})
    await store.delete({kind: 'NetworkPolicy', name: 'a-in', namespace: 't'})
    await store.close()
    // The agent's watch comes back on the client's reconnect backoff (the resync's own backoff is capped at 30 s),
    // so a quick etcd restart can leave it waiting several seconds more than a change on a live connection.
    expect(await eventually('b', 'a', true, 45_000), agent.log()).toBe(true)
    expect(await agent.stop()).toBe(0)
  }, 120_000)
})
