// The netns test lab: "nodes" are network namespaces joined by a bridge in a private fabric namespace, "pods"
// are network namespaces attached by running the real CNI plugin (CNI_* environment, config on stdin) inside
// their node's namespace. The host namespace is never given a route, address or link: only namespaces named
// `clab-<pid>-<run>-…` are created, and Lab.destroy() (plus exit/signal hooks) removes them with everything
// in them, the lab's processes and its temp directory. Dataplane tests (CNI, agent) build on this:
//
//   const skip = labSkipReason()                       // not root: skip (throws in CI)
//   const lab = await Lab.start({datastore: 'etcd'})   // or 'embedded' (SQLite file in the lab's temp dir), or
//                                                      // 'kubernetes' (test API server; Nodes, Pods are core/v1)
//   await lab.addPool('p', '10.70.0.0/16')
//   const node = await lab.addNode('node-a')           // netns + uplink + Node resource (+ datastore relay)
//   const pod = await lab.addPod(node, {namespace: 'ns', name: 'web-0'})   // real CNI ADD
//   const bare = lab.attachPod(node, 'a', '10.77.0.10')           // or the CNI's plumbing only, and the
//   await lab.writeWorkloadEndpoint(bare, {namespace: 'ns'})      // WorkloadEndpoint written by the test (on the
//                                                                 // Kubernetes datastore: the running Pod)
//   await lab.writeNamespace('ns', {team: 'a'})                   // its namespace's labels (Namespace or kns. Profile)
//   await lab.serve(pod, [80, 8080]); await lab.probe(other, [[pod.ips[0], 8080, 'tcp']])
//   const remote = await lab.addNode('remote', {}, {register: false})   // a plain machine on the fabric
//   const agent = startAgent(lab, node); await agent.ready()           // `calicoctl node run` (./agent.ts)
//   await untilReach(lab, [[remote, node.address, 22, 'tcp']], [true])  // converged reachability (./reach.ts)
//   await lab.destroy()                                // in afterAll
import {spawn, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Resource} from '../../src/api/resource.js'
import type {Backend} from '../../src/datastore/backend.js'
import {ResourceClient, workloadEndpointName} from '../../src/datastore/client.js'
import {openBackend} from '../../src/datastore/factory.js'
import {vethName} from '../../src/datastore/kubernetes/names.js'
import {namespaceProfile} from '../../src/dataplane/calc/index.js'
import {IPAMClient} from '../../src/ipam/index.js'
import {startEtcd, type EtcdInstance} from '../helpers/etcd.js'
import {kubeApply, kubeRequest, startServer, writeKubeconfig} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import {execArgv, type ExecResult} from '../helpers/exec.js'
import {NetnsRun, type ProbeTarget} from '../helpers/netns.js'
import {trackDir, untrackDir} from './cleanup.js'
import {pluginCommand, warmCommand, type PluginKind} from './plugin.js'
import {HTTP_GET, RELAY_IN_NODE, RELAY_ON_HOST} from './scripts.js'

export type LabDatastore = 'embedded' | 'etcd' | 'kubernetes'

export interface LabOptions {
  datastore?: LabDatastore
  /** CNI network name (and so the IPAM handle prefix); Calico's manifests use k8s-pod-network. */
  network?: string
  /** Pod MTU written into the CNI config. */
  mtu?: number
}

export interface LabNode {
  /** The Calico node name (Node resource, `nodename` in the CNI config). */
  name: string
  netns: string
  /** The node's address on the fabric (`192.168.77.<n>`). */
  address: string
  /** The node's IPv6 address on the fabric (`fd00:77::<n>`), when it was added with `ipv6: true`. */
  address6?: string
  /** etcd as seen from inside this node (through the relay); undefined for the embedded datastore. */
  etcdEndpoints?: string
  /** Kubernetes datastore: a kubeconfig for the API server as seen from inside this node (through the relay). */
  kubeconfig?: string
}

export interface PodSpec {
  namespace?: string
  name: string
  /** Defaults to a fresh 64-hex-digit id, as container runtimes make them. */
  containerID?: string
  ifName?: string
  /** Extra CNI_ARGS pairs (e.g. IP=10.0.0.9). */
  args?: Record<string, string>
  /** Overrides merged into the node's CNI config for this call. */
  conf?: Record<string, unknown>
}

