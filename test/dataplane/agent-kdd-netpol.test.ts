// The NetworkPolicy conformance model (test/fixtures/netpol/README.md: 3 namespaces × 3 pods) enforced by the real
// agent on the Kubernetes datastore. The test API server runs on the host's loopback and is reached from the node
// namespace through a Unix-socket relay (no address or route anywhere); Namespaces, Pods (scheduled on the agent's
// node, with their IPs in status as kubelet reports them) and networking.k8s.io NetworkPolicies are real Kubernetes
// objects, Calico policies and tiers are Calico's CRDs. `calicoctl node run` (bin/calicoctl, a KDD config) runs in
// the node namespace; pods are namespaces on veths named as Calico names a pod's interface. Every step of a case is
// applied while the agent runs, then the 9×9 matrix is measured with real TCP connections and UDP echoes until it
// converges to the case's table.
//
// By default a representative subset runs (kept to a few minutes on a busy machine); NETPOL_KDD_ALL=1 runs every
// Kubernetes and Calico case.
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {vethName} from '../../src/datastore/kubernetes/names.js'
import {startServer, writeKubeconfig} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import {NetnsRun, netnsUnavailable, type Proto} from '../helpers/netns.js'
import {waitFor} from '../helpers/wait.js'
import {CALICOCTL} from '../lab/agent.js'
import {ROOT} from '../lab/plugin.js'
import {RELAY_IN_NODE, RELAY_ON_HOST} from '../lab/scripts.js'
import {ALL_PODS, NAMESPACES, loadCases, parseTable, podIP, substitute, type NetpolCase, type Probe} from '../unit/nft-netpol-harness.js'

const why = netnsUnavailable() ?? (existsSync(join(ROOT, 'dist', 'commands', 'node', 'run.js')) ? undefined : 'dist/ is missing: run `npm run build` first (npm test does)')
if (why && process.env.CI) throw new Error(`agent KDD netpol tests cannot run in CI: ${why}`)

const ALL = process.env.NETPOL_KDD_ALL === '1'
/** The default subset: selectors on pods and namespaces, ports by name and range, egress, ipBlock, label changes, deletes, UDP. */
const K8S_SUBSET = new Set([
  'e2e-04-deny-all-then-allow-target', 'e2e-18-ingress-named-port-from-namespace', 'e2e-21-updated-namespace-labels',
  'e2e-22-updated-pod-labels', 'e2e-28-deny-egress-client-side', 'e2e-33-stop-enforcing-after-delete',
  'e2e-36-egress-cidr-except-then-update', 'e2e-43-udp-default-deny-ingress',
])
/** Calico policy next to Kubernetes policy through the same datastore: tiers, Pass, order against the k8s policies. */
const CALICO_SUBSET = new Set([
  'calico-03-namespaced-deny-before-k8s-allow', 'calico-05-pass-skips-rest-of-default-tier', 'calico-06-tier-pass-to-k8s',
])
const FIXTURES = join(ROOT, 'test', 'fixtures', 'netpol')
const K8S_CASES = loadCases(join(FIXTURES, 'cases')).filter((c) => ALL || K8S_SUBSET.has(c.id))
const CALICO_CASES = loadCases(join(FIXTURES, 'calico-cases')).filter((c) => ALL || CALICO_SUBSET.has(c.id))

const NODE = 'kn'
const V3 = 'projectcalico.org/v3'
const NETPOL = 'networking.k8s.io/v1'
const PORTS = [80, 81]
const PROBE_TIMEOUT_MS = 500
const CONVERGE_MS = 10_000

type Json = Record<string, unknown>
type Meta = {name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string}
type Manifest = {apiVersion: string; kind: string; metadata: Meta; spec?: unknown}

