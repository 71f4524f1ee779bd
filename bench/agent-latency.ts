// Policy change latency at scale (issue 4 target b: p99 under 100 ms): with 1,000 policies active, one policy is
// switched between Allow and Deny by writing it to the datastore directly, and a prober in a real pod namespace sees
// when the verdict changes. Root only. Run: npm run build && npm run bench:build && node build/bench/agent-latency.js
//
// The node namespace holds two real pods on cali veths, a server (app=app0: 1/50 of the policies select it) and a
// client; the other local and remote endpoints are synthetic. The prober starts a TCP connect to the server every
// PROBE_INTERVAL_MS (each a new flow, so conntrack never answers for the policy) and reports each attempt's start
// time and result; a change's latency is from just before the datastore write to the start of the first attempt
// from which on every attempt shows the new verdict. Resolution is the probe interval.
//
// Also printed: the CPU the agent and every process it started (nft -f, the read-backs, nft monitor) used over the
// changes, per change, which is what competes with the next change on a busy node.
// Knobs: BENCH_CHANGES (default 60; use 300+ for a p99 that is not just the maximum), BENCH_VERBOSE=1 (agent log),
// and the scale ones of agent-scale.ts.
import {readFileSync} from 'node:fs'
import {median, percentile} from './lib.js'
import {type BenchStore, withBenchLab, NAMESPACE, NODE, V3, cpuOf, requireRoot, scaleFromEnv, scaleResources, startAgent, workloadEndpoint, type RunningAgent} from './agent-scale.js'
import type {NetnsRun} from '../test/helpers/netns.js'
import type {CalcResource} from '../src/dataplane/calc/index.js'

requireRoot('bench/agent-latency')

const scale = scaleFromEnv({policies: 1000, local: 200, remote: 800})
const CHANGES = Number(process.env.BENCH_CHANGES ?? 60)
const PORT = 7000
const PROBE_INTERVAL_MS = 2
/** A dropped SYN never answers: an attempt without a connection after this long counts as denied. */
const PROBE_TIMEOUT_MS = 60
/** A change counts as converged once this many attempts in a row (spanning at least SETTLE_MS) show it. */
const SETTLE_ATTEMPTS = 20
const SETTLE_MS = 150
const CHANGE_TIMEOUT_MS = 10_000

/** Connects to argv[1]:argv[2] every argv[3] ms with timeout argv[4] ms; prints `<start ms> <1|0>` per attempt. */
const PROBER = `
const net = require('node:net')
const [host, port, every, timeout] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])]
const now = () => performance.timeOrigin + performance.now()
setInterval(() => {
  const start = now()
  const s = net.connect({host, port})
  const done = (ok) => { clearTimeout(t); s.destroy(); process.stdout.write(start.toFixed(2) + ' ' + (ok ? 1 : 0) + '\\n') }
  const t = setTimeout(() => done(false), timeout)
  s.once('connect', () => done(true)); s.once('error', () => done(false))
}, every)
process.stdin.on('end', () => process.exit(0)); process.stdin.resume()
`

function probePolicy(action: 'Allow' | 'Deny'): CalcResource {
  return {
    apiVersion: V3,
    kind: 'NetworkPolicy',
    metadata: {name: 'latency-probe', namespace: NAMESPACE},
    // Ordered after every other policy, so an allowed SYN first passes all the chains of the server's policies.
    spec: {order: 100_000, selector: "app == 'app0'", types: ['Ingress'], ingress: [{action, protocol: 'TCP', source: {selector: "role == 'client'"}, destination: {ports: [PORT]}}]},
  }
}

interface Attempt {
  start: number
  ok: boolean
}

