// VXLAN between nodes, end to end: two lab nodes on one fabric, a pool with vxlanMode Always, a pod on each node made
// by the real CNI plugin, and `calicoctl node run` on both. The pods reach each other through vxlan.calico (pod routes
// via the other node's VTEP), the Nodes carry their VTEP fields, each node blackholes its own blocks (a probe to an
// unallocated address of one arrives through the tunnel and goes no further), a restarted agent keeps the overlay working,
// CrossSubnet routes the other node (same subnet) directly, and vxlanMode Never takes the device and the cross-node
// routes away. On each datastore (the syncer delivers Nodes, IP
// pools and IPAM blocks from each; on Kubernetes the Node is the core Node's view and the blocks are IPAM CRDs);
// VXLAN_LAB_DATASTORE=<one> runs only that one. Every address lives in the lab's namespaces.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {cidrContainsIP, cidrLast, formatIP, parseCIDR, parseIP} from '../../src/api/net.js'
import type {Node} from '../../src/api/types/endpoints.js'
import {waitFor} from '../helpers/wait.js'
import {agentSkipReason, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab, type LabDatastore, type LabNode, type LabPod} from '../lab/lab.js'
import {measure, untilReach, type Probe} from '../lab/reach.js'

const why = agentSkipReason()
const ALL: LabDatastore[] = ['embedded', 'etcd', 'kubernetes']
const datastores = process.env.VXLAN_LAB_DATASTORE ? ALL.filter((d) => d === process.env.VXLAN_LAB_DATASTORE) : ALL
const POOL = '10.81.0.0/16'

interface VxlanInfo {
  id: number
  port: number
  local: string
  learning: boolean
}

