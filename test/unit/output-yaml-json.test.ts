import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import type {Resource} from '../../src/api/resource.js'
import {formatResources} from '../../src/cli/output/index.js'
import {marshalIndentJSON} from '../../src/cli/output/json.js'
import {marshalYAML, yamlKeyLess} from '../../src/cli/output/yaml.js'
import {list, readFixture, step, stored} from './output-helpers.js'

/** The ST harness's clean_calico_data: drop server-set metadata, nulls and empty maps before comparing. */
function clean(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clean)
  if (v === null || typeof v !== 'object') return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) {
    if (['creationTimestamp', 'resourceVersion', 'uid'].includes(k)) continue
    const c = clean(x)
    if (c === null || (typeof c === 'object' && !Array.isArray(c) && Object.keys(c as object).length === 0)) continue
    out[k] = c
  }
  return out
}

describe('yaml emitter (go-yaml v2 via sigs.k8s.io/yaml)', () => {
  const golden = JSON.parse(readFixture('yaml-emitter-pyyaml.json')) as {cases: Array<{in: unknown; out: string}>}

  it.each(golden.cases.map((c, i) => [i, c] as const))('matches the libyaml emitter on golden case %i', (_, c) => {
    expect(marshalYAML(c.in)).toBe(c.out)
  })

  it.each([
    ['10', '"10"'], ['true', '"true"'], ['on', '"on"'], ['Yes', '"Yes"'], ['n', '"n"'], ['', '""'], ['~', '"~"'],
    ['null', '"null"'], ['1.5', '"1.5"'], ['1e3', '"1e3"'], ['0x1F', '"0x1F"'], ['08', '"08"'], ['1_000', '"1_000"'],
    ['+1', '"+1"'], ['.5', '".5"'], ['.inf', '".inf"'], ['1:20', '"1:20"'],
    ['2026-01-02T15:04:05Z', '"2026-01-02T15:04:05Z"'], ['2026-1-2', '"2026-1-2"'], ['2026-01-02 15:04:05', '"2026-01-02 15:04:05"'],
    ['2026-13-02', '2026-13-02'], ['2026-02-30', '2026-02-30'], ['2026-01-02T15:04:05', '2026-01-02T15:04:05'],
    ['10.0.1.0/24', '10.0.1.0/24'], ["foo == 'bar'", "foo == 'bar'"], ['all()', 'all()'], ['fd5f::6:ee', 'fd5f::6:ee'],
    ["'bar'", "'''bar'''"], ['- x', "'- x'"], ['a: b', "'a: b'"], ['#x', "'#x'"], ['a #b', "'a #b'"], ['a#b', 'a#b'],
    [' lead', "' lead'"], ['trail ', "'trail '"], ['{x}', "'{x}'"], ['---', "'---'"], ['a\tb', '"a\\tb"'],
    ['x\u{1F600}', '"x\\U0001F600"'], ['é', 'é'], ['say "hi"', 'say "hi"'], ['"q"', `'"q"'`], ['a\\b', 'a\\b'],
  ])('quotes the string %j only when needed', (s, want) => {
    expect(marshalYAML({k: s})).toBe(`k: ${want}\n`)
  })

  it('prints numbers as Go does after the JSON round trip', () => {
    expect(marshalYAML({a: 27, b: 0.5, c: 1234567.5, d: 1e21, e: 1e-7, f: 100.0, g: -3, h: true, i: null}))
      .toBe('a: 27\nb: 0.5\nc: 1.2345675e+06\nd: 1e+21\ne: 1e-07\nf: 100\ng: -3\nh: true\ni: null\n')
  })

  it('writes multi-line strings as literal blocks with chomping and indentation hints', () => {
    expect(marshalYAML({a: 'x\ny'})).toBe('a: |-\n  x\n  y\n')
    expect(marshalYAML({a: 'x\ny\n'})).toBe('a: |\n  x\n  y\n')
    expect(marshalYAML({a: 'x\n\n'})).toBe('a: |+\n  x\n\n')
    expect(marshalYAML({a: ' x\ny'})).toBe('a: |2-\n   x\n  y\n')
    expect(marshalYAML({a: 'x \ny'})).toBe('a: "x \\ny"\n')
    expect(marshalYAML({s: {a: 'p\n\nq'}})).toBe('s:\n  a: |-\n    p\n\n    q\n')
  })

  it('orders keys like go-yaml: numbers inside keys by value, non-letters before letters', () => {
    const keys = ['a10', 'a2', 'ab', 'a-b', 'B', 'a', 'a02']
    const sorted = [...keys].sort((x, y) => (yamlKeyLess(x, y) ? -1 : yamlKeyLess(y, x) ? 1 : 0))
    expect(sorted).toEqual(['B', 'a', 'a-b', 'a2', 'a02', 'a10', 'ab'])
  })

  it('indents sequences of mappings and nested sequences like yaml.v2', () => {
    expect(marshalYAML([{b: [1, [2, 3]], a: {}}, []])).toBe('- a: {}\n  b:\n  - 1\n  - - 2\n    - 3\n- []\n')
  })

  it('writes a document far larger than its output chunks whole and in order', () => {
    // Each item of a top-level sequence prints on its own, so the whole equals the items emitted one by one.
    const items = Array.from({length: 3000}, (_, i) => ({name: `item-${i}`, note: `a note that is long enough ${'x'.repeat(i % 90)} to fold past column eighty`, ports: [i, i + 1]}))
    const whole = marshalYAML(items)
    expect(whole.length).toBeGreaterThan(300_000)
    expect(whole).toBe(items.map((item) => marshalYAML([item])).join(''))
  })
})

