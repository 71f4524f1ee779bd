// VXLAN's host allowance end to end: two lab nodes with a VXLAN pool, a pod on each (real CNI plugin), `calicoctl node
// run` on both, and a plain machine on the fabric. Host endpoints on both uplinks, with no policy, close the nodes
// (default deny both ways), yet the pods, and each node, still reach the other node's pod: the encapsulated packets
// the nodes exchange are allowed out to and in from the other node before host endpoint policy. VXLAN from the plain
// machine is dropped by the rule for non-allowed hosts. A node's connection into the tunnel from its uplink address
// is masqueraded to its VTEP address (Felix's tunnel rule). Every address lives in the lab's namespaces.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {agentSkipReason, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab, type LabNode, type LabPod} from '../lab/lab.js'
import {untilReach, type Probe} from '../lab/reach.js'
import {seenBy, serveWhoami} from '../lab/whoami.js'
import {waitFor} from '../helpers/wait.js'

const why = agentSkipReason()
const POOL = '10.83.0.0/16'
const WHOAMI_PORT = 8081

describe.skipIf(why !== undefined)('VXLAN between nodes past their host endpoints', () => {
  let lab: Lab
  let na: LabNode
  let nb: LabNode
  let outside: LabNode
  let pa: LabPod
  let pb: LabPod
  const agents: LabAgent[] = []

  const logs = (): string => agents.map((a) => `--- ${a.node.name}\n${a.log()}`).join('\n')
  const check = async (probes: Probe[], want: boolean[], what: string): Promise<void> => {
    const diff = await untilReach(lab, probes, want, 20_000)
    expect(diff, `${what}:\n${diff.join('\n')}\n${logs()}`).toEqual([])
  }
  /** Packets counted by na's rule that drops VXLAN from hosts that are not nodes. */
  const droppedVxlan = async (): Promise<number> => {
    const chain = await lab.inNs(na.netns, ['nft', 'list', 'chain', 'inet', 'calico', 'filter-cali-INPUT'])
    const line = chain.split('\n').find((l) => l.includes('Drop IPv4 VXLAN packets from non-allowed hosts'))
    const m = line && /counter packets (\d+)/.exec(line)
    if (!m) throw new Error(`no VXLAN drop rule with a counter in:\n${chain}`)
    return Number(m[1])
  }

  beforeAll(async () => {
    lab = await Lab.start()
    na = await lab.addNode('vh-a')
    nb = await lab.addNode('vh-b')
    outside = await lab.addNode('outside', {}, {register: false})
    await lab.addPool('vx', POOL, {vxlanMode: 'Always'})
    await lab.writeNamespace('vh', {})
    pa = await lab.addPod(na, {namespace: 'vh', name: 'pod-a'})
    pb = await lab.addPod(nb, {namespace: 'vh', name: 'pod-b'})
    await lab.serve(pa, 80)
    await lab.serve(pb, 80)
    await lab.serve(na, 8080)
    await serveWhoami(lab, pb, WHOAMI_PORT)
    for (const n of [na, nb]) {
      const agent = startAgent(lab, n)
      agents.push(agent)
      await agent.ready(60_000)
    }
  }, 180_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  it("pods and nodes reach the other node's pod through vxlan.calico, also once host endpoints close both nodes", async () => {
    // Without the allowance out (checked by removing it) every one of these fails: the encapsulated packets leave
    // unmarked, so host endpoint egress policy would judge them.
    const pods: Probe[] = [[pa, pb.ips[0]!, 80, 'tcp'], [pb, pa.ips[0]!, 80, 'tcp'], [na, pb.ips[0]!, 80, 'tcp'], [nb, pa.ips[0]!, 80, 'tcp']]
    await check([...pods, [outside, na.address, 8080, 'tcp']], [true, true, true, true, true], 'before the host endpoints')
    for (const n of [na, nb]) await lab.put('HostEndpoint', `${n.name}-eth0`, {node: n.name, interfaceName: 'eth0', expectedIPs: [n.address]}, {labels: {host: 'yes'}})
    // The host endpoint (no policy: deny) closes the node itself; the overlay between the nodes stays open.
    await check([...pods, [outside, na.address, 8080, 'tcp']], [true, true, true, true, false], 'with the host endpoints')
    expect(await lab.inNs(na.netns, ['ip', '-4', 'route', 'show', 'dev', 'vxlan.calico'])).toContain('onlink')
  })

  it("a node's connection through vxlan.calico from its uplink address leaves from its VTEP address (the tunnel rule)", async () => {
    const vtep = (await lab.client.get('Node', na.name)).spec as {ipv4VXLANTunnelAddr?: string}
    expect(vtep.ipv4VXLANTunnelAddr, logs()).toBeDefined()
    let seen: string | undefined
    await waitFor(async () => (seen = await seenBy(lab, na, pb.ips[0]!, WHOAMI_PORT, {localAddress: na.address})) !== undefined, 15_000, 200)
    expect(seen, logs()).toBe(vtep.ipv4VXLANTunnelAddr)
    // A node's own address on the tunnel is left alone.
    expect(await seenBy(lab, na, pb.ips[0]!, WHOAMI_PORT, {localAddress: vtep.ipv4VXLANTunnelAddr})).toBe(vtep.ipv4VXLANTunnelAddr)
  })

  it('VXLAN from a machine that is not a node is dropped', async () => {
    const before = await droppedVxlan()
    await lab.probe(outside, [[na.address, 4789, 'udp']], 300)
    expect(await droppedVxlan()).toBeGreaterThan(before)
  })
})
