// calicoctl's `-o yaml`: sigs.k8s.io/yaml, i.e. JSON re-read by go-yaml v2 and emitted by its
// libyaml port. Output must match byte for byte, so this follows go-yaml v2's emitter: mapping
// keys in its "natural" order, sequences not indented under a mapping key, empty collections in
// flow style, strings quoted only when they would read back as another type, plain scalars
// folded at spaces past column 80, multi-line strings as literal blocks.
//
// Input is plain JSON data (objects, arrays, strings, numbers, booleans, null); js-yaml is not used
// because its quoting, folding and key order differ from go-yaml's.

import {formatNumber} from './gofmt.js'

const BEST_INDENT = 2
const BEST_WIDTH = 80

type Style = 'plain' | 'single' | 'double' | 'literal'

interface Analysis {
  multiline: boolean
  flowPlainAllowed: boolean
  blockPlainAllowed: boolean
  singleQuotedAllowed: boolean
  blockAllowed: boolean
}

interface NodeContext {
  root?: boolean
  sequence?: boolean
  mapping?: boolean
  simpleKey?: boolean
}

const isBreak = (c: string | undefined): boolean =>
  c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029'
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t'

/** libyaml's is_printable, expressed on code points. */
function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0) ?? 0
  return cp === 0x0a || (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff)
}

function analyzeScalar(chars: string[]): Analysis {
  if (chars.length === 0) {
    return {multiline: false, flowPlainAllowed: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false}
  }
  let blockIndicators = false
  let flowIndicators = false
  let lineBreaks = false
  let special = false
  let leadingSpace = false
  let leadingBreak = false
  let trailingSpace = false
  let trailingBreak = false
  let breakSpace = false
  let spaceBreak = false
  let precededByWhitespace = true
  let previousSpace = false
  let previousBreak = false

  const head = chars.slice(0, 3).join('')
  if (head === '---' || head === '...') {
    blockIndicators = true
    flowIndicators = true
  }
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]
    const followedByWhitespace = i + 1 >= chars.length || isBlank(chars[i + 1])
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) {
        flowIndicators = true
        blockIndicators = true
      } else if (c === '?' || c === ':') {
        flowIndicators = true
        if (followedByWhitespace) blockIndicators = true
      } else if (c === '-' && followedByWhitespace) {
        flowIndicators = true
        blockIndicators = true
      }
    } else if (',?[]{}'.includes(c)) {
      flowIndicators = true
    } else if (c === ':') {
      flowIndicators = true
      if (followedByWhitespace) blockIndicators = true
    } else if (c === '#' && precededByWhitespace) {
      flowIndicators = true
      blockIndicators = true
    }

    if (!isPrintable(c)) special = true
    if (c === ' ') {
      if (i === 0) leadingSpace = true
      if (i === chars.length - 1) trailingSpace = true
      if (previousBreak) breakSpace = true
      previousSpace = true
      previousBreak = false
    } else if (isBreak(c)) {
      lineBreaks = true
      if (i === 0) leadingBreak = true
      if (i === chars.length - 1) trailingBreak = true
      if (previousSpace) spaceBreak = true
      previousSpace = false
      previousBreak = true
    } else {
      previousSpace = false
      previousBreak = false
    }
    precededByWhitespace = isBlank(c) || isBreak(c)
  }

  const a: Analysis = {
    multiline: lineBreaks, flowPlainAllowed: true, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: true,
  }
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) {
    a.flowPlainAllowed = false
    a.blockPlainAllowed = false
  }
  if (trailingSpace) a.blockAllowed = false
  if (breakSpace) {
    a.flowPlainAllowed = false
    a.blockPlainAllowed = false
    a.singleQuotedAllowed = false
  }
  if (spaceBreak || special) {
    a.flowPlainAllowed = false
    a.blockPlainAllowed = false
    a.singleQuotedAllowed = false
    a.blockAllowed = false
  }
  if (lineBreaks) {
    a.flowPlainAllowed = false
    a.blockPlainAllowed = false
  }
  if (flowIndicators) a.flowPlainAllowed = false
  if (blockIndicators) a.blockPlainAllowed = false
  return a
}

// ---- go-yaml v2 resolve(): would this string read back as something other than a string? ----

const RESOLVE_MAP = new Set([
  'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON',
  'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF',
  '', '~', 'null', 'Null', 'NULL', '.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF',
  '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '<<',
])
const GO_INT = /^[+-]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/
const TIMESTAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:([Tt])|( ))(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,]\d+)?(Z|[+-]\d{2}:\d{2})?)?$/