describe('-o yaml', () => {
  it('prints one result as an object that decodes to the created fixture (crud-get-basic-and-tables)', async () => {
    const out = await formatResources([stored('ippool_name1_rev1_v4')], 'yaml')
    expect(out).toBe([
      'apiVersion: projectcalico.org/v3',
      'kind: IPPool',
      'metadata:',
      '  creationTimestamp: "2026-01-02T15:04:05Z"',
      '  name: ippool-name1',
      '  resourceVersion: "10"',
      '  uid: 3f0a64d5-7c1e-4a6e-9e59-2b1c6d4f8a01',
      'spec:',
      '  allowedUses:',
      '  - Workload',
      '  - Tunnel',
      '  assignmentMode: Automatic',
      '  blockSize: 27',
      '  cidr: 10.0.1.0/24',
      '  ipipMode: Always',
      "  nodeSelector: foo == 'bar'",
      '  vxlanMode: Never',
      '',
    ].join('\n'))
    const want = step('crud-get-basic-and-tables', 'get ippool ippool-name1 -o yaml').expect?.decoded_equals as string
    expect(clean(yaml.load(out))).toEqual(clean(stored(want)))
  })

  it('prints lists with apiVersion/items/kind/metadata and an empty list as items: []', async () => {
    const out = await formatResources([list('BGPPeer', [], '5')], 'yaml')
    expect(out).toBe('apiVersion: projectcalico.org/v3\nitems: []\nkind: BGPPeerList\nmetadata:\n  resourceVersion: "5"\n')
    const pools = await formatResources([list('IPPool', [stored('ippool_name1_rev1_v4'), stored('ippool_name2_rev1_v6')])], 'yml')
    const decoded = yaml.load(pools) as {kind: string; items: Resource[]}
    expect(decoded.kind).toBe('IPPoolList')
    expect(clean(decoded.items)).toEqual(clean([stored('ippool_name1_rev1_v4'), stored('ippool_name2_rev1_v6')]))
  })

  it('prints several results as a sequence, and a missing creationTimestamp as null like Go', async () => {
    const exported = {...stored('globalnetworkset_name1_rev1'), metadata: {name: 'net-set1'}}
    const out = await formatResources([exported, stored('hostendpoint_name1_rev1')], 'yaml')
    expect(out.startsWith('- apiVersion: projectcalico.org/v3\n  kind: GlobalNetworkSet\n  metadata:\n    creationTimestamp: null\n    name: net-set1\n')).toBe(true)
    expect((yaml.load(out) as unknown[]).length).toBe(2)
  })

  it('folds long selectors past column 80', async () => {
    const sel = "role == 'frontend' && environment in {'production', 'staging'} && !has(quarantine) && tier == 'web'"
    const out = await formatResources([{apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: {name: 'p'}, spec: {selector: sel}}], 'yaml')
    expect(out).toContain("  selector: role == 'frontend' && environment in {'production', 'staging'} && !has(quarantine)\n    && tier == 'web'\n")
    expect((yaml.load(out) as Resource).spec?.selector).toBe(sel)
  })
})

