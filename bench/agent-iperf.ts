// Pod-to-pod throughput with 1,000 policies enforced (issue 4 target c: at least 0.9x of no policy). Two real pods
// on cali veths in a node namespace; the server pod (app=app0) is selected by 1/50 of the policies, which are
// ordered before the one allowing the client, so every new flow is checked against all of them. The agent programs
// the table and is stopped (the rules stay); then iperf3 runs alternately without our table and with the agent's
// table restored from its own listing. Throughput on this shared machine drifts by more than the difference being
// measured, so the runs come in ROUNDS (one run per mode, the order rotating between rounds so no mode always runs
// first), and the figure is the median of the per-round ratios with their spread, not a ratio of medians.
// With BENCH_BASELINE=<checkout of another build> that build's agent programs a third table, run in every round too,
// so HEAD and the baseline are compared in the same minutes. With BENCH_PROFILE=<dir>, each mode then gets one more
// run under `perf record -a -g` (cpu-clock; data kept in <dir>), and the share of iperf3's CPU samples (its own and
// the softirqs run on its behalf) spent in netfilter is printed, split into conntrack, the FIB (RPF) lookup and
// rule evaluation: where a packet's time goes with each table.
// BENCH_NAT_OUTGOING=1 adds an IPPool holding both pods with natOutgoing on, as calico-node's default pool has it:
// the table then has the nat chain (and the kernel its NAT hook), which pod-to-pod traffic crosses but never matches.
// Client and server are pinned to different CPUs (iperf3 -A) when there are at least two. Root and iperf3 only.
// Run: npm run build && npm run bench:build && node build/bench/agent-iperf.js
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {availableParallelism, loadavg} from 'node:os'
import {join, resolve} from 'node:path'
import {median} from './lib.js'
import {BASELINE_CALICOCTL, CALICOCTL, type BenchStore, withBenchLab, NAMESPACE, NODE, V3, requireRoot, scaleFromEnv, scaleResources, startAgent, workloadEndpoint, type RunningAgent} from './agent-scale.js'
import {inNs, type NetnsRun} from '../test/helpers/netns.js'
import {DEFAULT_TABLE_NAME} from '../src/dataplane/nftables/index.js'

requireRoot('bench/agent-iperf')
if (spawnSync('iperf3', ['--version'], {stdio: 'ignore'}).status !== 0) {
  console.log('bench/agent-iperf: needs iperf3 (apt-get install -y --no-install-recommends iperf3); skipped')
  process.exit(0)
}

const scale = scaleFromEnv({policies: 1000, local: 200, remote: 800})
const ROUNDS = Number(process.env.BENCH_PAIRS ?? 10)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const PROFILE_DIR = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : undefined
const PORT = 5201
/** CPU affinity for client and server (iperf3 -A); none on a single CPU, where pinning would serialise them. */
const PIN = availableParallelism() >= 2 ? {client: ['-A', '0'], server: ['-A', '1']} : {client: [], server: []}

interface IperfRun {
  /** Bits per second received. */
  bps: number
  /**
   * CPU seconds of client and server per gigabit received, from iperf3's own accounting (getrusage, which includes
   * the softirq work run on their behalf: the whole packet path through the node). Unlike throughput it hardly
   * depends on how much of the CPUs other processes take.
   */
  cpuPerGbit: number
}

/** One iperf3 run from the client pod. */
function iperf(clientNs: string, server: string): IperfRun {
  const out = inNs(clientNs, 'iperf3', ['-c', server, '-p', String(PORT), '-t', String(SECONDS), '-J', ...PIN.client])
  const report = JSON.parse(out) as {error?: string; end: {sum_received?: {bits_per_second: number; seconds: number}; cpu_utilization_percent?: {host_total: number; remote_total: number}}}
  const {sum_received: received, cpu_utilization_percent: cpu} = report.end
  if (!received || !cpu) throw new Error(`iperf3 failed: ${report.error ?? out.slice(0, 500)}`)
  return {bps: received.bits_per_second, cpuPerGbit: ((cpu.host_total + cpu.remote_total) / 100) / (received.bits_per_second / 1e9)}
}

/** A table to measure: none, or the listing a build's agent programmed. */
interface Mode {
  name: string
  script?: string
  runs: IperfRun[]
}

/** The agent of `calicoctl` programs its table, is stopped, and leaves the table's listing (then deleted). */
async function agentTable(run: NetnsRun, nodeNs: string, store: BenchStore, calicoctl: string): Promise<string> {
  let agent: RunningAgent | undefined
  try {
    agent = await startAgent(run, nodeNs, store, undefined, [], calicoctl)
  } finally {
    await agent?.stop()
  }
  const table = inNs(nodeNs, 'nft', ['-s', 'list', 'table', 'inet', DEFAULT_TABLE_NAME])
  inNs(nodeNs, 'nft', ['delete', 'table', 'inet', DEFAULT_TABLE_NAME])
  return table
}

/** Netfilter's parts, told apart by the functions on a sample's stack (first match wins). */
const NF_PARTS: [string, RegExp][] = [
  ['conntrack', /^(nf_conntrack_in|__nf_conntrack_confirm|nf_confirm|ipv[46]_conntrack_\w+)$/],
  ['fib', /^nft_fib\w*_eval$/],
  ['counters', /^nft_counter_eval$/],
  ['rules', /^nft_do_chain\w*$/],
]

/**
 * One more iperf3 run under `perf record -a -g`. Counts the samples of iperf3 and ksoftirqd (the packet path runs in
 * their softirqs) and, among them, those inside nf_hook_slow, split by NF_PARTS: other processes' samples are left
 * out, so the shares hold on a busy machine too (the sample count then drops).
 */
