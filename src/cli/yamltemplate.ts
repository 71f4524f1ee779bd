// calicoctl runs `-o go-template` through google/safetext's yamltemplate, a text/template that refuses to print
// when the data changed the YAML structure of the output. This is that check over gotemplate.ts:
//
//   1. the template runs on the data as is (the output, printed only if every check passes);
//   2. a baseline run, with every string an output action prints replaced by `baseline`: its output must parse as
//      YAML, else the template itself is refused ("Invalid YAML Template");
//   3. a mutation run, with each character of those strings doubled (quotes and backslashes excepted);
//   4. the first and third outputs must parse as YAML too, and the three documents must have the same shape: the
//      same sequence lengths and mapping keys, and wherever the baseline has a string, neither of the others has
//      a sequence or mapping there; elsewhere the same scalar type. Anything else is "YAML Injection Detected".
//
// So, as with calicoctl, data may fill in scalars but never add keys or items, a string that prints as nothing
// where the baseline printed something counts as injection, and data used as a mapping key is refused.
//
// Parsing is js-yaml's (YAML 1.2) where Go uses yaml.v3, with scalars resolved as yaml.v3 resolves them into an
// `interface{}` (int, uint64, float64, bool, null, otherwise string) and any unknown tag read as untagged; the two
// parsers can still disagree on malformed edge cases.
import yaml from 'js-yaml'

import {compileTemplate, STRUCTURAL_DATA, TemplateError, type CompiledTemplate, type TemplateFunc} from './gotemplate.js'
import {parseIntBase0} from './strconv.js'

/** safetext's ErrYAMLInjection text. */
export const YAML_INJECTION = 'YAML Injection Detected'
/** safetext's ErrInvalidYAMLTemplate text. */
export const INVALID_YAML_TEMPLATE = 'Invalid YAML Template'

const baselineString = (): string => 'baseline'

/** safetext's mutateString: every character doubled, except those that open or close a quoted context. */
export function mutateString(s: string): string {
  let out = ''
  for (const ch of s) out += ch === '\\' || ch === "'" || ch === '"' ? ch : ch + ch
  return out
}

// ---------- YAML as yaml.v3 decodes it into interface{} ----------

/** A yaml.v3 integer that fits no int64 but a uint64: Go gives it another type than an int. */
class Uint64 {
  constructor(readonly value: bigint) {}
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/
const SPECIAL_FLOATS: Readonly<Record<string, number>> = Object.fromEntries([
  ...['.nan', '.NaN', '.NAN'].map((t) => [t, NaN]),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((t) => [t, Infinity]),
  ...['-.inf', '-.Inf', '-.INF'].map((t) => [t, -Infinity]),
])

/** A plain scalar as yaml.v3's resolve() types it: null, boolean, bigint (int), Uint64, number (float64) or the text. */
function resolvePlain(text: string): unknown {
  if (['', '~', 'null', 'Null', 'NULL'].includes(text)) return null
  if (['true', 'True', 'TRUE'].includes(text)) return true
  if (['false', 'False', 'FALSE'].includes(text)) return false
  if (text in SPECIAL_FLOATS) return SPECIAL_FLOATS[text]
  if (!/^[-+.0-9]/.test(text)) return text
  const plain = text.replaceAll('_', '')
  // strconv.ParseInt, then ParseUint, with base 0 (yaml.v3 strips every underscore first).
  const int = parseIntBase0(plain)
  if (int !== undefined && int >= INT64_MIN && int <= INT64_MAX) return int
  if (int !== undefined && int >= 0n && int <= UINT64_MAX) return new Uint64(int)
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = Number(plain)
    // ParseFloat fails on overflow, and the scalar stays a string.
    if (Number.isFinite(f)) return f
  }
  return text
}

const resolvedTypes = ['null', 'bool', 'int', 'float'].map(
  (name) =>
    new yaml.Type(`tag:yaml.org,2002:${name}`, {
      kind: 'scalar',
      resolve: (data: unknown) => typeof data === 'string' && typeName(resolvePlain(data)) === name,
      construct: (data: string) => resolvePlain(data),
    }),
)

