// Host endpoints through the real agent, with real packets: `calicoctl node run` in a lab node whose uplink (eth0)
// becomes a host endpoint, a pod on the node attached by the CNI plugin, and a "remote" machine on the fabric that
// routes the pod network through the node. Covered: a host endpoint by interface name, by expected IP and for all
// interfaces (`*`), policy opening it, DefaultEndpointToHostAction for pod → host traffic, and applyOnForward,
// preDNAT (with a kube-proxy-like DNAT) and doNotTrack policies having their effect. Failsafe ports:
// agent-failsafe.test.ts.
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {agentSkipReason, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab, type LabNode, type LabPod} from '../lab/lab.js'
import {untilReach, type Probe} from '../lab/reach.js'

const why = agentSkipReason()
if (why) console.warn(`skipped: ${why}`)

const POOL = '10.81.0.0/16'
const HEP = {kind: 'HostEndpoint', name: 'hep-node-eth0'}
const POLICY = {kind: 'GlobalNetworkPolicy', name: 'hep-policy'}
/** The NodePort-style port the test's DNAT table forwards to the pod's port 80. */
const NODE_PORT = 30080

describe.skipIf(why !== undefined)('host endpoints enforced by node run (real packets)', () => {
  let lab: Lab
  let node: LabNode
  let remote: LabNode
  let pod: LabPod
  let agent: LabAgent

  const felix = (extra: Record<string, unknown> = {}): Promise<void> => lab.put('FelixConfiguration', 'default', {ipv6Support: false, ...extra})
  const hep = (spec: Record<string, unknown>): Promise<void> => lab.put(HEP.kind, HEP.name, {node: 'hep-node', ...spec}, {labels: {role: 'hep'}})
  const policy = (spec: Record<string, unknown>): Promise<void> => lab.put(POLICY.kind, POLICY.name, {selector: "role == 'hep'", ...spec})
  const check = async (probes: Probe[], want: boolean[], what: string): Promise<void> => {
    const diff = await untilReach(lab, probes, want)
    expect(diff, `${what}:\n${diff.join('\n')}\n--- agent log ---\n${agent.log()}`).toEqual([])
  }
  const fromRemote = (address: () => string, port: number): Probe => [remote, address(), port, 'tcp']
  const toNode = (port: number): Probe => fromRemote(() => node.address, port)
  const toPod = (port: number): Probe => fromRemote(() => pod.ips[0]!, port)

  beforeAll(async () => {
    lab = await Lab.start()
    node = await lab.addNode('hep-node')
    remote = await lab.addNode('remote', {}, {register: false})
    await lab.addPool('hep-pool', POOL)
    await lab.writeNamespace('hep', {})
    await felix()
    pod = await lab.addPod(node, {namespace: 'hep', name: 'pod-a'})
    for (const port of [80, 81]) await lab.serve(pod, port)
    for (const port of [22, 8080, 8081]) await lab.serve(node, port)
    await lab.serve(remote, 8082)
    // The remote reaches the pod network through the node, as a router on the node's subnet would.
    await lab.inNs(remote.netns, ['ip', 'route', 'add', POOL, 'via', node.address])
    // kube-proxy's part for a NodePort: node:30080 → pod:80, in the nat hook after Calico's preDNAT (mangle) policy.
    await lab.inNs(node.netns, ['nft', '-f', '-'], `table ip test-nodeport {\n chain pre {\n  type nat hook prerouting priority -100; policy accept;\n  tcp dport ${NODE_PORT} dnat to ${pod.ips[0]}:80\n }\n}\n`)
    agent = startAgent(lab, node)
    await agent.ready()
  }, 120_000)

  afterEach(async () => {
    await lab.backend.delete(POLICY).catch(() => undefined)
    await lab.backend.delete(HEP).catch(() => undefined)
    await felix()
  })

  afterAll(async () => {
    await agent?.stop()
    await lab?.destroy()
  })

  it('without a host endpoint, the node, the pod and the NodePort are open from the remote', async () => {
    await check([toNode(8080), toPod(80), toNode(NODE_PORT)], [true, true, true], 'no host endpoint')
  })

  it('a host endpoint by interface name closes the node but not forwarded traffic; a policy opens one port', async () => {
    await hep({interfaceName: 'eth0'})
    await check([toNode(8080), toNode(8081), toPod(80)], [false, false, true], 'host endpoint eth0, no policy')
    await policy({ingress: [{action: 'Allow', protocol: 'TCP', destination: {ports: [8080]}}]})
    await check([toNode(8080), toNode(8081), toPod(80)], [true, false, true], 'policy allowing 8080')
    // Outbound from the node: the endpoint has no egress policy, so only failsafe ports would pass.
    await check([[node, remote.address, 8082, 'tcp']], [false], 'node → remote without egress policy')
  })

  it("a host endpoint with Calico's built-in projectcalico-default-allow profile is open; policy still applies first", async () => {
    await hep({interfaceName: 'eth0', profiles: ['projectcalico-default-allow']})
    await check([toNode(8080), toNode(8081), [node, remote.address, 8082, 'tcp']], [true, true, true], 'default-allow profile')
    await policy({types: ['Ingress'], ingress: [{action: 'Deny', protocol: 'TCP', destination: {ports: [8081]}}]})
    await check([toNode(8080), toNode(8081)], [false, false], 'a policy selecting the endpoint ends in its tier: the profile is not reached')
  })

  it('a host endpoint for another interface leaves eth0 alone; one by expected IP finds eth0', async () => {
    await hep({interfaceName: 'eth9'})
    await check([toNode(8080)], [true], 'host endpoint on eth9')
    await hep({expectedIPs: [node.address]})
    await check([toNode(8080)], [false], 'host endpoint by expected IP')
  })

  it("an all-interfaces ('*') host endpoint polices the uplink but never the pods' interfaces", async () => {
    await hep({interfaceName: '*'})
    await check(
      [toNode(8080), toNode(22), toPod(80), [pod, remote.address, 8082, 'tcp']],
      [false, true, true, true],
      "host endpoint '*', no policy",
    )
  })

  for (const [action, open] of [['Drop', false], ['Accept', true], ['Return', true]] as const) {
    it(`DefaultEndpointToHostAction ${action}: pod → host is ${open ? 'accepted' : 'dropped'}, pod → remote unaffected`, async () => {
      await felix({defaultEndpointToHostAction: action})
      await check([[pod, node.address, 8080, 'tcp'], [pod, remote.address, 8082, 'tcp']], [open, true], `DefaultEndpointToHostAction ${action}`)
    })
  }

  it("DefaultEndpointToHostAction Accept comes after the pod's own egress policy", async () => {
    await felix({defaultEndpointToHostAction: 'Accept'})
    const key = {kind: 'NetworkPolicy', name: 'no-host', namespace: 'hep'}
    await lab.put(key.kind, key.name, {selector: 'all()', types: ['Egress'], egress: [{action: 'Deny', destination: {nets: [`${node.address}/32`]}}, {action: 'Allow'}]}, {namespace: key.namespace})
    try {
      await check([[pod, node.address, 8080, 'tcp'], [pod, remote.address, 8082, 'tcp']], [false, true], 'egress policy denying the host')
    } finally {
      await lab.backend.delete(key)
    }
  })

  it('applyOnForward: the same host endpoint policy polices forwarded traffic only with applyOnForward', async () => {
    await hep({interfaceName: 'eth0'})
    const allow81 = {types: ['Ingress'], ingress: [{action: 'Allow', protocol: 'TCP', destination: {ports: [81]}}]}
    await policy(allow81)
    await check([toPod(80), toPod(81)], [true, true], 'policy without applyOnForward')
    await policy({...allow81, applyOnForward: true})
    await check([toPod(80), toPod(81), toNode(8080)], [false, true, false], 'policy with applyOnForward')
  })

  it('applyOnForward between two host endpoints: an allowed connection works both ways (its replies are tracked)', async () => {
    // A second network behind the node (eth1 → a server namespace), routed for the remote through the node.
    const server = await lab.addPodNetns()
    await lab.inNs(node.netns, ['ip', 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', server.netns])
    await lab.inNs(node.netns, ['ip', 'addr', 'add', '192.168.88.1/24', 'dev', 'eth1'])
    await lab.inNs(node.netns, ['ip', 'link', 'set', 'eth1', 'up'])
    for (const argv of [['ip', 'link', 'set', 'lo', 'up'], ['ip', 'addr', 'add', '192.168.88.2/24', 'dev', 'eth0'], ['ip', 'link', 'set', 'eth0', 'up'], ['ip', 'route', 'add', 'default', 'via', '192.168.88.1']]) {
      await lab.inNs(server.netns, argv)
    }
    await lab.inNs(remote.netns, ['ip', 'route', 'add', '192.168.88.0/24', 'via', node.address])
    for (const port of [80, 81]) await lab.serve({netns: server.netns, name: 'server'}, port)
    const toServer = (port: number): Probe => [remote, '192.168.88.2', port, 'tcp']
    await check([toServer(80), toServer(81)], [true, true], 'no host endpoints')
    const eth1 = {kind: 'HostEndpoint', name: 'hep-node-eth1'}
    await lab.put(eth1.kind, eth1.name, {node: 'hep-node', interfaceName: 'eth1'}, {labels: {role: 'hep'}})
    try {
      await hep({interfaceName: 'eth0'})
      const port80 = [{action: 'Allow', protocol: 'TCP', destination: {ports: [80]}}]
      await policy({applyOnForward: true, types: ['Ingress', 'Egress'], ingress: port80, egress: port80})
      await check([toServer(80), toServer(81)], [true, false], 'forward policy allowing port 80 through both endpoints')
    } finally {
      await lab.backend.delete(eth1)
    }
  })

  it('preDNAT: a policy sees the NodePort before DNAT, which a forward policy cannot', async () => {
    await hep({interfaceName: 'eth0'})
    const denyNodePort = {types: ['Ingress'], applyOnForward: true, ingress: [{action: 'Deny', protocol: 'TCP', destination: {ports: [NODE_PORT]}}, {action: 'Allow'}]}
    await policy(denyNodePort)
    // After DNAT the forward chain sees port 80: the NodePort stays reachable.
    await check([toNode(NODE_PORT), toPod(80)], [true, true], 'applyOnForward policy denying the NodePort')
    await policy({...denyNodePort, preDNAT: true, ingress: [{action: 'Deny', protocol: 'TCP', destination: {ports: [NODE_PORT]}}]})
    await check([toNode(NODE_PORT), toPod(80)], [false, true], 'preDNAT policy denying the NodePort')
  })

  it('doNotTrack: an untracked allow admits traffic the endpoint would drop, without conntrack', async () => {
    await hep({interfaceName: 'eth0'})
    await check([toNode(8080)], [false], 'host endpoint without policy')
    // Counts what reaches the host's input hook after Calico's filter chain, by conntrack state.
    await lab.inNs(node.netns, ['nft', '-f', '-'], 'table inet test-observe {\n chain input {\n  type filter hook input priority 10; policy accept;\n  tcp dport 8080 ct state untracked counter\n }\n}\n')
    try {
      await policy({
        doNotTrack: true, applyOnForward: true, types: ['Ingress', 'Egress'],
        ingress: [{action: 'Allow', protocol: 'TCP', destination: {ports: [8080]}}],
        egress: [{action: 'Allow', protocol: 'TCP', source: {ports: [8080]}}],
      })
      await check([toNode(8080), toNode(8081)], [true, false], 'untracked allow of 8080')
      const listing = await lab.inNs(node.netns, ['nft', 'list', 'table', 'inet', 'test-observe'])
      const untracked = Number(/ct state untracked counter packets (\d+)/.exec(listing)?.[1] ?? 0)
      expect(untracked, listing).toBeGreaterThan(0)
    } finally {
      await lab.inNs(node.netns, ['nft', 'delete', 'table', 'inet', 'test-observe'])
    }
  })
})
