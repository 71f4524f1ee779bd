// calicoctl's `-o yaml`: sigs.k8s.io/yaml, i.e. JSON re-read by go-yaml v2 and emitted by its
// libyaml port. Output must match byte for byte, so this follows go-yaml v2's emitter: mapping
// keys in its "natural" order, sequences not indented under a mapping key, empty collections in
// flow style, strings quoted only when they would read back as another type, plain scalars
// folded at spaces past column 80, multi-line strings as literal blocks.
//
// Input is plain JSON data (objects, arrays, strings, numbers, booleans, null); js-yaml is not used
// because its quoting, folding and key order differ from go-yaml's.
//
// Speed (a bulk `get -o yaml` runs this once over thousands of resources, cold): each mapping shape is sorted
// once and its simple keys are written as precomputed `key:` text; names, numbers and other scalars that need
// no analysis, quoting decision or folding are appended whole; only the rest goes through libyaml's
// character-by-character analysis and writers. Nothing is emitted in flow style except empty collections, so
// the flow-level state of libyaml is not kept. A list can also be written in parts as it is read
// (YAMLSequenceStream), so its items are formatted and written while the next page is fetched.

import {formatNumber} from './gofmt.js'

const BEST_INDENT = 2
const BEST_WIDTH = 80

type Style = 'plain' | 'single' | 'double' | 'literal'

/** What a scalar's characters allow (libyaml's yaml_emitter_analyze_scalar, block context only). */
interface Analysis {
  multiline: boolean
  blockPlainAllowed: boolean
  singleQuotedAllowed: boolean
  blockAllowed: boolean
}

/** A scalar's characters by code point: the string itself (indexing it is free) unless it holds surrogates. */
type Chars = ArrayLike<string>

const SURROGATE = /[\uD800-\uDFFF]/

function charsOf(s: string): Chars {
  return SURROGATE.test(s) ? [...s] : s
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

function analyzeScalar(chars: Chars): Analysis {
  const n = chars.length
  if (n === 0) return {multiline: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false}
  let blockIndicators = false
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

  if (n >= 3) {
    const head = chars[0] + chars[1] + chars[2]
    if (head === '---' || head === '...') blockIndicators = true
  }
  for (let i = 0; i < n; i++) {
    const c = chars[i]
    const followedByWhitespace = i + 1 >= n || isBlank(chars[i + 1])
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true
      else if ((c === '?' || c === ':' || c === '-') && followedByWhitespace) blockIndicators = true
    } else if (c === ':') {
      if (followedByWhitespace) blockIndicators = true
    } else if (c === '#' && precededByWhitespace) {
      blockIndicators = true
    }

    if (!isPrintable(c)) special = true
    if (c === ' ') {
      if (i === 0) leadingSpace = true
      if (i === n - 1) trailingSpace = true
      if (previousBreak) breakSpace = true
      previousSpace = true
      previousBreak = false
    } else if (isBreak(c)) {
      lineBreaks = true
      if (i === 0) leadingBreak = true
      if (i === n - 1) trailingBreak = true
      if (previousSpace) spaceBreak = true
      previousSpace = false
      previousBreak = true
    } else {
      previousSpace = false
      previousBreak = false
    }
    precededByWhitespace = isBlank(c) || isBreak(c)
  }

  const a: Analysis = {multiline: lineBreaks, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: true}
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak || lineBreaks || blockIndicators) {
    a.blockPlainAllowed = false
  }
  if (trailingSpace) a.blockAllowed = false
  if (breakSpace) {
    a.blockPlainAllowed = false
    a.singleQuotedAllowed = false
  }
  if (spaceBreak || special) {
    a.blockPlainAllowed = false
    a.singleQuotedAllowed = false
    a.blockAllowed = false
  }
  return a
}

// ---- go-yaml v2 resolve(): would this string read back as something other than a string? ----

