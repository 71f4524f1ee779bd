// Small helpers shared by the bench scripts: wall time and peak RSS of child processes, and the bulk benchmarks'
// NetworkPolicies.
import {spawnSync, type SpawnSyncOptions} from 'node:child_process'
import type {Key} from '../src/datastore/backend.js'

export interface Run {
  ms: number
  /** CPU time of the child (user + system), steadier than wall time on a shared machine. */
  cpuMs: number
  /** Peak resident set size of the child, in KiB (from GNU time). */
  maxRssKiB: number
  status: number | null
}

/** Runs argv once under /usr/bin/time to get its peak RSS; throws if it fails. */
export function run(argv: string[], options: SpawnSyncOptions = {}): Run {
  const start = process.hrtime.bigint()
  const child = spawnSync('/usr/bin/time', ['-f', '%U %S %M', ...argv], {encoding: 'utf8', maxBuffer: 1 << 30, ...options})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  const stderr = String(child.stderr ?? '')
  if (child.status !== 0) {
    throw new Error(`${argv.join(' ')} exited ${child.status}: ${stderr.slice(-2000)}`)
  }
  const lines = stderr.trim().split('\n')
  const [user, sys, rss] = lines[lines.length - 1].split(' ').map(Number)
  return {ms, cpuMs: (user + sys) * 1000, maxRssKiB: rss, status: child.status}
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/** Runs argv `times` times (after one warm-up) and returns the median wall time and the largest peak RSS. */
export interface Measured {
  medianMs: number
  medianCpuMs: number
  maxRssKiB: number
}

/** Runs argv `times` times (after one warm-up): median wall and CPU time, and the largest peak RSS. */
export function measure(argv: string[], times: number, options: SpawnSyncOptions = {}): Measured {
  run(argv, options)
  const runs = Array.from({length: times}, () => run(argv, options))
  return {
    medianMs: median(runs.map((r) => r.ms)),
    medianCpuMs: median(runs.map((r) => r.cpuMs)),
    maxRssKiB: Math.max(...runs.map((r) => r.maxRssKiB)),
  }
}

export function row(label: string, ms: number, baselineMs: number, rssKiB?: number): string {
  const rss = rssKiB === undefined ? '' : `  peak RSS ${(rssKiB / 1024).toFixed(1)} MiB`
  return `${label.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms  ${(ms / baselineMs).toFixed(2)}x${rss}`
}

/** A row with wall and CPU time, each as a ratio to its own baseline. */
export function rowWithCpu(label: string, m: Measured, base: Measured): string {
  return `${row(label, m.medianMs, base.medianMs, m.maxRssKiB)}  | cpu ${m.medianCpuMs.toFixed(0).padStart(5)} ms  ${(
    m.medianCpuMs / base.medianCpuMs
  ).toFixed(2)}x`
}

/** The i-th of the bulk benchmarks' NetworkPolicies: ten namespaces, names `np-000000`… in creation order. */
export function policyKey(i: number): Key {
  return {kind: 'NetworkPolicy', namespace: `ns-${i % 10}`, name: `np-${String(i).padStart(6, '0')}`}
}

/** The stored value of policyKey(i): a one-rule ingress policy, the shape of a typical application policy. */
export function policyValue(i: number): Record<string, unknown> {
  const {name, namespace} = policyKey(i)
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: {name, namespace, labels: {'projectcalico.org/tier': 'default'}},
    spec: {tier: 'default', order: 100, selector: `app == "a${i}"`, types: ['Ingress'], ingress: [{action: 'Allow', protocol: 'TCP', destination: {ports: [80, 443]}}]},
  }
}
