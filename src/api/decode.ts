// Strict decoding of parsed YAML/JSON into v3 resources, reproducing calicoctl's path: the kind/apiVersion pair picks
// a registered Go type, then sigs.k8s.io/yaml UnmarshalStrict (encoding/json with DisallowUnknownFields) fills it.
// The result is what Go would store and print: canonical field names in Go order, Go's omitempty rules, durations,
// ports, protocols and AS numbers in their canonical form.
import {DurationParseError, normalizeGoDuration} from './duration.js'
import {API_VERSION, type Resource} from './resource.js'
import {
  f, goTypeOf, INT_RANGES, kindSchema, list, obj, str, struct, type Field, type FieldType, type StructSchema,
} from './schema/index.js'
import {ListMetaSchema} from './schema/meta.js'
import {metav1Time} from './gotime.js'
import {isObject, type JsonObject} from './json.js'

export {orderResourceFields, toGoView} from './schema/shape.js'

/** What sigs.k8s.io/yaml prepends to errors from the JSON decoding step. */
const JSON_WRAPPER = 'error unmarshaling JSON: while decoding JSON: '

/**
 * A document that calicoctl's decoder rejects. `message` is calicoctl's text (what follows `failed to execute
 * command: `, except for unknown fields, where calicoctl prints only `message`); `reason` is the bare decoder error
 * (`json: cannot unmarshal ...`, `json: unknown field "x"`); `path` locates the offending value
 * (`spec.ingress[0].action`, empty for document-level problems).
 */
export class DecodeError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(message)
  }

  /** True for unknown-field errors, whose calicoctl output replaces the whole line (MassageError). */
  get unknownField(): boolean {
    return this.reason.startsWith('json: unknown field ')
  }
}

function jsonError(reason: string, path: string): DecodeError {
  const m = /^json: unknown field "(.*)"$/.exec(reason)
  const message = m ? `field in document is not recognized or is in the wrong location: ${m[1]}` : JSON_WRAPPER + reason
  return new DecodeError(message, path, reason)
}

/** Go's description of a JSON value in UnmarshalTypeError (`string`, `number`, `number 1.5`, `object`, ...). */
function describe(v: unknown, withLiteral = false): string {
  if (typeof v === 'string') return 'string'
  if (typeof v === 'boolean') return 'bool'
  if (typeof v === 'number') return withLiteral ? `number ${String(v)}` : 'number'
  if (Array.isArray(v)) return 'array'
  return 'object'
}

/**
 * Where the decoder is: one entry per step from the document root, pushed on the way down and popped on the way
 * back (errors are spelled out at once, while their steps are on the stack). Go's error context (innermost struct and
 * JSON field stack) and our precise path are only built when an error needs them; building them, or even a frame
 * object per value, for every value was a large share of decoding a bulk input.
 */
class Path {
  /** The struct whose field each step enters; undefined for list and map elements (they inherit it). */
  private readonly structs: Array<string | undefined> = []
  /** The field's JSON name, pushed on Go's field stack; undefined for list and map elements. */
  private readonly fields: Array<string | undefined> = []
  /** The step of the precise path: a key as written in the input, or a list index. */
  private readonly steps: Array<string | number> = []
  private depth = 0

  push(struct: string | undefined, field: string | undefined, step: string | number): void {
    const d = this.depth++
    this.structs[d] = struct
    this.fields[d] = field
    this.steps[d] = step
  }

  pop(): void {
    this.depth--
  }

  /** Back to the root (a decode that threw may have left steps behind). */
  reset(): void {
    this.depth = 0
  }

  /** The precise path: `spec.ingress[0].action` (empty at the root). */
  text(): string {
    let path = ''
    for (let i = 0; i < this.depth; i++) {
      const step = this.steps[i]!
      path = typeof step === 'number' ? `${path}[${step}]` : path ? `${path}.${step}` : step
    }
    return path
  }