export interface LabPod {
  node: LabNode
  namespace: string
  name: string
  containerID: string
  ifName: string
  /** Path of the pod's network namespace (CNI_NETNS). */
  netnsPath: string
  netns: string
  /** The addresses from the ADD result, without prefix length. */
  ips: string[]
  result: Record<string, unknown>
}

/** A pod the lab attached itself, with the CNI plugin's plumbing but no CNI call (so no IPAM and no endpoint). */
export interface AttachedPod {
  node: LabNode
  name: string
  netns: string
  /** The host-side veth in the node (the WorkloadEndpoint's interfaceName); the pod's side is eth0. */
  iface: string
  /** The pod's one address (a /32 on eth0). */
  ips: [string]
}

export interface EndpointOptions {
  /** The pod's Kubernetes namespace (its profile is `kns.<namespace>`). */
  namespace: string
  /** The Kubernetes pod name; defaults to the lab pod's name. */
  k8sPod?: string
  labels?: Record<string, string>
  ports?: {name: string; protocol: string; port: number}[]
  /** Source prefixes the pod may send from besides its address (the CNI takes them from allowedSourcePrefixes). */
  allowSpoofedSourcePrefixes?: string[]
}

export interface CniRun {
  exit: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON (result or CNI error), undefined when empty. */
  json?: Record<string, unknown>
}

/** Why the lab cannot run here (undefined when it can). In CI a missing requirement is an error, not a skip. */
export function labSkipReason(): string | undefined {
  let reason: string | undefined
  if (process.platform !== 'linux') reason = 'netns lab tests need Linux'
  else if (process.getuid?.() !== 0) reason = 'netns lab tests need root (network namespaces, veths); run them as root'
  if (reason === undefined) return undefined
  if (process.env.CI === 'true') throw new Error(`${reason} (required in CI)`)
  console.warn(`skipped: ${reason}`)
  return reason
}

/**
 * Runs `fn` over `items` with at most `limit` in flight, settling every one (like Promise.allSettled). The lab's
 * stand-in for a node's container runtime starting many pods at once.
 */
export async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      try {
        out[i] = {status: 'fulfilled', value: await fn(items[i] as T, i)}
      } catch (reason) {
        out[i] = {status: 'rejected', reason}
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return out
}

async function must(argv: readonly string[], input?: string): Promise<string> {
  const r = await execArgv(argv, {input})
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`)
  return r.stdout
}

/** Starts a long-running helper and resolves once it printed `ready`. A process of `run`: killed on destroy or exit. */
function startHelper(run: NetnsRun, argv: readonly string[], what: string, timeoutMs = 15_000): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv
    const child = spawn(cmd ?? '', args, {stdio: ['pipe', 'pipe', 'pipe']})
    run.adopt(child)
    let out = ''
    let err = ''
    const t = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${what} did not start within ${timeoutMs} ms: ${err.trim()}`))
    }, timeoutMs)
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString()
      if (out.includes('ready')) {
        clearTimeout(t)
        resolve(child)
      }
    })
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.on('exit', (code) => {
      clearTimeout(t)
      reject(new Error(`${what} exited (${code}): ${err.trim()}`))
    })
  })
}

const FABRIC_SUBNET = '192.168.77'
const FABRIC_GATEWAY = `${FABRIC_SUBNET}.254`
const FABRIC_SUBNET6 = 'fd00:77::'
const ETCD_PORT_IN_NODE = 2379
const API_PORT_IN_NODE = 6443

export class Lab {
  readonly backend: Backend
  readonly client: ResourceClient
  readonly ipam: IPAMClient
  readonly nodes: LabNode[] = []
  readonly pods = new Set<LabPod>()
  private podSeq = 0
  private destroyed = false
  /** The plugin's first load (see warmCommand), started by the first CNI call: labs of attached pods never pay it. */
  private warmed?: Promise<unknown>