async function main(run: NetnsRun, store: BenchStore): Promise<void> {
  const nodeNs = run.addNode('node')
  const server = {name: 'srv', iface: `calil${run.prefix.slice(-6)}s`, address: '10.70.0.2'}
  const client = {name: 'cli', iface: `calil${run.prefix.slice(-6)}c`, address: '10.70.0.1'}
  const serverNs = run.addPod(nodeNs, {suffix: 'srv', iface: server.iface, address: server.address})
  const clientNs = run.addPod(nodeNs, {suffix: 'cli', iface: client.iface, address: client.address})
  await run.listen(serverNs, [PORT])

  // The two real pods take two of the local endpoint slots.
  const resources = scaleResources({...scale, local: Math.max(0, scale.local - 2)})
  resources.push(workloadEndpoint({...server, node: NODE, labels: {app: 'app0', tier: 'server'}}))
  resources.push(workloadEndpoint({...client, node: NODE, labels: {app: 'client', role: 'client'}}))
  resources.push(probePolicy('Deny'))
  await store.seed(resources)

  let agent: RunningAgent | undefined
  const backend = store.open()
  try {
    agent = await startAgent(run, nodeNs, store)
    console.log(`agent ready in ${agent.readyMs} ms`)
    const prober = run.spawnIn(clientNs, [process.execPath, '-e', PROBER, server.address, String(PORT), String(PROBE_INTERVAL_MS), String(PROBE_TIMEOUT_MS)], {stdio: ['pipe', 'pipe', 'inherit']})
    const attempts: Attempt[] = []
    let partial = ''
    prober.stdout!.on('data', (b: Buffer) => {
      const lines = (partial + b.toString()).split('\n')
      partial = lines.pop()!
      for (const l of lines) {
        const [start, ok] = l.split(' ')
        attempts.push({start: Number(start), ok: ok === '1'})
      }
    })

    const latencies: number[] = []
    let timeouts = 0
    // The seeded state is Deny; wait until the prober sees it before the first change.
    await converged(attempts, 0, false)
    // Let the start-up's background work (read-back, routes) finish, so the CPU below is the changes' own.
    await new Promise((r) => setTimeout(r, 3000))
    const cpuBefore = treeCpu(agent.pid)
    for (let i = 0; i < CHANGES; i++) {
      const allow = i % 2 === 0
      const writtenAt = performance.timeOrigin + performance.now()
      await backend.apply({kind: 'NetworkPolicy', name: 'latency-probe', namespace: NAMESPACE}, probePolicy(allow ? 'Allow' : 'Deny'))
      const seenAt = await converged(attempts, writtenAt, allow)
      if (seenAt === undefined) timeouts++
      else latencies.push(seenAt - writtenAt)
    }
    // The last change's read-back (if any) belongs to it too.
    await new Promise((r) => setTimeout(r, 3000))
    const cpuMs = treeCpu(agent.pid) - cpuBefore
    prober.kill()
    if (process.env.BENCH_VERBOSE) process.stderr.write(agent.log())

    const applies = [...agent.log().matchAll(/applied delta \((\d+) bytes\) in ([\d.]+) ms \(nft ([\d.]+) ms\)/g)].map((m) => ({bytes: Number(m[1]), ms: Number(m[2]), nftMs: Number(m[3])}))
    console.log(`policy change latency: ${scale.policies} policies x 5 selector rules, ${scale.local} local + ${scale.remote} remote endpoints, ${CHANGES} changes`)
    if (latencies.length > 0) {
      console.log(`  write → new verdict seen by a probe   median ${median(latencies).toFixed(1)} ms, p90 ${percentile(latencies, 90).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`)
    }
    if (timeouts > 0) console.log(`  ${timeouts} changes not seen within ${CHANGE_TIMEOUT_MS} ms`)
    if (applies.length > 0) {
      const ms = applies.map((a) => a.ms)
      const nft = applies.map((a) => a.nftMs)
      console.log(`  agent delta applies: ${applies.length}, median ${median(ms).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms (calc + render + diff + nft -f), median ${median(applies.map((a) => a.bytes))} bytes`)
      console.log(`    of which nft -f: median ${median(nft).toFixed(1)} ms, p99 ${percentile(nft, 99).toFixed(1)} ms`)
    }
    console.log(`  CPU of the agent and its children (nft -f, read-backs, nft monitor) over the changes: ${(cpuMs / CHANGES).toFixed(0)} ms per change`)
    console.log(`  probe resolution ${PROBE_INTERVAL_MS} ms`)
  } finally {
    await backend.close()
    await agent?.stop()
  }
}

/** CPU (ms) of a process, the children it has reaped, and its live descendants (such as a long-lived nft monitor). */
function treeCpu(pid: number): number {
  let total = cpuOf(pid)
  for (const child of childrenOf(pid)) total += treeCpu(child)
  return total
}

function childrenOf(pid: number): number[] {
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    return tasks.split(' ').filter((p) => p !== '').map(Number)
  } catch {
    return [] // exited meanwhile
  }
}

/**
 * Waits until attempts started after `after` show `ok` SETTLE_ATTEMPTS times in a row over at least SETTLE_MS, and
 * returns the start of the first of them; undefined after CHANGE_TIMEOUT_MS.
 */
async function converged(attempts: Attempt[], after: number, ok: boolean): Promise<number | undefined> {
  const deadline = Date.now() + CHANGE_TIMEOUT_MS
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20))
    // Attempts complete out of order (a dropped one only after its timeout): only those started long enough ago
    // are certainly all reported; look at them by start time.
    const complete = Date.now() - PROBE_TIMEOUT_MS - 20
    const seen = attempts.filter((a) => a.start > after && a.start < complete).sort((a, b) => a.start - b.start)
    let first: number | undefined
    let run = 0
    for (const a of seen) {
      if (a.ok !== ok) {
        first = undefined
        run = 0
        continue
      }
      first ??= a.start
      run++
    }
    const last = seen[seen.length - 1]
    if (first !== undefined && last && run >= SETTLE_ATTEMPTS && last.start - first >= SETTLE_MS) return first
  }
  return undefined
}

await withBenchLab('jl', main)
