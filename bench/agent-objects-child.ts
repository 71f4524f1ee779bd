// One measurement of bench/agent-objects.ts, in a fresh process: the agent's per-object work on a stored snapshot
// (decode, defaults and validation by checkStoredValue, each result fed at once to the policy calculation), first
// cold, then warm. argv: <snapshot.json> <module>, where the module exports checkStoredValue, CheckMemo and
// PolicyCalculator (the parent writes it: plain modules of some build's dist/, or a bundle of them). Prints one JSON
// line of ChildResult figures for each pass.
import {readFileSync} from 'node:fs'
import {GCProfiler, setFlagsFromString} from 'node:v8'
import type {CheckMemo, checkStoredValue} from '../src/agent/resources.js'
import type {PolicyCalculator} from '../src/dataplane/calc/index.js'
import type {KVPair} from '../src/datastore/backend.js'

interface Api {
  checkStoredValue: typeof checkStoredValue
  CheckMemo: typeof CheckMemo
  PolicyCalculator: typeof PolicyCalculator
}

export interface ChildResult {
  /**
   * The pass's CPU split between checkStoredValue calls and calculator updates by their shares of the wall time
   * (reading the CPU clock around every call cost more than the calls).
   */
  checkCpuMs: number
  calcCpuMs: number
  /** The whole pass: CPU, wall time, time in garbage collection (V8's accounting), bytes allocated (estimated). */
  cpuMs: number
  wallMs: number
  gcMs: number
  allocatedBytes: number
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

const cpuNow = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/**
 * One pass as the agent makes it: each stored value checked and at once fed to the calculation, so decoded objects
 * die young as they do there (checking everything first would keep them all and inflate the collector's work).
 */
function pass(): ChildResult {
  const values = texts.map((t) => JSON.parse(t) as unknown)
  const profiler = new GCProfiler()
  const usedAtStart = process.memoryUsage().heapUsed
  profiler.start()
  const start = cpuNow()
  const t0 = performance.now()
  const memo = new api.CheckMemo()
  const calculator = new api.PolicyCalculator('kn')
  let checkMs = 0
  let calcMs = 0
  let rejected = 0
  for (let i = 0; i < items.length; i++) {
    const c0 = performance.now()
    const c = api.checkStoredValue(items[i]!.key, values[i], memo)
    const c1 = performance.now()
    checkMs += c1 - c0
    if (!c.ok) {
      rejected++
      continue
    }
    calculator.update({type: 'set', resource: c.resource})
    calcMs += performance.now() - c1
  }
  const wallMs = performance.now() - t0
  const cpuMs = cpuNow() - start
  const checkCpuMs = (cpuMs * checkMs) / (checkMs + calcMs)
  const calcCpuMs = cpuMs - checkCpuMs
  const usedAtEnd = process.memoryUsage().heapUsed
  const {statistics} = profiler.stop()
  let allocatedBytes = 0
  let gcUs = 0
  let after = usedAtStart
  for (const gc of statistics) {
    allocatedBytes += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - after)
    after = gc.afterGC.heapStatistics.usedHeapSize
    gcUs += gc.cost
  }
  allocatedBytes += Math.max(0, usedAtEnd - after)
  return {checkCpuMs, calcCpuMs, cpuMs, wallMs, gcMs: gcUs / 1000, allocatedBytes, rejected}
}

const passes = Number(process.env.BENCH_PASSES ?? 5)
for (let i = 0; i < passes; i++) process.stdout.write(`${JSON.stringify(pass())}\n`)
