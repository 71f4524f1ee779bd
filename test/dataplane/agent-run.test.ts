// `calicoctl node run` end to end: the agent process in a lab node (test/lab) against the lab's embedded store,
// pods attached with the CNI's plumbing only, and real TCP connections deciding whether policy is enforced.
// Resources, the pods' WorkloadEndpoints included, are written straight into the store (as another writer would)
// while the agent runs.
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {namespaceProfile} from '../../src/dataplane/calc/index.js'
import {waitFor} from '../helpers/wait.js'
import {agentSkipReason, CALICOCTL, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab, type AttachedPod, type LabNode} from '../lab/lab.js'
import {reaches} from '../lab/reach.js'

const why = agentSkipReason()
if (why) console.warn(`skipping agent dataplane tests: ${why}`)

const HEALTH_PORT = 19099
const METRICS_PORT = 19091
const POD_IPS: Record<string, string> = {a: '10.77.0.10', b: '10.77.0.11', c: '10.77.0.12'}

describe.skipIf(why !== undefined)('calicoctl node run in a node network namespace', () => {
  let lab: Lab
  let node: LabNode
  const pods = new Map<string, AttachedPod>()
  let agent: LabAgent
  let foreignBefore = ''
  const fakeBin = (): string => join(lab.dir, 'bin')
  const nftGate = (): string => join(lab.dir, 'nft-allowed')

  const nft = (...args: string[]): Promise<string> => lab.inNs(node.netns, ['nft', ...args])
  const table = (): Promise<string> => nft('-s', 'list', 'table', 'inet', 'calico')
  /** The table's content regardless of declaration order (nft lists chains in creation order). */
  const content = async (): Promise<string> => (await table()).split('\n').map((l) => l.trim()).filter((l) => l !== '').sort().join('\n')
  const health = async (path: string): Promise<number> => (await lab.httpGet(node, HEALTH_PORT, path)).status
  /** The agent's stderr arrives asynchronously: wait for a line rather than reading the log at one instant. */
  const logged = (re: RegExp): Promise<boolean> => waitFor(() => re.test(agent.log()), 5000, 50)
  const reach = (from: string, to: string, port: number): Promise<boolean> => reaches(lab, pods.get(from)!, pods.get(to)!, port)
  const eventually = async (from: string, to: string, port: number, want: boolean): Promise<boolean> =>
    waitFor(async () => (await reach(from, to, port)) === want, 8000, 50)
  /** Pids of the `nft monitor` processes in the node namespace. */
  const nftMonitorPids = (): string[] => {
    const pids = spawnSync('ip', ['netns', 'pids', node.netns], {encoding: 'utf8'}).stdout.split('\n').filter((p) => p !== '')
    const argv = (pid: string): string[] => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      } catch {
        return [] // exited meanwhile
      }
    }
    return pids.filter((pid) => {
      const [cmd, ...args] = argv(pid)
      return cmd?.split('/').pop() === 'nft' && args.includes('monitor')
    })
  }

  beforeAll(async () => {
    lab = await Lab.start()
    // Forwarding off and no Node resource: turning on the one and registering the other are the agent's job.
    node = await lab.addNode('kn', {}, {forwarding: false, nodeResource: false})
    for (const [p, addr] of Object.entries(POD_IPS)) {
      const pod = lab.attachPod(node, p, addr)
      pods.set(p, pod)
      await lab.serve(pod, [80, 81])
    }
    // A table that belongs to someone else: the agent must leave it exactly as it is.
    await lab.inNs(node.netns, ['nft', '-f', '-'], 'table inet foreign {\n chain input {\n  type filter hook input priority 10; policy accept;\n  tcp dport 9 counter accept\n }\n}\n')
    foreignBefore = await nft('-s', 'list', 'table', 'inet', 'foreign')
    // nft that fails until the gate file exists: proves readiness waits for the first program to reach the kernel.
    const realNft = execFileSync('sh', ['-c', 'command -v nft'], {encoding: 'utf8'}).trim()
    mkdirSync(fakeBin())
    writeFileSync(join(fakeBin(), 'nft'), `#!/bin/sh\n[ -e '${nftGate()}' ] || { echo 'gate closed' >&2; exit 1; }\nexec ${realNft} "$@"\n`)
    chmodSync(join(fakeBin(), 'nft'), 0o755)

    await lab.put('FelixConfiguration', 'default', {healthHost: '127.0.0.1', healthPort: HEALTH_PORT, prometheusMetricsPort: METRICS_PORT, prometheusMetricsHost: '127.0.0.1', nftablesRefreshInterval: '2s', routeRefreshInterval: '2s'})
    const prof = namespaceProfile('t', {})
    await lab.backend.apply({kind: 'Profile', name: prof.metadata.name!}, prof)
    for (const pod of pods.values()) await lab.writeWorkloadEndpoint(pod, {namespace: 't', k8sPod: `pod-${pod.name}`, labels: {pod: pod.name}})
  })

  afterAll(async () => {
    await lab?.destroy()
  })

  it('is live but not ready until the first full program is in the kernel', async () => {
    const env = {...process.env, PATH: `${fakeBin()}:${process.env.PATH ?? ''}`}
    agent = startAgent(lab, node, {args: ['--ip', 'autodetect', '--ip-autodetection-method', 'interface=eth0'], env})
    expect(await waitFor(async () => (await health('/liveness')) === 200, 15_000)).toBe(true)
    // The agent is in sync and retrying its failed transactions by now.
    expect(await waitFor(() => /nft transaction failed/.test(agent.log()), 10_000)).toBe(true)
    expect(await health('/readiness')).toBe(503)
    expect(await nft('list', 'tables')).not.toMatch(/inet calico/)
    writeFileSync(nftGate(), '')
    expect(await waitFor(async () => (await health('/readiness')) === 200, 15_000)).toBe(true)
    expect(await logged(/Calico node started successfully/)).toBe(true)
  })

  it('node status sees the running agent', () => {
    const r = spawnSync(process.execPath, [CALICOCTL, 'node', 'status'], {encoding: 'utf8'})
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^Calico process is running\.\n/)
  })

  it('registers its Node with the autodetected address', async () => {
    const registered = (await lab.backend.get<{spec: {bgp: {ipv4Address: string}}}>({kind: 'Node', name: 'kn'})).value
    expect(registered.spec.bgp.ipv4Address).toBe(`${node.address}/24`)
  })

  it('programs /32 routes to local workloads and the interface settings they need', async () => {
    const routes = await lab.inNs(node.netns, ['ip', '-4', 'route', 'show', 'proto', 'boot'])
    for (const pod of pods.values()) expect(routes).toContain(`${pod.ips[0]} dev ${pod.iface} scope link`)
    const a = pods.get('a')!
    expect((await lab.inNs(node.netns, ['cat', `/proc/sys/net/ipv4/conf/${a.iface}/proxy_arp`])).trim()).toBe('1')
    expect(await reach('a', 'b', 80)).toBe(true)
    expect(await reach('c', 'a', 81)).toBe(true)
  })

  it('a policy applied, changed and removed while running changes reachability', async () => {
    const allowFrom = (sel: string): object => ({
      selector: "pod == 'b'", types: ['Ingress'],
      ingress: [{action: 'Allow', protocol: 'TCP', source: {selector: sel}, destination: {ports: [80]}}],
    })
    await lab.put('NetworkPolicy', 'b-in', allowFrom("pod == 'a'"), {namespace: 't'})
    expect(await eventually('c', 'b', 80, false)).toBe(true)
    expect(await reach('a', 'b', 80)).toBe(true)
    expect(await reach('a', 'b', 81)).toBe(false)
    expect(await reach('b', 'a', 80)).toBe(true)

    await lab.put('NetworkPolicy', 'b-in', allowFrom("pod in {'a', 'c'}"), {namespace: 't'})
    expect(await eventually('c', 'b', 80, true)).toBe(true)
    expect(await reach('c', 'b', 81)).toBe(false)

    await lab.backend.delete({kind: 'NetworkPolicy', name: 'b-in', namespace: 't'})
    expect(await eventually('c', 'b', 81, true)).toBe(true)
    // Changes after the start-up program go in as deltas, not table replacements.
    expect(await logged(/applied delta/)).toBe(true)
  })

  it('logs and skips a resource that fails validation, and keeps enforcing the rest', async () => {
    await lab.put('NetworkPolicy', 'broken', {selector: 'has(', ingress: [{action: 'Deny'}]}, {namespace: 't'})
    await lab.put('NetworkPolicy', 'deny-a', {selector: "pod == 'a'", types: ['Ingress'], ingress: [{action: 'Deny'}]}, {namespace: 't'})
    expect(await eventually('b', 'a', 80, false)).toBe(true)
    expect(await logged(/Validation failed for NetworkPolicy\(t\/broken\)/)).toBe(true)
    expect(await health('/readiness')).toBe(200)
  })

  it('only its own table: the foreign table is untouched, nothing else is added', async () => {
    expect(await nft('-s', 'list', 'table', 'inet', 'foreign')).toBe(foreignBefore)
    expect((await nft('list', 'tables')).trim().split('\n').sort()).toEqual(['table inet calico', 'table inet foreign'])
  })

  it('repairs a table someone flushed', async () => {
    const good = await content()
    // Someone flushes our workload dispatch: the deny on a would be lost without repair.
    await nft('flush', 'table', 'inet', 'calico')
    expect(await waitFor(async () => (await content()) === good, 10_000, 200)).toBe(true)
    expect(await reach('b', 'a', 80)).toBe(false)
    expect(await logged(/changed outside the agent.*; reprogramming/)).toBe(true)
  })

  it('repairs what another process changes as nft monitor reports it (table deleted, chain flushed, set element removed; repeats at most every 5 s)', async () => {
    // a may reach c only through the IP set of c-in's source selector.
    await lab.put('NetworkPolicy', 'c-in', {selector: "pod == 'c'", types: ['Ingress'], ingress: [{action: 'Allow', protocol: 'TCP', source: {selector: "pod == 'a'"}}]}, {namespace: 't'})
    expect(await eventually('b', 'c', 80, false)).toBe(true)
    expect(await reach('a', 'c', 80)).toBe(true)
    // The monitor counts once it has seen a whole table of ours go in (after the gated start, a later full apply).
    expect(await waitFor(() => /nft monitor follows table calico/.test(agent.log()), 40_000, 200)).toBe(true)
    const repairs = (): number => agent.log().match(/changed outside the agent \(nft monitor: generation \d+ by process \d+ \(nft\)\); reprogramming/g)?.length ?? 0
    const sets = await nft('-s', 'list', 'sets', 'inet')
    const withA = [...sets.matchAll(/set (\S+) \{[^}]*elements = \{([^}]*)\}/g)].find((m) => m[2]!.includes(POD_IPS.a!))
    expect(withA).toBeDefined()
    const good = await content()
    const changes: [string, string[]][] = [
      ['table deleted', ['delete', 'table', 'inet', 'calico']],
      ['chain flushed', ['flush', 'chain', 'inet', 'calico', 'filter-cali-FORWARD']],
      ['set element removed', ['delete', 'element', 'inet', 'calico', withA![1]!, `{ ${POD_IPS.a} }`]],
    ]
    for (const [what, args] of changes) {
      const before = repairs()
      await nft(...args)
      // Listing the table fails while it is deleted.
      expect(await waitFor(async () => repairs() > before && (await content().catch(() => '')) === good, 10_000, 50), what).toBe(true)
      expect(await reach('a', 'c', 80), what).toBe(true)
      expect(await reach('b', 'a', 80), what).toBe(false)
    }
    await lab.backend.delete({kind: 'NetworkPolicy', name: 'c-in', namespace: 't'})
    expect(await eventually('b', 'c', 80, true)).toBe(true)
  }, 90_000)

  it('a killed nft monitor is restarted, and the table replaced for it to see', async () => {
    const follows = (): number => agent.log().match(/nft monitor follows table calico/g)?.length ?? 0
    const before = follows()
    expect(before).toBeGreaterThan(0)
    const [pid] = nftMonitorPids()
    process.kill(Number(pid), 'SIGKILL')
    expect(await logged(/nft monitor exited \(SIGKILL\); restarting it and reprogramming table calico/)).toBe(true)
    expect(await waitFor(() => follows() > before && nftMonitorPids().length === 1, 15_000, 100)).toBe(true)
    // And it reports again: a flush by another process is repaired as it happens.
    const good = await content()
    const repairs = agent.log().match(/changed outside the agent \(nft monitor/g)?.length ?? 0
    await nft('flush', 'chain', 'inet', 'calico', 'filter-cali-FORWARD')
    expect(await waitFor(async () => (agent.log().match(/changed outside the agent \(nft monitor/g)?.length ?? 0) > repairs && (await content()) === good, 10_000, 50)).toBe(true)
  }, 40_000)

  it('a route the CNI added for a pod the agent does not know yet survives a grace period, then goes', async () => {
    const d = lab.attachPod(node, 'd', '10.77.0.13')
    await lab.inNs(node.netns, ['ip', 'route', 'add', `${d.ips[0]}/32`, 'dev', d.iface, 'scope', 'link', 'proto', 'boot'])
    const hasRoute = async (): Promise<boolean> => (await lab.inNs(node.netns, ['ip', '-4', 'route', 'show'])).includes(`${d.ips[0]} dev ${d.iface}`)
    await new Promise((r) => setTimeout(r, 3000))
    expect(await hasRoute()).toBe(true)
    expect(await waitFor(async () => !(await hasRoute()), 15_000, 250)).toBe(true)
  }, 30_000)

  it('serves Felix-named metrics', async () => {
    const {status, body} = await lab.httpGet(node, METRICS_PORT, '/metrics')
    expect(status).toBe(200)
    expect(body).toMatch(/^felix_active_local_endpoints 3$/m)
    expect(body).toMatch(/^felix_active_local_policies 1$/m)
    expect(body).toMatch(/^felix_int_dataplane_apply_time_seconds_count [1-9]\d*$/m)
    expect(body).toMatch(/^felix_resyncs_started 1$/m)
    expect(body).toMatch(/^felix_int_dataplane_failures [1-9]\d*$/m)
    expect(body).toMatch(/^felix_nft_drift_repairs [1-9]\d*$/m)
  })

  it('SIGTERM stops cleanly and leaves the rules in place', async () => {
    const before = await table()
    expect(await agent.stop()).toBe(0)
    expect(await table()).toBe(before)
    expect(await reach('b', 'a', 80)).toBe(false)
    expect(await reach('b', 'c', 80)).toBe(true)
  })

  it('SIGKILL and restart never open a denied path', async () => {
    agent = startAgent(lab, node)
    expect(await waitFor(async () => (await health('/readiness')) === 200, 15_000)).toBe(true)
    // Its nft monitor child runs in the node namespace and dies with it (parent-death signal) rather than stay behind.
    expect(nftMonitorPids()).toHaveLength(1)
    await agent.kill()
    expect(await waitFor(() => nftMonitorPids().length === 0, 5000, 100)).toBe(true)
    // Probe b→a continuously across the restart; a single accepted connection would be a hole.
    let opened = 0
    let probing = true
    const loop = (async () => {
      while (probing) {
        if (await reach('b', 'a', 80)) opened++
      }
    })()
    agent = startAgent(lab, node)
    expect(await waitFor(async () => (await health('/readiness')) === 200, 15_000)).toBe(true)
    probing = false
    await loop
    expect(opened).toBe(0)
    expect(await logged(/applied full table/)).toBe(true)
    expect(await agent.stop()).toBe(0)
  })
})
