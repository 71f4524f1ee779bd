// Pod-to-pod throughput with 1,000 policies enforced (issue 4 target c: at least 0.9x of no policy). Two real pods
// on cali veths in a node namespace; the server pod (app=app0) is selected by 1/50 of the policies, which are
// ordered before the one allowing the client, so every new flow is checked against all of them. The agent programs
// the table and is stopped (the rules stay); then iperf3 runs alternately without our table and with the agent's
// table restored from its own listing. Throughput on this shared machine drifts by more than the difference being
// measured, so the runs come in PAIRS (one without, one with, the order alternating between pairs so neither mode
// always runs first), and the figure is the median of the per-pair ratios with their spread, not a ratio of medians.
// Client and server are pinned to different CPUs (iperf3 -A) when there are at least two. Root and iperf3 only.
// Run: npm run build && npm run bench:build && node build/bench/agent-iperf.js
import {spawnSync} from 'node:child_process'
import {availableParallelism, loadavg} from 'node:os'
import {median} from './lib.js'
import {type BenchStore, withBenchLab, NAMESPACE, NODE, V3, requireRoot, scaleFromEnv, scaleResources, startAgent, workloadEndpoint, type RunningAgent} from './agent-scale.js'
import {inNs, type NetnsRun} from '../test/helpers/netns.js'
import {DEFAULT_TABLE_NAME} from '../src/dataplane/nftables/index.js'

requireRoot('bench/agent-iperf')
if (spawnSync('iperf3', ['--version'], {stdio: 'ignore'}).status !== 0) {
  console.log('bench/agent-iperf: needs iperf3 (apt-get install -y --no-install-recommends iperf3); skipped')
  process.exit(0)
}

const scale = scaleFromEnv({policies: 1000, local: 200, remote: 800})
const PAIRS = Number(process.env.BENCH_PAIRS ?? 10)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const PORT = 5201
/** CPU affinity for client and server (iperf3 -A); none on a single CPU, where pinning would serialise them. */
const PIN = availableParallelism() >= 2 ? {client: ['-A', '0'], server: ['-A', '1']} : {client: [], server: []}

/** One iperf3 run from the client pod; bits per second received. */
function iperf(clientNs: string, server: string): number {
  const out = inNs(clientNs, 'iperf3', ['-c', server, '-p', String(PORT), '-t', String(SECONDS), '-J', ...PIN.client])
  const report = JSON.parse(out) as {error?: string; end: {sum_received?: {bits_per_second: number}}}
  if (!report.end.sum_received) throw new Error(`iperf3 failed: ${report.error ?? out.slice(0, 500)}`)
  return report.end.sum_received.bits_per_second
}

async function main(run: NetnsRun, store: BenchStore): Promise<void> {
  const nodeNs = run.addNode('node', {forwarding: true})
  const server = {name: 'srv', iface: `calii${run.prefix.slice(-6)}s`, address: '10.70.0.2'}
  const client = {name: 'cli', iface: `calii${run.prefix.slice(-6)}c`, address: '10.70.0.1'}
  // Host side programmed up front, so the runs without our table route the same way.
  const serverNs = run.addPod(nodeNs, {suffix: 'srv', iface: server.iface, address: server.address, hostSide: true})
  const clientNs = run.addPod(nodeNs, {suffix: 'cli', iface: client.iface, address: client.address, hostSide: true})
  const iperfServer = run.spawnIn(serverNs, ['iperf3', '-s', '-p', String(PORT), ...PIN.server], {stdio: ['ignore', 'ignore', 'inherit']})
  await new Promise((r) => setTimeout(r, 300))
  if (iperfServer.exitCode !== null) throw new Error('iperf3 server exited')

  const resources = scaleResources({...scale, local: Math.max(0, scale.local - 2)})
  resources.push(workloadEndpoint({...server, node: NODE, labels: {app: 'app0', tier: 'server'}}))
  resources.push(workloadEndpoint({...client, node: NODE, labels: {app: 'client', role: 'client'}}))
  resources.push({
    apiVersion: V3,
    kind: 'NetworkPolicy',
    metadata: {name: 'iperf-allow', namespace: NAMESPACE},
    spec: {order: 100_000, selector: "app == 'app0'", types: ['Ingress'], ingress: [{action: 'Allow', protocol: 'TCP', source: {selector: "role == 'client'"}, destination: {ports: [PORT]}}]},
  })
  await store.seed(resources)

  let agent: RunningAgent | undefined
  try {
    agent = await startAgent(run, nodeNs, store)
  } finally {
    await agent?.stop()
  }
  const table = inNs(nodeNs, 'nft', ['-s', 'list', 'table', 'inet', DEFAULT_TABLE_NAME])
  const rules = (table.match(/\n\t\t[^\n]*(accept|drop|return|jump|goto)/g) ?? []).length
  // The stopped agent leaves its table in place; restoring it twice would add every rule again.
  let present = true
  const setTable = (want: boolean): void => {
    if (want === present) return
    if (want) inNs(nodeNs, 'nft', ['-f', '-'], table)
    else inNs(nodeNs, 'nft', ['delete', 'table', 'inet', DEFAULT_TABLE_NAME])
    present = want
  }

  const without: number[] = []
  const withPolicy: number[] = []
  const loadBefore = loadavg()[0]
  for (let i = 0; i < PAIRS; i++) {
    // Even pairs measure without the table first, odd pairs with it first.
    for (const withTable of i % 2 === 0 ? [false, true] : [true, false]) {
      setTable(withTable)
      ;(withTable ? withPolicy : without).push(iperf(clientNs, server.address))
    }
  }
  const loadAfter = loadavg()[0]
  const ratios = withPolicy.map((w, i) => w / without[i]!)
  const sorted = [...ratios].sort((a, b) => a - b)
  const gbit = (b: number): string => `${(b / 1e9).toFixed(2)}`
  console.log(`pod-to-pod TCP throughput (iperf3 ${SECONDS} s runs, ${PAIRS} pairs, order alternating${PIN.client.length ? ', client on CPU 0, server on CPU 1' : ''}; load ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)}): ${scale.policies} policies, ${scale.local} local + ${scale.remote} remote endpoints, ~${rules} rules`)
  console.log(`  no Calico table (baseline)  median ${gbit(median(without))} Gbit/s  [${without.map(gbit).join(', ')}]`)
  console.log(`  agent's table               median ${gbit(median(withPolicy))} Gbit/s  [${withPolicy.map(gbit).join(', ')}]`)
  console.log(`  per-pair ratio (with / without): median ${median(ratios).toFixed(3)}, range ${sorted[0]!.toFixed(3)}-${sorted.at(-1)!.toFixed(3)}, interquartile ${sorted[Math.floor((sorted.length - 1) / 4)]!.toFixed(3)}-${sorted[Math.ceil(((sorted.length - 1) * 3) / 4)]!.toFixed(3)}  [${ratios.map((r) => r.toFixed(2)).join(', ')}]`)
}

await withBenchLab('ji', main)
