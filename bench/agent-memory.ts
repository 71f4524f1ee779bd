// Agent resident memory at scale (issue 4 target d: under 150 MB with 1,000 policies and 10,000 endpoints in the
// datastore, 200 of them local). Starts `calicoctl node run` on an empty store and on the scaled one, each in its own
// node namespace, and reads VmRSS (after readiness and a settling pause) and VmHWM (the peak) from /proc. Root only.
// Run: npm run build && npm run bench:build && node build/bench/agent-memory.js
import {BenchStore, requireRoot, rssOf, scaleFromEnv, scaleResources, startAgent, type RunningAgent, type ScaleOptions} from './agent-scale.js'
import {NetnsRun} from '../test/helpers/netns.js'

requireRoot('bench/agent-memory')

const scale = scaleFromEnv({policies: 1000, local: 200, remote: 9800})
/** After readiness the agent still reads the table back and reconciles routes; RSS is read once that is over. */
const SETTLE_MS = 3000

interface Measured {
  readyMs: number
  rssKiB: number
  peakKiB: number
}

async function measure(run: NetnsRun, suffix: string, s: ScaleOptions): Promise<Measured> {
  const store = new BenchStore()
  let agent: RunningAgent | undefined
  try {
    await store.seed(scaleResources(s))
    const ns = run.addNode(suffix)
    agent = await startAgent(run, ns, store)
    await new Promise((r) => setTimeout(r, SETTLE_MS))
    return {readyMs: agent.readyMs, ...rssOf(agent.pid)}
  } finally {
    await agent?.stop()
    store.remove()
  }
}

const run = new NetnsRun('jm')
try {
  const empty = await measure(run, 'empty', {policies: 0, local: 0, remote: 0})
  const full = await measure(run, 'full', scale)
  const mib = (k: number): string => `${(k / 1024).toFixed(1).padStart(6)} MiB`
  console.log(`agent memory: ${scale.policies} policies x 5 selector rules, ${scale.local} local + ${scale.remote} remote endpoints in the store`)
  console.log(`  empty store (baseline)   RSS ${mib(empty.rssKiB)}  peak ${mib(empty.peakKiB)}  ready in ${empty.readyMs} ms`)
  console.log(`  scaled store             RSS ${mib(full.rssKiB)}  peak ${mib(full.peakKiB)}  ready in ${full.readyMs} ms`)
} finally {
  run.destroy()
}
