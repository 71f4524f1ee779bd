// Source spoofing for workloads, with real packets: `calicoctl node run` in a lab node whose kernel filters reverse
// paths strictly (net.ipv4.conf.default.rp_filter=1, as some distributions set it), a pod that sends UDP from
// addresses it adds to its own interface, and a pod that records the source of each datagram it receives.
// FelixConfiguration workloadSourceSpoofing and the endpoint's allowSpoofedSourcePrefixes are changed while the agent
// runs. As in Felix: without Any, an endpoint asking to spoof is treated as missing (its interface carries nothing);
// with Any, sources in its prefixes pass both the agent's nftables RPF check and the kernel's rp_filter (set to 0 on
// its interface), and other foreign sources are still dropped. On the embedded store the endpoints are written as the
// CNI plugin writes them; on the Kubernetes datastore they are running Pods, the prefixes their Calico annotation.
import {spawn} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {vethName} from '../../src/datastore/kubernetes/names.js'
import {waitFor} from '../helpers/wait.js'
import {agentSkipReason, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab, type AttachedPod, type LabNode} from '../lab/lab.js'

const why = agentSkipReason()
if (why) console.warn(`skipping agent spoofing tests: ${why}`)

const PORT = 5300
const ALLOWED = '10.99.0.0/24'
const SPOOFED = '10.99.0.5'
const OUTSIDE = '10.98.0.5'
const NOT_ENABLED = /source IP spoofing requested but not enabled in Felix configuration/g

/** argv[1]: UDP port. Prints `<source address> <payload>` for every datagram, `ready` once bound. */
const RECORDER = `
const s = require('node:dgram').createSocket('udp4')
s.on('message', (m, r) => process.stdout.write(r.address + ' ' + m + '\\n'))
s.bind(Number(process.argv[1]), () => process.stdout.write('ready\\n'))
process.stdin.on('end', () => process.exit(0)); process.stdin.resume()
`
/** argv[1..4]: source address (bound), destination, port, payload; sends the payload 3 times, 50 ms apart. */
const SENDER = `
const [src, dst, port, token] = process.argv.slice(1)
const s = require('node:dgram').createSocket('udp4')
s.bind({address: src}, () => {
  let n = 0
  const send = () => s.send(token, Number(port), dst, () => (++n < 3 ? setTimeout(send, 50) : s.close()))
  send()
})
`

