// Schema-driven views of already-decoded resources: JSON key order as Go marshals it, and the Go-field-named view
// that go-templates (`{{.Spec.CIDR}}`, `{{.ObjectMeta.Name}}`) walk.
import type {Resource} from '../resource.js'
import type {FieldType, StructSchema} from './dsl.js'
import {kindSchema} from './index.js'

type JsonObject = Record<string, unknown>

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function orderValue(v: unknown, t: FieldType): unknown {
  switch (t.kind) {
    case 'object':
      return isObject(v) ? orderStruct(v, t.schema()) : v
    case 'list':
      return Array.isArray(v) ? v.map((x) => orderValue(x, t.items)) : v
    case 'map': {
      if (!isObject(v)) return v
      const out: JsonObject = {}
      for (const k of Object.keys(v).sort()) out[k] = orderValue(v[k], t.values)
      return out
    }
    default:
      return v
  }
}

function orderStruct(v: JsonObject, schema: StructSchema): JsonObject {
  const out: JsonObject = {}
  for (const field of schema.fields) {
    const x = v[field.json]
    if (x !== undefined && Object.hasOwn(v, field.json)) out[field.json] = orderValue(x, field.type)
  }
  // Keys the schema does not know (a row written by another tool) are kept, after the known ones.
  for (const k in v) {
    if (!schema.byJson.has(k) && Object.hasOwn(v, k) && v[k] !== undefined) out[k] = v[k]
  }
  return out
}

/**
 * The resource with keys in Go struct order (kind, apiVersion, metadata, spec, status; ObjectMeta order inside
 * metadata; map keys sorted), as calicoctl's `-o json` prints it. Unknown kinds are returned unchanged.
 */
export function orderResourceFields<R extends Resource>(res: R): R {
  const ks = kindSchema(res.kind)
  if (!ks) return res
  return orderStruct(res as unknown as JsonObject, ks.resource) as unknown as R
}

/** Go's time.Time.String() for a UTC instant: `2026-01-01 00:00:00 +0000 UTC` (what templates print for a metav1.Time). */
function goTimeString(rfc3339: string): string {
  const ms = Date.parse(rfc3339)
  if (Number.isNaN(ms)) return rfc3339
  const iso = new Date(ms).toISOString()
  const frac = iso.slice(20, 23).replace(/0+$/, '')
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`
}

/** A Go value as text/template sees it: non-pointer fields always exist (zero value), nil pointers are null. */
function goValue(v: unknown, t: FieldType, pointer: boolean): unknown {
  if (t.kind === 'time' && typeof v === 'string') return goTimeString(v)
  if (v === undefined || v === null) {
    if (pointer) return null
    switch (t.kind) {
      case 'time':
        return '0001-01-01 00:00:00 +0000 UTC'
      case 'string':
        return ''
      case 'bool':
        return false
      case 'int':
      case 'float':
      case 'asNumber':
        return 0
      case 'object':
        return goStruct({}, t.schema())
      default:
        // nil slices and maps; zero Port/Protocol/Duration (printed by F as Go would, if ever needed).
        return null
    }
  }
  if (t.kind === 'object' && isObject(v)) return goStruct(v, t.schema())
  if (t.kind === 'list' && Array.isArray(v)) return v.map((x) => goValue(x, t.items, false))
  if (t.kind === 'map' && isObject(v)) {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, goValue(v[k], t.values, false)]))
  }
  return v
}

function goStruct(v: JsonObject, schema: StructSchema): JsonObject {
  const out: JsonObject = {}
  for (const field of schema.fields) out[field.go] = goValue(v[field.json], field.type, field.pointer)
  return out
}

/**
 * The resource keyed by Go field names for go-templates: `.Kind`, `.APIVersion`, `.TypeMeta.Kind`,
 * `.ObjectMeta.Name` (ObjectMeta fields are also promoted: `.Name`), `.Spec.CIDR`, `.Status`. Every non-pointer
 * field is present with its Go zero value (`.Spec.NATOutgoing` is `false` when unset); nil pointers are null.
 */
export function toGoView(res: Resource): JsonObject {
  const ks = kindSchema(res.kind)
  if (!ks) throw new Error(`no schema for kind ${res.kind}`)
  const view = goStruct(res as unknown as JsonObject, ks.resource)
  const meta = view.ObjectMeta
  const typeMeta = {Kind: view.Kind, APIVersion: view.APIVersion}
  // Go promotes embedded TypeMeta/ObjectMeta fields; explicit struct fields win over promoted ones.
  return {...(isObject(meta) ? meta : {}), ...view, TypeMeta: typeMeta}
}
