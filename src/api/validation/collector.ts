// Collects validation failures in libcalico-go's ErroredField shape, each with the JSON path of the field.
// Two sources are modelled, as in libcalico-go's Validate(): the Go struct/field validators (field named by its Go
// struct field, e.g. `PeerIP`), and the CRD OpenAPI + CEL rules (field named by its JSON path, e.g.
// `spec.ingress[0].action`). CRD rules run only when the collector is in CRD mode (Calico enables them for etcd).

import type {ErroredField} from '../errors.js'
import {isObject} from '../json.js'

export type Obj = Readonly<Record<string, unknown>>

export interface ValidateOptions {
  /** Apply the CRD OpenAPI/CEL rules too (default true: there is no API server in front of our datastores). */
  crd?: boolean
  /** Shares the results of parts that validated cleanly with other validations given the same memo. */
  memo?: ValidationMemo
}

/**
 * Parts of resources (policy rules) that validated without a problem, by validation mode and the JSON text of the
 * part, so that the same rule in many policies is checked once. Only for inputs that are JSON values as JSON.parse
 * makes them (no undefined or NaN), so that the text identifies the input, and that are not changed once validated.
 * Bounded; cleared when full.
 */
export class ValidationMemo {
  private readonly clean = new Map<string, unknown>()
  /** The same, by the part itself: parts shared by decoded objects (DecodeMemo) are found without their text. */
  private readonly cleanParts = new WeakMap<Obj, {crd: boolean; result: unknown}>()

  constructor(private readonly limit = 10_000) {}

  /**
   * The remembered result for `part` in `c`'s mode, or else the key to remember(): a pair of calls rather than one
   * taking a callback, because the check needs the part's path, which only a miss should build.
   */
  known(c: Collector, part: Obj): {result: unknown} | {key: string} {
    const seen = this.cleanParts.get(part)
    if (seen && seen.crd === c.crd) return seen
    const key = `${c.crd ? 'crd' : 'go'} ${JSON.stringify(part)}`
    return this.clean.has(key) ? {result: this.clean.get(key)} : {key}
  }

  /** Remembers `result` for `part` if checking it reported nothing (`before`: `c.reports` before the check). */
  remember(c: Collector, part: Obj, key: string, before: number, result: unknown): void {
    if (c.reports !== before) return
    if (this.clean.size >= this.limit) this.clean.clear()
    this.clean.set(key, result)
    this.cleanParts.set(part, {crd: c.crd, result})
  }
}

/** What a collector holds once a problem is reported; a valid object (nearly every one) never allocates it. */
interface Reports {
  // Reported in libcalico-go's order: decoding problems, then Go validator failures, then CRD rule failures.
  readonly type: ErroredField[]
  readonly go: ErroredField[]
  readonly schema: ErroredField[]
  readonly seen: Set<string>
}

export class Collector {
  private lists?: Reports
  private reported = 0

  constructor(
    readonly crd: boolean = true,
    readonly memo?: ValidationMemo,
  ) {}

  /** Problems reported so far, including repeats of one already listed (counted, not listed twice). */
  get reports(): number {
    return this.reported
  }

  get fields(): ErroredField[] {
    const l = this.lists
    return l ? [...l.type, ...l.go, ...l.schema] : []
  }

  /** A failure reported by one of Calico's Go struct validators (reason given verbatim). */
  go(path: string, name: string, value: unknown, reason: string): void {
    this.push('go', {name, value: goValue(value), reason, path})
  }

  /**
   * A Go field tag (`validate:"..."`) failed; go-playground then reports its generic reason, so a hint saying
   * what a valid value looks like is attached for people.
   */
  tag(path: string, name: string, value: unknown, tag: string, hint: string | undefined = TAG_HINTS[tag]): void {
    const f: ErroredField = {name, value: goValue(value), reason: `Reason: failed to validate Field: ${name} because of Tag: ${tag} `, path}
    if (hint !== undefined) f.hint = hint
    this.push('go', f)
  }

  /** A `oneof=...` tag failed. */
  oneOf(path: string, name: string, value: unknown, allowed: readonly string[]): void {
    this.tag(path, name, value, 'oneof', `must be one of: ${allowed.join(', ')}`)
  }

  /** A `gte`/`gt`/`lte`/`lt` tag failed. */
  bound(path: string, name: string, value: number, tag: 'gte' | 'gt' | 'lte' | 'lt', limit: number): void {
    const words = {gte: 'at least', gt: 'greater than', lte: 'at most', lt: 'less than'}[tag]
    this.tag(path, name, value, tag, `must be ${words} ${limit}`)
  }

  /** A CRD schema (OpenAPI or CEL) failure, named by its JSON path. Ignored outside CRD mode. */
  schema(path: string, reason: string, value: unknown = null, name: string = path): void {
    if (!this.crd) return
    this.push('schema', {name, value: value === null ? null : goValue(value), reason, path})
  }

