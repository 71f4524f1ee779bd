// Real packets through the rendered table: a "node" network namespace running our nftables table and routing for
// workload namespaces attached by cali* veths (the CNI's plumbing: /32 routes, proxy ARP, 169.254.1.1 gateway).
// Every probe is also judged by the table evaluator, so the evaluator's model of nft is checked against the kernel.
// All namespaces are created here with a per-run prefix and deleted in afterAll, also on failure.
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {computePolicyState, namespaceProfile, type CalcResource} from '../../src/dataplane/calc/index.js'
import {TableEvaluator, diffTables, renderFullScript, renderTable, type NftTable} from '../../src/dataplane/nftables/index.js'

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

const canRun = available()
const prefix = `hk${process.pid % 100000}${Math.random().toString(36).slice(2, 5)}`
const NODE_NS = `${prefix}-node`
const PODS = ['a', 'b', 'c'] as const
const podNs = (p: string): string => `${prefix}-${p}`
const podIP = (p: string): string => `10.66.0.${10 + PODS.indexOf(p as 'a')}`
const podIface = (p: string): string => `cali${prefix.slice(-4)}${p}`
const created: string[] = []
const listeners: ChildProcess[] = []

function ip(...args: string[]): void {
  execFileSync('ip', args, {stdio: ['ignore', 'ignore', 'pipe']})
}

function inNs(ns: string, cmd: string, args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe']})
}

const LISTEN = `
const net = require('node:net')
for (const port of [80, 81]) net.createServer((s) => s.end()).listen(port, '0.0.0.0')
setTimeout(() => process.exit(0), 120000)
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

function resources(policies: CalcResource[]): CalcResource[] {
  return [
    namespaceProfile('t', {}),
    ...PODS.map((p): CalcResource => ({
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: {name: `pod-${p}`, namespace: 't', labels: {pod: p}},
      spec: {node: 'kn', interfaceName: podIface(p), ipNetworks: [`${podIP(p)}/32`], profiles: ['kns.t'], ports: [{name: 'web', protocol: 'TCP', port: 81}]},
    })),
    ...policies,
  ]
}

/** Applies `script` (default: the full start-up script of `table`) in the node, then probes every pod pair. */
function probeAll(table: NftTable, script = renderFullScript(table)): {kernel: Record<string, boolean>; model: Record<string, boolean>} {
  if (script !== '') inNs(NODE_NS, 'nft', ['-f', '-'], script)
  const ev = new TableEvaluator(table)
  const kernel: Record<string, boolean> = {}
  const model: Record<string, boolean> = {}
  for (const from of PODS) {
    const targets = PODS.filter((t) => t !== from).flatMap((t) => [80, 81].map((port) => [podIP(t), port] as const))
    const res = JSON.parse(inNs(podNs(from), process.execPath, ['-e', PROBE, JSON.stringify(targets)])) as boolean[]
    targets.forEach(([host, port], i) => {
      const to = PODS[Number(host.split('.')[3]) - 10]!
      const key = `${from}>${to}:${port}`
      kernel[key] = res[i]!
      model[key] =
        ev.evaluatePath(['prerouting', 'forward'], {family: 4, saddr: podIP(from), daddr: host, proto: 6, sport: 40000, dport: port, iifname: podIface(from), oifname: podIface(to), ctState: 'new'}).verdict === 'accept'
    })
  }
  return {kernel, model}
}

describe.skipIf(!canRun)('real traffic through the rendered table (private network namespaces)', () => {
  beforeAll(async () => {
    ip('netns', 'add', NODE_NS)
    created.push(NODE_NS)
    inNs(NODE_NS, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1'])
    ip('-n', NODE_NS, 'link', 'set', 'lo', 'up')
    // An uplink with an address and a default route: proxy ARP only answers for 169.254.1.1 when the node has a
    // route to it through another interface, as a real node does.
    ip('-n', NODE_NS, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1')
    ip('-n', NODE_NS, 'link', 'set', 'up0', 'up')
    ip('-n', NODE_NS, 'link', 'set', 'up1', 'up')
    ip('-n', NODE_NS, 'addr', 'add', '192.0.2.1/24', 'dev', 'up0')
    ip('-n', NODE_NS, 'route', 'add', 'default', 'via', '192.0.2.254', 'dev', 'up0', 'onlink')
    for (const p of PODS) {
      const ns = podNs(p)
      ip('netns', 'add', ns)
      created.push(ns)
      ip('-n', NODE_NS, 'link', 'add', podIface(p), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      ip('-n', NODE_NS, 'link', 'set', podIface(p), 'up')
      inNs(NODE_NS, 'sysctl', ['-qw', `net.ipv4.conf.${podIface(p)}.proxy_arp=1`, `net.ipv4.neigh.${podIface(p)}.proxy_delay=0`])
      ip('-n', NODE_NS, 'route', 'add', `${podIP(p)}/32`, 'dev', podIface(p))
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip('-n', ns, 'link', 'set', 'eth0', 'up')
      ip('-n', ns, 'addr', 'add', `${podIP(p)}/32`, 'dev', 'eth0')
      ip('-n', ns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link')
      ip('-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0')
      const l = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', LISTEN], {stdio: ['ignore', 'pipe', 'inherit']})
      listeners.push(l)
      await new Promise<void>((resolve) => l.stdout!.once('data', () => resolve()))
    }
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

  let open: NftTable

  it('profile only: everything connects', () => {
    open = renderTable(computePolicyState('kn', resources([])))
    const {kernel, model} = probeAll(open)
    expect(Object.values(kernel).every(Boolean)).toBe(true)
    expect(kernel).toEqual(model)
  })

  it('tiers, Pass, named port, deny (applied as a delta): kernel and evaluator agree cell by cell', () => {
    const v3 = 'projectcalico.org/v3'
    const table = renderTable(computePolicyState('kn', resources([
      {apiVersion: v3, kind: 'Tier', metadata: {name: 'sec'}, spec: {order: 10, defaultAction: 'Deny'}},
      // a: only b may reach it, and only on the named port (81).
      {apiVersion: v3, kind: 'NetworkPolicy', metadata: {name: 'a-in', namespace: 't'}, spec: {selector: "pod == 'a'", ingress: [{action: 'Allow', protocol: 'TCP', source: {selector: "pod == 'b'"}, destination: {ports: ['web']}}]}},
      // sec tier: c's egress to port 80 is passed on, everything else from c is denied at the end of the tier.
      {apiVersion: v3, kind: 'GlobalNetworkPolicy', metadata: {name: 'sec.c-out'}, spec: {tier: 'sec', selector: "pod == 'c'", types: ['Egress'], egress: [{action: 'Pass', protocol: 'TCP', destination: {ports: [80]}}]}},
    ])))
    const {kernel, model} = probeAll(table, diffTables(open, table).script)
    expect(kernel).toEqual(model)
    expect(kernel).toMatchObject({'b>a:81': true, 'b>a:80': false, 'c>a:81': false, 'c>b:80': true, 'c>b:81': false, 'a>b:81': true})
  })
})