describe.skipIf(why !== undefined).each(datastores)('VXLAN between nodes (%s datastore)', (datastore) => {
  let lab: Lab
  let na: LabNode
  let nb: LabNode
  let pa: LabPod
  let pb: LabPod
  const agents = new Map<LabNode, LabAgent>()

  const probes = (): Probe[] => [[pa, pb.ips[0]!, 80, 'tcp'], [pb, pa.ips[0]!, 80, 'tcp']]
  const logs = (): string => [...agents.values()].map((a) => `--- ${a.node.name}\n${a.log()}`).join('\n')
  const nodeSpec = async (n: LabNode): Promise<Node['spec']> => ((await lab.client.get('Node', n.name)) as Node).spec
  const routes = (n: LabNode): Promise<string> => lab.inNs(n.netns, ['ip', '-4', 'route', 'show'])
  const device = async (n: LabNode): Promise<{info: VxlanInfo; mtu: number; address: string} | undefined> => {
    const r = await lab.exec(n.netns, ['ip', '-j', '-d', 'link', 'show', 'dev', 'vxlan.calico'])
    if (r.code !== 0) return undefined
    const [link] = JSON.parse(r.stdout) as {mtu: number; address: string; linkinfo: {info_data: VxlanInfo}}[]
    return {info: link!.linkinfo.info_data, mtu: link!.mtu, address: link!.address}
  }
  const start = async (n: LabNode): Promise<void> => {
    const agent = startAgent(lab, n)
    agents.set(n, agent)
    await agent.ready(60_000)
  }
  const setMode = async (mode: string): Promise<void> => {
    await lab.updatePool('vx', {vxlanMode: mode})
  }

  beforeAll(async () => {
    lab = await Lab.start({datastore})
    na = await lab.addNode('vx-a')
    nb = await lab.addNode('vx-b')
    await lab.addPool('vx', POOL, {vxlanMode: 'Always'})
    await lab.writeNamespace('vx', {})
    // Short, so that the refresh's repair of a route added behind the agent's back is seen soon.
    await lab.put('FelixConfiguration', 'default', {routeRefreshInterval: '1s'})
    // On the Kubernetes datastore the CNI plugin networks Pods that kubelet already has.
    for (const [name, n] of [['pod-a', na], ['pod-b', nb]] as const) {
      lab.apiServer?.seed('', 'pods', {metadata: {name, namespace: 'vx'}, spec: {nodeName: n.name, containers: [{name: 'c', image: 'registry.k8s.io/pause:3.9'}]}}, 'vx')
    }
    pa = await lab.addPod(na, {namespace: 'vx', name: 'pod-a'})
    pb = await lab.addPod(nb, {namespace: 'vx', name: 'pod-b'})
    await lab.serve(pa, 80)
    await lab.serve(pb, 80)
    await Promise.all([start(na), start(nb)])
  }, 240_000)

  afterAll(async () => {
    for (const a of agents.values()) await a.stop()
    await lab?.destroy()
  })

  it('gives each node a VTEP, and the pods on the two nodes reach each other through vxlan.calico', async () => {
    expect(await untilReach(lab, probes(), [true, true], 30_000), logs()).toEqual([])
    for (const n of [na, nb]) {
      const spec = await nodeSpec(n)
      expect(spec?.ipv4VXLANTunnelAddr, n.name).toMatch(/^10\.81\.\d+\.\d+$/)
      expect(spec?.vxlanTunnelMACAddr, n.name).toMatch(/^66(:[0-9a-f]{2}){5}$/)
      const dev = await device(n)
      expect(dev?.info, logs()).toMatchObject({id: 4096, port: 4789, local: n.address, learning: false})
      // The lab's uplinks have MTU 1500.
      expect(dev?.mtu).toBe(1450)
      expect(dev?.address).toBe(spec?.vxlanTunnelMACAddr)
      expect(await lab.inNs(n.netns, ['ip', '-4', 'addr', 'show', 'dev', 'vxlan.calico'])).toContain(`inet ${spec?.ipv4VXLANTunnelAddr}/32`)
    }
    // Node a sends to pod b's block via node b's VTEP, which its neighbour and FDB entries resolve to node b.
    const vtepB = (await nodeSpec(nb))!.ipv4VXLANTunnelAddr!
    const macB = (await nodeSpec(nb))!.vxlanTunnelMACAddr!
    expect(await lab.inNs(na.netns, ['ip', 'route', 'get', pb.ips[0]!])).toContain(`via ${vtepB} dev vxlan.calico`)
    expect(await lab.inNs(na.netns, ['ip', 'neigh', 'show', 'dev', 'vxlan.calico'])).toContain(`${vtepB} lladdr ${macB} PERMANENT`)
    expect(await lab.inNs(na.netns, ['bridge', 'fdb', 'show', 'dev', 'vxlan.calico'])).toContain(`${macB} dst ${nb.address} self permanent`)
  })

  it('blackholes each node\'s own blocks: a probe to an unallocated address arrives through the tunnel and goes no further', async () => {
    const blackholes = async (n: LabNode): Promise<string[]> =>
      (await lab.inNs(n.netns, ['ip', '-4', 'route', 'show', 'type', 'blackhole', 'proto', '80'])).split('\n').flatMap((l) => l.match(/^blackhole (\S+)/)?.slice(1) ?? [])
    const blockOf = async (n: LabNode, pod: LabPod): Promise<string | undefined> =>
      (await blackholes(n)).find((b) => cidrContainsIP(parseCIDR(b)!, parseIP(pod.ips[0]!)!))
    const block = await blockOf(na, pa)
    expect(block, `${await routes(na)}\n${logs()}`).toBeDefined()
    expect(await blockOf(nb, pb)).toBeDefined()
    expect(await blockOf(na, pb)).toBeUndefined()
    // The pod's /32 is more specific than the blackhole.
    expect(await lab.inNs(na.netns, ['ip', 'route', 'get', pa.ips[0]!])).toMatch(/ dev cali/)
    // The block's next-to-last address: nothing has it (the pod and the VTEP come first).
    const free = formatIP({version: 4, value: cidrLast(parseCIDR(block!)!) - 1n})
    await expect(lab.ipam.getAssignmentAttributes(free)).rejects.toThrow()
    // Counters in node a for the probe's packets arriving and leaving (by any interface, the default route's too).
    const table = 'vxlab_probe'
    await lab.inNs(na.netns, ['nft', '-f', '-'], `table ip ${table} {
  chain pre { type filter hook prerouting priority -400; ip daddr ${free} counter; }
  chain post { type filter hook postrouting priority 400; ip daddr ${free} counter; }
}
`)
    try {
      const packets = async (chain: string): Promise<number> => Number((await lab.inNs(na.netns, ['nft', 'list', 'chain', 'ip', table, chain])).match(/counter packets (\d+)/)?.[1])
      expect(await measure(lab, [[pb, free, 80, 'tcp']])).toEqual([false])
      expect(await packets('pre')).toBeGreaterThan(0)
      expect(await packets('post')).toBe(0)
    } finally {
      await lab.inNs(na.netns, ['nft', 'delete', 'table', 'ip', table])
    }
  })

  it('repairs the overlay when it is changed behind the agent\'s back', async () => {
    const vtepB = (await nodeSpec(nb))!.ipv4VXLANTunnelAddr!
    await lab.inNs(na.netns, ['ip', 'route', 'add', '10.81.250.0/26', 'via', vtepB, 'dev', 'vxlan.calico', 'onlink'])
    await lab.inNs(nb.netns, ['ip', 'link', 'del', 'vxlan.calico'])
    expect(await waitFor(async () => !(await routes(na)).includes('10.81.250.0/26'), 10_000, 200), logs()).toBe(true)
    expect(await waitFor(async () => (await device(nb)) !== undefined, 10_000, 200), logs()).toBe(true)
    expect(await untilReach(lab, probes(), [true, true], 30_000), logs()).toEqual([])
  })

  it('keeps working across a restart of a node\'s agent, with the same VTEP', async () => {
    const before = await nodeSpec(na)
    expect(await agents.get(na)!.stop()).toBe(0)
    await start(na)
    expect(await untilReach(lab, probes(), [true, true], 30_000), logs()).toEqual([])
    expect(await nodeSpec(na)).toEqual(before)
  })

  it('CrossSubnet: a node in the same subnet is routed to directly through the uplink, unencapsulated', async () => {
    await setMode('CrossSubnet')
    const direct = async (): Promise<boolean> => (await lab.inNs(na.netns, ['ip', 'route', 'get', pb.ips[0]!])).includes(`via ${nb.address} dev eth0`)
    expect(await waitFor(direct, 20_000, 200), logs()).toBe(true)
    expect(await untilReach(lab, probes(), [true, true], 30_000), logs()).toEqual([])
  })

  it('vxlanMode Never: the cross-node routes, the device and the VTEP fields go', async () => {
    const vtepA = (await nodeSpec(na))!.ipv4VXLANTunnelAddr!
    await setMode('Never')
    const gone = async (): Promise<boolean> => {
      for (const n of [na, nb]) {
        const table = await routes(n)
        if (table.includes('vxlan.calico') || table.includes('proto 80') || (await device(n)) !== undefined) return false
        const spec = await nodeSpec(n)
        if (spec?.ipv4VXLANTunnelAddr !== undefined || spec?.vxlanTunnelMACAddr !== undefined) return false
      }
      return true
    }
    expect(await waitFor(gone, 20_000, 200), logs()).toBe(true)
    // The tunnel address went back to IPAM.
    await expect(lab.ipam.getAssignmentAttributes(vtepA)).rejects.toThrow()
    expect(await untilReach(lab, probes(), [false, false], 10_000)).toEqual([])
  })
})