// Tags yaml.v3 does not resolve (local `!x`, other `!!x`, verbatim): a scalar keeps its text as a string, a
// collection decodes as if untagged.
const untaggedFallback = (['scalar', 'sequence', 'mapping'] as const).map(
  (kind) => new yaml.Type('', {kind, multi: true, construct: (data: unknown) => (kind === 'scalar' ? String(data ?? '') : data)}),
)

// `<<` merges a mapping into the enclosing one (yaml.v3 does too); js-yaml's loader acts on this tag.
const mergeKey = new yaml.Type('tag:yaml.org,2002:merge', {kind: 'scalar', resolve: (data: unknown) => data === '<<'})

const V3_SCHEMA = yaml.FAILSAFE_SCHEMA.extend({implicit: [...resolvedTypes, mergeKey], explicit: untaggedFallback})

/** Decodes every document of `text` (none for an empty or comment-only stream); throws on a syntax error. */
function parseDocuments(text: string): unknown[] {
  // yaml.v3's decoder reports no document at all for a stream of blanks and comments; js-yaml reports one null.
  if (text.split('\n').every((line) => /^\s*(#.*)?$/.test(line))) return []
  return yaml.loadAll(text, undefined, {schema: V3_SCHEMA})
}

// ---------- the shape comparison (safetext's allKeysMatch) ----------

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'boolean') return 'bool'
  if (typeof v === 'bigint') return 'int'
  if (v instanceof Uint64) return 'uint64'
  if (typeof v === 'number') return 'float'
  if (typeof v === 'string') return 'string'
  if (Array.isArray(v)) return 'seq'
  return 'map'
}

const isCollection = (v: unknown): boolean => ['seq', 'map'].includes(typeName(v))

/** Whether the requested (`a`) and mutated (`b`) documents have the baseline's shape. */
function sameShape(base: unknown, a: unknown, b: unknown): boolean {
  switch (typeName(base)) {
    case 'null':
      return typeName(a) === 'null' && typeName(b) === 'null'
    case 'seq': {
      if (!Array.isArray(base) || !Array.isArray(a) || !Array.isArray(b)) return false
      if (a.length !== base.length || b.length !== base.length) return false
      return base.every((x: unknown, i) => sameShape(x, a[i], b[i]))
    }
    case 'map': {
      if (typeName(a) !== 'map' || typeName(b) !== 'map') return false
      const [bm, am, mm] = [base, a, b] as Record<string, unknown>[]
      const keys = Object.keys(bm!)
      if (Object.keys(am!).length !== keys.length || Object.keys(mm!).length !== keys.length) return false
      return keys.every((k) => Object.hasOwn(am!, k) && Object.hasOwn(mm!, k) && sameShape(bm![k], am![k], mm![k]))
    }
    case 'string':
      // The baseline's text stands in for any data, so only a new collection in its place is structural.
      return !isCollection(a) && !isCollection(b)
    default:
      return typeName(a) === typeName(base) && typeName(b) === typeName(base)
  }
}

// ---------- the template ----------

function parseOr(text: string, refusal: string): unknown[] {
  try {
    return parseDocuments(text)
  } catch {
    throw new TemplateError(refusal)
  }
}

/** A go-template that is executed as safetext's yamltemplate executes it (StructuralData available). */
export function compileYAMLTemplate(src: string, opts: {name?: string; funcs?: Record<string, TemplateFunc>} = {}): CompiledTemplate {
  const tmpl = compileTemplate(src, {...opts, funcs: {[STRUCTURAL_DATA]: (v: unknown) => v, ...opts.funcs}})
  return {
    execute(data: unknown, paste?: (s: string) => string): string {
      if (paste) return tmpl.execute(data, paste)
      // The order of safetext's Execute, which decides which error a template that fails several ways gets.
      const requested = tmpl.execute(data)
      const baseline = tmpl.execute(data, baselineString)
      const parsedBaseline = parseOr(baseline, INVALID_YAML_TEMPLATE)
      const parsedRequested = parseOr(requested, YAML_INJECTION)
      const parsedMutated = parseOr(tmpl.execute(data, mutateString), YAML_INJECTION)
      if (!sameShape(parsedBaseline, parsedRequested, parsedMutated)) throw new TemplateError(YAML_INJECTION)
      return requested
    },
  }
}