  private constructor(
    /** The lab's namespaces and processes (names `clab-<pid>-<hex6>-…`), removed by destroy() and on exit. */
    private readonly run: NetnsRun,
    readonly dir: string,
    readonly datastore: LabDatastore,
    readonly network: string,
    readonly mtu: number,
    readonly fabric: string,
    backend: Backend,
    /** The etcd datastore (tests halt and restart it); undefined for the others. */
    readonly etcd?: EtcdInstance,
    /** The Kubernetes datastore's API server (tests create Pods and Namespaces in it). */
    readonly apiServer?: TestApiServer,
  ) {
    this.backend = backend
    this.client = new ResourceClient(backend)
    this.ipam = new IPAMClient(backend)
  }

  /** `clab-<pid>-<hex6>`: every namespace name starts with it. */
  get prefix(): string {
    return this.run.prefix
  }

  /** The lab's etcd as the host namespace (this process) reaches it; undefined for the embedded datastore. */
  get hostEtcdEndpoints(): string | undefined {
    return this.etcd?.endpoints
  }

  /** Creates the fabric namespace (a bridge nodes attach to) and the datastore. */
  static async start(opts: LabOptions = {}): Promise<Lab> {
    // The shared NetnsRun also sweeps namespaces left by killed runs (the first time one is made).
    const run = new NetnsRun('clab')
    const prefix = run.prefix
    const dir = mkdtempSync(join(tmpdir(), `${prefix}-`))
    trackDir(dir)
    const datastore = opts.datastore ?? 'embedded'
    let etcd: EtcdInstance | undefined
    let apiServer: TestApiServer | undefined
    let backend: Backend
    try {
      if (datastore === 'etcd') {
        etcd = await startEtcd()
        backend = (await openBackend({datastoreType: 'etcdv3', etcdEndpoints: etcd.endpoints})).backend
      } else if (datastore === 'kubernetes') {
        apiServer = await startServer({crds: 'v1'})
        backend = (await openBackend({datastoreType: 'kubernetes', k8sAPIEndpoint: apiServer.url})).backend
      } else {
        backend = (await openBackend({datastoreType: 'embedded', datastorePath: join(dir, 'datastore')})).backend
      }
    } catch (err) {
      await etcd?.stop()
      await apiServer?.stop()
      rmSync(dir, {recursive: true, force: true})
      untrackDir(dir)
      run.destroy()
      throw err
    }
    const fabric = `${prefix}-fabric`
    const lab = new Lab(run, dir, datastore, opts.network ?? 'k8s-pod-network', opts.mtu ?? 1450, fabric, backend, etcd, apiServer)
    try {
      await lab.addNetns(fabric)
      await lab.inNs(fabric, ['ip', 'link', 'set', 'lo', 'up'])
      await lab.inNs(fabric, ['ip', 'link', 'add', 'br0', 'type', 'bridge'])
      await lab.inNs(fabric, ['ip', 'link', 'set', 'br0', 'up'])
    } catch (err) {
      await lab.destroy()
      throw err
    }
    return lab
  }

  private async addNetns(name: string): Promise<void> {
    this.run.adoptNetns(name)
    await must(['ip', 'netns', 'add', name])
  }

  /** Runs argv inside a namespace (by name); rejects when it fails. */
  async inNs(netns: string, argv: readonly string[], input?: string): Promise<string> {
    return must(['ip', 'netns', 'exec', netns, ...argv], input)
  }

  /** Runs argv inside a namespace; resolves with the outcome whatever it is. */
  exec(netns: string, argv: readonly string[], input?: string, env?: NodeJS.ProcessEnv): Promise<ExecResult> {
    return execArgv(['ip', 'netns', 'exec', netns, ...argv], {input, env})
  }

