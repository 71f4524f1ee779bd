// A minimal node-and-pods lab for the agent tests and bench: a "node" network namespace with an uplink, and pods as
// namespaces attached by cali* veths with the CNI's in-pod plumbing (169.254.1.1 gateway). The host side gets no
// route or sysctl here: programming those is the agent's job. Everything is named with a per-run prefix and
// removed by destroy(), which tests call in afterAll (also on failure). Engineer I's test/lab (real CNI plugin) had
// not landed when this was written.
import {execFileSync, spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {createConnection, createServer, type Server} from 'node:net'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CALICOCTL = join(ROOT, 'bin', 'calicoctl')

/** Why the kernel tests cannot run here, or undefined when they can. */
export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and nftables)'
  for (const [cmd, arg] of [['nft', '--version'], ['ip', '-V']] as const) {
    if (spawnSync(cmd, [arg], {stdio: 'ignore'}).status !== 0) return `needs the ${cmd} tool`
  }
  if (!existsSync(join(ROOT, 'dist', 'commands', 'node', 'run.js')) || !existsSync(join(ROOT, 'oclif.manifest.json'))) {
    return 'dist/ is missing: run `npm run build` first (npm test does)'
  }
  return undefined
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
}

export function inNs(ns: string, cmd: string, args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe']})
}

const LISTEN = `
const net = require('node:net')
for (const port of process.argv[1].split(',').map(Number)) net.createServer((s) => s.end()).listen(port, '0.0.0.0')
process.stdout.write('up\\n')
`

const PROBE = `
const net = require('node:net')
const targets = JSON.parse(process.argv[1])
Promise.all(targets.map(([host, port]) => new Promise((resolve) => {
  const s = net.connect({host, port, timeout: 400})
  const done = (ok) => { s.destroy(); resolve(ok) }
  s.on('connect', () => done(true)); s.on('timeout', () => done(false)); s.on('error', () => done(false))
}))).then((r) => process.stdout.write(JSON.stringify(r)))
`

export interface Pod {
  name: string
  ns: string
  iface: string
  ip: string
}

export class Lab {
  readonly prefix = `ja${process.pid % 100000}${Math.random().toString(36).slice(2, 5)}`
  readonly nodeNs = `${this.prefix}-node`
  readonly dir = mkdtempSync(join(tmpdir(), 'agent-lab-'))
  readonly configPath = join(this.dir, 'calicoctl.cfg')
  readonly storeDir = join(this.dir, 'store')
  readonly pods = new Map<string, Pod>()
  private readonly namespaces: string[] = []
  private readonly children: ChildProcess[] = []
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
    ip('netns', 'add', this.nodeNs)
    this.namespaces.push(this.nodeNs)
    ip('-n', this.nodeNs, 'link', 'set', 'lo', 'up')
    // Proxy ARP only answers for 169.254.1.1 when the node has a route to it through another interface.
    ip('-n', this.nodeNs, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1')
    ip('-n', this.nodeNs, 'link', 'set', 'up0', 'up')
    ip('-n', this.nodeNs, 'link', 'set', 'up1', 'up')
    ip('-n', this.nodeNs, 'addr', 'add', '192.0.2.1/24', 'dev', 'up0')
    ip('-n', this.nodeNs, 'route', 'add', 'default', 'via', '192.0.2.254', 'dev', 'up0', 'onlink')
  }

  /** A pod namespace on a cali veth, listening on `ports` (TCP). */
  async addPod(name: string, podIP: string, ports: number[] = []): Promise<Pod> {
    const ns = `${this.prefix}-${name}`
    const iface = `cali${this.prefix.slice(-5)}${name}`.slice(0, 15)
    ip('netns', 'add', ns)
    this.namespaces.push(ns)
    ip('-n', this.nodeNs, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
    ip('-n', this.nodeNs, 'link', 'set', iface, 'up')
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    ip('-n', ns, 'link', 'set', 'eth0', 'up')
    ip('-n', ns, 'addr', 'add', `${podIP}/32`, 'dev', 'eth0')
    ip('-n', ns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link')
    ip('-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0')
    if (ports.length > 0) {
      const l = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', LISTEN, ports.join(',')], {stdio: ['ignore', 'pipe', 'inherit']})
      this.children.push(l)
      await new Promise<void>((resolve) => l.stdout!.once('data', () => resolve()))
    }
    const pod = {name, ns, iface, ip: podIP}
    this.pods.set(name, pod)
    return pod
  }

  /** TCP connects from `from` to each (pod, port); true where the connection was accepted. */
  probe(from: string, targets: [string, number][]): boolean[] {
    const src = this.pods.get(from)!
    const addrs = targets.map(([to, port]) => [this.pods.get(to)!.ip, port])
    return JSON.parse(inNs(src.ns, process.execPath, ['-e', PROBE, JSON.stringify(addrs)])) as boolean[]
  }

  /** As probe(), without blocking the event loop (for probing while other things happen). */
  probeAsync(from: string, targets: [string, number][]): Promise<boolean[]> {
    const src = this.pods.get(from)!
    const addrs = targets.map(([to, port]) => [this.pods.get(to)!.ip, port])
    return new Promise((resolve, reject) => {
      const c = spawn('ip', ['netns', 'exec', src.ns, process.execPath, '-e', PROBE, JSON.stringify(addrs)], {stdio: ['ignore', 'pipe', 'inherit']})
      let out = ''
      c.stdout!.on('data', (b: Buffer) => (out += b.toString()))
      c.on('error', reject)
      c.on('close', () => {
        try {
          resolve(JSON.parse(out) as boolean[])
        } catch (err) {
          reject(err as Error)
        }
      })
    })
  }

  /** Starts `calicoctl node run` inside the node namespace; stderr is collected in `log`. */
  startAgent(args: string[], env: NodeJS.ProcessEnv = process.env): AgentProcess {
    const child = spawn('ip', ['netns', 'exec', this.nodeNs, process.execPath, CALICOCTL, 'node', 'run', '-c', this.configPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    })
    this.children.push(child)
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
    const child = spawn('ip', ['netns', 'exec', this.nodeNs, process.execPath, '-e', script, sock], {stdio: ['ignore', 'pipe', 'inherit']})
    this.children.push(child)
    return new Promise<number>((resolve) => child.stdout!.once('data', (b: Buffer) => resolve(Number(b.toString().trim()))))
  }

  /** Points the agent's config at an etcd (endpoints as seen from inside the node namespace). */
  useEtcd(endpoints: string): void {
    writeFileSync(this.configPath, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: ${endpoints}\n`)
  }

  destroy(): void {
    for (const s of this.servers) s.close()
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    for (const ns of this.namespaces.reverse()) spawnSync('ip', ['netns', 'delete', ns], {stdio: 'ignore'})
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

/** Polls `fn` until it returns true or `timeoutMs` passes; returns the last result. */
export async function waitFor(fn: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await fn()) return true
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
