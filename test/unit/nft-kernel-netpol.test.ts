// The netpol conformance truth tables with real packets: 9 pod network namespaces behind a node namespace that runs
// the rendered table, each step applied to the live table as a delta, TCP and UDP probes from inside the pods.
// A representative subset runs by default; NETPOL_KERNEL_ALL=1 runs every case. Namespaces use a per-run prefix and
// are deleted in afterAll, also on failure.
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {diffTables, renderFullScript, renderTable} from '../../src/dataplane/nftables/index.js'
import {ALL_PODS, NetpolWorld, loadCases, parseTable, podIP, podIface} from './nft-netpol-harness.js'

function available(): boolean {
  if (process.getuid?.() !== 0) return false
  try {
    execFileSync('nft', ['--version'], {stdio: 'ignore'})
    execFileSync('ip', ['-V'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

const DEFAULT_CASES = new Set([
  'e2e-14-ports',
  'e2e-18-ingress-named-port-from-namespace',
  'e2e-28-deny-egress-client-side',
  'e2e-35-egress-cidr-except',
  'e2e-43-udp-default-deny-ingress',
  'calico-05-pass-skips-rest-of-default-tier',
  'calico-07-tier-default-action-pass',
  'calico-15-port-range-and-named-port',
])

const canRun = available()
const prefix = `hp${process.pid % 100000}${Math.random().toString(36).slice(2, 5)}`
const NODE_NS = `${prefix}-node`
const podNs = (pod: string): string => `${prefix}-${pod.replace('/', '')}`
const created: string[] = []
const listeners: ChildProcess[] = []

function ip(...args: string[]): void {
  execFileSync('ip', args, {stdio: ['ignore', 'ignore', 'pipe']})
}

function inNs(ns: string, cmd: string, args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe']})
}

const LISTEN = `
const net = require('node:net'), dgram = require('node:dgram')
for (const port of [80, 81]) {
  net.createServer((s) => s.end()).listen(port, '0.0.0.0')
  const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send(m, r.port, r.address)); u.bind(port, '0.0.0.0')
}
setTimeout(() => process.exit(0), 600000)
setTimeout(() => process.stdout.write('up\\n'), 100)
`

const PROBE = `
const net = require('node:net'), dgram = require('node:dgram')
const [proto, port, hosts] = [process.argv[1], Number(process.argv[2]), JSON.parse(process.argv[3])]
const tcp = (host) => new Promise((resolve) => {
  const s = net.connect({host, port, timeout: 1000})
  const done = (ok) => { s.destroy(); resolve(ok) }
  s.on('connect', () => done(true)); s.on('timeout', () => done(false)); s.on('error', () => done(false))
})
const udp = (host) => new Promise((resolve) => {
  const s = dgram.createSocket('udp4')
  const t = setTimeout(() => { s.close(); resolve(false) }, 1000)
  s.on('message', () => { clearTimeout(t); s.close(); resolve(true) })
  s.on('error', () => { clearTimeout(t); s.close(); resolve(false) })
  s.send('ping', port, host)
})
Promise.all(hosts.map(proto === 'TCP' ? tcp : udp)).then((r) => process.stdout.write(JSON.stringify(r)))
`

function runIn(ns: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => (err += d.toString()))
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`probe in ${ns} failed: ${err}`))))
  })
}

/** Every client probes every other pod at once; returns `from>to` → connected. */
async function probe(protocol: 'TCP' | 'UDP', port: number): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>()
  await Promise.all(
    ALL_PODS.map(async (from) => {
      const targets = ALL_PODS.filter((t) => t !== from)
      const res = JSON.parse(await runIn(podNs(from), ['-e', PROBE, protocol, String(port), JSON.stringify(targets.map(podIP))])) as boolean[]
      targets.forEach((to, i) => out.set(`${from}>${to}`, res[i]!))
    }),
  )
  return out
}

const fixtures = join(import.meta.dirname, '../fixtures/netpol')
const allCases = [...loadCases(join(fixtures, 'cases')), ...loadCases(join(fixtures, 'calico-cases'))]
const cases = process.env['NETPOL_KERNEL_ALL'] === '1' ? allCases : allCases.filter((c) => DEFAULT_CASES.has(c.id))

describe.skipIf(!canRun)('netpol truth tables with real packets (private network namespaces)', () => {
  beforeAll(async () => {
    ip('netns', 'add', NODE_NS)
    created.push(NODE_NS)
    inNs(NODE_NS, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1'])
    ip('-n', NODE_NS, 'link', 'set', 'lo', 'up')
    // Uplink with a default route: proxy ARP answers for 169.254.1.1 only when the node can route it elsewhere.
    ip('-n', NODE_NS, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1')
    ip('-n', NODE_NS, 'link', 'set', 'up0', 'up')
    ip('-n', NODE_NS, 'link', 'set', 'up1', 'up')
    ip('-n', NODE_NS, 'addr', 'add', '192.0.2.1/24', 'dev', 'up0')
    ip('-n', NODE_NS, 'route', 'add', 'default', 'via', '192.0.2.254', 'dev', 'up0', 'onlink')
    const ready: Promise<void>[] = []
    for (const pod of ALL_PODS) {
      const ns = podNs(pod)
      const iface = podIface(pod)
      ip('netns', 'add', ns)
      created.push(ns)
      ip('-n', NODE_NS, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      ip('-n', NODE_NS, 'link', 'set', iface, 'up')
      inNs(NODE_NS, 'sysctl', ['-qw', `net.ipv4.conf.${iface}.proxy_arp=1`, `net.ipv4.neigh.${iface}.proxy_delay=0`])
      ip('-n', NODE_NS, 'route', 'add', `${podIP(pod)}/32`, 'dev', iface)
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip('-n', ns, 'link', 'set', 'eth0', 'up')
      ip('-n', ns, 'addr', 'add', `${podIP(pod)}/32`, 'dev', 'eth0')
      ip('-n', ns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link')
      ip('-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0')
      const l = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', LISTEN], {stdio: ['ignore', 'pipe', 'inherit']})
      listeners.push(l)
      ready.push(new Promise<void>((resolve) => l.stdout!.once('data', () => resolve())))
    }
    await Promise.all(ready)
  })

  afterAll(() => {
    for (const l of listeners) l.kill()
    for (const ns of created.reverse()) {
      try {
        ip('netns', 'delete', ns)
      } catch {
        // already gone
      }
    }
  })

  it('runs a representative set of cases', () => expect(cases.length).toBeGreaterThanOrEqual(DEFAULT_CASES.size))

  for (const c of cases) {
    it(c.id, async () => {
      const world = new NetpolWorld()
      let prev = renderTable(world.calc.state())
      // Each case starts from a freshly replaced table, then moves step by step with deltas only.
      inNs(NODE_NS, 'nft', ['-f', '-'], renderFullScript(prev))
      for (const step of c.steps) {
        for (const a of step.actions) world.act(a)
        const next = renderTable(world.calc.state())
        const delta = diffTables(prev, next).script
        if (delta !== '') inNs(NODE_NS, 'nft', ['-f', '-'], delta)
        prev = next
        for (const p of step.probes ?? []) {
          const expected = parseTable(p.expected)
          const actual = await probe(p.protocol, p.port)
          const bad = [...actual].filter(([k, v]) => expected.get(k) !== v).map(([k, v]) => `${k} ${v ? 'connected' : 'blocked'}`)
          expect(bad, `${step.name} ${p.protocol}/${p.port}`).toEqual([])
        }
      }
    })
  }
})
