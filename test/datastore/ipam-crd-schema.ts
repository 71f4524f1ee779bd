// Checks an object against a CRD's structural OpenAPI schema the way kube-apiserver treats a write: a field the
// schema does not declare would be pruned (silently lost), a missing required field or a wrong type is a 422.
// The test API server does neither, so the IPAM suites check what they write against Calico's own CRDs
// (copied into test/fixtures/ipam/crds) with this. Covers the schema features those CRDs use.
import {readFileSync} from 'node:fs'
import {load} from 'js-yaml'

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'number'
  properties?: Record<string, Schema>
  additionalProperties?: Schema | boolean
  items?: Schema
  required?: string[]
  nullable?: boolean
  format?: string
  'x-kubernetes-preserve-unknown-fields'?: boolean
}

interface Crd {
  spec: {names: {plural: string; kind: string}; versions: {name: string; schema: {openAPIV3Schema: Schema}}[]}
}

const CRDS = new URL('../fixtures/ipam/crds/', import.meta.url)

/** The schema of Calico's CRD `<group>_<plural>.yaml` (its single served version). */
export function calicoCrdSchema(group: 'crd.projectcalico.org' | 'projectcalico.org', plural: string): Schema {
  const crd = load(readFileSync(new URL(`${group}_${plural}.yaml`, CRDS), 'utf8')) as Crd
  const version = crd.spec.versions[0]
  if (!version) throw new Error(`${group}_${plural}.yaml has no version`)
  return version.schema.openAPIV3Schema
}

// RFC 3339 as metav1.Time marshals it (seconds precision, Z or an offset).
const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/

/** Every way `value` at `path` would be rejected or pruned; empty when the API server would store it as sent. */
export function schemaProblems(schema: Schema, value: unknown, path = ''): string[] {
  const at = path === '' ? '<root>' : path
  if (value === null) return schema.nullable ? [] : [`${at}: null is not allowed`]
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return [`${at}: expected a string, got ${JSON.stringify(value)}`]
      return schema.format === 'date-time' && !DATE_TIME.test(value) ? [`${at}: not a date-time: ${value}`] : []
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? [] : [`${at}: expected an integer, got ${JSON.stringify(value)}`]
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: expected a number, got ${JSON.stringify(value)}`]
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected a boolean, got ${JSON.stringify(value)}`]
    case 'array':
      if (!Array.isArray(value)) return [`${at}: expected an array`]
      return schema.items ? value.flatMap((v, i) => schemaProblems(schema.items as Schema, v, `${path}[${i}]`)) : []
    case 'object':
    case undefined:
      break
  }
  if (typeof value !== 'object' || Array.isArray(value)) return schema.type === 'object' ? [`${at}: expected an object`] : []
  const obj = value as Record<string, unknown>
  const problems = (schema.required ?? []).filter((k) => obj[k] === undefined).map((k) => `${at}: required field ${k} is missing`)
  for (const [k, v] of Object.entries(obj)) {
    // An undefined property is not in the JSON that goes over the wire.
    if (v === undefined) continue
    const sub = `${path === '' ? '' : `${path}.`}${k}`
    const declared = schema.properties?.[k]
    if (declared) problems.push(...schemaProblems(declared, v, sub))
    else if (typeof schema.additionalProperties === 'object') problems.push(...schemaProblems(schema.additionalProperties, v, sub))
    else if (schema.properties && schema.additionalProperties !== true && !schema['x-kubernetes-preserve-unknown-fields']) problems.push(`${sub}: not in the schema (pruned)`)
  }
  return problems
}
