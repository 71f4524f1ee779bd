// Agent resident memory at scale (issue 4 target d: under 150 MB with 1,000 policies and 10,000 endpoints in the
// datastore, 200 of them local). Starts `calicoctl node run` on an empty store and on the scaled one, each in its own
// node namespace, and reads VmRSS from /proc at readiness and then every few seconds up to SETTLE_MS (V8 gives
// memory back to the system only some time after the start-up burst), and VmHWM (the peak). Root only.
// A third run repeats the scaled one with node flags from BENCH_NODE_FLAGS (default: a 1 MiB young-generation
// semi-space instead of V8's 16 MiB), to measure that lever in the same run; empty BENCH_NODE_FLAGS skips it.
// BENCH_BASELINE=<checkout of another commit, built> adds that build's agent on the scaled store (before/after).
// Run: npm run build && npm run bench:build && node build/bench/agent-memory.js
import {BASELINE_CALICOCTL, BenchStore, requireRoot, rssOf, scaleFromEnv, scaleResources, startAgent, type RunningAgent, type ScaleOptions} from './agent-scale.js'
import {NetnsRun} from '../test/helpers/netns.js'

requireRoot('bench/agent-memory')

const scale = scaleFromEnv({policies: 1000, local: 200, remote: 9800})
/** How long RSS is followed after readiness (the agent still reads the table back and reconciles routes). */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 30_000)
const SAMPLE_MS = 5000
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=1').split(' ').filter(Boolean)

interface Measured {
  readyMs: number
  /** VmRSS at readiness, then every SAMPLE_MS. */
  rssKiB: number[]
  peakKiB: number
}

async function measure(run: NetnsRun, suffix: string, s: ScaleOptions, nodeFlags: string[] = [], calicoctl?: string): Promise<Measured> {
  const store = new BenchStore()
  let agent: RunningAgent | undefined
  try {
    await store.seed(scaleResources(s))
    const ns = run.addNode(suffix)
    agent = await startAgent(run, ns, store, undefined, nodeFlags, calicoctl)
    const rssKiB = [rssOf(agent.pid).rssKiB]
    for (let t = 0; t < SETTLE_MS; t += SAMPLE_MS) {
      await new Promise((r) => setTimeout(r, SAMPLE_MS))
      rssKiB.push(rssOf(agent.pid).rssKiB)
    }
    return {readyMs: agent.readyMs, rssKiB, peakKiB: rssOf(agent.pid).peakKiB}
  } finally {
    await agent?.stop()
    store.remove()
  }
}

const run = new NetnsRun('jm')
try {
  const empty = await measure(run, 'empty', {policies: 0, local: 0, remote: 0})
  const full = await measure(run, 'full', scale)
  const baseline = BASELINE_CALICOCTL ? await measure(run, 'base', scale, [], BASELINE_CALICOCTL) : undefined
  const tuned = NODE_FLAGS.length > 0 ? await measure(run, 'tuned', scale, NODE_FLAGS) : undefined
  const mib = (k: number): string => `${(k / 1024).toFixed(1)} MiB`
  const line = (label: string, m: Measured): string =>
    `  ${label.padEnd(24)} RSS ${mib(m.rssKiB.at(-1)!).padStart(10)} after ${SETTLE_MS / 1000} s  peak ${mib(m.peakKiB).padStart(10)}  ready in ${m.readyMs} ms  (RSS every ${SAMPLE_MS / 1000} s from readiness: ${m.rssKiB.map((k) => (k / 1024).toFixed(0)).join(', ')} MiB)`
  console.log(`agent memory: ${scale.policies} policies x 5 selector rules, ${scale.local} local + ${scale.remote} remote endpoints in the store`)
  console.log(line('empty store (baseline)', empty))
  console.log(line('scaled store', full))
  if (baseline) console.log(line('scaled, baseline build', baseline))
  if (tuned) console.log(line(`scaled, ${NODE_FLAGS.join(' ')}`, tuned))
} finally {
  run.destroy()
}
