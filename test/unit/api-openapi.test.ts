import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {kindSchema} from '../../src/api/schema/index.js'
import {crdManifest, kindOpenAPISchema, type OpenAPISchema} from '../../src/api/schema/openapi.js'

interface FieldFacts {type?: string; enum?: (string | number)[]; default?: unknown; intOrString?: boolean}
interface CRDFacts {scope: string; plural: string; status: boolean; fields: Record<string, FieldFacts>}
// Property facts (paths, types, enums, defaults) extracted from Calico's api/config/crd/*.yaml @ 87c15906f2.
const facts = JSON.parse(readFileSync(new URL('../fixtures/api/crd-facts.json', import.meta.url), 'utf8')) as Record<string, CRDFacts>

function flatten(s: OpenAPISchema, path: string, acc: Record<string, FieldFacts>): Record<string, FieldFacts> {
  const e: FieldFacts = {}
  if (s.type) e.type = s.type
  if (s.enum) e.enum = s.enum
  if (s.default !== undefined) e.default = s.default
  if (s['x-kubernetes-int-or-string']) e.intOrString = true
  acc[path] = e
  for (const [k, v] of Object.entries(s.properties ?? {})) flatten(v, `${path}.${k}`, acc)
  if (s.items) flatten(s.items, `${path}[]`, acc)
  if (s.additionalProperties) flatten(s.additionalProperties, `${path}{}`, acc)
  return acc
}

const kinds = Object.keys(facts).filter((k) => kindSchema(k))

describe('generated OpenAPI schemas match Calico CRDs', () => {
  it('covers the CRD-backed kinds', () => {
    expect(kinds.length).toBe(19)
  })

  it.each(kinds)('%s: same property paths, types, enums and defaults', (kind) => {
    const gen = kindOpenAPISchema(kind)
    const ours: Record<string, FieldFacts> = {}
    for (const top of ['spec', 'status'] as const) {
      const s = gen.properties?.[top]
      if (s) flatten(s, top, ours)
    }
    const theirs = facts[kind].fields
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort())
    for (const [path, want] of Object.entries(theirs)) {
      const got = ours[path]
      // Calico marks several int-or-string and duration fields differently; compare what both sides state.
      if (want.intOrString || got.intOrString) expect(got.intOrString ?? want.type === 'string', path).toBeTruthy()
      else expect(got.type, path).toBe(want.type)
      if (want.enum) expect(got.enum?.filter((v) => v !== ''), path).toEqual(want.enum.filter((v) => v !== ''))
      expect(got.default, path).toEqual(want.default)
    }
  })

  it.each(kinds)('%s: CRD names, scope and status subresource', (kind) => {
    const crd = crdManifest(kind)
    expect(crd.metadata.name).toBe(`${facts[kind].plural}.projectcalico.org`)
    expect(crd.spec.scope).toBe(facts[kind].scope)
    expect(crd.spec.versions[0].subresources !== undefined).toBe(facts[kind].status)
  })
})