/** The formats go-yaml v2 tries with time.Parse, including Go's range checks. */
function isTimestamp(s: string): boolean {
  const m = TIMESTAMP.exec(s)
  if (!m) return false
  const [, y, mo, d, tee, space, h, mi, sec, zone] = m
  if (tee && !zone) return false // the T forms require a zone
  if (space && zone) return false // the space form has none
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1) return false
  if (day > new Date(Date.UTC(Number(y), month, 0)).getUTCDate()) return false
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59)) return false
  return true
}

function resolvesToString(s: string): boolean {
  if (RESOLVE_MAP.has(s)) return false
  const c = s[0]
  if (c === '.') return !(DOT_FLOAT.test(s) && Number.isFinite(Number(s)))
  if (c === '+' || c === '-' || (c >= '0' && c <= '9')) {
    if (isTimestamp(s)) return false
    const plain = s.replace(/_/g, '')
    if (GO_INT.test(plain)) return false
    if (YAML_FLOAT.test(plain) && Number.isFinite(Number(plain))) return false
  }
  return true
}

function canUsePlain(s: string): boolean {
  return resolvesToString(s) && !BASE60_FLOAT.test(s)
}

// ---- key order: go-yaml v2's keyList.Less for string keys ----

// ASCII answers directly; the Unicode property regexes are only needed (and only paid) beyond it.
function isLetter(c: string): boolean {
  const x = c.charCodeAt(0)
  if (x < 0x80) return (x >= 65 && x <= 90) || (x >= 97 && x <= 122)
  return /\p{L}/u.test(c)
}

function isDigit(c: string): boolean {
  const x = c.charCodeAt(0)
  if (x < 0x80) return x >= 48 && x <= 57
  return /\p{Nd}/u.test(c)
}

const NON_ASCII = /[^\x00-\x7f]/

export function yamlKeyLess(a: string, b: string): boolean {
  // Strings index by code unit, which equals the rune for ASCII; only other keys need splitting.
  const wide = NON_ASCII.test(a) || NON_ASCII.test(b)
  const ar: ArrayLike<string> = wide ? [...a] : a
  const br: ArrayLike<string> = wide ? [...b] : b
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue
    const al = isLetter(ar[i])
    const bl = isLetter(br[i])
    if (al && bl) return ar[i] < br[i]
    if (al || bl) return bl
    let an = 0
    let bn = 0
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== '0') {
          an = 1
          bn = 1
          break
        }
      }
    }
    let ai = i
    let bi = i
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10 + (ar[ai].charCodeAt(0) - 48)
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10 + (br[bi].charCodeAt(0) - 48)
    if (an !== bn) return an < bn
    if (ai !== bi) return ai < bi
    return ar[i] < br[i]
  }
  return ar.length < br.length
}

interface KeyTrie {
  next: Map<string, KeyTrie>
  sorted?: string[]
}

function sortKeys(keys: string[]): string[] {
  return [...keys].sort((x, y) => (yamlKeyLess(x, y) ? -1 : yamlKeyLess(y, x) ? 1 : 0))
}

// ---- the emitter ----

/**
 * Plain scalars whose analysis is trivial: ASCII, no space or ':' (so no folding, comment or mapping
 * indicator), and a first character that is not an indicator.
 */
