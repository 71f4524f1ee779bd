// Node agent start-up at scale (issue 4 target a: within 1.5x of `nft -f`): 1,000 policies (5 selector rules each)
// and 200 local endpoints (plus 800 remote ones feeding the IP sets). Measures `calicoctl node run` from spawn to
// readiness inside a private network namespace, against `nft -f` of the same rendered ruleset in a second
// namespace, in the same run. Root only. Run: npm run build && npm run bench:build && node build/bench/agent.js
import {run as timed} from './lib.js'
import {computePolicyState} from '../src/dataplane/calc/index.js'
import {renderFullScript, renderTable} from '../src/dataplane/nftables/index.js'
import type {NetnsRun} from '../test/helpers/netns.js'
import {type BenchStore, withBenchLab, NODE, requireRoot, scaleFromEnv, scaleResources, startAgent, type RunningAgent} from './agent-scale.js'

requireRoot('bench/agent')
const scale = scaleFromEnv({policies: 1000, local: 200, remote: 800})

async function main(run: NetnsRun, store: BenchStore): Promise<void> {
  const all = scaleResources(scale)
  await store.seed(all)

  // Same ruleset, rendered and loaded directly: the floor the agent's start-up is compared against.
  const tRender = performance.now()
  const script = renderFullScript(renderTable(computePolicyState(NODE, all)))
  const renderMs = performance.now() - tRender
  const nftNs = run.addNetns('nft')
  const nft = timed(['ip', 'netns', 'exec', nftNs, 'nft', '-f', '-'], {input: script})
  const nftMs = nft.ms

  const nodeNs = run.addNetns('node')
  let agent: RunningAgent | undefined
  try {
    agent = await startAgent(run, nodeNs, store)
  } finally {
    await agent?.stop()
  }
  const log = agent.log()
  const started = Date.parse(/time="([^"]+)"/.exec(log)?.[1] ?? '')
  const at = (re: RegExp): number => Date.parse(re.exec(log)?.[1] ?? '') - started
  const applied = /applied full table \(\d+ bytes\) in ([\d.]+) ms \(nft ([\d.]+) ms\)/.exec(log)
  const applyMs = Number(applied?.[1] ?? NaN)
  const applyNftMs = Number(applied?.[2] ?? NaN)
  const snapshotAt = at(/time="([^"]+)" level=info msg="datastore snapshot received/)
  const syncAt = at(/time="([^"]+)" level=info msg="datastore in sync/)
  if (process.env.BENCH_VERBOSE) process.stderr.write(log)

  const kb = (script.length / 1024).toFixed(0)
  const row = (label: string, ms: number): string => `  ${label.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms`
  console.log(`agent start-up: ${scale.policies} policies x 5 selector rules, ${scale.local} local + ${scale.remote} remote endpoints (${kb} KiB ruleset)`)
  console.log(row('render (calc + nft text) in-process', renderMs))
  console.log(row('nft -f of the same ruleset (baseline)', nftMs))
  console.log(row('node run: first log line → snapshot', snapshotAt))
  console.log(row('node run: snapshot → in sync (validate+calc)', syncAt - snapshotAt))
  console.log(row('node run: first apply (render+nft)', applyMs))
  console.log(row('  of which nft -f', applyNftMs))
  console.log(`${row('node run: spawn → ready', agent.readyMs)}  (${(agent.readyMs / nftMs).toFixed(2)}x nft -f)`)
  // CPU time is steadier than wall time on a busy machine; the agent's includes its nft child's.
  console.log(row('CPU: nft -f (user+sys, baseline)', nft.cpuMs))
  console.log(`${row('CPU: node run until ready (incl. its nft)', agent.readyCpuMs)}  (${(agent.readyCpuMs / nft.cpuMs).toFixed(2)}x nft -f)`)
}

await withBenchLab('jb', main)