  /** Go's error context: the innermost struct and the JSON field names from the root. */
  goContext(): {struct?: string; fields: string[]} {
    const fields: string[] = []
    let struct: string | undefined
    for (let i = 0; i < this.depth; i++) {
      const field = this.fields[i]
      if (field !== undefined) fields.push(field)
      struct = this.structs[i] ?? struct
    }
    return {struct, fields}
  }
}

/** The one path every decoder uses in turn: decoding is synchronous and never nested, and its arrays stay grown. */
const sharedPath = new Path()

/** How a struct's decoded fields are laid out (see shapeStruct), derived once per schema. */
interface Layout {
  /** Field positions by exact JSON name. */
  readonly index: ReadonlyMap<string, number>
  /** How many fields Go always marshals (shapeStruct fills them with their zero value when absent). */
  readonly alwaysPresent: number
  readonly isAlwaysPresent: readonly boolean[]
}

const layouts = new WeakMap<StructSchema, Layout>()

function layoutOf(schema: StructSchema): Layout {
  let l = layouts.get(schema)
  if (!l) {
    const isAlwaysPresent = schema.fields.map((fl) => !dropsWhenAbsent(fl) && zeroOf(fl.type) !== undefined)
    l = {
      index: new Map(schema.fields.map((fl, i) => [fl.json, i])),
      alwaysPresent: isAlwaysPresent.filter(Boolean).length,
      isAlwaysPresent,
    }
    layouts.set(schema, l)
  }
  return l
}

const defaultsBelow = new WeakMap<StructSchema, boolean>()

/** Whether any struct reachable from `schema` (itself included) has a field with a CRD default. */
export function hasSchemaDefaults(schema: StructSchema): boolean {
  return defaultsBelow.get(schema) ?? hasDefaults({kind: 'object', schema: () => schema})
}

/** Whether any struct reachable from `t` has a field with a CRD default. */
function hasDefaults(t: FieldType): boolean {
  switch (t.kind) {
    case 'list':
      return hasDefaults(t.items)
    case 'map':
      return hasDefaults(t.values)
    case 'object': {
      const schema = t.schema()
      let known = defaultsBelow.get(schema)
      if (known === undefined) {
        // Provisionally false while the fields are visited, so a self-referencing schema terminates.
        defaultsBelow.set(schema, false)
        known = schema.fields.some((field) => field.default !== undefined || hasDefaults(field.type))
        defaultsBelow.set(schema, known)
      }
      return known
    }
    default:
      return false
  }
}

/**
 * Decoded list elements that are structs, by schema and the JSON text of their input, shared by the decodes it is
 * given to: list elements repeat across objects (the same rule in many policies, the same port on many endpoints),
 * and the engine makes the text natively for a fraction of decoding the element again. Only for inputs that are
 * JSON values as JSON.parse makes them (no undefined, NaN or shared references), so that the text identifies the
 * input. Results are shared between the decoded objects: treat them as read-only. Bounded; cleared when full.
 */
export class DecodeMemo {
  /** By whether the elements were decoded with schema defaults (in one pass: defaultsAfterDecode), then by schema and text. */
  private readonly items = [new Map<StructSchema, Map<string, JsonObject>>(), new Map<StructSchema, Map<string, JsonObject>>()] as const
  private count = 0

  constructor(private readonly limit = 10_000) {}

  get(schema: StructSchema, text: string, withDefaults: boolean): JsonObject | undefined {
    return this.items[withDefaults ? 1 : 0].get(schema)?.get(text)
  }

  set(schema: StructSchema, text: string, withDefaults: boolean, decoded: JsonObject): void {
    if (++this.count > this.limit) {
      this.items[0].clear()
      this.items[1].clear()
      this.count = 1
    }
    const items = this.items[withDefaults ? 1 : 0]
    let bySchema = items.get(schema)
    if (!bySchema) items.set(schema, (bySchema = new Map()))
    bySchema.set(text, decoded)
  }
}