  /** A value of the wrong JSON type: the decoder would have refused it, so report it in either mode. */
  type(path: string, expected: string, value: unknown): void {
    this.push('type', {name: path, value: goValue(value), reason: `must be of type ${expected}`, path})
  }

  private push(list: 'type' | 'go' | 'schema', f: ErroredField): void {
    this.reported++
    const l = (this.lists ??= {type: [], go: [], schema: [], seen: new Set()})
    // Go can report one problem twice (e.g. ObjectMeta and the policy-level name checks); say it once.
    const key = `${f.path}\u0000${f.name}\u0000${String(f.value)}\u0000${f.reason}`
    if (l.seen.has(key)) return
    l.seen.add(key)
    l[list].push(f)
  }
}

/** What a valid value looks like, per Go validation tag. */
const TAG_HINTS: Readonly<Record<string, string>> = {
  'net': 'must be an IP address or a CIDR with no host bits set (e.g. 10.0.0.0/24)',
  'netv4': 'must be an IPv4 CIDR with no host bits set (e.g. 10.0.0.0/24)',
  'netv6': 'must be an IPv6 CIDR with no host bits set (e.g. fd00::/64)',
  'cidr': 'must be an IP address or a CIDR',
  'cidrs': 'every entry must be an IP address or a CIDR',
  'cidrv4': 'must be an IPv4 address or CIDR',
  'cidrv6': 'must be an IPv6 address or CIDR',
  'ip': 'must be an IP address',
  'ipv4': 'must be an IPv4 address',
  'ipv6': 'must be an IPv6 address',
  'IP:port': 'must be <IP>, <IPv4>:<port> or [<IPv6>]:<port>',
  'reachableBy': 'must be an IP address',
  'name': 'must be lower-case alphanumeric characters, - or ., starting and ending alphanumeric (e.g. my-name.example)',
  'interface': "must be an interface name of 1-15 characters from a-z A-Z 0-9 _ . - (or '*')",
  'ignoredInterface': "must be 1-15 characters from a-z A-Z 0-9 _ . - and * as wildcard, but not just '*'",
  'bgpFilterInterface': 'must be 1-15 characters from a-z A-Z 0-9 _ . - and * as wildcard',
  'ifaceFilter': 'must be 1-15 characters from a-z A-Z 0-9 : . _ + -',
  'ifaceFilterSlice': 'every entry must be 1-15 characters from a-z A-Z 0-9 : . _ + -',
  'containerID': 'must be letters, digits and inner hyphens',
  'portName': 'must be at most 15 lower-case letters, digits and single inner hyphens, with at least one letter',
  'regexp': 'must be a valid regular expression',
  'mac': 'must be a MAC address (e.g. 52:54:00:12:34:56)',
  'required': 'must be set',
  'unique': 'must not contain duplicates',
  'labels': 'keys must be qualified names ([prefix/]name) and values valid label values (63 characters at most)',
  'keyValueList': 'must be a comma-separated list of key=value',
  'prometheusHost': 'must be a host name or IP address of at most 64 characters',
  'wireguardPublicKey': 'must be a base64-encoded 32-byte WireGuard public key',
  'createDefaultHostEndpoint': 'must be Enabled or Disabled',
  'ipType': 'must be CalicoNodeIP, InternalIP or ExternalIP',
  'bgpFilterPrefixLengthV4': 'must be between 0 and 32',
  'bgpFilterPrefixLengthV6': 'must be between 0 and 128',
  'bpfLogFilters': 'keys must be interface names of 1-15 characters from a-z A-Z 0-9 _ . -',
}

