// Network-namespace primitives shared by the root tests: running `ip`, executing inside a namespace, a per-run name
// prefix, a "node" namespace with pods on cali* veths, and small Node programs that listen and probe over TCP/UDP.
//
// Safety: every namespace is created by a NetnsRun whose prefix carries the creating pid (`<tag>-<pid>-<hex6>`);
// NetnsRun.destroy() (tests call it in afterAll) removes its namespaces, which take their links, routes and nft
// tables with them, and kills its processes. As a last resort the same happens when the process exits or is
// interrupted, and namespaces left by a run that was SIGKILLed are swept by the next one (their pid is dead). The
// host namespace is never given an address, route or link.
import {execFileSync, spawn, spawnSync, type ChildProcess, type StdioOptions} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {execArgv} from './exec.js'
import {atExit} from './exit.js'

/** Why namespace tests cannot run here (not root, `ip` or `nft` missing), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and nftables)'
  for (const [cmd, arg] of [['nft', '--version'], ['ip', '-V']] as const) {
    if (spawnSync(cmd, [arg], {stdio: 'ignore'}).status !== 0) return `needs the ${cmd} tool`
  }
  return undefined
}

/** Runs `ip` with `args`; returns stdout, throws (with stderr) when it fails. */
export function ip(...args: string[]): string {
  return execFileSync('ip', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
}

/**
 * Runs `cmd args` inside namespace `ns` (optionally feeding `input`); returns stdout, throws when it fails. Output of
 * up to 256 MiB is read (a large nft table listing is several MB, beyond execFileSync's default of 1 MiB).
 */
export function inNs(ns: string, cmd: string, args: readonly string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 28})
}

/** As inNs, without blocking the event loop (for work that overlaps other processes the test talks to). */
export async function inNsAsync(ns: string, cmd: string, args: readonly string[]): Promise<string> {
  const r = await execArgv(['ip', 'netns', 'exec', ns, cmd, ...args])
  if (r.code !== 0) throw new Error(`${cmd} in ${ns} failed (${r.code}): ${r.stderr.trim()}`)
  return r.stdout
}

export type Proto = 'tcp' | 'udp'

/** `[address, port, protocol]`; the protocol defaults to TCP. */
export type ProbeTarget = readonly [string, number, Proto?]

/**
 * Echo server on each port of argv[1] (comma-separated), on all IPv4 and IPv6 addresses: TCP, plus UDP unless argv[2]
 * is `tcp`. A TCP peer gets back what it sent; a UDP datagram is answered with the same bytes. Prints `ready` once
 * every socket is bound; exits when its stdin closes, i.e. with the test process that spawned it.
 */
export const ECHO_SERVER = `
const net = require('node:net'), dgram = require('node:dgram')
const ports = process.argv[1].split(',').map(Number), udp = process.argv[2] !== 'tcp'
let pending = ports.length * (udp ? 2 : 1)
const ready = () => { if (--pending === 0) process.stdout.write('ready\\n') }
for (const port of ports) {
  net.createServer((s) => { s.on('data', (d) => s.end(d)); s.on('error', () => s.destroy()) }).listen({port, host: '::', ipv6Only: false}, ready)
  if (udp) {
    const u = dgram.createSocket({type: 'udp6', ipv6Only: false})
    u.on('message', (m, r) => u.send(m, r.port, r.address))
    u.bind(port, '::', ready)
  }
}
process.stdin.on('end', () => process.exit(0)); process.stdin.resume()
`

/**
 * Probes the targets of argv[1] (JSON `[[address, port, "tcp"|"udp"], ...]`, IPv4 or IPv6) concurrently and prints a
 * JSON array of booleans: TCP succeeds when a token sent over the connection is echoed back (so data flows both ways,
 * not only the handshake), UDP when the datagram comes back (sent up to 3 times). A probe gives up after argv[2] ms,
 * except that a TCP connection that is up gets ECHO_GRACE_MS for its echo: policy decides at the handshake, and on a
 * loaded machine the echo server may take a while to be scheduled (a closed path still fails after argv[2] ms).
 */
