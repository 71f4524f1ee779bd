// 100 CNI ADDs, each its own plugin process, up to 25 running at a time (a 2-core CI machine cannot start 100
// Node processes at once within kubelet-like deadlines), split over two nodes sharing one etcd: IPAM's
// compare-and-swap must never hand an address out twice, every WorkloadEndpoint must describe the interface
// that was really made, and 100 concurrent DELs must leave IPAM with nothing allocated and nothing leaked.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Resource} from '../../src/api/resource.js'
import {k8sHostVethName} from '../../src/cni/names.js'
import {checkIPAM} from '../../src/ipam/index.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {inParallel, Lab, labSkipReason, type LabNode, type LabPod} from '../lab/lab.js'

const skip = labSkipReason() ?? etcdSkipReason()
const TOTAL = 100
const IN_FLIGHT = 25

interface LinkJSON {
  ifname: string
  address: string
}

describe.skipIf(skip !== undefined)('CNI: 100 concurrent ADDs and DELs from separate processes on two nodes (etcd)', () => {
  let lab: Lab
  let nodes: LabNode[]
  const pods: LabPod[] = []

  beforeAll(async () => {
    lab = await Lab.start({datastore: 'etcd'})
    // /28 blocks: 50 pods per node need several blocks each, so block claims race as well as allocations.
    await lab.addPool('pool-c', '10.80.0.0/20', {blockSize: 28})
    nodes = [await lab.addNode('node-a'), await lab.addNode('node-b')]
  }, 120_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  it('assigns 100 distinct addresses, 25 ADDs at a time', async () => {
    const settled = await inParallel(Array.from({length: TOTAL}, (_, i) => i), IN_FLIGHT, (i) =>
      lab.addPod(nodes[i % 2]!, {namespace: `ns${i % 4}`, name: `burst-${i}`}),
    )
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => String(s.reason))
    for (const s of settled) if (s.status === 'fulfilled') pods.push(s.value)
    expect(failed).toEqual([])
    const ips = pods.map((p) => p.ips[0])
    expect(new Set(ips).size).toBe(TOTAL)
  }, 600_000)

  it('gives each node addresses from its own blocks only', async () => {
    for (const node of nodes) {
      const blocks = await lab.ipam.hostBlocks(node.name)
      const attrs = await Promise.all(pods.filter((p) => p.node === node).map((p) => lab.ipam.getAssignmentAttributes(p.ips[0]!)))
      for (const a of attrs) expect(a.attrs.node).toBe(node.name)
      expect(blocks.length).toBeGreaterThanOrEqual(4) // 50 addresses in /28 blocks
    }
  })

  it('has a WorkloadEndpoint matching every interface', async () => {
    const weps = new Map<string, Resource>()
    for (const w of (await lab.client.list('WorkloadEndpoint')).items) weps.set(`${w.metadata.namespace}/${(w.spec as {pod: string}).pod}`, w)
    expect(weps.size).toBe(TOTAL)
    const hostLinks = new Map<string, Set<string>>()
    for (const node of nodes) {
      const links = JSON.parse(await lab.inNs(node.netns, ['ip', '-j', 'link', 'show'])) as LinkJSON[]
      hostLinks.set(node.name, new Set(links.map((l) => l.ifname)))
    }
    const mismatches: string[] = []
    await Promise.all(
      pods.map(async (pod) => {
        const wep = weps.get(`${pod.namespace}/${pod.name}`)
        const spec = (wep?.spec ?? {}) as {interfaceName?: string; ipNetworks?: string[]; mac?: string; node?: string; containerID?: string}
        const [eth0] = JSON.parse(await lab.inNs(pod.netns, ['ip', '-j', 'link', 'show', 'dev', 'eth0'])) as LinkJSON[]
        const addr = await lab.inNs(pod.netns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])
        const veth = k8sHostVethName(pod.namespace, pod.name)
        const problems = [
          spec.node !== pod.node.name && `node ${spec.node}`,
          spec.containerID !== pod.containerID && 'containerID',
          spec.interfaceName !== veth && `interfaceName ${spec.interfaceName}`,
          !hostLinks.get(pod.node.name)?.has(veth) && `no ${veth} on ${pod.node.name}`,
          JSON.stringify(spec.ipNetworks) !== JSON.stringify([`${pod.ips[0]}/32`]) && `ipNetworks ${JSON.stringify(spec.ipNetworks)}`,
          !addr.includes(`inet ${pod.ips[0]}/32`) && 'eth0 address',
          spec.mac !== eth0?.address && `mac ${spec.mac} vs ${eth0?.address}`,
        ].filter(Boolean)
        if (problems.length > 0) mismatches.push(`${pod.namespace}/${pod.name}: ${problems.join(', ')}`)
      }),
    )
    expect(mismatches).toEqual([])
  }, 120_000)

  it('releases everything with 100 DELs, 25 at a time', async () => {
    const runs = await inParallel(pods, IN_FLIGHT, (p) => lab.deletePod(p))
    expect(runs.map((r) => (r.status === 'rejected' ? String(r.reason) : r.value.exit === 0 ? '' : r.value.stdout)).filter(Boolean)).toEqual([])
    expect((await lab.client.list('WorkloadEndpoint')).items).toHaveLength(0)
    for (const node of nodes) expect(await lab.inNs(node.netns, ['ip', '-o', 'link', 'show'])).not.toContain('cali')
    const report = checkIPAM(await lab.ipam.loadCheckInput())
    expect(report.allocations.size).toBe(0)
    expect(report.leakedIPs).toEqual([])
    expect(report.handlesWithoutIPs).toEqual([])
    expect(report.problems).toBe(0)
    expect(await lab.backend.list({kind: 'IPAMHandle'})).toMatchObject({items: []})
  }, 600_000)
})