async function profile(mode: Mode, clientNs: string, server: string): Promise<void> {
  const data = join(PROFILE_DIR!, `perf-${mode.name}.data`)
  const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-a', '-g', '-o', data], {stdio: 'ignore'})
  const exited = new Promise<void>((r) => perf.once('exit', () => r()))
  await new Promise((r) => setTimeout(r, 500))
  const {bps} = iperf(clientNs, server)
  perf.kill('SIGINT')
  await exited
  const script = spawnSync('perf', ['script', '-i', data, '-F', 'comm,ip,sym'], {encoding: 'utf8', maxBuffer: 1 << 30}).stdout
  let total = 0
  let netfilter = 0
  const parts = new Map<string, number>()
  for (const sample of script.split('\n\n')) {
    const [head, ...frames] = sample.trim().split('\n')
    if (!head || !/^(iperf3|ksoftirqd\/\d+)\s*$/.test(head)) continue
    total++
    const syms = frames.map((f) => f.trim().split(/\s+/).slice(1).join(' '))
    if (!syms.includes('nf_hook_slow')) continue
    netfilter++
    const part = NF_PARTS.find(([, re]) => syms.some((s) => re.test(s)))?.[0] ?? 'other'
    parts.set(part, (parts.get(part) ?? 0) + 1)
  }
  const pct = (n: number): string => `${((100 * n) / Math.max(1, total)).toFixed(1)}%`
  console.log(`  profile ${mode.name.padEnd(8)} ${(bps / 1e9).toFixed(2)} Gbit/s, ${total} samples of iperf3: netfilter ${pct(netfilter)} (${[...NF_PARTS.map(([p]) => p), 'other'].map((p) => `${p} ${pct(parts.get(p) ?? 0)}`).join(', ')})  ${data}`)
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
  if (process.env.BENCH_NAT_OUTGOING === '1') {
    resources.push({apiVersion: V3, kind: 'IPPool', metadata: {name: 'default-ipv4-ippool'}, spec: {cidr: '10.0.0.0/8', natOutgoing: true}})
  }
  await store.seed(resources)

  const modes: Mode[] = [{name: 'none', runs: []}, {name: 'HEAD', script: await agentTable(run, nodeNs, store, CALICOCTL), runs: []}]
  if (BASELINE_CALICOCTL) modes.push({name: 'baseline', script: await agentTable(run, nodeNs, store, BASELINE_CALICOCTL), runs: []})
  const rules = (modes[1]!.script!.match(/\n\t\t[^\n]*(accept|drop|return|jump|goto)/g) ?? []).length
  let present: Mode = modes[0]!
  const setTable = (want: Mode): void => {
    if (want === present) return
    if (present.script) inNs(nodeNs, 'nft', ['delete', 'table', 'inet', DEFAULT_TABLE_NAME])
    if (want.script) inNs(nodeNs, 'nft', ['-f', '-'], want.script)
    present = want
  }

  const loadBefore = loadavg()[0]
  for (let i = 0; i < ROUNDS; i++) {
    // Round i starts with mode i mod n, so each mode runs first (and last) equally often.
    for (let j = 0; j < modes.length; j++) {
      const mode = modes[(i + j) % modes.length]!
      setTable(mode)
      mode.runs.push(iperf(clientNs, server.address))
    }
  }
  const loadAfter = loadavg()[0]
  const gbit = (b: number): string => `${(b / 1e9).toFixed(2)}`
  console.log(`pod-to-pod TCP throughput (iperf3 ${SECONDS} s runs, ${ROUNDS} rounds of ${modes.map((m) => m.name).join(' / ')}, order rotating${PIN.client.length ? ', client on CPU 0, server on CPU 1' : ''}; load ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)}): ${scale.policies} policies, ${scale.local} local + ${scale.remote} remote endpoints, ~${rules} rules`)
  for (const m of modes) {
    const bps = m.runs.map((r) => r.bps)
    const cpu = m.runs.map((r) => r.cpuPerGbit)
    console.log(`  ${(m.script ? `${m.name} agent's table` : 'no Calico table').padEnd(26)} median ${gbit(median(bps))} Gbit/s  [${bps.map(gbit).join(', ')}]; CPU per Gbit median ${(median(cpu) * 1000).toFixed(1)} ms`)
  }
  const ratioLine = (label: string, ratios: number[]): void => {
    const sorted = [...ratios].sort((a, b) => a - b)
    const q = (f: number): string => sorted[f < 0.5 ? Math.floor((sorted.length - 1) * f) : Math.ceil((sorted.length - 1) * f)]!.toFixed(3)
    console.log(`  ${label.padEnd(34)} median ${median(ratios).toFixed(3)}, range ${q(0)}-${q(1)}, interquartile ${q(0.25)}-${q(0.75)}  [${ratios.map((r) => r.toFixed(2)).join(', ')}]`)
  }
  // Both as "with / without" (1 = free): throughput, and the inverse of CPU per bit.
  const pairs: [string, Mode, Mode][] = modes.slice(1).map((m) => [`${m.name} / none`, m, modes[0]!])
  if (modes[2]) pairs.push(['HEAD / baseline', modes[1]!, modes[2]])
  for (const [label, num, den] of pairs) ratioLine(`${label}, throughput per round`, num.runs.map((r, i) => r.bps / den.runs[i]!.bps))
  for (const [label, num, den] of pairs) ratioLine(`${label}, CPU per bit (inverse)`, num.runs.map((r, i) => den.runs[i]!.cpuPerGbit / r.cpuPerGbit))

  if (PROFILE_DIR) {
    mkdirSync(PROFILE_DIR, {recursive: true})
    for (const m of modes) {
      setTable(m)
      await profile(m, clientNs, server.address)
    }
  }
}

await withBenchLab('ji', main)
