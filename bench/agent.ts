// Node agent start-up at scale (issue 4 target a: within 1.5x of `nft -f`): 1,000 policies (5 selector rules each)
// and 200 local endpoints (plus 800 remote ones feeding the IP sets). Measures `calicoctl node run` from spawn to
// readiness inside a private network namespace, against `nft -f` of the same rendered ruleset in a second
// namespace, in the same run. Root only. Run: npm run build && npm run bench:build && node build/bench/agent.js
// BENCH_ROUNDS=n repeats it (medians); BENCH_BASELINE=<checkout of another commit, built> also starts that build's agent
// in every round, alternating the order, for a same-run before/after.
import {median, run as timed} from './lib.js'
import {computePolicyState} from '../src/dataplane/calc/index.js'
import {renderFullScript, renderTable} from '../src/dataplane/nftables/index.js'
import type {NetnsRun} from '../test/helpers/netns.js'
import {BASELINE_CALICOCTL, CALICOCTL, type BenchStore, withBenchLab, NODE, requireRoot, scaleFromEnv, scaleResources, startAgent, type RunningAgent} from './agent-scale.js'

requireRoot('bench/agent')
const scale = scaleFromEnv({policies: 1000, local: 200, remote: 800})
/** Rounds of (nft -f, agent[, baseline agent]); figures are medians over them. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1)

/**
 * One agent start, split at its log lines (times from its first log line). The phases overlap: the first apply starts
 * while the objects that only add IP set members are still being fed in, which "in sync" waits for.
 */
interface AgentStart {
  snapshotMs: number
  syncMs: number
  applyMs: number
  applyNftMs: number
  readyMs: number
  cpuMs: number
}

async function startOnce(run: NetnsRun, store: BenchStore, calicoctl: string, suffix: string): Promise<AgentStart> {
  const nodeNs = run.addNetns(suffix)
  let agent: RunningAgent | undefined
  try {
    agent = await startAgent(run, nodeNs, store, undefined, [], calicoctl)
  } finally {
    await agent?.stop()
  }
  const log = agent.log()
  if (process.env.BENCH_VERBOSE) process.stderr.write(log)
  const started = Date.parse(/time="([^"]+)"/.exec(log)?.[1] ?? '')
  const at = (re: RegExp): number => Date.parse(re.exec(log)?.[1] ?? '') - started
  const applied = /applied full table \(\d+ bytes\) in ([\d.]+) ms \(nft ([\d.]+) ms\)/.exec(log)
  const snapshotMs = at(/time="([^"]+)" level=info msg="datastore snapshot received/)
  return {
    snapshotMs,
    syncMs: at(/time="([^"]+)" level=info msg="datastore in sync/) - snapshotMs,
    applyMs: Number(applied?.[1] ?? NaN),
    applyNftMs: Number(applied?.[2] ?? NaN),
    readyMs: agent.readyMs,
    cpuMs: agent.readyCpuMs,
  }
}

async function main(run: NetnsRun, store: BenchStore): Promise<void> {
  const all = scaleResources(scale)
  await store.seed(all)

  // Same ruleset, rendered and loaded directly: the floor the agent's start-up is compared against.
  const tRender = performance.now()
  const script = renderFullScript(renderTable(computePolicyState(NODE, all)))
  const renderMs = performance.now() - tRender

  const nft: {ms: number; cpuMs: number}[] = []
  const agents: {label: string; calicoctl: string; starts: AgentStart[]}[] = [{label: 'node run', calicoctl: CALICOCTL, starts: []}]
  if (BASELINE_CALICOCTL) agents.push({label: 'baseline', calicoctl: BASELINE_CALICOCTL, starts: []})
  for (let round = 0; round < ROUNDS; round++) {
    const nftNs = run.addNetns(`nft${round}`)
    nft.push(timed(['ip', 'netns', 'exec', nftNs, 'nft', '-f', '-'], {input: script}))
    // Alternate which build starts first, so neither always meets the same moment of a load swing.
    const order = round % 2 === 0 ? agents : [...agents].reverse()
    for (const a of order) a.starts.push(await startOnce(run, store, a.calicoctl, `${a.label === 'baseline' ? 'b' : 'a'}${round}`))
  }

  const nftMs = median(nft.map((n) => n.ms))
  const nftCpuMs = median(nft.map((n) => n.cpuMs))
  const kb = (script.length / 1024).toFixed(0)
  const row = (label: string, ms: number): string => `  ${label.padEnd(46)} ${ms.toFixed(1).padStart(9)} ms`
  const of = (starts: AgentStart[], f: (s: AgentStart) => number): number => median(starts.map(f))
  console.log(`agent start-up: ${scale.policies} policies x 5 selector rules, ${scale.local} local + ${scale.remote} remote endpoints (${kb} KiB ruleset)${ROUNDS > 1 ? `, medians of ${ROUNDS} rounds` : ''}`)
  console.log(row('render (calc + nft text) in-process', renderMs))
  console.log(row('nft -f of the same ruleset (baseline)', nftMs))
  // CPU time is steadier than wall time on a busy machine; the agent's includes its nft child's.
  console.log(row('CPU: nft -f (user+sys, baseline)', nftCpuMs))
  for (const {label, starts} of agents) {
    const ready = of(starts, (s) => s.readyMs)
    const cpu = of(starts, (s) => s.cpuMs)
    console.log(row(`${label}: first log line → snapshot`, of(starts, (s) => s.snapshotMs)))
    console.log(row(`${label}: snapshot → in sync (validate+calc)`, of(starts, (s) => s.syncMs)))
    console.log(row(`${label}: first apply (render+nft)`, of(starts, (s) => s.applyMs)))
    console.log(row('  of which nft -f', of(starts, (s) => s.applyNftMs)))
    console.log(`${row(`${label}: spawn → ready`, ready)}  (${(ready / nftMs).toFixed(2)}x nft -f)`)
    console.log(`${row(`${label}: CPU until ready (incl. its nft)`, cpu)}  (${(cpu / nftCpuMs).toFixed(2)}x nft -f)`)
    if (ROUNDS > 1) console.log(`  ${label}: spawn → ready per round: ${starts.map((s) => s.readyMs).join(', ')} ms; CPU: ${starts.map((s) => s.cpuMs).join(', ')} ms`)
  }
}

await withBenchLab('jb', main)
