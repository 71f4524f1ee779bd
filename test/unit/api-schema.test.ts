import {readFileSync} from 'node:fs'

import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'

import {decodeDocument, decodeResource} from '../../src/api/decode.js'
import {kindInfo, KINDS} from '../../src/api/kinds.js'
import {allKindSchemas, kindSchema, structSchema} from '../../src/api/schema/index.js'

function fixture<T>(name: string): T {
  return yaml.load(readFileSync(new URL(`../fixtures/api/${name}`, import.meta.url), 'utf8'), {schema: yaml.CORE_SCHEMA}) as T
}

interface ResourceCase {id: string; resource: {kind: string}}
interface FragmentCase {id: string; kind: string; fragment: unknown}
const validation = fixture<{resources: ResourceCase[]; fragments: FragmentCase[]}>('validation-inputs.yaml')
// calicoctl-cases.yaml abbreviates its 10000-entry lists as $MANY_NETS (meta.generators there).
const MANY_NETS = Array.from({length: 10000}, (_, i) => `10.${i >> 8}.${i % 256}.0/28`)
const calicoctl = JSON.parse(
  JSON.stringify(fixture<Record<string, unknown>>('calicoctl-fixtures.yaml')),
  (_k, v: unknown) => (v === '$MANY_NETS' ? MANY_NETS : v),
) as Record<string, unknown>

describe('schema registry', () => {
  it('has a schema for every calicoctl-managed kind in kinds.ts, and only those', () => {
    const cliKinds = KINDS.filter((k) => k.cli).map((k) => k.kind).sort()
    expect(allKindSchemas().map((s) => s.kind).sort()).toEqual(cliKinds)
  })

  it('lays every resource out as TypeMeta, metadata, spec[, status]', () => {
    for (const ks of allKindSchemas()) {
      const names = ks.resource.fields.map((fl) => `${fl.json}:${fl.go}`)
      expect(names.slice(0, 4)).toEqual(['kind:Kind', 'apiVersion:APIVersion', 'metadata:ObjectMeta', 'spec:Spec'])
      expect(kindInfo(ks.kind)).toBeDefined()
    }
  })

  it('has unique JSON and Go names within every struct', () => {
    for (const ks of allKindSchemas()) {
      const seen = new Set<string>()
      const walk = (name: string): void => {
        if (seen.has(name)) return
        seen.add(name)
        const s = structSchema(name)
        expect(s, name).toBeDefined()
        if (!s) return
        expect(new Set(s.fields.map((fl) => fl.json)).size, name).toBe(s.fields.length)
        expect(new Set(s.fields.map((fl) => fl.go)).size, name).toBe(s.fields.length)
        for (const fl of s.fields) {
          let t = fl.type
          while (t.kind === 'list' || t.kind === 'map') t = t.kind === 'list' ? t.items : t.values
          if (t.kind === 'object') walk(t.schema().name)
        }
      }
      walk(ks.resource.name)
    }
  })

  it('knows FelixConfiguration in full (188 spec fields in Go order)', () => {
    const spec = kindSchema('FelixConfiguration')?.spec
    expect(spec?.fields.length).toBe(188)
    expect(spec?.fields.slice(0, 3).map((fl) => fl.json)).toEqual(['nodeSelector', 'useInternalDataplaneDriver', 'dataplaneDriver'])
  })
})

describe('every reference input decodes', () => {
  const ours = validation.resources.filter((c) => kindSchema(c.resource.kind))
  it.each(ours.map((c) => [c.id, c] as const))('validation resource %s', (_id, c) => {
    const once = decodeResource(c.resource)
    // Decoding is idempotent: the output is already in Go's stored form.
    expect(decodeResource(once)).toEqual(once)
  })

  it.each(Object.entries(calicoctl))('calicoctl fixture %s', (_name, doc) => {
    const out = decodeDocument(doc)
    expect(out.length).toBeGreaterThan(0)
    expect(decodeDocument(out)).toEqual(out)
  })

  // Fragments that are a kind's whole spec decode inside that kind (others are sub-structs of rules etc.).
  const specOwner = (c: FragmentCase) => allKindSchemas().find((k) => k.spec.name === c.kind)
  const fragments = validation.fragments.filter((c) => specOwner(c) && c.fragment !== undefined)
  it('covers spec fragments of several kinds', () => {
    expect(new Set(fragments.map((c) => c.kind)).size).toBeGreaterThanOrEqual(8)
  })
  it.each(fragments.map((c) => [c.id, c] as const))('validation spec fragment %s', (_id, c) => {
    const owner = specOwner(c)
    const res = decodeResource({apiVersion: 'projectcalico.org/v3', kind: owner?.kind, metadata: {name: 'x'}, spec: c.fragment})
    expect(decodeResource(res)).toEqual(res)
  })
})