describe.skipIf(why !== undefined).each(['embedded', 'kubernetes'] as const)('workload source spoofing through the agent on the %s datastore, with real packets', (datastore) => {
  let lab: Lab
  let node: LabNode
  let spoofer: AttachedPod
  let server: AttachedPod
  let plain: AttachedPod
  let agent: LabAgent
  let received = ''
  let seq = 0

  const rpFilter = async (pod: AttachedPod): Promise<string> => (await lab.inNs(node.netns, ['cat', `/proc/sys/net/ipv4/conf/${pod.iface}/rp_filter`])).trim()
  /** Sends from `src` in `from` to the server; whether it recorded the datagram with that source within `ms`. */
  const delivered = async (from: AttachedPod, src: string, ms: number): Promise<boolean> => {
    const token = `t${++seq}`
    const r = await lab.exec(from.netns, [process.execPath, '-e', SENDER, src, server.ips[0], String(PORT), token])
    if (r.code !== 0) throw new Error(`sender from ${src} failed: ${r.stderr}`)
    return waitFor(() => received.includes(`${src} ${token}\n`), ms, 20)
  }
  /** Delivered, after the agent has caught up with a change (retries for a while). */
  const eventually = (from: AttachedPod, src: string): Promise<boolean> => waitFor(() => delivered(from, src, 300), 15_000, 0)
  /**
   * Not delivered: sent before a datagram that must arrive (over the same node and server), so that by the time that
   * one is recorded the first would have been too.
   */
  const dropped = async (from: AttachedPod, src: string, control: [AttachedPod, string]): Promise<boolean> => {
    const token = `t${++seq}`
    await lab.exec(from.netns, [process.execPath, '-e', SENDER, src, server.ips[0], String(PORT), token])
    expect(await delivered(control[0], control[1], 5000), `control datagram from ${control[1]}`).toBe(true)
    await new Promise((r) => setTimeout(r, 200))
    return !received.includes(` ${token}\n`)
  }
  const writeSpoofer = (prefixes?: string[]): Promise<void> =>
    lab.writeWorkloadEndpoint(spoofer, {namespace: 't', labels: {pod: 'spoofer'}, ...(prefixes ? {allowSpoofedSourcePrefixes: prefixes} : {})})
  const config = (workloadSourceSpoofing?: string): Promise<void> =>
    lab.put('FelixConfiguration', 'default', {routeRefreshInterval: '2s', ...(workloadSourceSpoofing ? {workloadSourceSpoofing} : {})})

  beforeAll(async () => {
    lab = await Lab.start({datastore})
    node = await lab.addNode('sn')
    // Before the pods' veths exist: each new interface takes the default.
    await lab.inNs(node.netns, ['sysctl', '-qw', 'net.ipv4.conf.default.rp_filter=1'])
    // On the interfaces Calico names for pods t/spf, t/srv and t/pln (the Kubernetes datastore's endpoints name them so).
    const attach = (name: string, address: string): AttachedPod => lab.attachPod(node, name, address, {iface: vethName('t', name)})
    spoofer = attach('spf', '10.77.0.20')
    server = attach('srv', '10.77.0.21')
    plain = attach('pln', '10.77.0.22')
    for (const a of [SPOOFED, OUTSIDE]) await lab.inNs(spoofer.netns, ['ip', 'addr', 'add', `${a}/32`, 'dev', 'eth0'])
    const recorder = spawn('ip', ['netns', 'exec', server.netns, process.execPath, '-e', RECORDER, String(PORT)], {stdio: ['pipe', 'pipe', 'inherit']})
    lab.adopt(recorder)
    await new Promise<void>((resolve, reject) => {
      recorder.stdout.on('data', (b: Buffer) => {
        received += b.toString()
        if (received.startsWith('ready\n')) resolve()
      })
      recorder.once('exit', (code) => reject(new Error(`recorder exited (${code})`)))
    })

    await config()
    await lab.writeNamespace('t', {})
    await writeSpoofer([ALLOWED])
    for (const p of [server, plain]) await lab.writeWorkloadEndpoint(p, {namespace: 't', labels: {pod: p.name}})
    agent = startAgent(lab, node)
    await agent.ready()
  }, 60_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  it('not enabled (default Disabled): the endpoint asking to spoof is treated as missing, its interface carries nothing', async () => {
    expect(await eventually(plain, plain.ips[0])).toBe(true)
    expect(agent.log().match(NOT_ENABLED)).toHaveLength(1)
    expect(await dropped(spoofer, SPOOFED, [plain, plain.ips[0]])).toBe(true)
    expect(await dropped(spoofer, spoofer.ips[0], [plain, plain.ips[0]])).toBe(true)
    expect(await rpFilter(spoofer)).toBe('1')
  })

  it('Any: sources in the allowed prefix are delivered as sent, other foreign sources are still dropped', async () => {
    await config('Any')
    expect(await eventually(spoofer, spoofer.ips[0])).toBe(true)
    expect(await eventually(spoofer, SPOOFED)).toBe(true)
    expect(await dropped(spoofer, OUTSIDE, [spoofer, spoofer.ips[0]])).toBe(true)
    // Only the spoofing workload's interface loses the kernel's reverse-path filter.
    expect(await rpFilter(spoofer)).toBe('0')
    expect(await rpFilter(plain)).toBe('1')
    // Another pod may not send from the spoofer's prefix.
    await lab.inNs(plain.netns, ['ip', 'addr', 'add', '10.99.0.6/32', 'dev', 'eth0'])
    expect(await dropped(plain, '10.99.0.6', [plain, plain.ips[0]])).toBe(true)
  })

  it('the prefix removed from the endpoint: dropped again, and the interface gets the default rp_filter back', async () => {
    await writeSpoofer()
    expect(await waitFor(async () => (await rpFilter(spoofer)) === '1', 15_000)).toBe(true)
    expect(await dropped(spoofer, SPOOFED, [spoofer, spoofer.ips[0]])).toBe(true)
    await writeSpoofer([ALLOWED])
    expect(await eventually(spoofer, SPOOFED)).toBe(true)
    expect(await rpFilter(spoofer)).toBe('0')
  })

  it('Disabled again while running: the endpoint is dropped as Felix drops it, and the reason logged', async () => {
    await config('Disabled')
    expect(await waitFor(async () => (await rpFilter(spoofer)) === '1', 15_000)).toBe(true)
    expect(await dropped(spoofer, spoofer.ips[0], [plain, plain.ips[0]])).toBe(true)
    expect(await dropped(spoofer, SPOOFED, [plain, plain.ips[0]])).toBe(true)
    expect(await waitFor(() => (agent.log().match(NOT_ENABLED)?.length ?? 0) === 2, 5000)).toBe(true)
  })

  it('the kernel rp_filter alone drops what nftables lets through: the agent must clear it', async () => {
    await config('Any')
    expect(await eventually(spoofer, SPOOFED)).toBe(true)
    await lab.inNs(node.netns, ['sysctl', '-qw', `net.ipv4.conf.${spoofer.iface}.rp_filter=1`])
    expect(await dropped(spoofer, SPOOFED, [spoofer, spoofer.ips[0]])).toBe(true)
  })
})
