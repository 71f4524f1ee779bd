// What one delta transaction costs nft, by its form, against the 1,000-policy table (21,000 rules, 500 sets) in a
// private network namespace: the reason for the forms the agent's deltas take (src/dataplane/nftables/diff.ts).
// Each form is applied as a pair that returns the table to where it was, RUNS times; printed per transaction: the
// median wall time of `nft -f` and its CPU (user + system of the reaped children, summed over all runs: /proc counts
// in 10 ms ticks, too coarse for one run). Root only.
// Run: npm run bench:agent-nft-delta
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {computePolicyState, type CalcResource} from '../src/dataplane/calc/index.js'
import {markerScript} from '../src/dataplane/linux/nft-monitor.js'
import {diffTables, renderFullScript, renderTable, type NftTable} from '../src/dataplane/nftables/index.js'
import {NetnsRun} from '../test/helpers/netns.js'
import {NAMESPACE, NODE, V3, endpointAddress, requireRoot, scaleFromEnv, scaleResources, workloadEndpoint} from './agent-scale.js'
import {median} from './lib.js'

requireRoot('bench/agent-nft-delta')
const scale = scaleFromEnv({policies: 1000, local: 200, remote: 800})
const RUNS = Number(process.env.BENCH_RUNS ?? 40)
const USER_HZ = 100

/** CPU (ms) of this process's reaped children so far. */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / USER_HZ
}

function nft(ns: string, script: string): number {
  const t0 = performance.now()
  const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {input: script, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`nft -f failed: ${r.stderr}\n${script.slice(0, 2000)}`)
  return performance.now() - t0
}

/** The old form of set element changes (what diff.ts wrote before): `delete element` / `add element` lines. */
function elementCommands(from: NftTable, to: NftTable): string {
  const lines: string[] = []
  for (const [name, set] of to.sets) {
    const before = new Set(from.sets.get(name)?.elements ?? [])
    const after = new Set(set.elements)
    const removed = [...before].filter((e) => !after.has(e))
    const added = set.elements.filter((e) => !before.has(e))
    if (removed.length > 0) lines.push(`delete element inet calico ${name} { ${removed.map((e) => e.replace(/\/32$/, '')).join(', ')} }`)
    if (added.length > 0) lines.push(`add element inet calico ${name} { ${added.map((e) => e.replace(/\/32$/, '')).join(', ')} }`)
  }
  return lines.join('\n') + '\n'
}

const probe = (action: string): CalcResource => ({
  apiVersion: V3, kind: 'NetworkPolicy', metadata: {name: 'latency-probe', namespace: NAMESPACE},
  spec: {order: 100_000, selector: "app == 'app0'", types: ['Ingress'], ingress: [{action, protocol: 'TCP', source: {selector: "app == 'app1'"}, destination: {ports: [7000]}}]},
})
const base = scaleResources(scale)
const deny = renderTable(computePolicyState(NODE, [...base, probe('Deny')]))
const allow = renderTable(computePolicyState(NODE, [...base, probe('Allow')]))
// A remote endpoint whose labels put its address into the IP sets of several rules: only set elements change.
const i = scale.local + scale.remote
const joined = renderTable(computePolicyState(NODE, [...base, probe('Deny'), workloadEndpoint({name: 'wep-extra', node: 'remote0', iface: 'caliextra', address: endpointAddress(i), labels: {app: 'app1', tier: 't1'}})]))
const setsChanged = [...joined.sets].filter(([n, s]) => deny.sets.get(n)?.elements.join() !== s.elements.join()).length

const marker = (n: number): string => markerScript({family: 'inet', name: 'calico'}, `cali-txn-bench00-${n}`)
const forms: [string, () => [string, string]][] = [
  ['flush chain only (no rule added)', () => {
    const flush = `flush chain inet calico ${[...deny.chains.keys()].find((c) => c.includes('latency-probe'))!}\n`
    return [flush, flush]
  }],
  ['policy flip: flush chain + add rules', () => [diffTables(deny, allow).script, diffTables(allow, deny).script]],
  ['policy flip + the agent\'s marker', () => [diffTables(deny, allow).script + marker(1), diffTables(allow, deny).script + marker(2)]],
  [`endpoint joins/leaves ${setsChanged} sets: add/delete element`, () => [elementCommands(deny, joined), elementCommands(joined, deny)]],
  [`endpoint joins/leaves ${setsChanged} sets: set declarations (diff.ts)`, () => [diffTables(deny, joined).script, diffTables(joined, deny).script]],
]

const run = new NetnsRun('nd')
try {
  const ns = run.addNetns('nft')
  nft(ns, renderFullScript(deny))
  console.log(`nft -f per delta transaction: ${scale.policies} policies, ${deny.sets.size} sets, ${[...deny.chains.values()].reduce((n, c) => n + c.rules.length, 0)} rules; ${RUNS} pairs each, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
  for (const [label, make] of forms) {
    const [there, back] = make()
    const walls: number[] = []
    const cpu0 = childrenCpuMs()
    for (let r = 0; r < RUNS; r++) {
      walls.push(nft(ns, there))
      walls.push(nft(ns, back))
    }
    const cpuMs = (childrenCpuMs() - cpu0) / (2 * RUNS)
    console.log(`  ${label.padEnd(58)} wall median ${median(walls).toFixed(1).padStart(6)} ms   CPU ${cpuMs.toFixed(1).padStart(5)} ms`)
    // Every form starts from the same table (the flush-only pair leaves the probe's chain empty).
    nft(ns, diffTables(allow, deny).script)
  }
} finally {
  run.destroy()
}
