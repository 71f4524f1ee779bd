// A minimal node-and-pods lab for the agent tests: a "node" network namespace with an uplink, and pods as
// namespaces attached by cali* veths with the CNI's in-pod plumbing (169.254.1.1 gateway). The host side gets no
// route or sysctl here: programming those is the agent's job. The namespaces and processes belong to a NetnsRun
// (test/helpers/netns.ts: per-run prefix, removed by destroy(), which tests call in afterAll, and on exit).
// test/lab is the fuller lab that runs the real CNI plugin; this one stays because the agent tests need pods the
// agent learns about from WorkloadEndpoints they write themselves.
import type {ChildProcess} from 'node:child_process'
import {createConnection, createServer, type Server} from 'node:net'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Resource} from '../../src/api/resource.js'
import {workloadEndpointName} from '../../src/datastore/client.js'
import {NetnsRun, inNs, netnsUnavailable} from '../helpers/netns.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CALICOCTL = join(ROOT, 'bin', 'calicoctl')

/** TCP probe timeout: pods share one node, so an accepted connection answers in well under this. */
const PROBE_TIMEOUT_MS = 400

/** Why the agent tests cannot run here, or undefined when they can. */
export function labUnavailable(): string | undefined {
  const why = netnsUnavailable()
  if (why) return why
  if (!existsSync(join(ROOT, 'dist', 'commands', 'node', 'run.js')) || !existsSync(join(ROOT, 'oclif.manifest.json'))) {
    return 'dist/ is missing: run `npm run build` first (npm test does)'
  }
  return undefined
}

export interface Pod {
  name: string
  ns: string
  iface: string
  ip: string
}

export interface EndpointOptions {
  /** The Calico node the pod runs on. */
  node: string
  /** The pod's Kubernetes namespace (its profile is `kns.<namespace>`). */
  namespace: string
  /** The Kubernetes pod name; defaults to the lab pod's name. */
  k8sPod?: string
  labels?: Record<string, string>
  ports?: {name: string; protocol: string; port: number}[]
}

export class Lab {
  private readonly run = new NetnsRun('ja')
  readonly prefix = this.run.prefix
  readonly nodeNs = `${this.prefix}-node`
  readonly dir = mkdtempSync(join(tmpdir(), 'agent-lab-'))
  readonly configPath = join(this.dir, 'calicoctl.cfg')
  readonly storeDir = join(this.dir, 'store')
  readonly pods = new Map<string, Pod>()
  private readonly servers: Server[] = []
  /** Every agent started, in order (their logs help when a test fails). */
  readonly agents: AgentProcess[] = []

  constructor() {
    writeFileSync(
      this.configPath,
      `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: embedded\n  datastorePath: ${this.storeDir}\n`,
    )
  }

  /** The node namespace with loopback and an uplink holding `192.0.2.1/24` and a default route (as a real node). */
  createNode(): void {
    this.run.addNode('node')
  }

  /** A pod namespace on a cali veth, listening on `ports` (TCP). */
  async addPod(name: string, podIP: string, ports: number[] = []): Promise<Pod> {
    const iface = `cali${this.prefix.slice(-5)}${name}`.slice(0, 15)
    const ns = this.run.addPod(this.nodeNs, {suffix: name, iface, address: podIP})
    if (ports.length > 0) await this.run.listen(ns, ports)
    const pod = {name, ns, iface, ip: podIP}
    this.pods.set(name, pod)
    return pod
  }

  /**
   * The WorkloadEndpoint the Calico CNI plugin writes for lab pod `name` (Kubernetes orchestrator, eth0, the
   * namespace's profile, the namespace and orchestrator labels Calico adds); tests store it as another writer would.
   */
  workloadEndpoint(name: string, opts: EndpointOptions): Resource {
    const pod = this.pods.get(name)
    if (!pod) throw new Error(`no lab pod ${name}`)
    const spec = {
      orchestrator: 'k8s', node: opts.node, pod: opts.k8sPod ?? name, endpoint: 'eth0', interfaceName: pod.iface,
      ipNetworks: [`${pod.ip}/32`], profiles: [`kns.${opts.namespace}`], ...(opts.ports ? {ports: opts.ports} : {}),
    }
    return {
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: {
        name: workloadEndpointName(spec),
        namespace: opts.namespace,
        labels: {...opts.labels, 'projectcalico.org/namespace': opts.namespace, 'projectcalico.org/orchestrator': 'k8s'},
      },
      spec,
    }
  }