  /**
   * A node: its namespace with forwarding on, an uplink into the fabric bridge with a default route (so proxy ARP
   * answers for 169.254.1.1 as on a real host), the Calico Node resource, and, for etcd, a relay that makes the
   * datastore reachable on the node's own loopback. `register: false` makes a plain machine on the fabric (no Node
   * resource, no relay): the "remote host" that host endpoint tests send traffic from. `ipv6: true` also gives the
   * uplink `fd00:77::<n>/64` (on-link only, no IPv6 default route), for host-to-host IPv6 between such nodes.
   * `nodeResource: false` keeps the relay but leaves the Node resource to `calicoctl node run` (tests of its
   * registration); on the Kubernetes datastore, where the Node is kubelet's, there is then no Node object at all
   * (kubelet has not registered the node: the test creates it). `forwarding: false` leaves IP
   * forwarding off for the agent to turn on (pod-to-pod traffic then shows that it did).
   */
  async addNode(
    name: string,
    labels: Record<string, string> = {},
    opts: {register?: boolean; ipv6?: boolean; nodeResource?: boolean; forwarding?: boolean} = {},
  ): Promise<LabNode> {
    const index = this.nodes.length + 1
    const netns = `${this.prefix}-n${index}`
    await this.addNetns(netns)
    const address = `${FABRIC_SUBNET}.${index}`
    await this.inNs(netns, ['ip', 'link', 'set', 'lo', 'up'])
    // Forwarding is the node agent's global setting (Felix's IPForwarding); the lab node needs it without one.
    if (opts.forwarding !== false) await this.inNs(netns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'])
    // Created inside the node, the fabric end is moved straight into the fabric namespace.
    await this.inNs(netns, ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `n${index}`, 'netns', this.fabric])
    await this.inNs(this.fabric, ['ip', 'link', 'set', `n${index}`, 'master', 'br0', 'up'])
    await this.inNs(netns, ['ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0'])
    await this.inNs(netns, ['ip', 'link', 'set', 'eth0', 'up'])
    await this.inNs(netns, ['ip', 'route', 'add', 'default', 'via', FABRIC_GATEWAY, 'dev', 'eth0', 'onlink'])
    const node: LabNode = {name, netns, address}
    if (opts.ipv6) {
      node.address6 = `${FABRIC_SUBNET6}${index}`
      // No duplicate address detection: the address is usable at once, and it is unique on the lab's fabric.
      await this.inNs(netns, ['ip', '-6', 'addr', 'add', `${node.address6}/64`, 'dev', 'eth0', 'nodad'])
    }
    if (opts.register === false) {
      this.nodes.push(node)
      return node
    }
    const remote = this.etcd ? {url: this.etcd.endpoints, inNode: ETCD_PORT_IN_NODE} : this.apiServer ? {url: this.apiServer.url, inNode: API_PORT_IN_NODE} : undefined
    if (remote) {
      const sock = join(this.dir, `datastore-${index}.sock`)
      await startHelper(this.run, [process.execPath, '-e', RELAY_ON_HOST, sock, new URL(remote.url).port], `datastore relay (host side) for ${name}`)
      await startHelper(this.run, ['ip', 'netns', 'exec', netns, process.execPath, '-e', RELAY_IN_NODE, String(remote.inNode), sock], `datastore relay in ${name}`)
    }
    if (this.etcd) node.etcdEndpoints = `http://127.0.0.1:${ETCD_PORT_IN_NODE}`
    if (this.apiServer) {
      // On the Kubernetes datastore the Node is the cluster's; Calico keeps its BGP address in an annotation.
      node.kubeconfig = writeKubeconfig(`http://127.0.0.1:${API_PORT_IN_NODE}`, {file: join(this.dir, `kubeconfig-${name}`)})
      if (opts.nodeResource !== false) this.apiServer.seed('', 'nodes', {metadata: {name, labels, annotations: {'projectcalico.org/IPv4Address': `${address}/24`}}})
    } else if (opts.nodeResource !== false) {
      await this.client.create({
        apiVersion: 'projectcalico.org/v3',
        kind: 'Node',
        metadata: {name, labels},
        spec: {bgp: {ipv4Address: `${address}/24`}},
      })
    }
    this.nodes.push(node)
    return node
  }

  /** Writes (creates or replaces) a projectcalico.org/v3 resource, as another writer (`calicoctl apply`) would. */
  async put(kind: string, name: string, spec: object, meta: {namespace?: string; labels?: Record<string, string>} = {}): Promise<void> {
    await this.backend.apply({kind, name, namespace: meta.namespace}, {apiVersion: 'projectcalico.org/v3', kind, metadata: {name, ...meta}, spec})
  }

