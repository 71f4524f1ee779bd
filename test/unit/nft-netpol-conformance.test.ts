// Every netpol conformance case (Kubernetes e2e, cyclonus extras, Calico tiers) against the RENDERED nftables
// model: policies → incremental calculator → nft table → packet evaluator, compared cell by cell with the
// expected 9×9 truth tables. Each step also checks that the incremental state renders exactly like a state
// computed from scratch, and that the delta from the previous step's table is consistent.
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {diffTables, renderFullScript} from '../../src/dataplane/nftables/index.js'
import {ALL_PODS, NetpolWorld, loadCases, parseTable, probeTable, renderState, type NetpolCase} from './nft-netpol-harness.js'

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/netpol')
const k8sCases = loadCases(join(fixtures, 'cases'))
const calicoCases = loadCases(join(fixtures, 'calico-cases'))

function mismatches(expected: Map<string, boolean>, actual: Map<string, boolean>): string[] {
  const bad: string[] = []
  for (const from of ALL_PODS) {
    for (const to of ALL_PODS) {
      if (from === to) continue // the e2e ignores loopback
      const k = `${from}>${to}`
      if (expected.get(k) !== actual.get(k)) bad.push(`${k}: expected ${expected.get(k) ? 'allow' : 'block'}`)
    }
  }
  return bad
}

function runCase(c: NetpolCase): void {
  const world = new NetpolWorld()
  let prev = renderState(world.calc.state())
  let probes = 0
  for (const step of c.steps) {
    for (const a of step.actions) world.act(a)
    expect([...world.calc.problems()], `${step.name}: resources rejected`).toEqual([])
    const table = renderState(world.calc.state())
    // Incremental index ≡ full recomputation.
    expect(renderFullScript(table), `${step.name}: incremental vs full`).toBe(renderFullScript(renderState(world.fullState())))
    // The delta is empty iff nothing changed.
    const delta = diffTables(prev, table)
    expect(delta.script === '', `${step.name}: delta emptiness`).toBe(renderFullScript(prev) === renderFullScript(table))
    prev = table
    for (const p of step.probes ?? []) {
      const bad = mismatches(parseTable(p.expected), probeTable(table, p.protocol, p.port))
      expect(bad, `${c.id} / ${step.name} / ${p.protocol} ${p.port}`).toEqual([])
      probes++
    }
  }
  expect(probes).toBeGreaterThan(0)
}

describe('netpol conformance: Kubernetes e2e and cyclonus cases on the rendered nftables model', () => {
  it('has the cases', () => expect(k8sCases.length).toBeGreaterThanOrEqual(40))
  for (const c of k8sCases) it(c.id, () => runCase(c))
})

describe('netpol conformance: Calico tier/order/action cases on the rendered nftables model', () => {
  it('has the cases', () => expect(calicoCases.length).toBeGreaterThanOrEqual(15))
  for (const c of calicoCases) it(c.id, () => runCase(c))
})
