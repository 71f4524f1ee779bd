// The rendered scripts against the real nft parser and kernel, inside a network namespace this test creates
// (per-run name, removed in afterAll even on failure). Skipped when not root or nft/ip are missing.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {computePolicyState} from '../../src/dataplane/calc/index.js'
import {diffTables, renderFullScript, renderTable, type NftTable} from '../../src/dataplane/nftables/index.js'
import {NetnsRun, inNs, netnsUnavailable} from '../helpers/netns.js'
import {NetpolWorld, loadCases} from './nft-netpol-harness.js'
import {RICH_NODE, richResources} from './nft-rich-fixture.js'

const canRun = netnsUnavailable() === undefined
let run: NetnsRun | undefined
let nsName = ''
let dir = ''

function nft(script: string, ...args: string[]): string {
  const file = join(dir, `s-${Math.random().toString(36).slice(2)}.nft`)
  writeFileSync(file, script)
  try {
    return inNs(nsName, 'nft', [...args, '-f', file])
  } catch (err) {
    const e = err as {stderr?: string}
    throw new Error(`nft ${args.join(' ')} failed:\n${e.stderr ?? String(err)}\n--- script ---\n${script.split('\n').slice(0, 400).join('\n')}`)
  }
}

/**
 * The kernel's view of our table as JSON, minus handles, objects keyed by name and set elements sorted (listing
 * order follows creation order, which is not semantic); rule order within a chain is kept.
 */
function dump(): Record<string, unknown> {
  const out = inNs(nsName, 'nft', ['-j', 'list', 'table', 'inet', 'calico'])
  const doc = JSON.parse(out) as {nftables: Record<string, Record<string, unknown>>[]}
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip)
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'handle').map(([k, x]) => [k, k === 'elem' && Array.isArray(x) ? x.map(strip).map((e) => JSON.stringify(e)).sort() : strip(x)]))
    }
    return v
  }
  const objects: Record<string, unknown> = {}
  const rules: Record<string, unknown[]> = {}
  for (const o of doc.nftables) {
    const [type, body] = Object.entries(o)[0] as [string, Record<string, unknown>]
    if (type === 'metainfo') continue
    if (type === 'rule') (rules[body['chain'] as string] ??= []).push(strip(body))
    else objects[`${type} ${String(body['name'])}`] = strip(body)
  }
  return Object.fromEntries([...Object.entries(objects), ...Object.entries(rules).map(([c, r]) => [`rules ${c}`, r] as const)].sort(([a], [b]) => (a < b ? -1 : 1)))
}

describe.skipIf(!canRun)('nft scripts against the kernel (in a private netns)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hnft-'))
    run = new NetnsRun('hnft')
    nsName = run.addNetns('nft')
  })
  afterAll(() => {
    try {
      run?.destroy()
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  const rich1 = renderTable(computePolicyState(RICH_NODE, richResources(1)))
  const rich2 = renderTable(computePolicyState(RICH_NODE, richResources(2)))
  const empty = renderTable(computePolicyState(RICH_NODE, []))
  const noPools = renderTable(computePolicyState(RICH_NODE, richResources(1).filter((r) => r.kind !== 'IPPool')))

  it('the full start-up script of a feature-rich state is accepted and reproduces the model', () => {
    nft(renderFullScript(rich1))
    const listed = inNs(nsName, 'nft', ['list', 'table', 'inet', 'calico'])
    expect(listed).toContain('End of tier default. Drop if no policies passed packet')
    expect(listed).toContain('NetworkPolicy prod/web ingress')
    // Re-applying the full script replaces the table atomically (no duplicate rules).
    const before = dump()
    nft(renderFullScript(rich1))
    expect(dump()).toEqual(before)
  })

  const transitions: [string, NftTable, NftTable][] = [
    ['empty → rich', empty, rich1],
    ['rich v1 → v2', rich1, rich2],
    ['rich v2 → v1', rich2, rich1],
    ['rich → empty', rich1, empty],
    // natOutgoing's nat base chain and pool sets appearing and going (v1 → v2 above changes their elements).
    ['no pools → pools with natOutgoing', noPools, rich1],
    ['pools with natOutgoing → no pools', rich1, noPools],
  ]
  for (const [name, from, to] of transitions) {
    it(`delta ${name} applied in the kernel equals a fresh full render`, () => {
      nft(renderFullScript(from))
      const delta = diffTables(from, to)
      expect(delta.script).not.toBe('')
      nft(delta.script)
      const viaDelta = dump()
      nft(renderFullScript(to))
      expect(viaDelta).toEqual(dump())
    })
  }

  it('every step of every netpol case renders a script nft accepts, and its delta applies cleanly', () => {
    const fixtures = join(import.meta.dirname, '../fixtures/netpol')
    const cases = [...loadCases(join(fixtures, 'cases')), ...loadCases(join(fixtures, 'calico-cases'))]
    let checked = 0
    for (const c of cases) {
      const world = new NetpolWorld()
      let prev = renderTable(world.calc.state())
      nft(renderFullScript(prev))
      for (const step of c.steps) {
        for (const a of step.actions) world.act(a)
        const next = renderTable(world.calc.state())
        const delta = diffTables(prev, next)
        if (delta.script !== '') nft(delta.script)
        prev = next
        checked++
      }
      const viaDeltas = dump()
      nft(renderFullScript(prev))
      expect(dump(), c.id).toEqual(viaDeltas)
    }
    expect(checked).toBeGreaterThan(59)
  })
})
