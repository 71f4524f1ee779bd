// A small runtime description of Calico's Go API structs. Each field records its JSON name, Go name, wire type,
// Go pointer-ness and omitempty behaviour (which decide what Go would store and print), and the OpenAPI constraints
// its kubebuilder markers declare. Decoding, output ordering, go-template views and CRD schemas are all driven by it.

/** A JSON value as it appears in a document (used for CRD defaults). */
export type JsonValue = string | number | boolean | null | JsonValue[] | {[key: string]: JsonValue}

export type IntGoType = 'int' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64'

/** Inclusive ranges of Go's integer types (int/uint64 bounded by what a JS number holds exactly). */
export const INT_RANGES: Readonly<Record<IntGoType, readonly [number, number]>> = {
  int: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  uint64: [0, Number.MAX_SAFE_INTEGER],
}

export type FieldType =
  /** `goType` is the Go type as reflect prints it (`string`, `v3.IPIPMode`), used in Go-shaped error messages. */
  | {readonly kind: 'string'; readonly goType: string; readonly enum?: readonly string[]}
  | {readonly kind: 'bool'}
  | {readonly kind: 'int'; readonly goType: IntGoType; readonly enum?: readonly number[]}
  | {readonly kind: 'float'}
  /** numorstring.Port: 80, "80:90" or a port name. */
  | {readonly kind: 'port'}
  /** numorstring.Protocol / numorstring.DSCP (Uint8OrString): a number 0..255 or a name. */
  | {readonly kind: 'uint8OrString'; readonly goType: string}
  /** k8s intstr.IntOrString (networking.k8s.io ports). */
  | {readonly kind: 'intOrString'}
  /** numorstring.ASNumber: a number, "65000" or asdot "1.10". */
  | {readonly kind: 'asNumber'}
  /** metav1.Duration: a Go duration string, printed the way Go prints it. */
  | {readonly kind: 'duration'}
  /** metav1.Time: RFC 3339, stored with seconds precision in UTC. */
  | {readonly kind: 'time'}
  /** Opaque JSON kept as given (metav1.FieldsV1 in managedFields). */
  | {readonly kind: 'raw'; readonly goType: string}
  | {readonly kind: 'list'; readonly items: FieldType}
  | {readonly kind: 'map'; readonly values: FieldType}
  /** A nested struct; lazy so structs can reference each other in any order. */
  | {readonly kind: 'object'; readonly schema: () => StructSchema}

export interface Constraints {
  readonly minimum?: number
  readonly maximum?: number
  readonly maxLength?: number
  readonly minItems?: number
  readonly maxItems?: number
}

export interface Field<J extends string = string> extends Constraints {
  readonly json: J
  /** Go field name (go-templates: `.Spec.CIDR`). */
  readonly go: string
  readonly type: FieldType
  /** Go pointer: a present zero value is kept (`ipipEnabled: false`), absence means nil. */
  readonly pointer: boolean
  /** Go `omitempty`: a non-pointer zero scalar/list/map is dropped on marshal. Structs are only dropped when `omitZero`. */
  readonly omitEmpty: boolean
  /** Go `omitzero` on a struct: dropped when every field is zero. */
  readonly omitZero: boolean
  /** CRD (kubebuilder) default applied by the API server / etcd-mode CRD emulation. */
  readonly default?: JsonValue
}

export interface StructSchema<J extends string = string> {
  /** Go type name without package (`IPPoolSpec`): the `Struct` part of Go's "Go struct field X.y" errors. */
  readonly name: string
  /** Go type as reflect prints it (`v3.IPPoolSpec`). */
  readonly goType: string
  /** Fields in Go struct order. */
  readonly fields: readonly Field<J>[]
  /** Exact JSON-name lookup. */
  readonly byJson: ReadonlyMap<string, Field<J>>
  /** Lower-cased JSON-name lookup (Go's encoding/json falls back to case-insensitive matching). */
  readonly byFoldedJson: ReadonlyMap<string, Field<J>>
}

export interface FieldOptions extends Constraints {
  pointer?: boolean
  /** Not omitempty (Go always marshals the field). */
  keep?: boolean
  omitZero?: boolean
  default?: JsonValue
}

export function f<J extends string>(json: J, go: string, type: FieldType, opts: FieldOptions = {}): Field<J> {
  const {pointer = false, keep = false, omitZero = false, default: dflt, ...constraints} = opts
  return {
    json,
    go,
    type,
    pointer,
    omitEmpty: !keep,
    omitZero,
    ...(dflt === undefined ? {} : {default: dflt}),
    ...constraints,
  }
}

export function struct<J extends string>(name: string, pkg: string, fields: readonly Field<J>[]): StructSchema<J> {
  const byJson = new Map(fields.map((fl) => [fl.json, fl] as const))
  const byFoldedJson = new Map<string, Field<J>>()
  for (const fl of fields) {
    const folded = fl.json.toLowerCase()
    if (!byFoldedJson.has(folded)) byFoldedJson.set(folded, fl)
  }
  return {name, goType: `${pkg}.${name}`, fields, byJson, byFoldedJson}
}

// Type constructors. Named Go types carry their reflect name so error messages match Go's.
export const str: FieldType = {kind: 'string', goType: 'string'}
export function named(goType: string, values?: readonly string[]): FieldType {
  return values ? {kind: 'string', goType, enum: values} : {kind: 'string', goType}
}
export function enumOf(values: readonly string[]): FieldType {
  return {kind: 'string', goType: 'string', enum: values}
}
export const bool: FieldType = {kind: 'bool'}
export function int(goType: IntGoType = 'int', values?: readonly number[]): FieldType {
  return values ? {kind: 'int', goType, enum: values} : {kind: 'int', goType}
}
export const float: FieldType = {kind: 'float'}
export const port: FieldType = {kind: 'port'}
export const protocol: FieldType = {kind: 'uint8OrString', goType: 'numorstring.Protocol'}
export const dscp: FieldType = {kind: 'uint8OrString', goType: 'numorstring.DSCP'}
export const intOrString: FieldType = {kind: 'intOrString'}
export const asNumber: FieldType = {kind: 'asNumber'}
export const duration: FieldType = {kind: 'duration'}
export const time: FieldType = {kind: 'time'}
export function raw(goType: string): FieldType {
  return {kind: 'raw', goType}
}
export function list(items: FieldType): FieldType {
  return {kind: 'list', items}
}
export function map(values: FieldType): FieldType {
  return {kind: 'map', values}
}
export function obj(schema: () => StructSchema): FieldType {
  return {kind: 'object', schema}
}

/** The Go type as reflect prints it, for `... of type <T>` in decode errors. */
export function goTypeOf(t: FieldType): string {
  switch (t.kind) {
    case 'string':
    case 'uint8OrString':
    case 'int':
    case 'raw':
      return t.goType
    case 'bool':
      return 'bool'
    case 'float':
      return 'float64'
    case 'port':
      return 'numorstring.Port'
    case 'intOrString':
      return 'intstr.IntOrString'
    case 'asNumber':
      return 'numorstring.ASNumber'
    case 'duration':
      return 'v1.Duration'
    case 'time':
      return 'v1.Time'
    case 'list':
      return `[]${goTypeOf(t.items)}`
    case 'map':
      return `map[string]${goTypeOf(t.values)}`
    case 'object':
      return t.schema().goType
  }
}

/** The JSON field names of a struct schema, for compile-time agreement checks with the TS interfaces. */
export type FieldNames<S> = S extends StructSchema<infer J> ? J : never