class Decoder {
  /** Go's decodeState.saveError: the first type/unknown-field error is kept while decoding carries on. */
  saved?: DecodeError
  private readonly at = sharedPath

  private readonly schemaDefaults: boolean
  private readonly defaultsAfterDecode: boolean
  private readonly decoded?: Set<object>
  private readonly decodedWithDefaults: boolean
  private readonly memo?: DecodeMemo

  constructor(options: DecodeOptions = {}) {
    this.schemaDefaults = options.schemaDefaults === true
    this.defaultsAfterDecode = options.defaultsAfterDecode === true
    this.decoded = options.decoded
    this.decodedWithDefaults = options.decodedWithDefaults === true
    this.memo = options.memo
    this.at.reset()
  }

  /** Records a struct, list or map this decoder built (see DecodeOptions.decoded). */
  private built<T extends object>(v: T): T {
    this.decoded?.add(v)
    return v
  }

  /**
   * Whether `v` was built by an earlier decode sharing `decoded`: decoding is idempotent on its own output, so unless
   * schema defaults are to be added below it, decoding it again would only rebuild an equal value.
   */
  private reusable(v: unknown, t: FieldType): boolean {
    return this.decoded !== undefined && typeof v === 'object' && v !== null && this.decoded.has(v) && !(this.schemaDefaults && !this.decodedWithDefaults && hasDefaults(t))
  }

  private save(err: DecodeError): void {
    this.saved ??= err
  }

  private typeError(value: string, goType: string): void {
    // Only the first error is reported, so later ones are not worth spelling out.
    if (this.saved) return
    const {struct, fields} = this.at.goContext()
    const into = struct !== undefined || fields.length > 0 ? `Go struct field ${struct ?? ''}.${fields.join('.')}` : 'Go value'
    this.save(jsonError(`json: cannot unmarshal ${value} into ${into} of type ${goType}`, this.at.text()))
  }

  /** Errors returned by a type's own UnmarshalJSON abort decoding immediately, as in Go. */
  private hardError(reason: string): never {
    throw new DecodeError(JSON_WRAPPER + reason, this.at.text(), reason)
  }

