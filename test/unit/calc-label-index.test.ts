// The calculation's label indexes only narrow the candidates a selector is evaluated on, so they must never leave
// out a match: checked against every selector and label set of Calico's selector vectors, plus the narrowing itself.
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import {parseSelector, type Labels, type Selector} from '../../src/api/selector.js'
import {SelectorIndex, SourceIndex} from '../../src/dataplane/calc/label-index.js'
import {SharedLabelMaps} from '../../src/dataplane/calc/label-maps.js'

interface MatchCase {
  selector: string
  labels: Record<string, string> | null
}

/** What an index's forEachCandidate visits, in order. */
function candidatesOf<T, K>(index: {forEachCandidate(key: K, visit: (x: T) => void): void}, key: K): T[] {
  const out: T[] = []
  index.forEachCandidate(key, (x) => out.push(x))
  return out
}

const here = dirname(fileURLToPath(import.meta.url))
const fixture = yaml.load(readFileSync(join(here, '../fixtures/selector/selector-cases.yaml'), 'utf8')) as {match_cases: MatchCase[]; derived_cases: MatchCase[]}
const cases = [...fixture.match_cases, ...(fixture.derived_cases ?? [])].filter((c) => !c.selector.includes('__REPEAT__'))

const parsed: Selector[] = [...new Set(cases.map((c) => c.selector))].flatMap((s) => {
  try {
    return [parseSelector(s)]
  } catch {
    return []
  }
})
// And every pair joined by && and by ||, whose restrictions combine (intersected values, weakest branch).
const selectors: Selector[] = [
  ...parsed,
  ...parsed.flatMap((a) => parsed.flatMap((b) => [parseSelector(`(${a}) && (${b})`), parseSelector(`(${a}) || !(${b})`)])),
]
const labelSets: {labels: Labels}[] = cases.map((c) => ({labels: c.labels ?? {}}))

describe('calc label indexes', () => {
  it('has vectors to check', () => {
    expect(parsed.length).toBeGreaterThan(30)
    expect(labelSets.length).toBeGreaterThan(60)
  })

  it('SourceIndex offers every label set a selector matches', () => {
    const index = new SourceIndex<{labels: Labels}>()
    for (const s of labelSets) index.add(s)
    const missed: string[] = []
    for (const sel of selectors) {
      const candidates = candidatesOf(index, sel)
      const offered = new Set(candidates)
      expect(offered.size, sel.toString()).toBe(candidates.length)
      for (const s of labelSets) if (sel.matches(s.labels) && !offered.has(s)) missed.push(`${sel} / ${JSON.stringify(s.labels)}`)
    }
    expect(missed).toEqual([])
  })

  it('SelectorIndex offers every selector that matches a label set, once', () => {
    const index = new SelectorIndex<Selector>()
    for (const sel of selectors) index.add(sel, sel)
    const missed: string[] = []
    for (const {labels} of labelSets) {
      const candidates = candidatesOf(index, labels)
      const offered = new Set(candidates)
      expect(offered.size, JSON.stringify(labels)).toBe(candidates.length)
      for (const sel of selectors) if (sel.matches(labels) && !offered.has(sel)) missed.push(`${sel} / ${JSON.stringify(labels)}`)
    }
    expect(missed).toEqual([])
  })

  it('narrows by a required label value, preferring an application label over the namespace label', () => {
    const sources = Array.from({length: 100}, (_, i) => ({labels: {app: `a${i % 10}`, tier: `t${i % 4}`, 'projectcalico.org/namespace': 'ns'}}))
    const index = new SourceIndex<{labels: Labels}>()
    for (const s of sources) index.add(s)
    const sel = parseSelector("(app == 'a3' && tier in {'t1', 't2'}) && projectcalico.org/namespace == 'ns'")
    const candidates = candidatesOf(index, sel)
    expect(candidates.length).toBe(10)
    expect(candidates.filter((s) => sel.matches(s.labels)).length).toBe(5)
    expect(candidatesOf(index, parseSelector("app == 'a3' && app == 'a4'"))).toEqual([])
    expect(candidatesOf(index, parseSelector('has(tier)')).length).toBe(100)
    expect(candidatesOf(index, parseSelector("app != 'a3'")).length).toBe(100)

    const sels = new SelectorIndex<string>()
    sels.add('a3', parseSelector("app == 'a3' && projectcalico.org/namespace == 'ns'"))
    sels.add('not-a3', parseSelector("app != 'a3'"))
    sels.add('has-tier', parseSelector('has(tier)'))
    expect(candidatesOf(sels, {app: 'a4', 'projectcalico.org/namespace': 'ns'}).sort()).toEqual(['not-a3'])
    expect(candidatesOf(sels, {app: 'a3', tier: 'x'}).sort()).toEqual(['a3', 'has-tier', 'not-a3'])
  })

  it('forgets removed entries', () => {
    const index = new SourceIndex<{labels: Labels}>()
    const a = {labels: {app: 'x'}}
    index.add(a)
    index.remove(a)
    expect(index.size).toBe(0)
    expect(candidatesOf(index, parseSelector("app == 'x'"))).toEqual([])
    const sels = new SelectorIndex<string>()
    sels.add('x', parseSelector("app == 'x'"))
    sels.remove('x')
    expect(candidatesOf(sels, {app: 'x'})).toEqual([])
  })
})

describe('SharedLabelMaps', () => {
  it('hands out one map per distinct label set and drops it with its last user', () => {
    const maps = new SharedLabelMaps()
    const a = maps.acquire({app: 'web', tier: 'fe'})
    const b = maps.acquire({app: 'web', tier: 'fe'})
    const c = maps.acquire({app: 'db'})
    expect(b).toBe(a)
    expect(c).not.toBe(a)
    expect(maps.size).toBe(2)
    maps.release(a)
    expect(maps.acquire({app: 'web', tier: 'fe'})).toBe(a)
    maps.release(a)
    maps.release(b)
    expect(maps.size).toBe(1)
    expect(maps.acquire({app: 'web', tier: 'fe'})).not.toBe(a)
  })
})