export const PROBE = `
const net = require('node:net'), dgram = require('node:dgram')
const targets = JSON.parse(process.argv[1]), timeout = Number(process.argv[2] || 2000)
const ECHO_GRACE_MS = 3000
const tcp = (host, port) => new Promise((resolve) => {
  const token = 'probe-' + Math.random()
  let got = ''
  const s = net.connect({host, port})
  const done = (ok) => { clearTimeout(t); s.destroy(); resolve(ok) }
  let t = setTimeout(() => done(false), timeout)
  s.on('connect', () => {
    clearTimeout(t)
    t = setTimeout(() => done(false), Math.max(timeout, ECHO_GRACE_MS))
    s.write(token)
  })
  s.on('data', (d) => { got += d; if (got === token) done(true) })
  s.on('error', () => done(false))
})
const udp = (host, port) => new Promise((resolve) => {
  const token = Buffer.from('probe-' + Math.random())
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4')
  let tries = 0
  const send = () => { if (tries++ < 3) s.send(token, port, host, () => undefined) }
  const done = (ok) => { clearTimeout(t); clearInterval(i); s.close(); resolve(ok) }
  const t = setTimeout(() => done(false), timeout)
  const i = setInterval(send, Math.max(50, timeout / 4))
  s.on('message', (m) => { if (m.equals(token)) done(true) })
  s.on('error', () => done(false))
  send()
})
Promise.all(targets.map(([h, p, proto]) => (proto === 'udp' ? udp(h, p) : tcp(h, p))))
  .then((r) => process.stdout.write(JSON.stringify(r)))
`

/** The uplink every node namespace gets: proxy ARP answers for 169.254.1.1 only when the node can route it elsewhere. */
export const NODE_UPLINK = {iface: 'up0', address: '192.0.2.1/24', gateway: '192.0.2.254'} as const

/** The gateway a Calico workload routes through (answered by proxy ARP on the host side of its veth). */
export const WORKLOAD_GATEWAY = '169.254.1.1'

export interface PodOptions {
  /** Namespace name suffix (the run's prefix is prepended). */
  suffix: string
  /** Host-side veth name in the node namespace (at most 15 characters). */
  iface: string
  /** The pod's IPv4 address (a /32 on its eth0). */
  address: string
  /**
   * Also program the node side as the agent would (a /32 route to the pod, proxy ARP without delay). Tests of the
   * agent leave this off: that is the agent's job.
   */
  hostSide?: boolean
}

const PREFIX_RE = /^([a-z]{2,4})-(\d+)-[0-9a-f]{6}-/
const liveRuns = new Set<NetnsRun>()
let swept = false