  struct(value: unknown, schema: StructSchema): JsonObject | undefined {
    if (!isObject(value)) {
      this.typeError(describe(value), schema.goType)
      return undefined
    }
    const layout = layoutOf(schema)
    // Decoded fields go straight into the result; only when they are not already as Go lays them out (input keys out
    // of Go order, a zero value omitempty drops, a field Go always marshals missing, a default added) is the result
    // laid out again. Stored objects were laid out when written, so that is rare for them.
    const out: JsonObject = {}
    let laidOut = true
    let last = -1
    let present = 0
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue
      const raw = value[key]
      let i = layout.index.get(key)
      if (i === undefined) {
        const folded = schema.byFoldedJson.get(key.toLowerCase())
        if (!folded) {
          if (!this.saved) {
            this.at.push(undefined, undefined, key)
            this.save(jsonError(`json: unknown field ${JSON.stringify(key)}`, this.at.text()))
            this.at.pop()
          }
          continue
        }
        i = layout.index.get(folded.json)!
        laidOut = false
      }
      // JSON null leaves a Go value untouched; so does a value that failed to decode.
      if (raw === null) continue
      const field = schema.fields[i]!
      this.at.push(schema.name, field.json, key)
      const v = this.value(raw, field.type)
      this.at.pop()
      if (v === undefined) continue
      if (i <= last || droppedWhenSet(field, v)) laidOut = false
      last = i
      if (layout.isAlwaysPresent[i]) present++
      out[field.json] = v
    }
    if (this.schemaDefaults) {
      for (let i = 0; i < schema.fields.length; i++) {
        const field = schema.fields[i]!
        // As OpenAPI defaulting on the JSON object: a default fills a field absent under its exact name. Decoding and
        // defaulting in one pass, the JSON object is what the plain decode would have made: what it left out (a zero
        // value omitempty drops) counts as absent, and what it always writes (a zero value) as present.
        if (field.default === undefined) continue
        if (this.defaultsAfterDecode) {
          const cur = out[field.json]
          if (cur === undefined ? layout.isAlwaysPresent[i] : !droppedWhenSet(field, cur)) continue
        } else if (value[field.json] !== undefined) {
          continue
        }
        this.at.push(schema.name, field.json, field.json)
        const v = this.value(field.default, field.type)
        this.at.pop()
        if (v !== undefined) {
          out[field.json] = v
          laidOut = false
        }
      }
    }
    return this.built(laidOut && present === layout.alwaysPresent ? out : shapeStruct(schema, out))
  }

  value(v: unknown, t: FieldType): unknown {
    if (this.reusable(v, t)) return v
    switch (t.kind) {
      case 'string':
        if (typeof v === 'string') return v
        this.typeError(describe(v), t.goType)
        return undefined
      case 'bool':
        if (typeof v === 'boolean') return v
        this.typeError(describe(v), 'bool')
        return undefined
      case 'int':
        return this.integer(v, t.goType)
      case 'float':
        if (typeof v === 'number') return v
        this.typeError(describe(v), 'float64')
        return undefined
      case 'port':
        return this.port(v)
      case 'uint8OrString':
        if (typeof v === 'string') return /^\d+$/.test(v) && Number(v) <= 255 ? Number(v) : v
        return this.integer(v, 'uint8')
      case 'intOrString':
        if (typeof v === 'string') return v
        return this.integer(v, 'int32')
      case 'asNumber':
        return this.asNumber(v)
      case 'duration':
        if (typeof v !== 'string') {
          this.typeError(describe(v), 'string')
          return undefined
        }
        try {
          return normalizeGoDuration(v)
        } catch (err) {
          if (err instanceof DurationParseError) this.hardError(err.message)
          throw err
        }
      case 'time':
        return this.time(v)
      case 'raw':
        return structuredClone(v)
      case 'list': {
        if (!Array.isArray(v)) {
          this.typeError(describe(v), goTypeOf(t))
          return undefined
        }
        // A list element that fails to decode keeps its zero value, as Go leaves it.
        const out = new Array<unknown>(v.length)
        for (let i = 0; i < v.length; i++) {
          this.at.push(undefined, undefined, i)
          const el = this.listItem(v[i], t.items)
          this.at.pop()
          out[i] = el === undefined ? zeroOf(t.items) : el
        }
        return this.built(out)
      }
      case 'map': {
        if (!isObject(v)) {
          this.typeError(describe(v), goTypeOf(t))
          return undefined
        }
        // Go marshals maps with sorted keys; most maps come sorted already, and then need no sorted copy of the keys.
        let sorted = true
        let prev: string | undefined
        for (const key in v) {
          if (!Object.hasOwn(v, key)) continue
          if (prev !== undefined && prev > key) sorted = false
          prev = key
        }
        const out: JsonObject = {}
        if (sorted) {
          for (const key in v) if (Object.hasOwn(v, key)) this.mapEntry(out, v, key, t.values)
        } else {
          for (const key of sortedKeys(v)) this.mapEntry(out, v, key, t.values)
        }
        return this.built(out)
      }
      case 'object':
        return this.struct(v, t.schema())
    }
  }

  /** One entry of a map: a null or undecodable value keeps its zero value, as Go leaves it. */
  private mapEntry(out: JsonObject, v: JsonObject, key: string, t: FieldType): void {
    this.at.push(undefined, undefined, key)
    const el = v[key] === null ? zeroOf(t) : this.value(v[key], t)
    this.at.pop()
    out[key] = el === undefined ? zeroOf(t) : el
  }

  /** A list element, through the memo when there is one and the element is a struct. */
  private listItem(item: unknown, t: FieldType): unknown {
    // The memo keeps plain decodes and one-pass defaulting ones apart; a defaulting decode of decoded values (the
    // second pass of applyDefaults) does not use it.
    if (!this.memo || (this.schemaDefaults && !this.defaultsAfterDecode) || t.kind !== 'object' || !isObject(item)) return this.value(item, t)
    const schema = t.schema()
    const text = JSON.stringify(item)
    const known = this.memo.get(schema, text, this.schemaDefaults)
    if (known) return this.built(known)
    const el = this.value(item, t)
    // Only a clean decode is remembered: an element with an error must report it (with its path) every time.
    if (this.saved === undefined && isObject(el)) this.memo.set(schema, text, this.schemaDefaults, el)
    return el
  }

  private integer(v: unknown, goType: keyof typeof INT_RANGES): number | undefined {
    if (typeof v !== 'number') {
      this.typeError(describe(v), goType)
      return undefined
    }
    const range = INT_RANGES[goType]
    if (!Number.isInteger(v) || v < range[0] || v > range[1]) {
      this.typeError(describe(v, true), goType)
      return undefined
    }
    return v
  }

  /** numorstring.Port: a number, or a string that is a number, a `min:max` range or a port name. */
  private port(v: unknown): number | string | undefined {
    if (typeof v !== 'string') return this.integer(v, 'uint16')
    if (/^\d+$/.test(v)) {
      const n = Number(v)
      if (n > 65535) this.hardError(`invalid port format (${v})`)
      return n
    }
    const range = /^(\d+):(\d+)$/.exec(v)
    if (range) {
      const lo = Number(range[1])
      const hi = Number(range[2])
      if (lo > 65535) this.hardError(`invalid minimum port number in range (${v})`)
      if (hi > 65535) this.hardError(`invalid maximum port number in range (${v})`)
      if (lo > hi) {
        this.hardError(`minimum port number (${lo}) is greater than maximum port number (${hi}) in port range`)
      }
      return lo === hi ? lo : `${lo}:${hi}`
    }
    if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(v)) this.hardError(`invalid name for named port (${v})`)
    return v
  }

  /** numorstring.ASNumber: a uint32, or a string holding a number or asdot `<high>.<low>`. */
  private asNumber(v: unknown): number | undefined {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 4294967295) return v
    if (typeof v !== 'string') {
      // Go falls back to decoding a string, so that is the type its error names.
      this.typeError(describe(v), 'string')
      return undefined
    }
    if (/^\d+$/.test(v) && Number(v) <= 4294967295) return Number(v)
    const parts = v.split('.')
    const ok = (p: string | undefined): p is string => p !== undefined && /^\d+$/.test(p) && Number(p) <= 65535
    if (parts.length !== 2 || !ok(parts[0]) || !ok(parts[1])) this.hardError(`invalid AS Number format (${v})`)
    return Number(parts[0]) * 65536 + Number(parts[1])
  }

  /** metav1.Time: RFC 3339; Go stores it in UTC with seconds precision. */
  private time(v: unknown): string | undefined {
    if (typeof v !== 'string') {
      this.typeError(describe(v), 'string')
      return undefined
    }
    const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(v)
    const ms = m ? Date.parse(v) : NaN
    if (!m || Number.isNaN(ms)) {
      this.hardError(`parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse as RFC 3339`)
    }
    return metav1Time(new Date(ms))
  }
}