  /** An IPPool (defaults: no encapsulation, no NAT). */
  async addPool(name: string, cidr: string, spec: Record<string, unknown> = {}): Promise<Resource> {
    return this.client.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: {name},
      spec: {cidr, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, ...spec},
    })
  }

  /** Changes fields of a pool's spec (read, then updated with its resourceVersion). */
  async updatePool(name: string, spec: Record<string, unknown>): Promise<Resource> {
    const pool = await this.client.get('IPPool', name)
    return this.client.update({...pool, spec: {...(pool.spec as object), ...spec}})
  }

  /**
   * A calicoctl configuration file (CalicoAPIConfig) for the lab's datastore as seen from inside `node` (so also
   * for `calicoctl node run` there); written into the lab's directory, removed with it.
   */
  clientConfig(node: LabNode): string {
    const path = join(this.dir, `calicoctl-${node.name}.cfg`)
    const spec =
      this.datastore === 'etcd'
        ? `  datastoreType: etcdv3\n  etcdEndpoints: ${node.etcdEndpoints ?? ''}\n`
        : this.datastore === 'kubernetes'
          ? `  datastoreType: kubernetes\n  kubeconfig: ${node.kubeconfig ?? ''}\n`
          : `  datastoreType: embedded\n  datastorePath: ${join(this.dir, 'datastore')}\n`
    writeFileSync(path, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n${spec}`)
    return path
  }

  /** The CNI network configuration a node's kubelet would pass (the plugin entry of manifests/cni's conflist). */
  netConf(node: LabNode, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const datastore =
      this.datastore === 'etcd'
        ? {datastore_type: 'etcdv3', etcd_endpoints: node.etcdEndpoints}
        : this.datastore === 'kubernetes'
          ? {datastore_type: 'kubernetes', kubernetes: {kubeconfig: node.kubeconfig}, policy: {type: 'k8s'}}
          : {datastore_type: 'embedded', datastore_path: join(this.dir, 'datastore')}
    return {
      cniVersion: '1.0.0',
      name: this.network,
      type: 'calico',
      log_level: 'warning',
      ...datastore,
      nodename: node.name,
      mtu: this.mtu,
      ipam: {type: 'calico-ipam'},
      ...overrides,
    }
  }

  /**
   * Runs a plugin binary inside the node's namespace, as the node's container runtime would. `conf` is sent
   * verbatim when a string (malformed-config tests), else as JSON.
   */
  async cni(
    node: LabNode,
    command: string,
    call: {containerID: string; netnsPath?: string; ifName?: string; args?: Record<string, string>; conf: Record<string, unknown> | string; plugin?: PluginKind; env?: Record<string, string>},
  ): Promise<CniRun> {
    const args = {IgnoreUnknown: '1', ...(call.args ?? {})}
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      CNI_COMMAND: command,
      CNI_CONTAINERID: call.containerID,
      CNI_NETNS: call.netnsPath ?? '',
      CNI_IFNAME: call.ifName ?? 'eth0',
      CNI_PATH: join(this.dir, 'cni-bin'),
      CNI_ARGS: Object.entries(args)
        .map(([k, v]) => `${k}=${v}`)
        .join(';'),
      ...(call.env ?? {}),
    }
    const warm = warmCommand()
    if (warm) await (this.warmed ??= must(warm))
    const stdin = typeof call.conf === 'string' ? call.conf : JSON.stringify(call.conf)
    const r = await execArgv(['ip', 'netns', 'exec', node.netns, ...pluginCommand(call.plugin ?? 'calico')], {input: stdin, env, timeoutMs: 120_000})
    const run: CniRun = {exit: r.code, stdout: r.stdout, stderr: r.stderr}
    if (r.stdout.trim() !== '') {
      try {
        run.json = JSON.parse(r.stdout) as Record<string, unknown>
      } catch {
        // Left undefined: the caller sees the raw stdout.
      }
    }
    return run
  }

  /** Creates a pod namespace and runs CNI ADD for it; throws with the plugin's reply when ADD fails. */
  async addPod(node: LabNode, spec: PodSpec): Promise<LabPod> {
    const seq = ++this.podSeq
    const netns = `${this.prefix}-p${seq}`
    await this.addNetns(netns)
    const namespace = spec.namespace ?? 'default'
    const containerID = spec.containerID ?? randomBytes(32).toString('hex')
    const ifName = spec.ifName ?? 'eth0'
    const netnsPath = `/var/run/netns/${netns}`
    const run = await this.cni(node, 'ADD', {
      containerID,
      netnsPath,
      ifName,
      args: {K8S_POD_NAMESPACE: namespace, K8S_POD_NAME: spec.name, K8S_POD_INFRA_CONTAINER_ID: containerID, ...(spec.args ?? {})},
      conf: this.netConf(node, spec.conf),
    })
    if (run.exit !== 0 || !run.json) throw new Error(`CNI ADD of ${namespace}/${spec.name} failed (${run.exit}): ${run.stdout}${run.stderr}`)
    const ips = ((run.json.ips as {address: string}[] | undefined) ?? []).map((i) => i.address.split('/')[0] ?? i.address)
    const pod: LabPod = {node, namespace, name: spec.name, containerID, ifName, netnsPath, netns, ips, result: run.json}
    this.pods.add(pod)
    return pod
  }

  /** CNI DEL for the pod, then removes its namespace. Returns the plugin's reply. */
  async deletePod(pod: LabPod, conf: Record<string, unknown> = {}): Promise<CniRun> {
    const run = await this.cni(pod.node, 'DEL', {
      containerID: pod.containerID,
      netnsPath: pod.netnsPath,
      ifName: pod.ifName,
      args: {K8S_POD_NAMESPACE: pod.namespace, K8S_POD_NAME: pod.name, K8S_POD_INFRA_CONTAINER_ID: pod.containerID},
      conf: this.netConf(pod.node, conf),
    })
    if (run.exit === 0) {
      this.pods.delete(pod)
      await this.removeNetns(pod.netns)
    }
    return run
  }

  /**
   * A pod namespace on a `cali<name>` veth (or `iface`: on the Kubernetes datastore the name Calico derives from the
   * pod, vethName(namespace, pod)) with the CNI plugin's in-pod plumbing (the /32 address, a default route via
   * 169.254.1.1) and nothing on the node's side: routes and proxy ARP are the agent's job.
   */
  attachPod(node: LabNode, name: string, address: string, opts: {iface?: string} = {}): AttachedPod {
    const iface = opts.iface ?? `cali${name}`
    if (iface.length > 15) throw new Error(`attachPod: interface name ${iface} is longer than 15 characters`)
    const netns = this.run.addPod(node.netns, {suffix: `p${++this.podSeq}`, iface, address})
    return {node, name, netns, iface, ips: [address]}
  }

  /**
   * Writes (creates or replaces) the WorkloadEndpoint the Calico CNI plugin writes on an etcd-style datastore for an
   * attached pod: Kubernetes orchestrator, eth0, the namespace's profile, the namespace and orchestrator labels
   * Calico adds. Tests write it as another writer would, and again to change its labels. On the Kubernetes datastore
   * the endpoint is a view of the Pod, so this writes the Pod instead (see writePod).
   */
  async writeWorkloadEndpoint(pod: AttachedPod, opts: EndpointOptions): Promise<void> {
    if (this.apiServer) return this.writePod(this.apiServer, pod, opts)
    const spec = {
      orchestrator: 'k8s', node: pod.node.name, pod: opts.k8sPod ?? pod.name, endpoint: 'eth0', interfaceName: pod.iface,
      ipNetworks: [`${pod.ips[0]}/32`], profiles: [`kns.${opts.namespace}`], ...(opts.ports ? {ports: opts.ports} : {}),
      ...(opts.allowSpoofedSourcePrefixes ? {allowSpoofedSourcePrefixes: opts.allowSpoofedSourcePrefixes} : {}),
    }
    const name = workloadEndpointName(spec)
    await this.backend.apply({kind: 'WorkloadEndpoint', name, namespace: opts.namespace}, {
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: {name, namespace: opts.namespace, labels: {...opts.labels, 'projectcalico.org/namespace': opts.namespace, 'projectcalico.org/orchestrator': 'k8s'}},
      spec,
    })
  }

  /**
   * The running Pod behind an attached pod, as kubelet leaves it: scheduled on the pod's node, its ports as container
   * ports, Running with the pod's address in its status; allowSpoofedSourcePrefixes become Calico's annotation. A
   * rewrite (new labels) keeps the status, as a replace of a real Pod does.
   */
  private async writePod(api: TestApiServer, pod: AttachedPod, opts: EndpointOptions): Promise<void> {
    const name = opts.k8sPod ?? pod.name
    // The agent finds a Pod's interface by the name Calico derives from the Pod (the CNI plugin names the veth so).
    const iface = vethName(opts.namespace, name)
    if (pod.iface !== iface) throw new Error(`writeWorkloadEndpoint: on the Kubernetes datastore pod ${opts.namespace}/${name} must be attached on ${iface}, not ${pod.iface}`)
    const ports = (opts.ports ?? []).map((p) => ({name: p.name, containerPort: p.port, protocol: p.protocol}))
    const annotations = opts.allowSpoofedSourcePrefixes ? {'cni.projectcalico.org/allowedSourcePrefixes': JSON.stringify(opts.allowSpoofedSourcePrefixes)} : undefined
    const collection = `/api/v1/namespaces/${opts.namespace}/pods`
    const written = await kubeApply(api, collection, {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {name, labels: opts.labels ?? {}, ...(annotations ? {annotations} : {})},
      spec: {nodeName: pod.node.name, containers: [{name: 'c', image: 'registry.k8s.io/pause:3.9', ports}]},
    })
    const status = {phase: 'Running', podIP: pod.ips[0], podIPs: [{ip: pod.ips[0]}]}
    if (JSON.stringify(written.status) !== JSON.stringify(status)) await kubeRequest(api, 'PUT', `${collection}/${name}/status`, {...written, status})
  }

  /**
   * A Kubernetes namespace's labels as the agent sees them: on the Kubernetes datastore the core Namespace, elsewhere
   * the `kns.<name>` Profile Calico's kube-controllers write for it. Creates or replaces.
   */
  async writeNamespace(name: string, labels: Record<string, string>): Promise<void> {
    if (this.apiServer) {
      await kubeApply(this.apiServer, '/api/v1/namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name, labels}})
      return
    }
    const profile = namespaceProfile(name, labels)
    await this.backend.apply({kind: 'Profile', name: profile.metadata.name!}, profile)
  }

  /** An empty namespace for a pod whose ADD the test runs itself. */
  async addPodNetns(): Promise<{netns: string; netnsPath: string}> {
    const netns = `${this.prefix}-p${++this.podSeq}`
    await this.addNetns(netns)
    return {netns, netnsPath: `/var/run/netns/${netns}`}
  }

  async removeNetns(name: string): Promise<void> {
    await execArgv(['ip', 'netns', 'delete', name])
    this.run.releaseNetns(name)
  }

  /** Starts TCP and UDP echo servers on `ports` in a pod or node namespace (one process); they stop with the lab. */
  async serve(where: {netns: string; name: string}, ports: number | readonly number[]): Promise<void> {
    await this.run.listen(where.netns, typeof ports === 'number' ? [ports] : ports, {udp: true})
  }

  /** Probes from inside a pod or node namespace (TCP must echo, UDP must answer); one boolean per target, in order. */
  probe(from: {netns: string}, targets: readonly ProbeTarget[], timeoutMs = 2000): Promise<boolean[]> {
    return this.run.probeAsync(from.netns, targets, timeoutMs)
  }

  /** HTTP GET of `http://127.0.0.1:<port><path>` inside a namespace (the agent's health and metrics ports). */
  async httpGet(where: {netns: string}, port: number, path: string, timeoutMs = 5000): Promise<{status: number; body: string}> {
    const out = await this.inNs(where.netns, [process.execPath, '-e', HTTP_GET, `http://127.0.0.1:${port}${path}`, String(timeoutMs)])
    return JSON.parse(out) as {status: number; body: string}
  }

  /** Registers a long-running process of the caller's (e.g. a node agent): killed by destroy(), and on exit. */
  adopt(child: ChildProcess): void {
    this.run.adopt(child)
  }

  /** Removes everything the lab made. Idempotent; safe after a partial start. */
  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    // Kills the processes, then deletes the namespaces newest first (pods before their node, nodes before the fabric).
    this.run.destroy()
    await this.backend.close().catch(() => undefined)
    await this.etcd?.stop()
    await this.apiServer?.stop()
    rmSync(this.dir, {recursive: true, force: true})
    untrackDir(this.dir)
  }
}
