// Output written as a list is read (src/cli/output: YAMLSequenceStream, JSONArrayStream, writeResources): the
// parts together are byte for byte the whole document's text, however the items are split into pages, and a page
// that cannot be read stops the output after a whole item.
import {describe, expect, it} from 'vitest'
import type {Resource, ResourceList} from '../../src/api/resource.js'
import {formatResources, writeResources, type PagedList} from '../../src/cli/output/index.js'
import {JSONArrayStream, marshalIndentJSON} from '../../src/cli/output/json.js'
import {marshalYAML, YAMLSequenceStream} from '../../src/cli/output/yaml.js'
import {cases, list, stored} from './output-helpers.js'

/** A small deterministic generator (no Math.random: a failure must be reproducible). */
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/** Splits items into consecutive pages of random sizes, empty pages included. */
function pages<T>(items: readonly T[], rand: () => number): T[][] {
  const out: T[][] = []
  let i = 0
  while (i < items.length) {
    const n = Math.floor(rand() * 4)
    out.push(items.slice(i, i + n))
    i += n
  }
  if (rand() < 0.5) out.push([])
  return out
}

const WORDS = ['a', 'x: y', '10', 'true', "it's", 'say "hi"', 'line\nbreak', '- dash', 'é', '', '#c', 'all()', ' lead']

/** Values that exercise the emitter: nested maps and sequences, quoting, folding of long text, literal blocks. */
function value(rand: () => number, depth: number): unknown {
  const r = rand()
  if (depth > 2 || r < 0.4) {
    const w = WORDS[Math.floor(rand() * WORDS.length)]
    return rand() < 0.1 ? `${w} ${'long words '.repeat(12)}` : rand() < 0.15 ? Math.floor(rand() * 1000) : w
  }
  if (r < 0.7) return Array.from({length: Math.floor(rand() * 3)}, () => value(rand, depth + 1))
  const obj: Record<string, unknown> = {}
  for (let i = Math.floor(rand() * 4); i > 0; i--) obj[WORDS[Math.floor(rand() * WORDS.length)] || 'k'] = value(rand, depth + 1)
  return obj
}

describe('YAMLSequenceStream', () => {
  it('writes what marshalYAML writes for the whole document, for any split into pages', () => {
    const rand = prng(7)
    for (let n = 0; n < 300; n++) {
      const items = Array.from({length: Math.floor(rand() * 8)}, () => value(rand, 0))
      // Members sorting before and after the streamed key, one of them a key that needs quotes.
      const doc: Record<string, unknown> = {apiVersion: 'v3', items: [], kind: value(rand, 1), 'z: key': value(rand, 1)}
      const stream = new YAMLSequenceStream(doc, 'items')
      const text = pages(items, rand).map((p) => stream.items(p)).join('') + stream.end()
      expect(text).toBe(marshalYAML({...doc, items}))
    }
  })

  it('writes `[]` for a sequence that got no items', () => {
    const stream = new YAMLSequenceStream({kind: 'List', items: [], metadata: {resourceVersion: '5'}}, 'items')
    expect(stream.items([]) + stream.end()).toBe('items: []\nkind: List\nmetadata:\n  resourceVersion: "5"\n')
  })
})

describe('JSONArrayStream', () => {
  it('writes what marshalIndentJSON writes for the whole document, for any split into pages', () => {
    const rand = prng(11)
    for (let n = 0; n < 300; n++) {
      const items = Array.from({length: Math.floor(rand() * 8)}, () => value(rand, 0))
      const doc = {kind: 'List', metadata: {resourceVersion: '3', note: 'a <b> & c'}, items: []}
      const stream = new JSONArrayStream(doc)
      const text = pages(items, rand).map((p) => stream.items(p)).join('') + stream.end()
      expect(text).toBe(marshalIndentJSON({...doc, items}))
    }
  })

  it('refuses a document whose last member is not an empty array', () => {
    expect(() => new JSONArrayStream({items: [], kind: 'List'})).toThrow(/must end with an empty array/)
  })
})

/** A PagedList over `later` pages; `failAfter` pages in, reading the next one fails. */
function paged(whole: ResourceList, later: Resource[][], failAfter?: number): PagedList {
  async function* more(): AsyncGenerator<Resource[]> {
    for (let i = 0; i < later.length; i++) {
      if (i === failAfter) throw new Error('etcd at http://127.0.0.1:2379: etcdserver: mvcc: required revision has been compacted')
      yield later[i]
    }
  }
  return {...whole, items: whole.items.slice(0, whole.items.length - later.flat().length), more: more()}
}

describe('writeResources', () => {
  const policies = Object.keys(cases.fixtures)
    .filter((name) => name.startsWith('globalnetworkpolicy_'))
    .map((name) => stored(name))
  const whole = list('GlobalNetworkPolicy', [...policies, ...policies, ...policies])
  const later = [whole.items.slice(2, 4), [], whole.items.slice(4)]

  it.each(['yaml', 'json', 'ps', 'wide'])('-o %s of a paged list: formatResources of the whole list', async (format) => {
    const parts: string[] = []
    await writeResources([paged(whole, later)], format, {}, async (text) => void parts.push(text))
    expect(parts.join('')).toBe(await formatResources([whole], format))
    // yaml and json are written a page at a time; tables need every row first.
    expect(parts.length > 1).toBe(format === 'yaml' || format === 'json')
  })

  it('a paged list among other results is read whole first', async () => {
    const single = stored('globalnetworkpolicy_name1_rev1')
    const parts: string[] = []
    await writeResources([single, paged(whole, later)], 'yaml', {}, async (text) => void parts.push(text))
    expect(parts).toEqual([await formatResources([single, whole], 'yaml')])
  })

  it.each(['yaml', 'json'])('-o %s: a page that cannot be read is thrown after the earlier pages were written', async (format) => {
    const parts: string[] = []
    const failing = writeResources([paged(whole, later, 2)], format, {}, async (text) => void parts.push(text))
    await expect(failing).rejects.toThrow('required revision has been compacted')
    // What was written is the whole list's text up to the end of the items read (the first four; in yaml, the last
    // line of the fourth is not ended yet: the emitter breaks a line when the next one starts).
    const full = await formatResources([whole], format)
    const upToFour = await formatResources([list('GlobalNetworkPolicy', whole.items.slice(0, 4))], format)
    const written = parts.join('')
    expect(full.startsWith(written)).toBe(true)
    const itemsEnd = format === 'yaml' ? upToFour.lastIndexOf('\nkind: GlobalNetworkPolicyList') : upToFour.lastIndexOf('\n  ]')
    expect(written).toBe(upToFour.slice(0, itemsEnd))
  })
})
