// One measurement of bench/agent-objects.ts, in a fresh process: the agent's per-object work on a stored snapshot
// (decode, defaults and validation by checkStoredValue, then the policy calculation fed with the results), first
// cold, then warm. argv: <snapshot.json> <module>, where the module exports checkStoredValue, CheckMemo and
// PolicyCalculator (the parent writes it: plain modules of some build's dist/, or a bundle of them). Prints one JSON
// line of Phase figures for each pass.
import {readFileSync} from 'node:fs'
import {GCProfiler, setFlagsFromString} from 'node:v8'
import type {CheckMemo, checkStoredValue} from '../src/agent/resources.js'
import type {CalcEvent, PolicyCalculator} from '../src/dataplane/calc/index.js'
import type {KVPair} from '../src/datastore/backend.js'

interface Api {
  checkStoredValue: typeof checkStoredValue
  CheckMemo: typeof CheckMemo
  PolicyCalculator: typeof PolicyCalculator
}

export interface Phase {
  /** user + system CPU of this process (V8's helper threads included), ms. */
  cpuMs: number
  wallMs: number
  /** Time in garbage collection (V8's own accounting), ms. */
  gcMs: number
  /** Bytes allocated, estimated from the heap before each collection and after the previous one. */
  allocatedBytes: number
}

export interface ChildResult {
  check: Phase
  calc: Phase
  /** Objects that failed the check (must be 0 for this cluster). */
  rejected: number
}

// As the agent does first thing (runAgent): its young generation stays small, so collections are as frequent as there.
setFlagsFromString('--semi-space-growth-factor=1')

const [snapshotFile, modulePath] = process.argv.slice(2)
if (!snapshotFile || !modulePath) throw new Error('usage: agent-objects-child.js <snapshot.json> <module>')
const items = JSON.parse(readFileSync(snapshotFile, 'utf8')) as KVPair[]
// Each pass parses the values afresh, as the agent gets them from its backend (one JSON.parse per stored row).
const texts = items.map((kv) => JSON.stringify(kv.value))
const api = (await import(modulePath)) as Api

function measure<T>(body: () => T): {result: T; phase: Phase} {
  const profiler = new GCProfiler()
  const usedNow = (): number => process.memoryUsage().heapUsed
  const usedAtStart = usedNow()
  profiler.start()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const result = body()
  const wallMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const usedAtEnd = usedNow()
  const {statistics} = profiler.stop()
  let allocated = 0
  let gcUs = 0
  let after = usedAtStart
  for (const gc of statistics) {
    allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - after)
    after = gc.afterGC.heapStatistics.usedHeapSize
    gcUs += gc.cost
  }
  allocated += Math.max(0, usedAtEnd - after)
  return {result, phase: {cpuMs: (cpu.user + cpu.system) / 1000, wallMs, gcMs: gcUs / 1000, allocatedBytes: allocated}}
}

function pass(): ChildResult {
  const values = texts.map((t) => JSON.parse(t) as unknown)
  const checked = measure(() => {
    const memo = new api.CheckMemo()
    let rejected = 0
    const events: CalcEvent[] = []
    for (let i = 0; i < items.length; i++) {
      const c = api.checkStoredValue(items[i]!.key, values[i], memo)
      if (c.ok) events.push({type: 'set', resource: c.resource})
      else rejected++
    }
    return {events, rejected}
  })
  const calc = measure(() => {
    const calculator = new api.PolicyCalculator('kn')
    for (const ev of checked.result.events) calculator.update(ev)
    return calculator
  })
  return {check: checked.phase, calc: calc.phase, rejected: checked.result.rejected}
}

const passes = Number(process.env.BENCH_PASSES ?? 5)
for (let i = 0; i < passes; i++) process.stdout.write(`${JSON.stringify(pass())}\n`)
