// The node agent's per-object cost at start (issue 4, readiness): what it does with each stored object between
// "snapshot received" and "in sync". The bench cluster of bench/agent-scale.ts is written to an embedded store in a
// temp dir and listed kind by kind as the agent's syncer lists it; each fresh child process (agent-objects-child.ts)
// then checks every value (decode, defaults, validation: checkStoredValue with the snapshot's memo) and feeds each
// result at once to a PolicyCalculator, as the agent does, once cold and then warm, reporting the CPU of the checks
// and of the calculation, and the pass's GC time and bytes allocated.
// Each build runs as plain modules (its dist/, as tsc wrote it) and as an esbuild bundle made as scripts/bundle.mjs
// makes dist/calicoctl.cjs, which the agent runs (no keepNames). No root needed.
// Run: npm run build && npm run bench:build && node build/bench/agent-objects.js
// BENCH_ROUNDS=n (default 7): fresh processes per build and form, alternating; figures are medians.
// BENCH_PASSES=n (default 5): passes per process; the first is cold, the rest give the warm median.
// BENCH_BASELINE=<checkout of another commit whose dist/ is built>: measured in the same rounds, for before/after.
// BENCH_DIST=<dir>: measure this tsc output instead of this checkout's dist/ (e.g. `tsc -p tsconfig.build.json
// --outDir <dir>`, which leaves dist/ to others). BENCH_KEEPNAMES=1 adds a bundle with esbuild's keepNames.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {build} from 'esbuild'
import {agentKinds} from '../src/agent/resources.js'
import type {KVPair} from '../src/datastore/backend.js'
import type {ChildResult} from './agent-objects-child.js'
import {BenchStore, scaleFromEnv, scaleResources} from './agent-scale.js'
import {median} from './lib.js'

const ROOT = resolve(import.meta.dirname, '../..')
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const scale = scaleFromEnv({policies: 1000, local: 200, remote: 800})

interface Form {
  label: string
  module: string
}

/** The stored snapshot as the agent's syncer lists it: every watched kind in turn (src/datastore/sync.ts). */
async function snapshot(dir: string): Promise<{file: string; count: number}> {
  const store = new BenchStore()
  try {
    await store.seed(scaleResources(scale))
    const backend = store.open()
    const items: KVPair[] = []
    try {
      for (const kind of agentKinds('embedded')) items.push(...(await backend.list({kind})).items)
    } finally {
      await backend.close()
    }
    const file = join(dir, 'snapshot.json')
    writeFileSync(file, JSON.stringify(items))
    return {file, count: items.length}
  } finally {
    store.remove()
  }
}

/** The module a child imports for one build: its dist/ modules re-exported, or bundled the way dist/calicoctl.cjs is. */
async function forms(dir: string, label: string, dist: string): Promise<Form[]> {
  const entry = join(dir, `${label}-entry.mjs`)
  writeFileSync(entry, [
    `export {checkStoredValue, CheckMemo} from ${JSON.stringify(join(dist, 'agent/resources.js'))}`,
    `export {PolicyCalculator} from ${JSON.stringify(join(dist, 'dataplane/calc/index.js'))}`,
    '',
  ].join('\n'))
  const out: Form[] = [{label: `${label} modules`, module: entry}]
  const bundles: [string, boolean][] = [['bundle', false]]
  if (process.env.BENCH_KEEPNAMES) bundles.push(['bundle with keepNames', true])
  for (const [name, keepNames] of bundles) {
    const outfile = join(dir, `${label}-${keepNames ? 'keep' : 'plain'}.mjs`)
    await build({entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', keepNames, charset: 'ascii', logLevel: 'warning'})
    out.push({label: `${label} ${name}`, module: outfile})
  }
  return out
}

function runChild(snapshotFile: string, form: Form): ChildResult[] {
  const child = spawnSync(process.execPath, [join(import.meta.dirname, 'agent-objects-child.js'), snapshotFile, form.module], {encoding: 'utf8', maxBuffer: 1 << 24})
  if (child.status !== 0) throw new Error(`${form.label}: child exited ${child.status}: ${child.stderr.slice(-2000)}`)
  const passes = child.stdout.trim().split('\n').map((l) => JSON.parse(l) as ChildResult)
  if (passes.some((p) => p.rejected !== 0)) throw new Error(`${form.label}: objects rejected: ${passes[0]!.rejected}`)
  return passes
}

const FIGURES: ReadonlyArray<readonly [string, (r: ChildResult) => number, string]> = [
  ['check CPU', (r) => r.checkCpuMs, 'ms'],
  ['calc CPU', (r) => r.calcCpuMs, 'ms'],
  ['total CPU', (r) => r.cpuMs, 'ms'],
  ['wall', (r) => r.wallMs, 'ms'],
  ['GC', (r) => r.gcMs, 'ms'],
  ['alloc', (r) => r.allocatedBytes / 2 ** 20, 'MiB'],
]

/** The median of each figure over `passes`. */
function fmt(passes: ChildResult[]): string {
  return FIGURES.map(([label, f, unit]) => `${label} ${median(passes.map(f)).toFixed(1).padStart(6)} ${unit}`).join('  ')
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-objects-'))
  try {
    const {file, count} = await snapshot(dir)
    const all: Form[] = await forms(dir, 'HEAD', process.env.BENCH_DIST ? resolve(process.env.BENCH_DIST) : join(ROOT, 'dist'))
    if (process.env.BENCH_BASELINE) all.push(...(await forms(dir, 'baseline', join(resolve(process.env.BENCH_BASELINE), 'dist'))))
    const results = new Map<Form, ChildResult[][]>(all.map((f) => [f, []]))
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order, so no form always meets the same moment of a load swing.
      for (const form of round % 2 === 0 ? all : [...all].reverse()) results.get(form)!.push(runChild(file, form))
    }
    console.log(`agent per-object cost: ${count} stored objects (${scale.policies} policies x 5 selector rules, ${scale.local} local + ${scale.remote} remote endpoints); medians of ${ROUNDS} fresh processes`)
    for (const [form, runs] of results) {
      console.log(form.label)
      console.log(`  cold  ${fmt(runs.map((r) => r[0]!))}`)
      // Warm: each process's later passes, the median over all of them.
      if (runs[0]!.length > 1) console.log(`  warm  ${fmt(runs.flatMap((r) => r.slice(1)))}`)
      console.log(`  cold check + calc CPU per process: ${runs.map((r) => (r[0]!.checkCpuMs + r[0]!.calcCpuMs).toFixed(0)).join(', ')} ms`)
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

await main()