function deleteNetns(name: string): void {
  spawnSync('ip', ['netns', 'delete', name], {stdio: 'ignore'})
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Deletes namespaces named `<tag>-<pid>-<hex6>-…` whose creating process no longer exists (a run that was killed
 * before it could clean up). Returns the names removed.
 */
export function sweepStaleNetns(): string[] {
  const listed = spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'})
  if (listed.status !== 0) return []
  const removed: string[] = []
  for (const line of listed.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? ''
    const m = PREFIX_RE.exec(name)
    if (!m) continue
    const pid = Number(m[2])
    if (pid !== process.pid && !pidAlive(pid)) {
      deleteNetns(name)
      removed.push(name)
    }
  }
  return removed
}

function destroyAllSync(): void {
  for (const run of [...liveRuns]) run.destroy()
}

/** The namespaces and processes of one test run, all named `<tag>-<pid>-<hex6>-<suffix>`. */
export class NetnsRun {
  readonly prefix: string
  private readonly namespaces: string[] = []
  private readonly children = new Set<ChildProcess>()
  private destroyed = false

  /** `tag`: 2 to 4 lowercase letters naming the test (it shows in `ip netns list` when something is left). */
  constructor(tag: string) {
    if (!/^[a-z]{2,4}$/.test(tag)) throw new Error(`netns run tag must be 2-4 lowercase letters: ${tag}`)
    if (!swept) {
      swept = true
      sweepStaleNetns()
    }
    atExit(destroyAllSync)
    this.prefix = `${tag}-${process.pid}-${randomBytes(3).toString('hex')}`
    liveRuns.add(this)
  }

  /** Creates the namespace `<prefix>-<suffix>` with its loopback up; returns its name. */
  addNetns(suffix: string): string {
    const name = `${this.prefix}-${suffix}`
    this.adoptNetns(name)
    ip('netns', 'add', name)
    ip('-n', name, 'link', 'set', 'lo', 'up')
    return name
  }

  /**
   * A node namespace with an uplink holding NODE_UPLINK's address and a default route, as a real node has (proxy
   * ARP for the workload gateway depends on it). `forwarding` turns IPv4 forwarding on; tests of the agent leave it
   * off, since setting it is the agent's job.
   */
  addNode(suffix = 'node', opts: {forwarding?: boolean} = {}): string {
    const ns = this.addNetns(suffix)
    if (opts.forwarding) inNs(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1'])
    ip('-n', ns, 'link', 'add', NODE_UPLINK.iface, 'type', 'veth', 'peer', 'name', 'up1')
    ip('-n', ns, 'link', 'set', NODE_UPLINK.iface, 'up')
    ip('-n', ns, 'link', 'set', 'up1', 'up')
    ip('-n', ns, 'addr', 'add', NODE_UPLINK.address, 'dev', NODE_UPLINK.iface)
    ip('-n', ns, 'route', 'add', 'default', 'via', NODE_UPLINK.gateway, 'dev', NODE_UPLINK.iface, 'onlink')
    return ns
  }

  /**
   * A pod namespace attached to `node` by a veth (`opts.iface` on the node, eth0 in the pod) with the CNI plugin's
   * in-pod plumbing: its /32 address and a default route via the link-scoped workload gateway. Returns its name.
   */
  addPod(node: string, opts: PodOptions): string {
    const ns = this.addNetns(opts.suffix)
    ip('-n', node, 'link', 'add', opts.iface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
    ip('-n', node, 'link', 'set', opts.iface, 'up')
    if (opts.hostSide) {
      inNs(node, 'sysctl', ['-qw', `net.ipv4.conf.${opts.iface}.proxy_arp=1`, `net.ipv4.neigh.${opts.iface}.proxy_delay=0`])
      ip('-n', node, 'route', 'add', `${opts.address}/32`, 'dev', opts.iface)
    }
    ip('-n', ns, 'link', 'set', 'eth0', 'up')
    ip('-n', ns, 'addr', 'add', `${opts.address}/32`, 'dev', 'eth0')
    ip('-n', ns, 'route', 'add', WORKLOAD_GATEWAY, 'dev', 'eth0', 'scope', 'link')
    ip('-n', ns, 'route', 'add', 'default', 'via', WORKLOAD_GATEWAY, 'dev', 'eth0')
    return ns
  }

  /**
   * Starts `argv` inside `ns` as a process of this run (killed by destroy()). By default stdin is a pipe that stays
   * open until then (the scripts here exit when it closes), stdout is piped and stderr inherited.
   */
  spawnIn(ns: string, argv: readonly string[], opts: {env?: NodeJS.ProcessEnv; stdio?: StdioOptions} = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], {stdio: opts.stdio ?? ['pipe', 'pipe', 'inherit'], env: opts.env ?? process.env})
    this.adopt(child)
    return child
  }

  /** Makes a process the caller started one of this run's: destroy() (and the exit hooks) kill it. */
  adopt(child: ChildProcess): void {
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
  }

  /**
   * Registers the namespace `name` (it must start with the run's prefix) that the caller creates itself, for one
   * thing without blocking the event loop: destroy() and the exit hooks delete it like the run's own. Call it before
   * creating the namespace, so a half-made one is removed too.
   */
  adoptNetns(name: string): void {
    if (!name.startsWith(`${this.prefix}-`)) throw new Error(`namespace ${name} is not under this run's prefix ${this.prefix}`)
    this.namespaces.push(name)
  }

  /** Forgets a namespace the caller has deleted itself. */
  releaseNetns(name: string): void {
    const i = this.namespaces.indexOf(name)
    if (i >= 0) this.namespaces.splice(i, 1)
  }

  /** Echo servers on `ports` in `ns` (TCP, plus UDP when `udp`), one process; resolves once every socket is bound. */
  async listen(ns: string, ports: readonly number[], opts: {udp?: boolean} = {}): Promise<void> {
    const child = this.spawnIn(ns, [process.execPath, '-e', ECHO_SERVER, ports.join(','), opts.udp ? 'tcp,udp' : 'tcp'])
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve())
      child.once('exit', (code) => reject(new Error(`listener in ${ns} exited (${code})`)))
    })
  }

  /** Probes `targets` from inside `ns`; one boolean per target, in order. Blocks until all have answered. */
  probe(ns: string, targets: readonly ProbeTarget[], timeoutMs: number): boolean[] {
    return JSON.parse(inNs(ns, process.execPath, ['-e', PROBE, JSON.stringify(targets), String(timeoutMs)])) as boolean[]
  }

  /** As probe(), without blocking the event loop. */
  async probeAsync(ns: string, targets: readonly ProbeTarget[], timeoutMs: number): Promise<boolean[]> {
    return JSON.parse(await inNsAsync(ns, process.execPath, ['-e', PROBE, JSON.stringify(targets), String(timeoutMs)])) as boolean[]
  }

  /** Kills the run's processes and deletes its namespaces (newest first). Idempotent and synchronous. */
  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    liveRuns.delete(this)
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    this.children.clear()
    for (const ns of this.namespaces.reverse()) deleteNetns(ns)
    this.namespaces.length = 0
  }
}
