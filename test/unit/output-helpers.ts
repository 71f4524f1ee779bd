// Loads the calicoctl test data copied into test/fixtures/output/.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import yaml from 'js-yaml'
import type {Resource, ResourceList} from '../../src/api/resource.js'

const dir = fileURLToPath(new URL('../fixtures/output/', import.meta.url))

interface Step {
  args?: string
  input?: unknown
  expect?: Record<string, unknown>
}

interface CasesFile {
  fixtures: Record<string, Resource>
  tables: Record<string, string>
  cases: Array<{id: string; steps: Step[]}>
}

export const cases = yaml.load(readFileSync(dir + 'calicoctl-cases.yaml', 'utf8')) as CasesFile

/** calicoctl's ST generator for $MANY_NETS: 10.<i>>8>.<i%256>.0/28 for 10000 entries. */
export function manyNets(): string[] {
  return Array.from({length: 10000}, (_, i) => `10.${i >> 8}.${i % 256}.0/28`)
}

/** A fixture as the datastore returns it: a deep copy with $MANY_NETS expanded and stored metadata added. */
export function stored(name: string, extra: {spec?: Record<string, unknown>; rv?: string} = {}): Resource {
  const f = structuredClone(cases.fixtures[name])
  if (!f) throw new Error(`no fixture ${name}`)
  const spec = (f.spec ?? {}) as Record<string, unknown>
  for (const [k, v] of Object.entries(spec)) if (v === '$MANY_NETS') spec[k] = manyNets()
  f.spec = {...spec, ...extra.spec}
  f.metadata = {...f.metadata, resourceVersion: extra.rv ?? '10', uid: '3f0a64d5-7c1e-4a6e-9e59-2b1c6d4f8a01', creationTimestamp: '2026-01-02T15:04:05Z'}
  return f
}

export function list(kind: string, items: Resource[], rv = '20'): ResourceList {
  return {apiVersion: 'projectcalico.org/v3', kind: `${kind}List`, metadata: {resourceVersion: rv}, items}
}

export function step(caseId: string, args: string): Step {
  const c = cases.cases.find((x) => x.id === caseId)
  const s = c?.steps.find((x) => x.args === args)
  if (!s) throw new Error(`no step ${caseId} / ${args}`)
  return s
}

export function readFixture(name: string): string {
  return readFileSync(dir + name, 'utf8')
}
