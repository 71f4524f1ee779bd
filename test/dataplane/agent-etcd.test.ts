// The agent against etcd, and an etcd outage: enforcement must stay exactly as programmed while the datastore is
// gone, the agent must stay alive, and changes made after etcd returns must be enforced (resync).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {namespaceProfile} from '../../src/dataplane/calc/index.js'
import {EtcdBackend} from '../../src/datastore/etcd/backend.js'
import {etcdSkipReason, startEtcd, type EtcdInstance} from '../helpers/etcd.js'
import {waitFor} from '../helpers/wait.js'
import {Lab, labUnavailable, type AgentProcess} from './agent-lab.js'

const why = labUnavailable() ?? etcdSkipReason()
if (why && process.env.CI) throw new Error(`agent etcd tests cannot run in CI: ${why}`)

const V3 = 'projectcalico.org/v3'

describe.skipIf(why !== undefined)('node run against etcd, through an etcd outage', () => {
  let lab: Lab
  let etcd: EtcdInstance
  let agent: AgentProcess
  const connect = (): Promise<EtcdBackend> => EtcdBackend.connect({datastoreType: 'etcdv3', etcdEndpoints: etcd.endpoints})
  const reach = async (from: string, to: string): Promise<boolean> => (await lab.probeAsync(from, [[to, 80]]))[0]!
  const eventually = (from: string, to: string, want: boolean, timeoutMs = 10_000): Promise<boolean> =>
    waitFor(async () => (await reach(from, to)) === want, timeoutMs, 50)
  const health = (path: string): number => lab.httpGet(19099, path).status

  beforeAll(async () => {
    lab = new Lab()
    lab.createNode()
    await lab.addPod('a', '10.78.0.10', [80])
    await lab.addPod('b', '10.78.0.11', [80])
    etcd = await startEtcd()
    const port = await lab.bridgeFromNode(Number(new URL(etcd.endpoints).port))
    lab.useEtcd(`http://127.0.0.1:${port}`)
    const store = await connect()
    const put = (kind: string, name: string, value: object, namespace?: string) => store.apply({kind, name, namespace}, value)
    await put('FelixConfiguration', 'default', {apiVersion: V3, kind: 'FelixConfiguration', metadata: {name: 'default'}, spec: {healthHost: '127.0.0.1', healthPort: 19099, prometheusMetricsEnabled: false}})
    const prof = namespaceProfile('t', {})
    await put('Profile', prof.metadata.name!, prof)
    for (const p of ['a', 'b']) {
      const wep = lab.workloadEndpoint(p, {node: 'kn', namespace: 't', labels: {pod: p}})
      await put(wep.kind, wep.metadata.name!, wep, 't')
    }
    await put('NetworkPolicy', 'a-in', {apiVersion: V3, kind: 'NetworkPolicy', metadata: {name: 'a-in', namespace: 't'}, spec: {selector: "pod == 'a'", types: ['Ingress'], ingress: [{action: 'Deny', source: {selector: "pod == 'b'"}}]}}, 't')
    await store.close()
  })

  afterAll(async () => {
    // AGENT_LOG_DUMP=<file> keeps every agent's log of the run for debugging.
    if (process.env.AGENT_LOG_DUMP) (await import('node:fs')).writeFileSync(process.env.AGENT_LOG_DUMP, lab.agents.map((a) => a.log).join('\n---\n'))
    if (agent && agent.child.exitCode === null) {
      agent.signal('SIGTERM')
      await agent.exited
    }
    lab?.destroy()
    await etcd?.stop()
  })

  it('enforces policy from etcd', async () => {
    agent = lab.startAgent(['--name', 'kn', '--ip', '192.0.2.1/24'])
    expect(await waitFor(() => health('/readiness') === 200, 20_000), agent.log).toBe(true)
    expect(await eventually('b', 'a', false)).toBe(true)
    expect(await reach('a', 'b')).toBe(true)
  })

  it('keeps enforcing, and stays alive, while etcd is down', async () => {
    await etcd.halt()
    await new Promise((r) => setTimeout(r, 3000))
    expect(agent.child.exitCode).toBeNull()
    expect(health('/liveness')).toBe(200)
    expect(await reach('b', 'a')).toBe(false)
    expect(await reach('a', 'b')).toBe(true)
  })

  it('after etcd returns, new changes are enforced', async () => {
    await etcd.restart()
    const store = await connect()
    await store.delete({kind: 'NetworkPolicy', name: 'a-in', namespace: 't'})
    await store.close()
    // The agent's watch comes back on the client's reconnect backoff (the resync's own backoff is capped at 30 s),
    // so a quick etcd restart can leave it waiting several seconds more than a change on a live connection.
    expect(await eventually('b', 'a', true, 45_000), agent.log).toBe(true)
    agent.signal('SIGTERM')
    expect((await agent.exited).code).toBe(0)
  }, 120_000)
})
