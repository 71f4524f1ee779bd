// Twenty pods attached to one lab node by the real CNI plugin reach each other over TCP and UDP through the
// plumbing the plugin made (veth, /32 routes, proxy ARP for 169.254.1.1), and every pod's address comes from
// the block IPAM gave that node. Then CHECK passes for each, and DEL leaves neither interfaces nor addresses.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {k8sHostVethName} from '../../src/cni/names.js'
import {checkIPAM} from '../../src/ipam/index.js'
import {inCIDR} from '../helpers/cidr.js'
import {Lab, labSkipReason, type LabNode, type LabPod} from '../lab/lab.js'
import {meshFailures} from '../lab/reach.js'

const skip = labSkipReason()
const POOL = '10.70.0.0/16'
const PODS = 20
const PORT = 7000

describe.skipIf(skip !== undefined)('CNI: 20 pods on one node', () => {
  let lab: Lab
  let node: LabNode
  const pods: LabPod[] = []

  beforeAll(async () => {
    lab = await Lab.start({datastore: 'embedded'})
    await lab.addPool('pool-a', POOL, {blockSize: 26})
    node = await lab.addNode('node-a')
    for (let i = 0; i < PODS; i++) {
      pods.push(await lab.addPod(node, {namespace: 'web', name: `pod-${i}`, conf: {args: {cni: {labels: [{key: 'app', value: `a${i % 3}`}]}}}}))
    }
    for (const p of pods) await lab.serve(p, PORT)
  }, 300_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  it('gives every pod a distinct address from the node’s affine block', async () => {
    const ips = pods.map((p) => p.ips[0] ?? '')
    expect(new Set(ips).size).toBe(PODS)
    const blocks = await lab.ipam.hostBlocks('node-a')
    expect(blocks.length).toBeGreaterThan(0)
    for (const ip of ips) expect(blocks.some((b) => inCIDR(ip, b)), `${ip} in ${blocks.join(',')}`).toBe(true)
    // 20 pods fit one /26: a single block.
    expect(blocks).toHaveLength(1)
  })

  it('plumbs each pod as Calico does', async () => {
    const pod = pods[3]!
    const hostVeth = k8sHostVethName('web', pod.name)
    const link = JSON.parse(await lab.inNs(node.netns, ['ip', '-j', 'link', 'show', 'dev', hostVeth])) as {address: string; mtu: number}[]
    expect(link[0]?.address).toBe('ee:ee:ee:ee:ee:ee')
    expect(link[0]?.mtu).toBe(1450)
    expect((await lab.inNs(node.netns, ['cat', `/proc/sys/net/ipv4/conf/${hostVeth}/proxy_arp`])).trim()).toBe('1')
    const hostRoutes = await lab.inNs(node.netns, ['ip', 'route', 'show', `${pod.ips[0]}/32`])
    expect(hostRoutes).toContain(`dev ${hostVeth} scope link`)
    const podRoutes = await lab.inNs(pod.netns, ['ip', 'route', 'show'])
    expect(podRoutes).toContain('default via 169.254.1.1 dev eth0')
    expect(podRoutes).toContain('169.254.1.1 dev eth0 scope link')
    const addrs = await lab.inNs(pod.netns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])
    expect(addrs).toContain(`inet ${pod.ips[0]}/32`)
  })

  it('lets every pod reach every other pod over TCP and UDP', async () => {
    expect(await meshFailures(lab, pods, PORT, {timeoutMs: 3000, addresses: 'first'})).toEqual([])
  }, 180_000)

  it('writes a WorkloadEndpoint per pod that matches its interface', async () => {
    const weps = (await lab.client.list('WorkloadEndpoint', {namespace: 'web'})).items
    expect(weps).toHaveLength(PODS)
    const pod = pods[7]!
    const wep = weps.find((w) => (w.spec as {pod?: string}).pod === pod.name)!
    expect(wep.metadata.name).toBe(`node--a-k8s-${pod.name.replaceAll('-', '--')}-eth0`)
    expect(wep.metadata.labels).toEqual({
      app: 'a1',
      'projectcalico.org/namespace': 'web',
      'projectcalico.org/orchestrator': 'k8s',
      'projectcalico.org/serviceaccount': 'default',
    })
    const mac = JSON.parse(await lab.inNs(pod.netns, ['ip', '-j', 'link', 'show', 'dev', 'eth0'])) as {address: string}[]
    expect(wep.spec).toMatchObject({
      orchestrator: 'k8s',
      node: 'node-a',
      pod: pod.name,
      endpoint: 'eth0',
      containerID: pod.containerID,
      interfaceName: k8sHostVethName('web', pod.name),
      ipNetworks: [`${pod.ips[0]}/32`],
      mac: mac[0]?.address,
      profiles: ['kns.web', 'ksa.web.default'],
    })
  })

  it('passes CHECK with the ADD result as prevResult, and fails it once the interface is gone', async () => {
    const pod = pods[0]!
    const call = {containerID: pod.containerID, netnsPath: pod.netnsPath, args: {K8S_POD_NAMESPACE: pod.namespace, K8S_POD_NAME: pod.name}}
    const ok = await lab.cni(node, 'CHECK', {...call, conf: lab.netConf(node, {prevResult: pod.result})})
    expect(ok.exit, ok.stdout + ok.stderr).toBe(0)
    expect(ok.stdout).toBe('')
    await lab.inNs(pod.netns, ['ip', 'link', 'set', 'eth0', 'down'])
    await lab.inNs(pod.netns, ['ip', 'addr', 'flush', 'dev', 'eth0'])
    const bad = await lab.cni(node, 'CHECK', {...call, conf: lab.netConf(node, {prevResult: pod.result})})
    expect(bad.exit).toBe(1)
    expect(bad.json).toMatchObject({cniVersion: '1.0.0', code: 999, msg: `interface eth0 lacks address ${pod.ips[0]}/32`})
  })

  it('DEL removes interfaces, routes, endpoints and addresses; IPAM check finds nothing leaked', async () => {
    for (const p of [...pods]) {
      const run = await lab.deletePod(p)
      expect(run.exit, run.stdout).toBe(0)
    }
    expect((await lab.inNs(node.netns, ['ip', '-o', 'link', 'show'])).match(/cali/g)).toBeNull()
    // Only the uplink's routes are left.
    const routes = await lab.inNs(node.netns, ['ip', 'route', 'show'])
    expect(routes).toContain('default via 192.168.77.254 dev eth0')
    expect(routes).not.toMatch(/cali|10\.70\./)
    expect((await lab.client.list('WorkloadEndpoint')).items).toHaveLength(0)
    const report = checkIPAM(await lab.ipam.loadCheckInput())
    expect(report.leakedIPs).toEqual([])
    expect(report.handlesWithoutIPs).toEqual([])
    expect(report.allocations.size).toBe(0)
    expect(report.problems).toBe(0)
  }, 180_000)
})
