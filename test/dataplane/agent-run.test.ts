// `calicoctl node run` end to end: the agent process in a node network namespace against an embedded store, pods as
// namespaces on cali veths, and real TCP connections deciding whether policy is enforced. Resources are written
// straight into the store (as another writer would) while the agent runs.
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {namespaceProfile} from '../../src/dataplane/calc/index.js'
import {EmbeddedBackend} from '../../src/datastore/embedded/backend.js'
import {inNs, ip} from '../helpers/netns.js'
import {waitFor} from '../helpers/wait.js'
import {CALICOCTL, Lab, labUnavailable, type AgentProcess} from './agent-lab.js'

const why = labUnavailable()
if (why && process.env.CI) throw new Error(`agent dataplane tests cannot run in CI: ${why}`)
if (why) console.warn(`skipping agent dataplane tests: ${why}`)

const V3 = 'projectcalico.org/v3'
const HEALTH_PORT = 19099
const METRICS_PORT = 19091
const POD_IPS: Record<string, string> = {a: '10.77.0.10', b: '10.77.0.11', c: '10.77.0.12'}

describe.skipIf(why !== undefined)('calicoctl node run in a node network namespace', () => {
  let lab: Lab
  let store: EmbeddedBackend
  let agent: AgentProcess
  let foreignBefore = ''
  const fakeBin = (): string => join(lab.dir, 'bin')
  const nftGate = (): string => join(lab.dir, 'nft-allowed')

  const put = async (kind: string, name: string, spec: object, namespace?: string, labels?: Record<string, string>): Promise<void> => {
    const metadata: Record<string, unknown> = {name}
    if (namespace) metadata.namespace = namespace
    if (labels) metadata.labels = labels
    await store.apply({kind, name, namespace}, {apiVersion: V3, kind, metadata, spec})
  }
  const table = (): string => inNs(lab.nodeNs, 'nft', ['-s', 'list', 'table', 'inet', 'calico'])
  /** The table's content regardless of declaration order (nft lists chains in creation order). */
  const content = (): string => table().split('\n').map((l) => l.trim()).filter((l) => l !== '').sort().join('\n')
  /** The agent's stderr arrives asynchronously: wait for a line rather than reading the log at one instant. */
  const logged = (re: RegExp): Promise<boolean> => waitFor(() => re.test(agent.log), 5000, 50)
  const reach = (from: string, to: string, port: number): boolean => lab.probe(from, [[to, port]])[0]!
  const eventually = async (from: string, to: string, port: number, want: boolean): Promise<boolean> =>
    waitFor(() => reach(from, to, port) === want, 8000, 50)

  beforeAll(async () => {
    lab = new Lab()
    lab.createNode()
    for (const [p, addr] of Object.entries(POD_IPS)) await lab.addPod(p, addr, [80, 81])
    // A table that belongs to someone else: the agent must leave it exactly as it is.
    inNs(lab.nodeNs, 'nft', ['-f', '-'], 'table inet foreign {\n chain input {\n  type filter hook input priority 10; policy accept;\n  tcp dport 9 counter accept\n }\n}\n')
    foreignBefore = inNs(lab.nodeNs, 'nft', ['-s', 'list', 'table', 'inet', 'foreign'])
    // nft that fails until the gate file exists: proves readiness waits for the first program to reach the kernel.
    const realNft = execFileSync('sh', ['-c', 'command -v nft'], {encoding: 'utf8'}).trim()
    mkdirSync(fakeBin())
    writeFileSync(join(fakeBin(), 'nft'), `#!/bin/sh\n[ -e '${nftGate()}' ] || { echo 'gate closed' >&2; exit 1; }\nexec ${realNft} "$@"\n`)
    chmodSync(join(fakeBin(), 'nft'), 0o755)

    store = EmbeddedBackend.open({dir: lab.storeDir}).backend
    await put('FelixConfiguration', 'default', {healthHost: '127.0.0.1', healthPort: HEALTH_PORT, prometheusMetricsPort: METRICS_PORT, prometheusMetricsHost: '127.0.0.1', nftablesRefreshInterval: '2s', routeRefreshInterval: '2s'})
    const prof = namespaceProfile('t', {})
    await store.apply({kind: 'Profile', name: prof.metadata.name!}, prof)
    for (const p of Object.keys(POD_IPS)) {
      const wep = lab.workloadEndpoint(p, {node: 'kn', namespace: 't', k8sPod: `pod-${p}`, labels: {pod: p}})
      await store.apply({kind: wep.kind, name: wep.metadata.name!, namespace: 't'}, wep)
    }
  })

  afterAll(async () => {
    // AGENT_LOG_DUMP=<file> keeps every agent's log of the run for debugging.
    if (process.env.AGENT_LOG_DUMP) writeFileSync(process.env.AGENT_LOG_DUMP, lab.agents.map((a) => a.log).join('\n---\n'))
    await store?.close()
    lab?.destroy()
  })

  it('is live but not ready until the first full program is in the kernel', async () => {
    const env = {...process.env, PATH: `${fakeBin()}:${process.env.PATH ?? ''}`}
    agent = lab.startAgent(['--name', 'kn', '--ip', 'autodetect', '--ip-autodetection-method', 'interface=up0'], env)
    expect(await waitFor(() => lab.httpGet(HEALTH_PORT, '/liveness').status === 200, 15_000)).toBe(true)
    // The agent is in sync and retrying its failed transactions by now.
    expect(await waitFor(() => /nft transaction failed/.test(agent.log), 10_000)).toBe(true)
    expect(lab.httpGet(HEALTH_PORT, '/readiness').status).toBe(503)
    expect(ip('netns', 'exec', lab.nodeNs, 'nft', 'list', 'tables')).not.toMatch(/inet calico/)
    writeFileSync(nftGate(), '')
    expect(await waitFor(() => lab.httpGet(HEALTH_PORT, '/readiness').status === 200, 15_000)).toBe(true)
    expect(await logged(/Calico node started successfully/)).toBe(true)
  })

  it('node status sees the running agent', () => {
    const r = spawnSync(process.execPath, [CALICOCTL, 'node', 'status'], {encoding: 'utf8'})
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^Calico process is running\.\n/)
  })

  it('registers its Node with the autodetected address', async () => {
    const node = (await store.get<{spec: {bgp: {ipv4Address: string}}}>({kind: 'Node', name: 'kn'})).value
    expect(node.spec.bgp.ipv4Address).toBe('192.0.2.1/24')
  })

  it('programs /32 routes to local workloads and the interface settings they need', async () => {
    const routes = ip('-n', lab.nodeNs, '-4', 'route', 'show', 'proto', 'boot')
    for (const pod of lab.pods.values()) expect(routes).toContain(`${pod.ip} dev ${pod.iface} scope link`)
    const a = lab.pods.get('a')!
    expect(inNs(lab.nodeNs, 'cat', [`/proc/sys/net/ipv4/conf/${a.iface}/proxy_arp`]).trim()).toBe('1')
    expect(reach('a', 'b', 80)).toBe(true)
    expect(reach('c', 'a', 81)).toBe(true)
  })

  it('a policy applied, changed and removed while running changes reachability', async () => {
    const allowFrom = (sel: string): object => ({
      selector: "pod == 'b'", types: ['Ingress'],
      ingress: [{action: 'Allow', protocol: 'TCP', source: {selector: sel}, destination: {ports: [80]}}],
    })
    await put('NetworkPolicy', 'b-in', allowFrom("pod == 'a'"), 't')
    expect(await eventually('c', 'b', 80, false)).toBe(true)
    expect(reach('a', 'b', 80)).toBe(true)
    expect(reach('a', 'b', 81)).toBe(false)
    expect(reach('b', 'a', 80)).toBe(true)

    await put('NetworkPolicy', 'b-in', allowFrom("pod in {'a', 'c'}"), 't')
    expect(await eventually('c', 'b', 80, true)).toBe(true)
    expect(reach('c', 'b', 81)).toBe(false)

    await store.delete({kind: 'NetworkPolicy', name: 'b-in', namespace: 't'})
    expect(await eventually('c', 'b', 81, true)).toBe(true)
    // Changes after the start-up program go in as deltas, not table replacements.
    expect(await logged(/applied delta/)).toBe(true)
  })

  it('logs and skips a resource that fails validation, and keeps enforcing the rest', async () => {
    await store.apply({kind: 'NetworkPolicy', name: 'broken', namespace: 't'}, {
      apiVersion: V3, kind: 'NetworkPolicy', metadata: {name: 'broken', namespace: 't'},
      spec: {selector: 'has(', ingress: [{action: 'Deny'}]},
    })
    await put('NetworkPolicy', 'deny-a', {selector: "pod == 'a'", types: ['Ingress'], ingress: [{action: 'Deny'}]}, 't')
    expect(await eventually('b', 'a', 80, false)).toBe(true)
    expect(await logged(/Validation failed for NetworkPolicy\(t\/broken\)/)).toBe(true)
    expect(lab.httpGet(HEALTH_PORT, '/readiness').status).toBe(200)
  })

  it('only its own table: the foreign table is untouched, nothing else is added', () => {
    expect(inNs(lab.nodeNs, 'nft', ['-s', 'list', 'table', 'inet', 'foreign'])).toBe(foreignBefore)
    expect(inNs(lab.nodeNs, 'nft', ['list', 'tables']).trim().split('\n').sort()).toEqual(['table inet calico', 'table inet foreign'])
  })

  it('repairs drift on the refresh interval', async () => {
    const good = content()
    // Someone flushes our workload dispatch: the deny on a would be lost without repair.
    inNs(lab.nodeNs, 'nft', ['flush', 'table', 'inet', 'calico'])
    expect(await waitFor(() => content() === good, 10_000, 200)).toBe(true)
    expect(reach('b', 'a', 80)).toBe(false)
    expect(await logged(/changed outside the agent; reprogramming/)).toBe(true)
  })

  it('a route the CNI added for a pod the agent does not know yet survives a grace period, then goes', async () => {
    const d = await lab.addPod('d', '10.77.0.13')
    ip('-n', lab.nodeNs, 'route', 'add', `${d.ip}/32`, 'dev', d.iface, 'scope', 'link', 'proto', 'boot')
    const hasRoute = (): boolean => ip('-n', lab.nodeNs, '-4', 'route', 'show').includes(`${d.ip} dev ${d.iface}`)
    await new Promise((r) => setTimeout(r, 3000))
    expect(hasRoute()).toBe(true)
    expect(await waitFor(() => !hasRoute(), 15_000, 250)).toBe(true)
  }, 30_000)

  it('serves Felix-named metrics', () => {
    const {status, body} = lab.httpGet(METRICS_PORT, '/metrics')
    expect(status).toBe(200)
    expect(body).toMatch(/^felix_active_local_endpoints 3$/m)
    expect(body).toMatch(/^felix_active_local_policies 1$/m)
    expect(body).toMatch(/^felix_int_dataplane_apply_time_seconds_count [1-9]\d*$/m)
    expect(body).toMatch(/^felix_resyncs_started 1$/m)
    expect(body).toMatch(/^felix_int_dataplane_failures [1-9]\d*$/m)
    expect(body).toMatch(/^felix_nft_drift_repairs [1-9]\d*$/m)
  })

  it('SIGTERM stops cleanly and leaves the rules in place', async () => {
    const before = table()
    agent.signal('SIGTERM')
    const {code} = await agent.exited
    expect(code).toBe(0)
    expect(table()).toBe(before)
    expect(reach('b', 'a', 80)).toBe(false)
    expect(reach('b', 'c', 80)).toBe(true)
  })

  it('SIGKILL and restart never open a denied path', async () => {
    agent = lab.startAgent(['--name', 'kn'])
    expect(await waitFor(() => lab.httpGet(HEALTH_PORT, '/readiness').status === 200, 15_000)).toBe(true)
    agent.signal('SIGKILL')
    await agent.exited
    // Probe b→a continuously across the restart; a single accepted connection would be a hole.
    let opened = 0
    let probing = true
    const loop = (async () => {
      while (probing) {
        if ((await lab.probeAsync('b', [['a', 80]]))[0]) opened++
      }
    })()
    agent = lab.startAgent(['--name', 'kn'])
    expect(await waitFor(() => lab.httpGet(HEALTH_PORT, '/readiness').status === 200, 15_000)).toBe(true)
    probing = false
    await loop
    expect(opened).toBe(0)
    expect(await logged(/applied full table/)).toBe(true)
    agent.signal('SIGTERM')
    expect((await agent.exited).code).toBe(0)
  })
})
