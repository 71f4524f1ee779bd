// Cold start of calicoctl against bare Node.js, measured in the same run (issue: target at most 3x `node -e 0`), and,
// as root, the node agent's start: `calicoctl node run` on an empty embedded store in a private network namespace,
// from spawn to its first log line and to readiness (its first nft transaction, an empty ruleset).
// BENCH_COMPARE=<another checkout's bin/calicoctl> adds its rows to the same run, for before/after figures.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {withBenchLab, startAgent} from './agent-scale.js'
import {median, row, rowWithCpu, type Measured, type Run} from './lib.js'

// Node parses every certificate of NODE_EXTRA_CA_CERTS when it starts, before any JavaScript: with this machine's
// /etc/ssl/certs bundle that is ~80% of the instructions of `node -e 0`. It is the environment's cost, paid by every
// node process alike, and would hide what calicoctl adds; the runs here go without it.
delete process.env.NODE_EXTRA_CA_CERTS
const times = Number(process.env.BENCH_RUNS ?? 20)
const agentTimes = Number(process.env.BENCH_AGENT_RUNS ?? 10)
const calicoctl = resolve(import.meta.dirname, '../../bin/calicoctl')
const compare = process.env.BENCH_COMPARE
const store = mkdtempSync(join(tmpdir(), 'calico-bench-'))
// CPU time from GNU time comes in 10 ms steps, as coarse as the differences measured here. Every command (`node -e
// 0` included) instead reports its own CPU time in microseconds when it exits, through a preloaded script; GNU
// time still gives the peak RSS.
const cpuReport = join(store, 'cpu-report.cjs')
writeFileSync(cpuReport, `process.on('exit', () => { const c = process.cpuUsage(); process.stderr.write('\\ncpu-us ' + (c.user + c.system) + '\\n') })\n`)
const env = {...process.env, DATASTORE_PATH: store, NO_COLOR: '1', NODE_OPTIONS: `--require ${cpuReport}`}

const commands: [string, string[]][] = [['node -e 0', [process.execPath, '-e', '0']]]
for (const [label, bin] of [['calicoctl', calicoctl], ...(compare ? [['compared', compare]] : [])]) {
  commands.push([`${label} version --client`, [bin, 'version', '--client']])
  commands.push([`${label} get ippools (embedded)`, [bin, 'get', 'ippools']])
}

function run(argv: string[]): Run {
  const start = process.hrtime.bigint()
  const child = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], {env, encoding: 'utf8'})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  const cpu = /\ncpu-us (\d+)\n/.exec(child.stderr)
  if (child.status !== 0 || !cpu) throw new Error(`${argv.join(' ')} exited ${child.status}: ${child.stderr.slice(-2000)}`)
  const rss = Number(child.stderr.trim().split('\n').at(-1))
  return {ms, cpuMs: Number(cpu[1]) / 1000, maxRssKiB: rss, status: child.status}
}

/** Median wall time of `node -e 0`, the baseline of every ratio (the agent's rows too). */
let nodeMs = NaN
try {
  // One warm-up of each (it also creates the store, so get measures an existing datastore); then rounds that run
  // every command once, so a change in the shared machine's load falls on all of them alike.
  for (const [, argv] of commands) run(argv)
  const runs: Run[][] = commands.map(() => [])
  for (let round = 0; round < times; round++) commands.forEach(([, argv], i) => runs[i].push(run(argv)))
  const measured: Measured[] = runs.map((r) => ({
    medianMs: median(r.map((x) => x.ms)),
    medianCpuMs: median(r.map((x) => x.cpuMs)),
    maxRssKiB: Math.max(...r.map((x) => x.maxRssKiB)),
  }))
  console.log(`cold start, median of ${times} interleaved runs (CPU: the process's own, reported at exit)`)
  commands.forEach(([label], i) => console.log(rowWithCpu(label, measured[i], measured[0])))
  nodeMs = measured[0].medianMs
} finally {
  rmSync(store, {recursive: true, force: true})
}

/** Milliseconds between the first log line and the readiness line of an agent's log (their own timestamps). */
function firstLineToReady(log: string): number {
  const stamps = [...log.matchAll(/time="([^"]+)"/g)].map((m) => Date.parse(m[1]!))
  const ready = /time="([^"]+)" level=info msg="Calico node started successfully"/.exec(log)
  return Date.parse(ready![1]!) - stamps[0]!
}

if (process.getuid?.() === 0) {
  await withBenchLab('stup', async (run, benchStore) => {
    const agents = [{label: 'calicoctl node run', bin: calicoctl}, ...(compare ? [{label: 'compared node run', bin: compare}] : [])]
    const starts = agents.map(() => ({firstLog: [] as number[], ready: [] as number[], cpu: [] as number[]}))
    // Rounds alternate which build starts first, so a load swing does not always meet the same one.
    for (let round = 0; round < agentTimes; round++) {
      for (const i of round % 2 === 0 ? agents.keys() : [...agents.keys()].reverse()) {
        const agent = await startAgent(run, run.addNetns(`a${i}r${round}`), benchStore, undefined, [], agents[i]!.bin)
        await agent.stop()
        starts[i]!.ready.push(agent.readyMs)
        starts[i]!.firstLog.push(agent.readyMs - firstLineToReady(agent.log()))
        starts[i]!.cpu.push(agent.readyCpuMs)
      }
    }
    console.log(`node agent start on an empty store, median of ${agentTimes} rounds (CPU: the agent's and its nft children's at readiness, 10 ms steps)`)
    agents.forEach(({label}, i) => {
      const s = starts[i]!
      console.log(row(`${label}: spawn → first log line`, median(s.firstLog), nodeMs))
      console.log(`${row(`${label}: spawn → ready`, median(s.ready), nodeMs)}  | cpu ${median(s.cpu).toFixed(0).padStart(5)} ms`)
    })
  })
}