/** An object's keys in code-unit order. Small maps (labels) by insertion, as Array#sort allocates work space. */
function sortedKeys(v: JsonObject): string[] {
  const keys = Object.keys(v)
  if (keys.length > 16) return keys.sort()
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!
    let j = i - 1
    for (; j >= 0 && keys[j]! > k; j--) keys[j + 1] = keys[j]!
    keys[j + 1] = k
  }
  return keys
}

/** Go's zero value as it marshals, for types where that is a plain JSON scalar or struct. */
function zeroOf(t: FieldType): unknown {
  switch (t.kind) {
    case 'string':
      return ''
    case 'bool':
      return false
    case 'int':
    case 'float':
    case 'asNumber':
    // A zero numorstring.Port / Protocol marshals as the number 0.
    case 'port':
    case 'uint8OrString':
      return 0
    case 'object':
      return shapeStruct(t.schema(), {})
    default:
      // nil slices and maps and a zero time marshal as null; absent is the closer JSON reading of that.
      return undefined
  }
}

function isEmptyValue(v: unknown): boolean {
  if (v === '' || v === false || v === 0) return true
  if (Array.isArray(v)) return v.length === 0
  return false
}

function isZeroStruct(v: unknown): boolean {
  if (!isObject(v)) return false
  return Object.values(v).every((x) => x === '' || x === false || x === 0 || isZeroStruct(x))
}

