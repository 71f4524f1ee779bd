// Cold start of calicoctl against bare Node.js, measured in the same run (issue: target at most 3x `node -e 0`).
// BENCH_COMPARE=<another checkout's bin/calicoctl> adds its rows to the same run, for before/after figures.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {median, run, rowWithCpu, type Measured, type Run} from './lib.js'

const times = Number(process.env.BENCH_RUNS ?? 20)
const calicoctl = resolve(import.meta.dirname, '../../bin/calicoctl')
const compare = process.env.BENCH_COMPARE
const store = mkdtempSync(join(tmpdir(), 'calico-bench-'))
const env = {...process.env, DATASTORE_PATH: store, NO_COLOR: '1'}

const commands: [string, string[]][] = [['node -e 0', [process.execPath, '-e', '0']]]
for (const [label, bin] of [['calicoctl', calicoctl], ...(compare ? [['compared', compare]] : [])]) {
  commands.push([`${label} version --client`, [bin, 'version', '--client']])
  commands.push([`${label} get ippools (embedded)`, [bin, 'get', 'ippools']])
}

try {
  // One warm-up of each (it also creates the store, so get measures an existing datastore); then rounds that run
  // every command once, so a change in the shared machine's load falls on all of them alike.
  for (const [, argv] of commands) run(argv, {env})
  const runs: Run[][] = commands.map(() => [])
  for (let round = 0; round < times; round++) commands.forEach(([, argv], i) => runs[i].push(run(argv, {env})))
  const measured: Measured[] = runs.map((r) => ({
    medianMs: median(r.map((x) => x.ms)),
    medianCpuMs: median(r.map((x) => x.cpuMs)),
    maxRssKiB: Math.max(...r.map((x) => x.maxRssKiB)),
  }))
  console.log(`cold start, median of ${times} interleaved runs`)
  commands.forEach(([label], i) => console.log(rowWithCpu(label, measured[i], measured[0])))
} finally {
  rmSync(store, {recursive: true, force: true})
}
