// Schema-driven views of already-decoded resources: JSON key order as Go marshals it, and the Go-field-named view
// that go-templates (`{{.Spec.CIDR}}`, `{{.ObjectMeta.Name}}`) walk.
import type {Resource} from '../resource.js'
import type {FieldType, StructSchema} from './dsl.js'
import {kindSchema} from './index.js'
import {isObject, type JsonObject} from '../json.js'
import {goTimeString} from '../gotime.js'

// Ordering copies only what is out of order: objects read back from storage are mostly laid out already (they
// were decoded into Go order before being written), and for thousands of them the copies were most of the work.

function orderValue(v: unknown, t: FieldType): unknown {
  switch (t.kind) {
    case 'object':
      return isObject(v) ? orderStruct(v, t.schema()) : v
    case 'list':
      return Array.isArray(v) ? orderList(v, t.items) : v
    case 'map':
      return isObject(v) ? orderMap(v, t.values) : v
    default:
      return v
  }
}

function orderList(v: unknown[], items: FieldType): unknown[] {
  let out: unknown[] | undefined
  for (let i = 0; i < v.length; i++) {
    const x = orderValue(v[i], items)
    if (x !== v[i]) out ??= v.slice(0, i)
    out?.push(x)
  }
  return out ?? v
}

/** Go marshals maps with sorted keys. */
function orderMap(v: JsonObject, values: FieldType): JsonObject {
  const keys = Object.keys(v)
  let changed = false
  const ordered: unknown[] = []
  for (let i = 0; i < keys.length; i++) {
    if (i > 0 && keys[i - 1] > keys[i]) changed = true
    const x = orderValue(v[keys[i]], values)
    if (x !== v[keys[i]]) changed = true
    ordered.push(x)
  }
  if (!changed) return v
  const byKey = new Map(keys.map((k, i) => [k, ordered[i]]))
  const out: JsonObject = {}
  for (const k of keys.sort()) out[k] = byKey.get(k)
  return out
}

const fieldIndexes = new WeakMap<StructSchema, ReadonlyMap<string, number>>()

function fieldIndex(schema: StructSchema): ReadonlyMap<string, number> {
  let m = fieldIndexes.get(schema)
  if (!m) {
    m = new Map(schema.fields.map((f, i) => [f.json, i]))
    fieldIndexes.set(schema, m)
  }
  return m
}

/**
 * Whether `obj` is already laid out by `index` (key -> position): known keys in that order, unknown keys after them,
 * no undefined values. Shared with the CLI's output shaping, which checks the resource envelope the same way.
 */
export function keysInOrder(obj: Readonly<Record<string, unknown>>, index: ReadonlyMap<string, number>): boolean {
  let last = -1
  let unknownSeen = false
  for (const k in obj) {
    if (!Object.hasOwn(obj, k)) continue
    if (obj[k] === undefined) return false
    const i = index.get(k)
    if (i === undefined) unknownSeen = true
    else if (unknownSeen || i < last) return false
    else last = i
  }
  return true
}

/** Whether `v` is already laid out in its struct's field order (see keysInOrder). */
function inFieldOrder(v: JsonObject, schema: StructSchema): boolean {
  return keysInOrder(v, fieldIndex(schema))
}

function orderStruct(v: JsonObject, schema: StructSchema): JsonObject {
  if (inFieldOrder(v, schema)) {
    let out: JsonObject | undefined
    // The keys present, not every field of the schema: most of a struct's fields are unset.
    for (const k in v) {
      const field = schema.byJson.get(k)
      if (field === undefined || !Object.hasOwn(v, k)) continue
      const x = v[k]
      const y = orderValue(x, field.type)
      if (y !== x) (out ??= {...v})[k] = y
    }
    return out ?? v
  }
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
 * metadata; map keys sorted), as calicoctl's `-o json` prints it. Unknown kinds are returned unchanged. Parts
 * already in order are shared with the input, not copied: treat the result as read-only.
 */
export function orderResourceFields<R extends Resource>(res: R): R {
  const ks = kindSchema(res.kind)
  if (!ks) return res
  return orderStruct(res as unknown as JsonObject, ks.resource) as unknown as R
}

/** What templates print for a metav1.Time: Go's time.Time.String(); text that is not a time stays as it is. */
function templateTime(rfc3339: string): string {
  const ms = Date.parse(rfc3339)
  return Number.isNaN(ms) ? rfc3339 : goTimeString(new Date(ms))
}

/** A Go value as text/template sees it: non-pointer fields always exist (zero value), nil pointers are null. */
function goValue(v: unknown, t: FieldType, pointer: boolean): unknown {
  if (t.kind === 'time' && typeof v === 'string') return templateTime(v)
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