  private targets(targets: [string, number][]): [string, number][] {
    return targets.map(([to, port]) => [this.pods.get(to)!.ip, port])
  }

  /** TCP connects from `from` to each (pod, port); true where the connection was accepted. */
  probe(from: string, targets: [string, number][]): boolean[] {
    return this.run.probe(this.pods.get(from)!.ns, this.targets(targets), PROBE_TIMEOUT_MS)
  }

  /** As probe(), without blocking the event loop (for probing while other things happen). */
  probeAsync(from: string, targets: [string, number][]): Promise<boolean[]> {
    return this.run.probeAsync(this.pods.get(from)!.ns, this.targets(targets), PROBE_TIMEOUT_MS)
  }

  /** Starts `calicoctl node run` inside the node namespace; stderr is collected in `log`. */
  startAgent(args: string[], env: NodeJS.ProcessEnv = process.env): AgentProcess {
    const child = this.run.spawnIn(this.nodeNs, [process.execPath, CALICOCTL, 'node', 'run', '-c', this.configPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    })
    const agent = new AgentProcess(child)
    this.agents.push(agent)
    return agent
  }

  /** HTTP GET from inside the node namespace (the agent binds loopback there). */
  httpGet(port: number, path: string): {status: number; body: string} {
    const script = `fetch('http://127.0.0.1:${port}${path}').then(async (r) => process.stdout.write(JSON.stringify({status: r.status, body: await r.text()}))).catch(() => process.stdout.write(JSON.stringify({status: 0, body: ''})))`
    return JSON.parse(inNs(this.nodeNs, process.execPath, ['-e', script])) as {status: number; body: string}
  }

  /**
   * Makes a TCP service of the host namespace's loopback (`127.0.0.1:targetPort`, e.g. a test etcd) reachable inside
   * the node namespace at `127.0.0.1:<returned port>`, through a Unix socket (filesystem paths cross network
   * namespaces; no address or route is added anywhere). Stopping the target looks to the agent like an outage.
   */
  async bridgeFromNode(targetPort: number): Promise<number> {
    const sock = join(this.dir, `bridge-${targetPort}.sock`)
    const hostSide = createServer((c) => {
      const upstream = createConnection({host: '127.0.0.1', port: targetPort})
      c.pipe(upstream).pipe(c)
      const end = (): void => {
        c.destroy()
        upstream.destroy()
      }
      c.on('error', end)
      upstream.on('error', end)
    })
    await new Promise<void>((resolve) => hostSide.listen(sock, resolve))
    this.servers.push(hostSide)
    const script = `
const net = require('node:net')
const srv = net.createServer((c) => {
  const up = net.createConnection(process.argv[1])
  c.pipe(up).pipe(c)
  const end = () => { c.destroy(); up.destroy() }
  c.on('error', end); up.on('error', end)
})
srv.listen(0, '127.0.0.1', () => process.stdout.write(String(srv.address().port) + '\\n'))
`
    const child = this.run.spawnIn(this.nodeNs, [process.execPath, '-e', script, sock])
    return new Promise<number>((resolve) => child.stdout!.once('data', (b: Buffer) => resolve(Number(b.toString().trim()))))
  }

  /** Points the agent's config at an etcd (endpoints as seen from inside the node namespace). */
  useEtcd(endpoints: string): void {
    writeFileSync(this.configPath, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: ${endpoints}\n`)
  }

  destroy(): void {
    for (const s of this.servers) s.close()
    this.run.destroy()
    rmSync(this.dir, {recursive: true, force: true})
  }
}

export class AgentProcess {
  log = ''
  readonly exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>

  constructor(readonly child: ChildProcess) {
    child.stderr!.on('data', (b: Buffer) => (this.log += b.toString()))
    child.stdout!.on('data', (b: Buffer) => (this.log += b.toString()))
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({code, signal})))
  }

  /** `ip netns exec` execs the agent, so the child's pid is the agent's. */
  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig)
  }
}
