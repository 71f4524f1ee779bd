// IP pools' natOutgoing end to end: one lab node running `calicoctl node run`, two pods made by the real CNI plugin,
// and a plain machine on the fabric that has no route to the pool. With natOutgoing a pod reaches a TCP server on
// that machine, which sees the node's address; with natOutgoing off (a delta removing the nat chain) it cannot, since
// the replies have no way back to the pod; turned on again, it can. A connection between the two pods is never
// masqueraded. On each datastore (the pools reach the calculation through the overlay's syncer kinds);
// NAT_LAB_DATASTORE=<one> runs only that one. Every address lives in the lab's namespaces.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {waitFor} from '../helpers/wait.js'
import {agentSkipReason, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab, type LabDatastore, type LabNode, type LabPod} from '../lab/lab.js'
import {seenBy as whoSaw, serveWhoami} from '../lab/whoami.js'

const why = agentSkipReason()
const ALL: LabDatastore[] = ['embedded', 'etcd', 'kubernetes']
const datastores = process.env.NAT_LAB_DATASTORE ? ALL.filter((d) => d === process.env.NAT_LAB_DATASTORE) : ALL
const POOL = '10.82.0.0/16'
const PORT = 8080

describe.skipIf(why !== undefined).each(datastores)('IP pool natOutgoing through the node agent (%s datastore)', (datastore) => {
  let lab: Lab
  let node: LabNode
  let remote: LabNode
  let pa: LabPod
  let pb: LabPod
  let agent: LabAgent

  /** Who the server at `address` says connected to it from `from` (undefined: no answer). */
  const seenBy = (from: {netns: string}, address: string): Promise<string | undefined> => whoSaw(lab, from, address, PORT)
  /** Polls until `from` → `address` is seen as `want` (undefined: unreachable); returns the last observation. */
  const until = async (from: {netns: string}, address: string, want: string | undefined): Promise<string | undefined> => {
    let last: string | undefined
    await waitFor(async () => (last = await seenBy(from, address)) === want, 15_000, 200)
    return last
  }
  const setNatOutgoing = async (on: boolean): Promise<void> => {
    await lab.updatePool('nat', {natOutgoing: on})
  }

  beforeAll(async () => {
    lab = await Lab.start({datastore})
    node = await lab.addNode('nat-a')
    remote = await lab.addNode('outside', {}, {register: false})
    await lab.addPool('nat', POOL, {natOutgoing: true})
    await lab.writeNamespace('nat', {})
    // On the Kubernetes datastore the CNI plugin networks Pods that kubelet already has.
    for (const name of ['pod-a', 'pod-b']) {
      lab.apiServer?.seed('', 'pods', {metadata: {name, namespace: 'nat'}, spec: {nodeName: node.name, containers: [{name: 'c', image: 'registry.k8s.io/pause:3.9'}]}}, 'nat')
    }
    pa = await lab.addPod(node, {namespace: 'nat', name: 'pod-a'})
    pb = await lab.addPod(node, {namespace: 'nat', name: 'pod-b'})
    await serveWhoami(lab, remote, PORT)
    await serveWhoami(lab, pb, PORT)
    agent = startAgent(lab, node)
    await agent.ready(60_000)
  }, 120_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  it('the outside machine has no route to the pool: only NAT can bring replies back', async () => {
    const routes = await lab.inNs(remote.netns, ['ip', '-4', 'route', 'get', pa.ips[0]!])
    expect(routes).not.toContain(node.address)
  })

  it('a pod in a natOutgoing pool reaches the outside machine, which sees the node address', async () => {
    expect(await until(pa, remote.address, node.address), agent.log()).toBe(node.address)
    expect(await agent.table()).toMatch(/chain nat-POSTROUTING \{\n\t\ttype nat hook postrouting priority srcnat \+ 10; policy accept;\n\t\tip saddr @cali40masq-ipam-pools ip daddr != @cali40network-ip-pools masquerade\n/)
  })

  it('a connection between pods on the node keeps the pod address', async () => {
    expect(await until(pa, pb.ips[0]!, pa.ips[0]), agent.log()).toBe(pa.ips[0])
  })

  it('with natOutgoing off the outside machine cannot be reached; on again, it can', async () => {
    await setNatOutgoing(false)
    expect(await until(pa, remote.address, undefined), agent.log()).toBeUndefined()
    expect(await agent.table()).not.toContain('nat-POSTROUTING')
    // Pod to pod is unaffected.
    expect(await seenBy(pa, pb.ips[0]!)).toBe(pa.ips[0])
    await setNatOutgoing(true)
    expect(await until(pa, remote.address, node.address), agent.log()).toBe(node.address)
  })
})
