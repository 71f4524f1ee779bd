// manifests/crds is generated: it must equal what src/datastore/kubernetes/crds.ts produces from the
// schema, and carry Calico's CRD names, scopes and status subresources.

import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {load} from 'js-yaml'
import {describe, expect, it} from 'vitest'
import type {CustomResourceDefinition} from '../../src/api/schema/openapi.js'
import {crdFiles} from '../../src/datastore/kubernetes/crds.js'
import {mappingFor} from '../../src/datastore/kubernetes/resources.js'

const root = join(import.meta.dirname, '..', '..', 'manifests', 'crds')
const expected = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'k8s', 'calico-crds.json'), 'utf8')) as {
  v1: string[]
  v3: string[]
  namespaced: string[]
  v1StatusSubresource: string[]
}

describe('generated CRD manifests', () => {
  it('the committed manifests are exactly the generator\'s output (run `npm run gen:crds` after schema changes)', () => {
    const generated = crdFiles()
    const committed = [
      ...readdirSync(root).filter((f) => f.endsWith('.yaml')),
      ...readdirSync(join(root, 'v3')).filter((f) => f.endsWith('.yaml')).map((f) => `v3/${f}`),
    ].sort()
    expect(committed).toEqual(generated.map((g) => g.path).sort())
    for (const g of generated) expect(readFileSync(join(root, g.path), 'utf8'), g.path).toBe(g.text)
  })

  it('have Calico\'s file names, CRD names, scopes and status subresources', () => {
    expect(readdirSync(root).filter((f) => f.endsWith('.yaml')).sort()).toEqual(expected.v1)
    expect(readdirSync(join(root, 'v3')).sort()).toEqual(expected.v3)
    for (const [set, dir, group] of [['v1', root, 'crd.projectcalico.org'], ['v3', join(root, 'v3'), 'projectcalico.org']] as const) {
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
        const crd = load(readFileSync(join(dir, file), 'utf8')) as CustomResourceDefinition
        const plural = crd.spec.names.plural
        expect(crd.metadata.name).toBe(`${plural}.${group}`)
        expect(crd.spec.group).toBe(group)
        expect(crd.spec.scope, file).toBe(expected.namespaced.includes(plural) ? 'Namespaced' : 'Cluster')
        expect(crd.spec.versions.map((v) => v.name)).toEqual([set === 'v1' ? 'v1' : 'v3'])
        if (set === 'v1') expect(crd.spec.versions[0].subresources !== undefined, file).toBe(expected.v1StatusSubresource.includes(plural))
        expect(crd.spec.versions[0].schema.openAPIV3Schema.properties?.spec, file).toBeDefined()
      }
    }
  })

  it('every CRD is the storage of a kind the backend maps to it', () => {
    for (const g of crdFiles()) {
      const crd = load(g.text) as CustomResourceDefinition
      const group = crd.spec.group as 'crd.projectcalico.org' | 'projectcalico.org'
      const kind = crd.spec.names.kind === 'IPAMConfig' ? 'IPAMConfig' : crd.spec.names.kind
      const m = mappingFor(kind, group)
      expect(m && 'source' in m ? m.source.plural : undefined, g.path).toBe(crd.spec.names.plural)
    }
  })
})