const SIMPLE_PLAIN = /^[A-Za-z0-9_(/][\x21-\x39\x3b-\x7e]*$/
const LINE_BREAK = /[\n\r\u0085\u2028\u2029]/

class Emitter {
  // One string grown with +=: V8 builds it as a rope and flattens it once, which for the thousands of
  // resources of a bulk `get` took a third of the time an array of pieces and a join did (mostly GC).
  private text = ''
  /** Sorted key lists by key sequence, a trie of the keys in object order: objects of one shape sort once. */
  private readonly sortedKeysCache: KeyTrie = {next: new Map()}
  private column = 0
  private indent = -1
  private readonly indents: number[] = []
  private whitespace = true
  private indention = true
  private flowLevel = 0
  private ctx: NodeContext = {}

  get out(): string {
    return this.text
  }

  private put(s: string): void {
    this.text += s
    this.column++
  }

  private putBreak(): void {
    this.text += '\n'
    this.column = 0
  }

  private writeIndicator(ind: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ')
    for (const c of ind) this.put(c)
    this.whitespace = isWhitespace
    this.indention = this.indention && isIndention
  }

  writeIndent(): void {
    const indent = Math.max(this.indent, 0)
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.putBreak()
    if (this.column < indent) {
      this.text += ' '.repeat(indent - this.column)
      this.column = indent
    }
    this.whitespace = true
    this.indention = true
  }

  private increaseIndent(flow: boolean, indentless: boolean): void {
    this.indents.push(this.indent)
    if (this.indent < 0) this.indent = flow ? BEST_INDENT : 0
    else if (!indentless) this.indent += BEST_INDENT
  }

  private popIndent(): void {
    this.indent = this.indents.pop() ?? -1
  }

  emitNode(value: unknown, ctx: NodeContext): void {
    this.ctx = ctx
    if (Array.isArray(value)) {
      if (value.length === 0 || this.flowLevel > 0) this.emitEmptyFlow('[', ']')
      else this.emitBlockSequence(value)
    } else if (value !== null && typeof value === 'object') {
      const obj = value as Record<string, unknown>
      const keys = this.sortedKeys(Object.keys(obj).filter((k) => obj[k] !== undefined))
      if (keys.length === 0 || this.flowLevel > 0) this.emitEmptyFlow('{', '}')
      else this.emitBlockMapping(obj, keys)
    } else {
      this.emitScalar(value)
    }
  }

  private sortedKeys(keys: string[]): string[] {
    let node = this.sortedKeysCache
    for (const k of keys) {
      let child = node.next.get(k)
      if (!child) node.next.set(k, (child = {next: new Map()}))
      node = child
    }
    return (node.sorted ??= sortKeys(keys))
  }

  /** Only empty collections are ever emitted in flow style (go-yaml picks it for them). */
  private emitEmptyFlow(open: string, close: string): void {
    this.writeIndicator(open, true, true, false)
    this.increaseIndent(true, false)
    this.flowLevel++
    this.flowLevel--
    this.popIndent()
    this.writeIndicator(close, false, false, false)
  }

  private emitBlockSequence(items: unknown[]): void {
    this.increaseIndent(false, Boolean(this.ctx.mapping) && !this.indention)
    for (const item of items) {
      this.writeIndent()
      this.writeIndicator('-', true, false, true)
      this.emitNode(item, {sequence: true})
    }
    this.popIndent()
  }

  private emitBlockMapping(obj: Record<string, unknown>, keys: string[]): void {
    this.increaseIndent(false, false)
    for (const key of keys) {
      this.writeIndent()
      const simple = !LINE_BREAK.test(key) && Buffer.byteLength(key) <= 128
      if (simple) {
        this.emitNode(key, {mapping: true, simpleKey: true})
        this.writeIndicator(':', false, false, false)
      } else {
        this.writeIndicator('?', true, false, true)
        this.emitNode(key, {mapping: true})
        this.writeIndent()
        this.writeIndicator(':', true, false, true)
      }
      this.emitNode(obj[key], {mapping: true})
    }
    this.popIndent()
  }

  private emitScalar(value: unknown): void {
    let text: string
    let style: Style
    if (value === null || value === undefined) {
      text = 'null'
      style = 'plain'
    } else if (typeof value === 'boolean') {
      text = String(value)
      style = 'plain'
    } else if (typeof value === 'number') {
      // JSON integers re-read as ints; everything else as float64, printed with 'g'.
      text = Number.isFinite(value) ? formatNumber(value) : value > 0 ? '.inf' : value < 0 ? '-.inf' : '.nan'
      style = 'plain'
    } else {
      text = String(value)
      style = text.includes('\n') ? 'literal' : canUsePlain(text) ? 'plain' : 'double'
    }
    const simpleKey = Boolean(this.ctx.simpleKey)
    if (style === 'plain' && this.flowLevel === 0 && SIMPLE_PLAIN.test(text)) {
      // Fast path for the common case (names, numbers, CIDRs): nothing to analyse, quote or fold.
      if (!this.whitespace) this.put(' ')
      this.text += text
      this.column += text.length
      this.whitespace = false
      this.indention = false
      return
    }
    const chars = [...text]
    const a = analyzeScalar(chars)
    if (simpleKey && a.multiline) style = 'double'
    if (style === 'plain') {
      if ((this.flowLevel > 0 && !a.flowPlainAllowed) || (this.flowLevel === 0 && !a.blockPlainAllowed)) style = 'single'
      if (chars.length === 0 && (this.flowLevel > 0 || simpleKey)) style = 'single'
    }
    if (style === 'single' && !a.singleQuotedAllowed) style = 'double'
    if (style === 'literal' && (!a.blockAllowed || this.flowLevel > 0 || simpleKey)) style = 'double'

    this.increaseIndent(true, false)
    const allowBreaks = !simpleKey
    if (style === 'plain') this.writePlain(chars, allowBreaks)
    else if (style === 'single') this.writeSingle(chars, allowBreaks)
    else if (style === 'double') this.writeDouble(chars, allowBreaks)
    else this.writeLiteral(chars)
    this.popIndent()
  }

  /** Appends characters that need no escaping and cannot fold, in one step. */
  private putAll(chars: string[]): void {
    this.text += chars.join('')
    this.column += chars.length
  }

  /** Folding happens only at a space reached past BEST_WIDTH, impossible if the scalar ends first. */
  private cannotFold(chars: string[], allowBreaks: boolean): boolean {
    return !allowBreaks || this.column + chars.length <= BEST_WIDTH + 1
  }

  private writePlain(chars: string[], allowBreaks: boolean): void {
    if (!this.whitespace) this.put(' ')
    if (this.cannotFold(chars, allowBreaks)) {
      this.putAll(chars)
      this.whitespace = false
      this.indention = false
      return
    }
    let spaces = false
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && chars[i + 1] !== ' ') this.writeIndent()
        else this.put(c)
        spaces = true
      } else {
        this.put(c)
        this.indention = false
        spaces = false
      }
    }
    this.whitespace = false
    this.indention = false
  }

  private writeSingle(chars: string[], allowBreaks: boolean): void {
    this.writeIndicator("'", true, false, false)
    let spaces = false
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < chars.length - 1 && chars[i + 1] !== ' ') {
          this.writeIndent()
        } else this.put(c)
        spaces = true
      } else {
        if (c === "'") this.put("'")
        this.put(c)
        this.indention = false
        spaces = false
      }
    }
    this.writeIndicator("'", false, false, false)
    this.whitespace = false
    this.indention = false
  }

  private writeDouble(chars: string[], allowBreaks: boolean): void {
    this.writeIndicator('"', true, false, false)
    let spaces = false
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]
      if (!isPrintable(c) || c === '\ufeff' || isBreak(c) || c === '"' || c === '\\') {
        this.put('\\')
        for (const e of escapeDouble(c)) this.put(e)
        spaces = false
      } else if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < chars.length - 1) {
          this.writeIndent()
          if (chars[i + 1] === ' ') this.put('\\')
        } else this.put(c)
        spaces = true
      } else {
        this.put(c)
        spaces = false
      }
    }
    this.writeIndicator('"', false, false, false)
    this.whitespace = false
    this.indention = false
  }

  private writeLiteral(chars: string[]): void {
    this.writeIndicator('|', true, false, false)
    if (chars[0] === ' ' || isBreak(chars[0])) this.writeIndicator(String(BEST_INDENT), false, false, false)
    const last = chars.length - 1
    let chomp = ''
    if (!isBreak(chars[last])) chomp = '-'
    else if (last === 0 || isBreak(chars[last - 1])) chomp = '+'
    if (chomp) this.writeIndicator(chomp, false, false, false)
    this.putBreak()
    this.indention = true
    this.whitespace = true
    let breaks = true
    for (const c of chars) {
      if (isBreak(c)) {
        if (c === '\n') this.putBreak()
        else {
          this.text += c
          this.column = 0
        }
        this.indention = true
        breaks = true
      } else {
        if (breaks) this.writeIndent()
        this.put(c)
        this.indention = false
        breaks = false
      }
    }
  }
}

/** libyaml's escape for a character in a double-quoted scalar (without the backslash). */
function escapeDouble(c: string): string {
  const named: Record<string, string> = {
    '\0': '0', '\x07': 'a', '\b': 'b', '\t': 't', '\n': 'n', '\v': 'v', '\f': 'f', '\r': 'r', '\x1b': 'e',
    '"': '"', '\\': '\\', '\u0085': 'N', '\u00a0': '_', '\u2028': 'L', '\u2029': 'P',
  }
  if (c in named) return named[c]
  const cp = c.codePointAt(0) ?? 0
  const hex = cp.toString(16).toUpperCase()
  if (cp <= 0xff) return `x${hex.padStart(2, '0')}`
  if (cp <= 0xffff) return `u${hex.padStart(4, '0')}`
  return `U${hex.padStart(8, '0')}`
}

/** sigs.k8s.io/yaml.Marshal of JSON-shaped data: one document, ending with a newline. */
export function marshalYAML(value: unknown): string {
  const e = new Emitter()
  e.emitNode(value, {root: true})
  e.writeIndent()
  return e.out
}