const podsPath = (ns: string, name = ''): string => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}`
const netpolPath = (ns: string, name = ''): string => `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies${name ? `/${name}` : ''}`

describe.skipIf(why !== undefined)('NetworkPolicy conformance by node run on the Kubernetes datastore (real TCP and UDP)', () => {
  let server: TestApiServer
  let calico: KubernetesBackend
  let run: NetnsRun
  let node: string
  let agent: ChildProcess
  let agentLog = ''
  let hostRelay: ChildProcess | undefined
  let dir: string
  /** In its own temp directory (writeKubeconfig makes one). */
  let kubeconfig: string | undefined
  const podNs = new Map<string, string>()
  /** Calico objects written by the current case, removed before the next. */
  const calicoWritten: {kind: string; name: string; namespace?: string}[] = []

  /** One request to the API server, as kubectl or kubelet would make it. */
  const kube = async <T = Json>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, {method, headers: {'Content-Type': 'application/json'}, body: body === undefined ? undefined : JSON.stringify(body)})
    const json = (await res.json()) as T
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
    return json
  }

  /** Create or replace (the whole object), as `kubectl apply` does for these manifests. */
  const applyNetworkPolicy = async (m: Manifest): Promise<void> => {
    const ns = m.metadata.namespace ?? 'default'
    const current = server.object('networking.k8s.io', 'networkpolicies', m.metadata.name, ns)
    if (!current) await kube('POST', netpolPath(ns), m)
    else await kube('PUT', netpolPath(ns, m.metadata.name), {...m, metadata: {...m.metadata, resourceVersion: current.metadata.resourceVersion}})
  }

  const relabel = async (path: string, change: {labels?: Record<string, string>; keys?: string[]}): Promise<void> => {
    const current = await kube<{metadata: Meta}>('GET', path)
    const labels = {...current.metadata.labels, ...(change.labels ?? {})}
    for (const k of change.keys ?? []) delete labels[k]
    await kube('PUT', path, {...current, metadata: {...current.metadata, labels}})
  }

  const deleteAllNetworkPolicies = async (): Promise<void> => {
    for (const np of server.objects('networking.k8s.io', 'networkpolicies')) await kube('DELETE', netpolPath(np.metadata.namespace!, np.metadata.name))
  }

  const act = async (action: Record<string, unknown>): Promise<void> => {
    const [verb, raw] = Object.entries(action)[0]!
    const arg = substitute(raw) as Json
    switch (verb) {
      case 'apply': {
        const m = arg as unknown as Manifest
        if (m.apiVersion === NETPOL) return applyNetworkPolicy(m)
        const key = {kind: m.kind, name: m.metadata.name, ...(m.metadata.namespace ? {namespace: m.metadata.namespace} : {})}
        await calico.apply(key, m)
        calicoWritten.push(key)
        return
      }
      case 'delete': {
        const d = arg as {apiVersion: string; kind: string; namespace?: string; name: string}
        if (d.apiVersion === NETPOL) return void (await kube('DELETE', netpolPath(d.namespace!, d.name)))
        await calico.delete({kind: d.kind, name: d.name, ...(d.namespace ? {namespace: d.namespace} : {})})
        return
      }
      case 'deleteAllNetworkPolicies':
        return deleteAllNetworkPolicies()
      case 'labelPod':
      case 'unlabelPod': {
        const a = arg as {pod: string; labels?: Record<string, string>; keys?: string[]}
        const [ns, name] = a.pod.split('/') as [string, string]
        return relabel(podsPath(ns, name), a)
      }
      case 'labelNamespace':
      case 'unlabelNamespace': {
        const a = arg as {namespace: string; labels?: Record<string, string>; keys?: string[]}
        return relabel(`/api/v1/namespaces/${a.namespace}`, a)
      }
      default:
        throw new Error(`action ${verb} is not supported by this runner`)
    }
  }

  /** The measured matrix for one port and protocol, self-connections excluded (they never leave the pod). */
  const matrix = async (port: number, proto: Proto): Promise<Map<string, boolean>> => {
    const out = new Map<string, boolean>()
    await Promise.all(ALL_PODS.map(async (from) => {
      const targets = ALL_PODS.filter((to) => to !== from)
      const res = await run.probeAsync(podNs.get(from)!, targets.map((to) => [podIP(to), port, proto] as const), PROBE_TIMEOUT_MS)
      targets.forEach((to, i) => out.set(`${from}>${to}`, res[i]!))
    }))
    return out
  }

  const converge = async (probe: Probe): Promise<string[]> => {
    const want = parseTable(probe.expected)
    for (const pod of ALL_PODS) want.delete(`${pod}>${pod}`)
    const proto = probe.protocol === 'UDP' ? 'udp' : 'tcp'
    const end = Date.now() + CONVERGE_MS
    for (;;) {
      const got = await matrix(probe.port, proto)
      const diff = [...want].filter(([k, v]) => got.get(k) !== v).map(([k, v]) => `${k} want ${v ? 'open' : 'closed'}`)
      if (diff.length === 0 || Date.now() > end) return diff
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  /** Back to the model's starting state: no policies or tiers, the original pod and namespace labels. */
  const reset = async (): Promise<void> => {
    await deleteAllNetworkPolicies()
    for (const key of calicoWritten.splice(0).reverse()) await calico.delete(key).catch(() => undefined)
    for (const ns of NAMESPACES) {
      const current = await kube<{metadata: Meta}>('GET', `/api/v1/namespaces/${ns}`)
      const labels = namespaceLabels(ns)
      if (JSON.stringify(current.metadata.labels) !== JSON.stringify(labels)) await kube('PUT', `/api/v1/namespaces/${ns}`, {...current, metadata: {...current.metadata, labels}})
    }
    for (const pod of ALL_PODS) {
      const [ns, name] = pod.split('/') as [string, string]
      const current = await kube<{metadata: Meta}>('GET', podsPath(ns, name))
      if (JSON.stringify(current.metadata.labels) !== JSON.stringify({pod: name})) await kube('PUT', podsPath(ns, name), {...current, metadata: {...current.metadata, labels: {pod: name}}})
    }
  }

  const socketPath = (): string => join(dir, 'apiserver.sock')
  /** Makes the API server reachable at 127.0.0.1:6443 inside `netns` (through the host relay's socket). */
  const relayInto = async (netns: string): Promise<void> => {
    const relay = run.spawnIn(netns, [process.execPath, '-e', RELAY_IN_NODE, '6443', socketPath()])
    await new Promise((resolve) => relay.stdout!.once('data', resolve))
  }

  /** Every connection allowed: the state with no policy (the namespace profiles allow everything). */
  const allOpen = (protocol: 'TCP' | 'UDP'): Probe => ({
    protocol, port: 80, expected: [`- ${ALL_PODS.join(' ')}`, ...ALL_PODS.map((p) => `${p} ${ALL_PODS.map(() => '.').join(' ')}`)].join('\n'),
  })

  const namespaceLabels = (ns: string): Record<string, string> => ({'kubernetes.io/metadata.name': ns, ns})

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-kdd-'))
    server = await startServer()
    calico = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url})
    run = new NetnsRun('kdd')
    node = run.addNode('node')

    // The API server as the node sees it: 127.0.0.1:6443 inside the node namespace, relayed over a Unix socket.
    const port = new URL(server.url).port
    hostRelay = spawn(process.execPath, ['-e', RELAY_ON_HOST, socketPath(), port], {stdio: ['pipe', 'pipe', 'inherit']})
    await new Promise((resolve) => hostRelay!.stdout!.once('data', resolve))
    await relayInto(node)
    kubeconfig = writeKubeconfig('http://127.0.0.1:6443')
    const config = join(dir, 'calicoctl.cfg')
    writeFileSync(config, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: kubernetes\n  kubeconfig: ${kubeconfig}\n`)

    // The cluster as kubelet and the e2e suite leave it: the Node, the namespaces, the pods running with their IPs.
    await kube('POST', '/api/v1/nodes', {apiVersion: 'v1', kind: 'Node', metadata: {name: NODE, labels: {'kubernetes.io/hostname': NODE}}})
    await calico.apply({kind: 'FelixConfiguration', name: 'default'}, {
      apiVersion: V3, kind: 'FelixConfiguration', metadata: {name: 'default'}, spec: {healthHost: '127.0.0.1', healthPort: 19099, prometheusMetricsEnabled: false},
    })
    for (const ns of NAMESPACES) await kube('POST', '/api/v1/namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns, labels: namespaceLabels(ns)}})
    for (const pod of ALL_PODS) {
      const [ns, name] = pod.split('/') as [string, string]
      const netns = run.addPod(node, {suffix: `${ns}${name}`, iface: vethName(ns, name), address: podIP(pod)})
      podNs.set(pod, netns)
      await run.listen(netns, PORTS, {udp: true})
      const ports = PORTS.flatMap((p) => (['tcp', 'udp'] as const).map((proto) => ({name: `serve-${p}-${proto}`, containerPort: p, protocol: proto.toUpperCase()})))
      const created = await kube<{metadata: Meta}>('POST', podsPath(ns), {
        apiVersion: 'v1', kind: 'Pod', metadata: {name, labels: {pod: name}},
        spec: {nodeName: NODE, containers: [{name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.47', ports}]},
      })
      await kube('PUT', `${podsPath(ns, name)}/status`, {...created, status: {phase: 'Running', podIP: podIP(pod), podIPs: [{ip: podIP(pod)}]}})
    }

    agent = run.spawnIn(node, [process.execPath, CALICOCTL, 'node', 'run', '--name', NODE, '--ip', '192.0.2.1/24', '-c', config], {stdio: ['ignore', 'pipe', 'pipe']})
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (b: Buffer): void => {
        agentLog += b.toString()
        if (agentLog.includes('Calico node started successfully')) resolve()
      }
      agent.stdout!.on('data', onData)
      agent.stderr!.on('data', onData)
      agent.once('exit', (code) => reject(new Error(`node run exited (${code}):\n${agentLog}`)))
    })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([ready, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`node run not ready in 60 s:\n${agentLog}`)), 60_000)))])
    clearTimeout(timer)
  }, 180_000)

  afterAll(async () => {
    if (process.env.AGENT_LOG) process.stderr.write(agentLog)
    run?.destroy()
    hostRelay?.kill('SIGKILL')
    await calico?.close()
    await server?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
    if (kubeconfig) rmSync(dirname(kubeconfig), {recursive: true, force: true})
  })

  it('registers the node into the core Node and reads every pod as an endpoint', async () => {
    const annotations = server.object('', 'nodes', NODE)?.metadata.annotations
    expect(annotations?.['projectcalico.org/IPv4Address']).toBe('192.0.2.1/24')
    expect(agentLog).toMatch(/datastore in sync: \d+ objects/)
    // Every pod is open on both protocols with no policy at all (the namespace profiles allow everything).
    for (const protocol of ['TCP', 'UDP'] as const) expect(await converge(allOpen(protocol))).toEqual([])
  }, 60_000)

  it('says why it cannot start when kubelet has not registered the node, and starts once the Node exists', async () => {
    // Its own node namespace: once registered it programs a dataplane, which must not touch the conformance node's.
    const ghostNode = run.addNode('ghost')
    await relayInto(ghostNode)
    const ghost = run.spawnIn(ghostNode, [process.execPath, CALICOCTL, 'node', 'run', '--name', 'ghost', '--ip', '192.0.2.1/24', '-c', join(dir, 'calicoctl.cfg')], {stdio: ['ignore', 'pipe', 'pipe']})
    let log = ''
    for (const out of [ghost.stdout!, ghost.stderr!]) out.on('data', (b: Buffer) => (log += b.toString()))
    const seen = (text: string, ms: number): Promise<boolean> => waitFor(() => log.includes(text), ms, 100)
    try {
      // The log is logfmt: the node name's quotes are escaped there.
      expect(await seen('does not exist in the Kubernetes API: on the Kubernetes datastore the Calico Node is a view of the core Node', 60_000), log).toBe(true)
      expect(log).toContain('start kubelet on this node')
      await kube('POST', '/api/v1/nodes', {apiVersion: 'v1', kind: 'Node', metadata: {name: 'ghost'}})
      expect(await seen('Node ghost registered', 30_000), log).toBe(true)
      expect(server.object('', 'nodes', 'ghost')?.metadata.annotations?.['projectcalico.org/IPv4Address']).toBe('192.0.2.1/24')
    } finally {
      ghost.kill('SIGKILL')
      await kube('DELETE', '/api/v1/nodes/ghost').catch(() => undefined)
    }
  }, 90_000)

  it('re-lists after its watch history was compacted (410 Gone) and enforces what changed while it was cut off', async () => {
    // Ingress to every pod of x denied: the only change made while the agent's watches are down.
    const denyX = {apiVersion: NETPOL, kind: 'NetworkPolicy', metadata: {name: 'deny-x', namespace: 'x'}, spec: {podSelector: {}, policyTypes: ['Ingress']}}
    const closedToX: Probe = {
      protocol: 'TCP', port: 80,
      expected: [`- ${ALL_PODS.join(' ')}`, ...ALL_PODS.map((from) => `${from} ${ALL_PODS.map((to) => (to.startsWith('x/') ? 'X' : '.')).join(' ')}`)].join('\n'),
    }
    const resyncs = (): number => agentLog.split('datastore snapshot received').length - 1
    const before = resyncs()
    const resume = server.pauseWatches()
    try {
      await kube('POST', netpolPath('x'), denyX)
      // One more write, so that compacting up to it leaves no history to resume from (the server keeps one revision).
      await kube('POST', '/api/v1/namespaces/default/configmaps', {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'after-deny-x'}})
      server.compact(server.resourceVersion)
    } finally {
      resume()
    }
    expect(await converge(closedToX)).toEqual([])
    expect(resyncs()).toBeGreaterThan(before)
    await kube('DELETE', netpolPath('x', 'deny-x'))
    expect(await converge(allOpen('TCP'))).toEqual([])
  }, 90_000)

  const runCase = (c: NetpolCase): void => {
    it(c.id, async () => {
      try {
        for (const step of c.steps) {
          for (const action of step.actions) await act(action)
          for (const probe of step.probes ?? []) {
            const diff = await converge(probe)
            expect(diff, `${step.name}, ${probe.protocol} ${probe.port}: ${diff.join(', ')}`).toEqual([])
          }
        }
      } finally {
        await reset()
      }
      // The next case starts from a clean dataplane, not from this case's last rules.
      expect(await converge(allOpen('TCP')), 'after removing the case\'s policies').toEqual([])
    }, 180_000)
  }

  it('has cases to run', () => {
    expect(K8S_CASES.length).toBeGreaterThanOrEqual(ALL ? 40 : K8S_SUBSET.size)
    expect(CALICO_CASES.length).toBeGreaterThanOrEqual(ALL ? 15 : CALICO_SUBSET.size)
  })
  describe('Kubernetes NetworkPolicy cases', () => K8S_CASES.forEach(runCase))
  describe('Calico policy cases (projectcalico.org/v3 CRDs next to Kubernetes policies)', () => CALICO_CASES.forEach(runCase))
})
