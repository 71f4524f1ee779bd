// Dual-stack pods: with `assign_ipv6` the plugin adds a /128 from the IPv6 pool next to the IPv4 /32, routes
// IPv6 through the host veth's link-local address (fe80::ecee:eeff:feee:eeee, from its fixed MAC), and pods
// reach each other over TCP and UDP on both families.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Lab, labSkipReason, type LabNode, type LabPod} from '../lab/lab.js'
import {meshFailures} from '../lab/reach.js'

const skip = labSkipReason()
const PORT = 7100

describe.skipIf(skip !== undefined)('CNI: dual-stack pods', () => {
  let lab: Lab
  let node: LabNode
  const pods: LabPod[] = []

  beforeAll(async () => {
    lab = await Lab.start({datastore: 'embedded'})
    await lab.addPool('v4', '10.75.0.0/24', {blockSize: 26})
    await lab.addPool('v6', 'fd00:75::/64', {blockSize: 122})
    node = await lab.addNode('node-d')
    for (const name of ['a', 'b', 'c']) pods.push(await lab.addPod(node, {namespace: 'ds', name, conf: {ipam: {type: 'calico-ipam', assign_ipv6: 'true'}}}))
    for (const p of pods) await lab.serve(p, PORT)
  }, 120_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  it('assigns one address of each family and routes IPv6 via the host veth’s link-local address', async () => {
    for (const p of pods) {
      expect(p.ips).toHaveLength(2)
      expect(p.ips[0]).toMatch(/^10\.75\.0\.\d+$/)
      expect(p.ips[1]).toMatch(/^fd00:75::/)
    }
    const routes = await lab.inNs(pods[0]!.netns, ['ip', '-6', 'route', 'show', 'default'])
    expect(routes).toContain('default via fe80::ecee:eeff:feee:eeee dev eth0')
    const wep = (await lab.client.list('WorkloadEndpoint', {namespace: 'ds'})).items.find((w) => (w.spec as {pod: string}).pod === 'a')
    expect((wep?.spec as {ipNetworks: string[]}).ipNetworks).toEqual([`${pods[0]!.ips[0]}/32`, `${pods[0]!.ips[1]}/128`])
  })

  it('lets pods reach each other over TCP and UDP on both families', async () => {
    expect(await meshFailures(lab, pods, PORT, {timeoutMs: 4000, addresses: 'all'})).toEqual([])
  }, 60_000)

  it('DEL releases both addresses', async () => {
    for (const p of [...pods]) expect((await lab.deletePod(p)).exit).toBe(0)
    expect((await lab.backend.list({kind: 'IPAMHandle'})).items).toEqual([])
  })
})