describe('-o json', () => {
  const gns = stored('globalnetworkset_name1_rev1')

  it('prints one result as an object in Go field order without a trailing newline (output-formats)', async () => {
    const out = await formatResources([gns], 'json')
    expect(out.endsWith('}')).toBe(true)
    expect(Object.keys(JSON.parse(out))).toEqual(['kind', 'apiVersion', 'metadata', 'spec'])
    const s = step('output-formats', 'get globalnetworkset net-set1 -o json')
    for (const f of s.expect?.fields as Array<{path: string; equals: unknown}>) {
      const v = f.path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], JSON.parse(out))
      expect(v).toEqual(f.equals)
    }
    expect(out).toBe([
      '{',
      '  "kind": "GlobalNetworkSet",',
      '  "apiVersion": "projectcalico.org/v3",',
      '  "metadata": {',
      '    "name": "net-set1",',
      '    "uid": "3f0a64d5-7c1e-4a6e-9e59-2b1c6d4f8a01",',
      '    "resourceVersion": "10",',
      '    "creationTimestamp": "2026-01-02T15:04:05Z"',
      '  },',
      '  "spec": {',
      '    "nets": [',
      '      "10.0.0.1",',
      '      "11.0.0.0/16",',
      '      "feed:beef::1",',
      '      "dead:beef::96"',
      '    ]',
      '  }',
      '}',
    ].join('\n'))
  })

  it('prints a list result with its List kind, and several results as an array', async () => {
    const l = JSON.parse(await formatResources([list('GlobalNetworkSet', [gns])], 'json'))
    const s = step('output-formats', 'get globalnetworkset -o json')
    expect(l.kind).toBe((s.expect?.fields as Array<{equals: string}>)[0].equals)
    expect(Object.keys(l)).toEqual(['kind', 'apiVersion', 'metadata', 'items'])
    const arr = JSON.parse(await formatResources([gns, gns], 'json'))
    expect(Array.isArray(arr) && arr.length === 2).toBe(true)
  })

  it('escapes HTML characters as encoding/json does', () => {
    expect(marshalIndentJSON({s: "a && b < c > d \u2028"})).toBe('{\n  "s": "a \\u0026\\u0026 b \\u003c c \\u003e d \\u2028"\n}')
    expect(marshalIndentJSON({a: [], o: {}})).toBe('{\n  "a": [],\n  "o": {}\n}')
  })

  it('prints the members Go never omits: spec, a zero creationTimestamp and struct statuses', async () => {
    const tier = {apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: {name: 't'}}
    expect(JSON.parse(await formatResources([tier], 'json'))).toEqual({
      kind: 'Tier', apiVersion: 'projectcalico.org/v3', metadata: {name: 't', creationTimestamp: null}, spec: {}, status: {},
    })
    const pool = JSON.parse(await formatResources([{apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'p'}}], 'json'))
    expect(Object.keys(pool)).toEqual(['kind', 'apiVersion', 'metadata', 'spec'])
  })

  it('uses the supplied Go field order', async () => {
    const orderFields = (r: Resource): Resource => ({...r, spec: {b: 1, a: 2}})
    const out = await formatResources([gns], 'json', {orderFields})
    expect(out).toContain('"spec": {\n    "b": 1,\n    "a": 2\n  }')
  })
})
