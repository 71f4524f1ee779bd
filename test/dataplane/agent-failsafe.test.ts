// Failsafe ports through the real agent: `calicoctl node run` in a lab node whose uplink (eth0) is a host endpoint,
// a "remote" machine and an "outsider" on the same fabric, and real TCP/UDP packets between them. Whatever host
// endpoint policy says (none, a deny-all, an untracked deny-all, a preDNAT deny-all), the FelixConfiguration
// failsafe ports stay open in both directions (Calico's defaults: in TCP 22, UDP 68, ...; out UDP 53, TCP 2379, ...),
// and a changed FailsafeInboundHostPorts/FailsafeOutboundHostPorts (with a source net) replaces them. The node runs
// with Felix's defaults (no FelixConfiguration until the last cases), so IPv4 and IPv6 are both policed; the fabric
// carries both.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {agentSkipReason, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab, type LabNode} from '../lab/lab.js'
import {untilReach, type Probe} from '../lab/reach.js'

const why = agentSkipReason()
if (why) console.warn(`skipped: ${why}`)

const HEP_KEY = {kind: 'HostEndpoint', name: 'hep-node-eth0'}
const DENY_ALL = {kind: 'GlobalNetworkPolicy', name: 'hep-deny-all'}

describe.skipIf(why !== undefined)('failsafe ports on a host endpoint, enforced by node run (real packets)', () => {
  let lab: Lab
  let node: LabNode
  let remote: LabNode
  let outsider: LabNode
  let agent: LabAgent

  const denyAll = (extra: Record<string, unknown> = {}): Promise<void> =>
    lab.put(DENY_ALL.kind, DENY_ALL.name, {selector: "role == 'hep'", types: ['Ingress', 'Egress'], ingress: [{action: 'Deny'}], egress: [{action: 'Deny'}], ...extra})
  /** remote → node inbound probes and node → remote outbound probes. */
  const inbound = (ports: [number, 'tcp' | 'udp'][]): Probe[] => ports.map(([p, proto]) => [remote, node.address, p, proto])
  const outbound = (ports: [number, 'tcp' | 'udp'][]): Probe[] => ports.map(([p, proto]) => [node, remote.address, p, proto])
  /** The same over IPv6. */
  const inbound6 = (ports: [number, 'tcp' | 'udp'][]): Probe[] => ports.map(([p, proto]) => [remote, node.address6!, p, proto])
  const outbound6 = (ports: [number, 'tcp' | 'udp'][]): Probe[] => ports.map(([p, proto]) => [node, remote.address6!, p, proto])
  const check = async (probes: Probe[], want: boolean[], what: string): Promise<void> => {
    const diff = await untilReach(lab, probes, want)
    expect(diff, `${what}:\n${diff.join('\n')}\n--- agent log ---\n${agent.log()}`).toEqual([])
  }

  beforeAll(async () => {
    lab = await Lab.start()
    node = await lab.addNode('hep-node', {}, {ipv6: true})
    remote = await lab.addNode('remote', {}, {register: false, ipv6: true})
    outsider = await lab.addNode('outsider', {}, {register: false, ipv6: true})
    // Host services in the node namespace (its own sockets: the machine's sshd is not involved), and on the remote.
    for (const port of [22, 68, 8022, 8080]) await lab.serve(node, port)
    for (const port of [53, 2379, 8081]) await lab.serve(remote, port)
    agent = startAgent(lab, node)
    await agent.ready()
  }, 120_000)

  afterAll(async () => {
    await agent?.stop()
    await lab?.destroy()
  })

  it('without a host endpoint the node is open both ways', async () => {
    await check(
      [...inbound([[22, 'tcp'], [8080, 'tcp']]), ...outbound([[2379, 'tcp'], [8081, 'tcp']]), ...inbound6([[8080, 'tcp']]), ...outbound6([[8081, 'tcp']])],
      [true, true, true, true, true, true],
      'no host endpoint',
    )
  })

  it('a host endpoint with no policy: only the default failsafe ports pass, in and out', async () => {
    await lab.put(HEP_KEY.kind, HEP_KEY.name, {node: 'hep-node', interfaceName: 'eth0', expectedIPs: [node.address]}, {labels: {role: 'hep'}})
    await check(
      [...inbound([[22, 'tcp'], [68, 'udp'], [8080, 'tcp']]), ...outbound([[53, 'udp'], [2379, 'tcp'], [8081, 'tcp']])],
      [true, true, false, true, true, false],
      'host endpoint without policy',
    )
  })

  it('a deny-all policy on the host endpoint still accepts SSH (failsafe) and blocks other ports, over IPv4 and IPv6', async () => {
    await denyAll()
    await check(
      [
        ...inbound([[22, 'tcp'], [68, 'udp'], [8080, 'tcp']]),
        ...outbound([[53, 'udp'], [2379, 'tcp'], [8081, 'tcp']]),
        ...inbound6([[22, 'tcp'], [8080, 'tcp']]),
        ...outbound6([[2379, 'tcp'], [8081, 'tcp']]),
      ],
      [true, true, false, true, true, false, true, false, true, false],
      'deny-all policy',
    )
    expect(await agent.table()).toContain('hep-deny-all')
  })

  it('an untracked (doNotTrack) deny-all cannot cut the failsafe ports either', async () => {
    await denyAll({doNotTrack: true, applyOnForward: true})
    await check(
      [...inbound([[22, 'tcp'], [8080, 'tcp']]), ...outbound([[53, 'udp'], [2379, 'tcp'], [8081, 'tcp']])],
      [true, false, true, true, false],
      'doNotTrack deny-all policy',
    )
  })

  it('a preDNAT deny-all cannot cut the inbound failsafe ports', async () => {
    await denyAll({preDNAT: true, applyOnForward: true, types: ['Ingress'], egress: undefined})
    await check([...inbound([[22, 'tcp'], [68, 'udp'], [8080, 'tcp']])], [true, true, false], 'preDNAT deny-all policy')
  })

  it('changed FailsafeInboundHostPorts/FailsafeOutboundHostPorts replace the defaults, with a source net', async () => {
    await denyAll()
    await lab.put('FelixConfiguration', 'default', {
      failsafeInboundHostPorts: [{protocol: 'TCP', port: 8022, net: `${remote.address}/32`}],
      failsafeOutboundHostPorts: [{protocol: 'TCP', port: 8081}],
    })
    await check(
      [
        ...inbound([[22, 'tcp'], [8022, 'tcp'], [8080, 'tcp']]),
        [outsider, node.address, 8022, 'tcp'],
        ...outbound([[2379, 'tcp'], [53, 'udp'], [8081, 'tcp']]),
        // The source net is IPv4: the rule has no IPv6 counterpart. The outbound port has no net: both families.
        ...inbound6([[8022, 'tcp']]),
        ...outbound6([[8081, 'tcp']]),
      ],
      [false, true, false, false, false, false, true, false, true],
      'custom failsafe ports',
    )
  })

  it('removing the host endpoint opens the node again', async () => {
    await lab.backend.delete(HEP_KEY)
    await check([...inbound([[22, 'tcp'], [8080, 'tcp']]), ...outbound([[2379, 'tcp'], [8081, 'tcp']])], [true, true, true, true], 'host endpoint removed')
    await lab.backend.delete(DENY_ALL)
    expect(await agent.stop()).toBe(0)
  })
})