const RESOLVE_MAP = new Set([
  'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON',
  'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF',
  '', '~', 'null', 'Null', 'NULL', '.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF',
  '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '<<',
])
/** First characters of RESOLVE_MAP's entries: only strings starting with one need the lookup. */
const MAY_RESOLVE = new Uint8Array(128)
for (const s of RESOLVE_MAP) MAY_RESOLVE[s.charCodeAt(0)] = 1
const GO_INT = /^[+-]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/
const TIMESTAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:([Tt])|( ))(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,]\d+)?(Z|[+-]\d{2}:\d{2})?)?$/

/** The formats go-yaml v2 tries with time.Parse, including Go's range checks. */
function isTimestamp(s: string): boolean {
  if (s.charCodeAt(4) !== 0x2d) return false // every form starts with a four-digit year and '-'
  const m = TIMESTAMP.exec(s)
  if (!m) return false
  // Groups: 1 year, 2 month, 3 day, 4 `T`, 5 space, 6-8 time, 9 zone (indexed: destructuring is slow when cold).
  const zone = m[9]
  if (m[4] && !zone) return false // the T forms require a zone
  if (m[5] && zone) return false // the space form has none
  const month = Number(m[2])
  const day = Number(m[3])
  if (month < 1 || month > 12 || day < 1) return false
  if (day > 28 && day > new Date(Date.UTC(Number(m[1]), month, 0)).getUTCDate()) return false
  if (m[6] !== undefined && (Number(m[6]) > 23 || Number(m[7]) > 59 || Number(m[8]) > 59)) return false
  return true
}

/**
 * Whether a string can be written plain: it would not read back as another type (go-yaml v2's resolve(), and
 * the base-60 floats yaml.v2 also quotes). Only strings starting with '.', a sign or a digit can look like
 * numbers, timestamps or base-60 floats; the rest need just the table lookup.
 */