/** Whether Go leaves the field out when it is absent (nil pointer, omitempty, omitzero). */
function dropsWhenAbsent(field: Field): boolean {
  return field.pointer || (field.omitEmpty && field.type.kind !== 'object') || field.omitZero
}

/** Whether Go leaves the field out although it is set: a non-pointer zero value under omitempty or omitzero. */
function droppedWhenSet(field: Field, v: unknown): boolean {
  if (field.pointer) return false
  if (field.omitZero && isZeroStruct(v)) return true
  if (!field.omitEmpty || field.type.kind === 'object') return false
  return isEmptyValue(v) || (field.type.kind === 'map' && isObject(v) && Object.keys(v).length === 0)
}

/**
 * Lays a decoded struct out as Go's encoding/json would marshal it: Go field order, non-pointer omitempty zero
 * values dropped (structs are never dropped by omitempty, only by omitzero), non-omitempty fields always present.
 * `decoded` holds the decoded fields by JSON name.
 */
function shapeStruct(schema: StructSchema, decoded: JsonObject): JsonObject {
  const out: JsonObject = {}
  for (let i = 0; i < schema.fields.length; i++) {
    const field = schema.fields[i]!
    let v = decoded[field.json]
    if (v === undefined) {
      if (dropsWhenAbsent(field)) continue
      v = zeroOf(field.type)
      if (v === undefined) continue
    } else if (droppedWhenSet(field, v)) {
      continue
    }
    out[field.json] = v
  }
  return out
}

interface TypeMeta {
  kind: string
  apiVersion: string
}

/**
 * The GVK calicoctl reads first (into an Unstructured). Documents without a kind make both of calicoctl's attempts
 * (object, then list of objects) fail, and it reports the second failure.
 */
function typeMetaOf(doc: unknown, inList: boolean): TypeMeta {
  if (isObject(doc) && typeof doc.kind === 'string' && doc.kind !== '') {
    return {kind: doc.kind, apiVersion: typeof doc.apiVersion === 'string' ? doc.apiVersion : ''}
  }
  if (inList) {
    const reason = `Object 'Kind' is missing in '${JSON.stringify(sortKeys(doc))}'`
    throw new DecodeError(JSON_WRAPPER + reason, '', reason)
  }
  const reason = `json: cannot unmarshal ${describe(doc)} into Go value of type []unstructured.Unstructured`
  throw new DecodeError(JSON_WRAPPER + reason, '', reason)
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (!isObject(v)) return v
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]))
}

function unknownType(tm: TypeMeta): DecodeError {
  const reason = `unknown resource type (${tm.kind}) and/or version (${tm.apiVersion})`
  return new DecodeError(reason, '', reason)
}

type Target = {list: false; schema: StructSchema} | {list: true; item: StructSchema; kind: string}

function targetOf(tm: TypeMeta): Target {
  if (tm.apiVersion !== API_VERSION) throw unknownType(tm)
  const single = kindSchema(tm.kind)
  if (single) return {list: false, schema: single.resource}
  if (tm.kind.endsWith('List')) {
    const item = kindSchema(tm.kind.slice(0, -'List'.length))
    if (item) return {list: true, item: item.resource, kind: item.kind}
  }
  throw unknownType(tm)
}