/** Go's `%v` rendering of a decoded JSON value, as libcalico-go prints ErroredField values. */
export function goValue(v: unknown): string {
  if (v === undefined || v === null) return ''
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`
  if (typeof v === 'object') {
    const entries = Object.entries(v as Obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `map[${entries.map(([k, x]) => `${k}:${goValue(x)}`).join(' ')}]`
  }
  return String(v)
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

export function at(path: string, i: number): string {
  return `${path}[${i}]`
}

/** src/api/json.ts's isObject, narrowing to the read-only Obj: validation never writes what it checks. */
export const isObj: (v: unknown) => v is Obj = isObject

// Typed reads of decoded JSON. A value of the wrong type is reported and treated as absent, so later rules
// never see it; `undefined` and `null` both mean "not set" (Go's zero value after decoding).

export function str(c: Collector, o: Obj, key: string, path: string): string | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string') return v
  c.type(join(path, key), 'string', v)
  return undefined
}

export function num(c: Collector, o: Obj, key: string, path: string): number | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v === 'number' && Number.isFinite(v)) return v
  c.type(join(path, key), 'integer', v)
  return undefined
}

export function bool(c: Collector, o: Obj, key: string, path: string): boolean | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v === 'boolean') return v
  c.type(join(path, key), 'boolean', v)
  return undefined
}

export function obj(c: Collector, o: Obj, key: string, path: string): Obj | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (isObj(v)) return v
  c.type(join(path, key), 'object', v)
  return undefined
}

export function arr(c: Collector, o: Obj, key: string, path: string): readonly unknown[] | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (Array.isArray(v)) return v
  c.type(join(path, key), 'array', v)
  return undefined
}

/** A list of strings; non-string items are reported and dropped. The list itself when all are strings (no copy). */
export function strs(c: Collector, o: Obj, key: string, path: string): readonly string[] | undefined {
  const a = arr(c, o, key, path)
  if (!a) return undefined
  let i = 0
  while (i < a.length && typeof a[i] === 'string') i++
  if (i === a.length) return a as readonly string[]
  const out = a.slice(0, i) as string[]
  for (; i < a.length; i++) {
    const x = a[i]
    if (typeof x === 'string') out.push(x)
    else c.type(at(join(path, key), i), 'string', x)
  }
  return out
}

const NO_OBJECTS: ReadonlyArray<readonly [Obj, number]> = []

/** A list of objects; non-object items are reported and dropped (their index is kept for paths). */
export function objs(c: Collector, o: Obj, key: string, path: string): ReadonlyArray<readonly [Obj, number]> {
  const a = arr(c, o, key, path)
  if (!a || a.length === 0) return NO_OBJECTS
  const out: Array<readonly [Obj, number]> = []
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    if (isObj(x)) out.push([x, i])
    else c.type(at(join(path, key), i), 'object', x)
  }
  return out
}

/** A map of strings; entries that are not strings are reported and dropped. The map itself when all are strings. */
export function strMap(c: Collector, o: Obj, key: string, path: string): Readonly<Record<string, string>> | undefined {
  const m = obj(c, o, key, path)
  if (!m) return undefined
  let clean = true
  for (const k in m) {
    if (Object.hasOwn(m, k) && typeof m[k] !== 'string') clean = false
  }
  if (clean) return m as Readonly<Record<string, string>>
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'string') out[k] = v
    else c.type(join(join(path, key), k), 'string', v)
  }
  return out
}

// CRD OpenAPI checks, worded as the Kubernetes apiextensions validator words them.

export function crdEnum(c: Collector, path: string, v: string | number | undefined, allowed: readonly (string | number)[]): void {
  if (v === undefined || allowed.includes(v)) return
  c.schema(path, `Unsupported value: ${JSON.stringify(v)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, v)
}

const patternCache = new Map<string, RegExp>()

/** Compiles an OpenAPI (Go RE2) pattern; a leading `(?i)` becomes JS's `i` flag. */
function compilePattern(p: string): RegExp {
  let re = patternCache.get(p)
  if (!re) {
    const ci = p.startsWith('^(?i)')
    re = ci ? new RegExp(`^${p.slice(5)}`, 'i') : new RegExp(p)
    patternCache.set(p, re)
  }
  return re
}

export function crdPattern(c: Collector, path: string, v: string | undefined, pattern: string): void {
  if (v === undefined || compilePattern(pattern).test(v)) return
  c.schema(path, `Invalid value: ${JSON.stringify(v)}: should match '${pattern}'`, v)
}

export function crdRange(c: Collector, path: string, v: number | undefined, min?: number, max?: number): void {
  if (v === undefined) return
  if (!Number.isInteger(v)) c.schema(path, `Invalid value: ${v}: must be an integer`, v)
  if (min !== undefined && v < min) c.schema(path, `Invalid value: ${v}: should be greater than or equal to ${min}`, v)
  if (max !== undefined && v > max) c.schema(path, `Invalid value: ${v}: should be less than or equal to ${max}`, v)
}

export function crdMaxLength(c: Collector, path: string, v: string | undefined, max: number): void {
  if (v !== undefined && v.length > max) c.schema(path, `Too long: may not be more than ${max} bytes`, v)
}

export function crdItems(c: Collector, path: string, a: readonly unknown[] | undefined, min?: number, max?: number): void {
  if (!a) return
  if (min !== undefined && a.length < min) c.schema(path, `Invalid value: ${a.length}: must have at least ${min} items`)
  if (max !== undefined && a.length > max) c.schema(path, `Too many: ${a.length}: must have at most ${max} items`)
}

export function crdRequired(c: Collector, o: Obj, key: string, path: string): void {
  if (o[key] === undefined || o[key] === null) c.schema(join(path, key), 'Required value')
}

/** A CEL x-kubernetes-validations rule failed: reported on the object that carries the rule. */
export function cel(c: Collector, path: string, ok: boolean, message: string): void {
  if (!ok) c.schema(path, message)
}

/** A `set` list-type: duplicates are refused by the API server. */
export function crdUniqueSet(c: Collector, path: string, a: readonly unknown[] | undefined): void {
  if (!a) return
  const seen = new Set<string>()
  a.forEach((x, i) => {
    const k = JSON.stringify(x)
    if (seen.has(k)) c.schema(at(path, i), `Duplicate value: ${k}`, x)
    seen.add(k)
  })
}

/** Non-empty string (Go: a string field that is set). */
export function isSet(s: string | undefined): s is string {
  return s !== undefined && s !== ''
}