function canUsePlain(s: string): boolean {
  if (s === '') return false // reads back as null
  const c = s.charCodeAt(0)
  if (MAY_RESOLVE[c] === 1 && RESOLVE_MAP.has(s)) return false
  if (c === 0x2e) return !(DOT_FLOAT.test(s) && Number.isFinite(Number(s)))
  if (c !== 0x2b && c !== 0x2d && !(c >= 0x30 && c <= 0x39)) return true
  if (isTimestamp(s)) return false
  const plain = s.includes('_') ? s.replace(/_/g, '') : s
  if (GO_INT.test(plain)) return false
  if (YAML_FLOAT.test(plain) && Number.isFinite(Number(plain))) return false
  return !BASE60_FLOAT.test(s)
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

/** Key orders by key sequence, a trie of the keys in object order: objects of one shape are sorted once. */
interface KeyTrie {
  next: Map<string, KeyTrie>
  order?: KeyOrder
}

/** A mapping's keys in go-yaml's order, with the text each simple key is written as (`key:`). */
interface KeyOrder {
  keys: string[]
  /** `<key>:` for keys written plain on their own (most), undefined for keys that need quoting or `? `. */
  heads: Array<string | undefined>
  /** The heads on a new line at `linesIndent` (a shape is mostly printed at one depth). */
  lines?: Array<string | undefined>
  linesIndent?: number
}

function keyOrder(keys: string[]): KeyOrder {
  const sorted = [...keys].sort((x, y) => (yamlKeyLess(x, y) ? -1 : yamlKeyLess(y, x) ? 1 : 0))
  // What emitString would do for a simple key: SIMPLE_PLAIN keys are ASCII and break-free, so simple unless long.
  const heads = sorted.map((k) => (k.length <= 128 && SIMPLE_PLAIN.test(k) && canUsePlain(k) ? `${k}:` : undefined))
  return {keys: sorted, heads}
}

// ---- the emitter ----

/**
 * Plain scalars whose analysis is trivial: ASCII, no space or ':' (so no folding, comment or mapping
 * indicator), and a first character that is not an indicator.
 */
const SIMPLE_PLAIN = /^[A-Za-z0-9_(/][\x21-\x39\x3b-\x7e]*$/
/** Printable ASCII: no line breaks and nothing libyaml calls special, so only indicators limit the style. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
/**
 * For printable ASCII, what makes libyaml refuse a block plain scalar (analyzeScalar's leading or trailing space
 * and block indicators): an indicator first, `? `, `: ` or `- ` first, a document marker first, `: ` or a final
 * `:`, or ` #`.
 */
const PLAIN_UNSAFE = /^[ #,[\]{}&*!|>'"%@`]|^[?:-](?: |$)|^---|^\.\.\.|: |:$| #| $/
/** Printable ASCII that a double-quoted scalar writes as is: everything but `"` and `\`. */
const DOUBLE_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/
const LINE_BREAK = /[\n\r\u0085\u2028\u2029]/

/**
 * Output is built as a rope (`+=`) and flattened every CHUNK characters: the rope's cells then die young instead
 * of all surviving to the end (formatting 5,000 policies in-process: ~20% less CPU; 8 KiB measured best of 4 KiB
 * to 256 KiB).
 */
const CHUNK = 8192
const SPACES: string[] = []
const NEW_LINES: string[] = []

function spaces(n: number): string {
  return (SPACES[n] ??= ' '.repeat(n))
}

/** A line break followed by n spaces of indentation. */
function newLine(n: number): string {
  return (NEW_LINES[n] ??= `\n${spaces(n)}`)
}

const DASH_LINES: string[] = []

/** A new line at indentation n holding a sequence entry's `-`. */
function dashLine(n: number): string {
  return (DASH_LINES[n] ??= `${newLine(n)}-`)
}

/** Where a streamed document's writing stands (Emitter.openStreamed). */
interface StreamedMapping {
  doc: Record<string, unknown>
  order: KeyOrder
  /** The streamed key's index in order.keys. */
  at: number
  mappingIndent: number
  sequenceIndent: number
  empty: boolean
}

class Emitter {
  /** The current chunk, grown with += (which V8 does without copying); earlier chunks are in `chunks`. */
  private text = ''
  private readonly chunks: string[] = []
  private readonly keyOrders: KeyTrie = {next: new Map()}
  private column = 0
  private indent = -1
  private whitespace = true
  private indention = true

  /** The document so far, ended as go-yaml ends it. */
  finish(): string {
    this.writeIndent()
    this.chunks.push(this.text)
    return this.chunks.join('')
  }

  private put(s: string): void {
    this.text += s
    this.column++
  }

  private putBreak(): void {
    this.text += '\n'
    this.column = 0
  }

  /** Appends text that cannot fold or need escaping; `width` is its length in characters. */
  private putRun(s: string, width: number): void {
    this.text += s
    this.column += width
  }

  /** Writes a one-character indicator (all of libyaml's that this emitter uses are). */
  private writeIndicator(ind: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ')
    this.put(ind)
    this.whitespace = isWhitespace
    this.indention = this.indention && isIndention
  }

  private flushChunk(): void {
    if (this.text.length >= CHUNK) {
      this.text.charCodeAt(0) // flattens the rope (V8 does so on character access), freeing its cells while young
      this.chunks.push(this.text)
      this.text = ''
    }
  }

  /** Whether writeIndent would start a new line. */
  private atLineEnd(indent: number): boolean {
    return !this.indention || this.column > indent || (this.column === indent && !this.whitespace)
  }

  private writeIndent(): void {
    this.flushChunk()
    const indent = Math.max(this.indent, 0)
    if (this.atLineEnd(indent)) {
      this.text += newLine(indent)
      this.column = indent
    } else if (this.column < indent) {
      this.text += spaces(indent - this.column)
      this.column = indent
    }
    this.whitespace = true
    this.indention = true
  }

  /** A scalar with nothing to analyse (a number, a boolean, null, a name) after the separating space. */
  private writeWord(word: string): void {
    if (this.whitespace) this.putRun(word, word.length)
    else this.putRun(` ${word}`, word.length + 1)
    this.whitespace = false
    this.indention = false
  }

  /** libyaml's increase_indent, as a value: callers set it and restore the outer indent when the node ends. */
  private nestedIndent(flow: boolean, indentless: boolean): number {
    if (this.indent < 0) return flow ? BEST_INDENT : 0
    return indentless ? this.indent : this.indent + BEST_INDENT
  }

  /** `inMapping`: the node is a mapping's value (a block sequence there is not indented). */
  emitNode(value: unknown, inMapping: boolean): void {
    if (typeof value === 'string') this.emitString(value, false)
    else if (typeof value === 'number') {
      // JSON integers re-read as ints; everything else as float64, printed with 'g'. Never needs quoting or folding.
      this.writeWord(Number.isFinite(value) ? formatNumber(value) : value > 0 ? '.inf' : value < 0 ? '-.inf' : '.nan')
    } else if (value === null || value === undefined) this.writeWord('null')
    else if (typeof value === 'boolean') this.writeWord(value ? 'true' : 'false')
    else if (Array.isArray(value)) {
      if (value.length === 0) this.emitEmptyFlow('[]')
      else this.emitBlockSequence(value, inMapping)
    } else if (typeof value === 'object') this.emitBlockMapping(value as Record<string, unknown>)
    else this.emitString(String(value), false)
  }

  /** The keys with a value, in go-yaml's order. */
  private keyOrder(obj: Record<string, unknown>): KeyOrder {
    let node = this.keyOrders
    // for-in over these plain data objects visits exactly Object.keys(), without allocating the array.
    for (const k in obj) {
      if (obj[k] === undefined) continue
      let child = node.next.get(k)
      if (child === undefined) node.next.set(k, (child = {next: new Map()}))
      node = child
    }
    return (node.order ??= keyOrder(Object.keys(obj).filter((k) => obj[k] !== undefined)))
  }

  /** Only empty collections are ever emitted in flow style (go-yaml picks it for them). */
  private emitEmptyFlow(brackets: '[]' | '{}'): void {
    this.writeWord(brackets)
  }

  private emitBlockSequence(items: unknown[], inMapping: boolean): void {
    const outer = this.indent
    this.indent = this.nestedIndent(false, inMapping && !this.indention)
    const indent = this.indent
    for (const item of items) {
      if (this.atLineEnd(indent)) {
        // writeIndent and the `-` in one piece
        this.flushChunk()
        this.text += dashLine(indent)
        this.column = indent + 1
        this.indention = true
      } else {
        this.writeIndent()
        this.putRun('-', 1)
      }
      this.whitespace = false
      this.emitNode(item, false)
    }
    this.indent = outer
  }

  /** One `- item` of the block sequence at this.indent, for the streamed document (inline in emitBlockSequence, as emitKey). */
  private emitSequenceEntry(item: unknown): void {
    this.writeIndent()
    this.putRun('-', 1)
    this.whitespace = false
    this.emitNode(item, false)
  }

  private emitBlockMapping(obj: Record<string, unknown>): void {
    const order = this.keyOrder(obj)
    const {keys, heads} = order
    if (keys.length === 0) {
      this.emitEmptyFlow('{}')
      return
    }
    const outer = this.indent
    const indent = (this.indent = this.nestedIndent(false, false))
    if (order.linesIndent !== indent) {
      order.lines = heads.map((h) => (h === undefined ? undefined : newLine(indent) + h))
      order.linesIndent = indent
    }
    const lines = order.lines as Array<string | undefined>
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      const head = heads[i]
      const line = lines[i]
      if (line !== undefined && head !== undefined && this.atLineEnd(indent)) {
        // writeIndent and the key in one piece
        this.flushChunk()
        this.text += line
        this.column = indent + head.length
        this.whitespace = false
        this.indention = false
        this.emitNode(obj[key], true)
        continue
      }
      this.writeIndent()
      if (head !== undefined) {
        this.putRun(head, head.length)
        this.whitespace = false
        this.indention = false
      } else if (!LINE_BREAK.test(key) && Buffer.byteLength(key) <= 128) {
        this.emitString(key, true)
        this.writeIndicator(':', false, false, false)
      } else {
        this.writeIndicator('?', true, false, true)
        this.emitString(key, false)
        this.writeIndent()
        this.writeIndicator(':', true, false, true)
      }
      this.emitNode(obj[key], true)
    }
    this.indent = outer
  }

  /**
   * The i-th key of a mapping at this.indent, up to where its value starts, for the streamed document. The same
   * steps are inline in emitBlockMapping: calling this there, even only for unusual keys, made a bulk get's YAML
   * 7-12% slower (V8 then compiles the hottest loop less well).
   */
  private emitKey(order: KeyOrder, i: number): void {
    const key = order.keys[i]
    const head = order.heads[i]
    this.writeIndent()
    if (head !== undefined) {
      this.putRun(head, head.length)
      this.whitespace = false
      this.indention = false
    } else if (!LINE_BREAK.test(key) && Buffer.byteLength(key) <= 128) {
      this.emitString(key, true)
      this.writeIndicator(':', false, false, false)
    } else {
      this.writeIndicator('?', true, false, true)
      this.emitString(key, false)
      this.writeIndent()
      this.writeIndicator(':', true, false, true)
    }
  }

  /**
   * Starts a top-level mapping whose `key` holds a sequence given later in parts (streamSequence): writes the
   * entries before `key`, and `key` itself. The rest of the mapping is written by closeStreamed.
   */
  openStreamed(doc: Record<string, unknown>, key: string): StreamedMapping {
    const order = this.keyOrder(doc)
    const at = order.keys.indexOf(key)
    if (at < 0) throw new Error(`internal error: streamed key ${key} is not in the document`)
    this.indent = this.nestedIndent(false, false)
    for (let i = 0; i < at; i++) {
      this.emitKey(order, i)
      this.emitNode(doc[order.keys[i]], true)
    }
    this.emitKey(order, at)
    // What emitBlockSequence would indent the sequence by, decided where it starts: right after its key.
    return {doc, order, at, mappingIndent: this.indent, sequenceIndent: this.nestedIndent(false, !this.indention), empty: true}
  }

  /** The next entries of the streamed sequence. */
  streamSequence(m: StreamedMapping, items: readonly unknown[]): void {
    if (items.length === 0) return
    m.empty = false
    this.indent = m.sequenceIndent
    for (const item of items) this.emitSequenceEntry(item)
    this.indent = m.mappingIndent
  }

  /** Ends the streamed sequence (`[]` if it had no entries) and writes the mapping's entries after it. */
  closeStreamed(m: StreamedMapping): void {
    if (m.empty) this.emitEmptyFlow('[]')
    for (let i = m.at + 1; i < m.order.keys.length; i++) {
      this.emitKey(m.order, i)
      this.emitNode(m.doc[m.order.keys[i]], true)
    }
    this.indent = -1
  }

  /** The text written since the last take (the emitter's state is unchanged: writing continues where it was). */
  take(): string {
    this.chunks.push(this.text)
    this.text = ''
    const text = this.chunks.join('')
    this.chunks.length = 0
    return text
  }

  private emitString(text: string, simpleKey: boolean): void {
    if (SIMPLE_PLAIN.test(text)) {
      // The common case (names, CIDRs, versions): no analysis, no folding; quoted only if it would read as
      // another type, and then with nothing to escape unless it holds `"` or `\`.
      if (canUsePlain(text)) {
        this.writeWord(text)
        return
      }
      if (DOUBLE_SAFE.test(text)) {
        this.writeWord(`"${text}"`)
        return
      }
    }
    if (PRINTABLE_ASCII.test(text)) {
      // What analyzeScalar would find, without its walk: plain unless an indicator forbids it, then single quotes.
      const allowBreaks = !simpleKey
      const outer = this.indent
      this.indent = this.nestedIndent(true, false)
      if (!canUsePlain(text)) this.writeDouble(text, text, allowBreaks)
      else if (PLAIN_UNSAFE.test(text)) this.writeSingle(text, text, allowBreaks)
      else this.writePlain(text, text, allowBreaks)
      this.indent = outer
      return
    }
    let style: Style = text.includes('\n') ? 'literal' : canUsePlain(text) ? 'plain' : 'double'
    const chars = charsOf(text)
    const a = analyzeScalar(chars)
    if (simpleKey && a.multiline) style = 'double'
    if (style === 'plain' && (!a.blockPlainAllowed || (chars.length === 0 && simpleKey))) style = 'single'
    if (style === 'single' && !a.singleQuotedAllowed) style = 'double'
    if (style === 'literal' && (!a.blockAllowed || simpleKey)) style = 'double'

    const outer = this.indent
    this.indent = this.nestedIndent(true, false)
    const allowBreaks = !simpleKey
    if (style === 'plain') this.writePlain(text, chars, allowBreaks)
    else if (style === 'single') this.writeSingle(text, chars, allowBreaks)
    else if (style === 'double') this.writeDouble(text, chars, allowBreaks)
    else this.writeLiteral(chars)
    this.indent = outer
  }

  /**
   * Folding happens only at a space reached past BEST_WIDTH, impossible if the scalar (starting at the current
   * column) ends first.
   */
  private cannotFold(chars: Chars, allowBreaks: boolean): boolean {
    return !allowBreaks || this.column + chars.length <= BEST_WIDTH + 1
  }

  private writePlain(text: string, chars: Chars, allowBreaks: boolean): void {
    if (!this.whitespace) this.put(' ')
    if (this.cannotFold(chars, allowBreaks)) {
      this.putRun(text, chars.length)
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

  private writeSingle(text: string, chars: Chars, allowBreaks: boolean): void {
    this.writeIndicator("'", true, false, false)
    if (!text.includes("'") && this.cannotFold(chars, allowBreaks)) this.putRun(text, chars.length)
    else {
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
    }
    this.writeIndicator("'", false, false, false)
    this.whitespace = false
    this.indention = false
  }

  private writeDouble(text: string, chars: Chars, allowBreaks: boolean): void {
    this.writeIndicator('"', true, false, false)
    if (DOUBLE_SAFE.test(text) && this.cannotFold(chars, allowBreaks)) this.putRun(text, chars.length)
    else {
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
    }
    this.writeIndicator('"', false, false, false)
    this.whitespace = false
    this.indention = false
  }

  private writeLiteral(chars: Chars): void {
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
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]
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

/**
 * marshalYAML of a mapping one of whose members is a sequence given in parts, written as it comes: the text is
 * taken after each part, and all of it is what marshalYAML of the whole mapping returns.
 */
export class YAMLSequenceStream {
  private readonly e = new Emitter()
  private readonly m: StreamedMapping

  /** `doc[key]` is ignored: the sequence's items come from items(). */
  constructor(doc: Record<string, unknown>, key: string) {
    this.m = this.e.openStreamed(doc, key)
  }

  /** Adds items; returns the text completed so far. */
  items(values: readonly unknown[]): string {
    this.e.streamSequence(this.m, values)
    return this.e.take()
  }

  /** The rest of the document. */
  end(): string {
    this.e.closeStreamed(this.m)
    return this.e.finish()
  }
}

/** sigs.k8s.io/yaml.Marshal of JSON-shaped data: one document, ending with a newline. */
export function marshalYAML(value: unknown): string {
  const e = new Emitter()
  e.emitNode(value, false)
  return e.finish()
}