function decodeTarget(doc: unknown, target: Target, dec: Decoder): Resource[] {
  if (!target.list) {
    const res = dec.struct(doc, target.schema)
    return res ? [res as unknown as Resource] : []
  }
  // `<Kind>List` is decoded strictly as Go's typed list, then expanded into its items.
  const listSchema = listStructFor(target.item)
  const list = dec.struct(doc, listSchema)
  const items = Array.isArray(list?.items) ? (list.items as JsonObject[]) : []
  // Items are dispatched as the list's item kind, whatever TypeMeta they carry themselves.
  return items.map(({kind: _k, apiVersion: _v, ...rest}) => ({kind: target.kind, apiVersion: API_VERSION, ...rest}) as unknown as Resource)
}

const listStructs = new Map<StructSchema, StructSchema>()

/** Go's `<Kind>List` layout (TypeMeta, ListMeta, items) around an item schema. */
function listStructFor(item: StructSchema): StructSchema {
  let s = listStructs.get(item)
  if (!s) {
    const [pkg = 'v3'] = item.goType.split('.')
    s = struct(`${item.name}List`, pkg, [
      f('kind', 'Kind', str),
      f('apiVersion', 'APIVersion', str),
      f('metadata', 'ListMeta', obj(() => ListMetaSchema)),
      f('items', 'Items', list(obj(() => item)), {keep: true}),
    ])
    listStructs.set(item, s)
  }
  return s
}

function finish(dec: Decoder, out: Resource[]): Resource[] {
  if (dec.saved) throw dec.saved
  return out
}

export interface DecodeOptions {
  /**
   * Also fill absent fields of every decoded struct with their CRD schema defaults (what the etcd-mode validator
   * writes back), in the same pass: applyDefaults uses it instead of defaulting a copy and decoding that.
   */
  schemaDefaults?: boolean
  /**
   * Decoded structs, lists and maps are added here; when decoding again with the same set, such a value is kept
   * instead of rebuilt (unless it has schema defaults to fill). For decoding a value that was just decoded and only
   * changed by replacing parts (decodeAndDefault): what it still shares with the first result costs nothing.
   */
  decoded?: Set<object>
  /**
   * With schemaDefaults, on input that has not been decoded: a default fills what the plain decode would leave out
   * (absent, or a zero value omitempty drops), so that the result is that of decoding then defaulting the result.
   */
  defaultsAfterDecode?: boolean
  /** The values in `decoded` were built with schema defaults: a defaulting decode keeps them too. */
  decodedWithDefaults?: boolean
  /** Shares decoded list elements with other decodes given the same memo (see DecodeMemo). */
  memo?: DecodeMemo
}

/** Strictly decodes one parsed YAML/JSON object into a v3 resource (not a list). Throws DecodeError. */
export function decodeResource(doc: unknown, options: DecodeOptions = {}): Resource {
  const tm = typeMetaOf(doc, false)
  const target = targetOf(tm)
  if (target.list) throw unknownType(tm)
  const dec = new Decoder(options)
  const [res] = finish(dec, decodeTarget(doc, target, dec))
  if (!res) throw unknownType(tm)
  return res
}

/**
 * Decodes one input document: a single object, a top-level array of objects (kinds may be mixed) or a `<Kind>List`
 * (expanded into its items). As in calicoctl, every item's kind is resolved before any is decoded.
 */
export function decodeDocument(doc: unknown): Resource[] {
  const docs = Array.isArray(doc) ? doc : [doc]
  const targets = docs.map((d) => targetOf(typeMetaOf(d, Array.isArray(doc))))
  const dec = new Decoder()
  const out: Resource[] = []
  docs.forEach((d, i) => {
    const target = targets[i]
    if (target) out.push(...decodeTarget(d, target, dec))
  })
  return finish(dec, out)
}
