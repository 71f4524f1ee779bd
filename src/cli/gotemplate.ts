// A subset of Go's text/template, enough for `calicoctl get -o go-template=...` scripts.
//
// Supported:
//   text and actions `{{pipeline}}`, comments `{{/* ... */}}`, trim markers `{{- ` and ` -}}`
//   fields `.A.B`, `$`, `$x.A`, `(pipeline).A`; literals: "strings", `raw`, 'c', numbers, true, false, nil
//   pipelines `a | f b` (the previous value becomes the last argument)
//   `{{if p}}...{{else if p}}...{{else}}...{{end}}`, `{{with p}}...{{else with p}}...{{else}}...{{end}}`
//   `{{range p}}...{{else}}...{{end}}`, `{{range $i, $e := p}}`, `{{break}}`, `{{continue}}`
//   variables `{{$x := p}}` and `{{$x = p}}`, scoped to the enclosing control structure
//   functions: and, or (short-circuit), not, len, index, slice, print, printf, println,
//   eq, ne, lt, le, gt, ge, plus any caller-supplied ones (calicoctl adds join, joinAndTruncate, config, and
//   yamltemplate.ts adds safetext's StructuralData).
// Not supported: define/template/block, method calls, range over channels, complex numbers.
//
// Data is plain JS keyed by Go field names (src/api toGoView: zero values filled in, nil pointers
// as null). A missing key prints `<no value>` as on a Go map, null prints `<nil>`, and objects are
// truthy like Go structs. Numbers print as integers when integral (Go types are not known).
// Errors carry the template name, line and column as Go's do: `template: get:1:9: ...`.
//
// execute() can also run the template as google/safetext's yamltemplate runs its rewritten copy (see
// src/cli/yamltemplate.ts): every value an output action prints is first deep-copied with its strings mapped.

import {GoFloat, formatNumber, goSprint} from './output/gofmt.js'

export class TemplateError extends Error {}

export type TemplateFunc = (...args: unknown[]) => unknown

// ---------- lexing ----------

type TokKind =
  | 'field' | 'var' | 'dot' | 'ident' | 'string' | 'number' | 'char' | 'bool' | 'nil'
  | 'lparen' | 'rparen' | 'pipe' | 'comma' | 'declare' | 'assign'

interface Tok {
  kind: TokKind
  text: string
  value?: unknown
  pos: number
  /** Offset just past the token in the template source. */
  end: number
  /** Whether whitespace precedes the token (`$x.A` chains, `$x .A` does not). */
  spaced: boolean
}

interface Segment {
  kind: 'text' | 'action'
  text: string
  pos: number
}

const SPACE = /[ \t\r\n]/

function splitSegments(src: string, err: (pos: number, msg: string) => never): Segment[] {
  const segs: Segment[] = []
  let i = 0
  let trimNext = false
  while (i < src.length) {
    const open = src.indexOf('{{', i)
    let text = src.slice(i, open < 0 ? src.length : open)
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '')
    trimNext = false
    if (open < 0) {
      if (text) segs.push({kind: 'text', text, pos: i})
      break
    }
    let start = open + 2
    // `{{- ` trims: the dash must be followed by a space, else it is a negative number.
    if (src[start] === '-' && SPACE.test(src[start + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '')
      start += 2
    }
    if (text) segs.push({kind: 'text', text, pos: i})
    const close = findClose(src, start)
    if (close < 0) err(open, 'unclosed action')
    let end = close
    if (src[close - 1] === '-' && SPACE.test(src[close - 2] ?? '') && close - 2 >= start) {
      trimNext = true
      end = close - 2
    }
    segs.push({kind: 'action', text: src.slice(start, end), pos: start})
    i = close + 2
  }
  return segs
}

/** Finds the `}}` closing an action, skipping quoted strings and comments. */
function findClose(src: string, from: number): number {
  let i = from
  while (i < src.length) {
    const c = src[i]
    if (src.startsWith('/*', i)) {
      const e = src.indexOf('*/', i + 2)
      if (e < 0) return -1
      i = e + 2
    } else if (c === '"' || c === "'") {
      i++
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1
      i++
    } else if (c === '`') {
      const e = src.indexOf('`', i + 1)
      if (e < 0) return -1
      i = e + 1
    } else if (src.startsWith('}}', i)) {
      return i
    } else i++
  }
  return -1
}

const GO_ESCAPES: Record<string, string> = {a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"'}

function unquote(body: string, pos: number, err: (pos: number, msg: string) => never): string {
  let out = ''
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c !== '\\') {
      out += c
      continue
    }
    const n = body[++i]
    if (n in GO_ESCAPES) out += GO_ESCAPES[n]
    else if (n === 'x' || n === 'u' || n === 'U') {
      const len = n === 'x' ? 2 : n === 'u' ? 4 : 8
      const hex = body.slice(i + 1, i + 1 + len)
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) err(pos, `invalid syntax in quoted string`)
      out += String.fromCodePoint(parseInt(hex, 16))
      i += len
    } else if (n !== undefined && /[0-7]/.test(n)) {
      const oct = body.slice(i, i + 3)
      if (!/^[0-7]{3}$/.test(oct)) err(pos, 'invalid syntax in quoted string')
      out += String.fromCharCode(parseInt(oct, 8))
      i += 2
    } else err(pos, 'invalid syntax in quoted string')
  }
  return out
}

const NUMBER = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)/

function tokenize(seg: Segment, err: (pos: number, msg: string) => never): Tok[] {
  const s = seg.text
  const toks: Tok[] = []
  let i = 0
  let spaced = true
  const push = (kind: TokKind, text: string, start: number, value?: unknown, len = text.length): void => {
    toks.push({kind, text, value, pos: seg.pos + start, end: seg.pos + start + len, spaced})
    spaced = false
  }
  while (i < s.length) {
    const c = s[i]
    const start = i
    if (SPACE.test(c)) {
      i++
      spaced = true
      continue
    }
    if (s.startsWith('/*', i)) {
      const e = s.indexOf('*/', i + 2)
      if (e < 0) err(seg.pos + i, 'unclosed comment')
      i = e + 2
      spaced = true
      continue
    }
    if (c === '(') { push('lparen', c, i); i++; continue }
    if (c === ')') { push('rparen', c, i); i++; continue }
    if (c === '|') { push('pipe', c, i); i++; continue }
    if (c === ',') { push('comma', c, i); i++; continue }
    if (s.startsWith(':=', i)) { push('declare', ':=', i); i += 2; continue }
    if (c === '=') { push('assign', c, i); i++; continue }
    if (c === '"') {
      let j = i + 1
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\n') err(seg.pos + i, 'unterminated quoted string')
        j += s[j] === '\\' ? 2 : 1
      }
      if (j >= s.length) err(seg.pos + i, 'unterminated quoted string')
      push('string', s.slice(i, j + 1), start, unquote(s.slice(i + 1, j), seg.pos + i, err))
      i = j + 1
      continue
    }
    if (c === '`') {
      const j = s.indexOf('`', i + 1)
      if (j < 0) err(seg.pos + i, 'unterminated raw quoted string')
      push('string', s.slice(i, j + 1), start, s.slice(i + 1, j))
      i = j + 1
      continue
    }
    if (c === "'") {
      let j = i + 1
      while (j < s.length && s[j] !== "'") j += s[j] === '\\' ? 2 : 1
      if (j >= s.length) err(seg.pos + i, 'unterminated character constant')
      const ch = unquote(s.slice(i + 1, j), seg.pos + i, err)
      if ([...ch].length !== 1) err(seg.pos + i, `malformed character constant: ${s.slice(i, j + 1)}`)
      push('char', s.slice(i, j + 1), start, ch.codePointAt(0))
      i = j + 1
      continue
    }
    if (c === '$') {
      const m = /^\$[\p{L}_0-9]*/u.exec(s.slice(i))
      const name = m ? m[0] : '$'
      push('var', name, start)
      i += name.length
      continue
    }
    if (c === '.') {
      const m = /^\.[\p{L}_][\p{L}_0-9]*/u.exec(s.slice(i))
      if (m) {
        push('field', m[0].slice(1), start, undefined, m[0].length)
        i += m[0].length
        continue
      }
      if (!/[0-9]/.test(s[i + 1] ?? '')) {
        push('dot', '.', start)
        i++
        continue
      }
    }
    if (/[0-9.+-]/.test(c)) {
      const m = NUMBER.exec(s.slice(i))
      const text = m ? m[0] : ''
      if (!text || !/[0-9]/.test(text)) err(seg.pos + i, `bad number syntax: ${JSON.stringify(s.slice(i, i + 10))}`)
      const after = s[i + text.length]
      if (after !== undefined && /[\p{L}_0-9.]/u.test(after)) err(seg.pos + i, `bad number syntax: "${s.slice(i).split(/[ )|]/)[0]}"`)
      push('number', text, start, parseNumber(text))
      i += text.length
      continue
    }
    const m = /^[\p{L}_][\p{L}_0-9]*/u.exec(s.slice(i))
    if (m) {
      const w = m[0]
      if (w === 'true' || w === 'false') push('bool', w, start, w === 'true')
      else if (w === 'nil') push('nil', w, start, null)
      else push('ident', w, start)
      i += w.length
      continue
    }
    err(seg.pos + i, `unexpected ${JSON.stringify(c)} in command`)
  }
  return toks
}

function parseNumber(text: string): number | GoFloat {
  const t = text.replace(/_/g, '')
  const neg = t.startsWith('-')
  const body = t.replace(/^[+-]/, '')
  let n: number
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16)
  else if (/^0[bB]/.test(body)) n = parseInt(body.slice(2), 2)
  else if (/^0[oO]/.test(body)) n = parseInt(body.slice(2), 8)
  else if (/^0[0-7]+$/.test(body)) n = parseInt(body, 8)
  else n = Number(body)
  if (neg) n = -n
  // A constant written as a float stays a float64 in Go, e.g. `{{1e6}}` prints 1e+06.
  return /[.eE]/.test(body) && !/^0[xX]/.test(body) ? new GoFloat(n) : n
}

// ---------- parsing ----------

type Arg =
  | {kind: 'dot'; pos: number}
  | {kind: 'field'; base: Arg | null; chain: string[]; pos: number}
  | {kind: 'var'; name: string; chain: string[]; pos: number}
  | {kind: 'ident'; name: string; pos: number}
  | {kind: 'literal'; value: unknown; pos: number}
  | {kind: 'pipe'; pipe: Pipe; chain: string[]; pos: number}

interface Command {
  args: Arg[]
  pos: number
  text: string
}

interface Pipe {
  decl: string[]
  assign: boolean
  cmds: Command[]
  pos: number
}

type Node =
  | {kind: 'text'; text: string}
  | {kind: 'action'; pipe: Pipe}
  | {kind: 'if' | 'with'; pipe: Pipe; list: Node[]; elseList: Node[] | null}
  | {kind: 'range'; pipe: Pipe; list: Node[]; elseList: Node[] | null}
  | {kind: 'break' | 'continue'; pos: number}

class Parser {
  private segs: Segment[]
  private i = 0
  private loopDepth = 0

  constructor(private readonly src: string, private readonly name: string, private readonly funcs: ReadonlySet<string>) {
    this.segs = splitSegments(src, (p, m) => this.fail(p, m))
  }

  fail(pos: number, msg: string): never {
    const {line, col} = position(this.src, pos)
    throw new TemplateError(`template: ${this.name}:${line}:${col}: ${msg}`)
  }

  parse(): Node[] {
    const {list, end} = this.parseList()
    if (end) this.fail(end.pos, `unexpected {{${end.word}}}`)
    return list
  }

  /** Parses nodes up to an `{{end}}` or `{{else ...}}`, which it returns unconsumed-by-caller. */
  private parseList(): {list: Node[]; end: {word: 'end' | 'else'; toks: Tok[]; pos: number} | null} {
    const list: Node[] = []
    while (this.i < this.segs.length) {
      const seg = this.segs[this.i++]
      if (seg.kind === 'text') {
        list.push({kind: 'text', text: seg.text})
        continue
      }
      const toks = tokenize(seg, (p, m) => this.fail(p, m))
      if (toks.length === 0) {
        if (seg.text.trim() === '' && !seg.text.includes('/*')) this.fail(seg.pos, 'missing value for command')
        continue // a comment
      }
      const head = toks[0]
      if (head.kind === 'ident') {
        switch (head.text) {
          case 'end':
            if (toks.length > 1) this.fail(toks[1].pos, `unexpected ${toks[1].text} in end`)
            return {list, end: {word: 'end', toks, pos: head.pos}}
          case 'else':
            return {list, end: {word: 'else', toks: toks.slice(1), pos: head.pos}}
          case 'if':
          case 'with':
            list.push(this.parseControl(head.text, toks.slice(1), head.pos))
            continue
          case 'range':
            list.push(this.parseControl('range', toks.slice(1), head.pos))
            continue
          case 'break':
          case 'continue':
            if (this.loopDepth === 0) this.fail(head.pos, `{{${head.text}}} outside {{range}}`)
            if (toks.length > 1) this.fail(toks[1].pos, `unexpected ${toks[1].text} in ${head.text}`)
            list.push({kind: head.text, pos: head.pos})
            continue
          case 'define':
          case 'template':
          case 'block':
            this.fail(head.pos, `{{${head.text}}} is not supported`)
        }
      }
      list.push({kind: 'action', pipe: this.parsePipe(toks, seg.pos, false)})
    }
    return {list, end: null}
  }

  private parseControl(kind: 'if' | 'with' | 'range', toks: Tok[], pos: number): Node {
    if (toks.length === 0) this.fail(pos, `missing value for ${kind}`)
    const pipe = this.parsePipe(toks, pos, kind === 'range')
    // break/continue belong to the range body only, not to its else branch (as in Go).
    if (kind === 'range') this.loopDepth++
    const body = this.parseList()
    if (kind === 'range') this.loopDepth--
    if (!body.end) this.fail(pos, `unexpected EOF: {{${kind}}} has no {{end}}`)
    let elseList: Node[] | null = null
    if (body.end.word === 'else') {
      const rest = body.end.toks
      if (rest.length > 0 && rest[0].kind === 'ident' && (rest[0].text === 'if' || rest[0].text === 'with') && kind !== 'range') {
        // `{{else if p}}` is an if nested in the else branch, sharing the outer {{end}}.
        if (rest[0].text !== kind) this.fail(rest[0].pos, `unexpected {{else ${rest[0].text}}} in {{${kind}}}`)
        elseList = [this.parseControl(kind, rest.slice(1), rest[0].pos)]
      } else {
        if (rest.length > 0) this.fail(rest[0].pos, `unexpected ${rest[0].text} in else`)
        const tail = this.parseList()
        if (!tail.end || tail.end.word !== 'end') this.fail(body.end.pos, `expected end; found ${tail.end ? '{{else}}' : 'EOF'}`)
        elseList = tail.list
      }
    }
    return {kind, pipe, list: body.list, elseList} as Node
  }

  private parsePipe(toks: Tok[], pos: number, isRange: boolean): Pipe {
    let k = 0
    const decl: string[] = []
    let assign = false
    // Declarations: `$x :=`, `$x =`, or in range `$i, $e :=`.
    const declEnd = toks.findIndex((t) => t.kind === 'declare' || t.kind === 'assign')
    if (declEnd > 0 && toks.slice(0, declEnd).every((t) => t.kind === 'var' || t.kind === 'comma')) {
      const vars = toks.slice(0, declEnd).filter((t) => t.kind === 'var')
      const commas = declEnd - vars.length
      if (vars.length > (isRange ? 2 : 1) || commas !== vars.length - 1) this.fail(toks[0].pos, 'too many declarations')
      decl.push(...vars.map((v) => v.text))
      assign = toks[declEnd].kind === 'assign'
      k = declEnd + 1
    }
    const cmds: Command[] = []
    while (k < toks.length) {
      const start = k
      const args: Arg[] = []
      while (k < toks.length && toks[k].kind !== 'pipe') {
        const {arg, next} = this.parseOperand(toks, k)
        args.push(arg)
        k = next
      }
      if (args.length === 0) this.fail(toks[Math.min(k, toks.length - 1)].pos, 'missing value for command')
      cmds.push({args, pos: toks[start].pos, text: this.src.slice(toks[start].pos, toks[k - 1].end)})
      if (k < toks.length) {
        k++ // the pipe
        if (k >= toks.length) this.fail(toks[k - 1].pos, 'missing command after |')
      }
    }
    if (cmds.length === 0) this.fail(pos, 'missing value for command')
    return {decl, assign, cmds, pos}
  }

  private parseOperand(toks: Tok[], k: number): {arg: Arg; next: number} {
    const t = toks[k]
    let arg: Arg
    let next = k + 1
    switch (t.kind) {
      case 'dot': arg = {kind: 'dot', pos: t.pos}; break
      case 'field': arg = {kind: 'field', base: null, chain: [t.text], pos: t.pos}; break
      case 'var': arg = {kind: 'var', name: t.text, chain: [], pos: t.pos}; break
      case 'ident':
        if (!this.funcs.has(t.text)) this.fail(t.pos, `function "${t.text}" not defined`)
        arg = {kind: 'ident', name: t.text, pos: t.pos}
        break
      case 'string': case 'number': case 'char': case 'bool': case 'nil':
        arg = {kind: 'literal', value: t.value, pos: t.pos}
        break
      case 'lparen': {
        let depth = 1
        let j = k + 1
        for (; j < toks.length && depth > 0; j++) {
          if (toks[j].kind === 'lparen') depth++
          else if (toks[j].kind === 'rparen') depth--
        }
        if (depth > 0) this.fail(t.pos, 'unclosed left paren')
        const inner = toks.slice(k + 1, j - 1)
        if (inner.length === 0) this.fail(t.pos, 'missing value for parenthesized pipeline')
        arg = {kind: 'pipe', pipe: this.parsePipe(inner, t.pos, false), chain: [], pos: t.pos}
        next = j
        break
      }
      default:
        this.fail(t.pos, `unexpected ${JSON.stringify(t.text)} in operand`)
    }
    // Field chains bind without whitespace: `$x.A.B`, `(p).A`.
    while (next < toks.length && toks[next].kind === 'field' && !toks[next].spaced) {
      if (arg.kind === 'field' || arg.kind === 'var' || arg.kind === 'pipe') arg.chain.push(toks[next].text)
      else if (arg.kind === 'dot') arg = {kind: 'field', base: null, chain: [toks[next].text], pos: arg.pos}
      else this.fail(toks[next].pos, `unexpected . after term ${JSON.stringify(t.text)}`)
      next++
    }
    return {arg, next}
  }
}

function position(src: string, pos: number): {line: number; col: number} {
  const before = src.slice(0, pos)
  const line = before.split('\n').length
  const col = pos - (before.lastIndexOf('\n') + 1)
  return {line, col}
}

// ---------- execution ----------

class BreakSignal {}
class ContinueSignal {}

/** Go's truth(): zero values are false; objects count as (always-true) structs. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false
  if (v instanceof GoFloat) return v.value !== 0
  if (Array.isArray(v)) return v.length > 0
  return true
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v
  if (v instanceof GoFloat) return v.value
  return undefined
}

function typeName(v: unknown): string {
  if (v === undefined || v === null) return 'nil'
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64'
  if (v instanceof GoFloat) return 'float64'
  if (typeof v === 'string') return 'string'
  if (typeof v === 'boolean') return 'bool'
  if (Array.isArray(v)) return '[]interface {}'
  return 'map[string]interface {}'
}

/** A missing map key prints `<no value>`; a nil pointer (null in the view) prints `<nil>`. */
function printValue(v: unknown): string {
  return v === undefined ? '<no value>' : goSprint(v)
}

interface Scope {
  vars: Array<[string, unknown]>
}

/**
 * The function whose arguments safetext leaves as they are (it is the identity): a template marks with it data that
 * is meant to shape the output, e.g. `{{StructuralData .Spec.Snippet}}`.
 */
export const STRUCTURAL_DATA = 'StructuralData'

/** safetext's DeepCopyMutateStrings: a deep copy of a view value with every string replaced by `f(string)`. */
export function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v)
  if (Array.isArray(v)) return v.map((e) => mapStrings(e, f))
  // Map keys and struct field names are not data (text/template cannot change them): only values are mapped.
  if (v !== null && typeof v === 'object' && !(v instanceof GoFloat)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)]))
  }
  return v
}

class Exec {
  out = ''

  constructor(
    private readonly src: string,
    private readonly name: string,
    private readonly funcs: Record<string, TemplateFunc>,
    /** When set, operands of output actions are passed through mapStrings with it (safetext's walked template). */
    private readonly paste?: (s: string) => string,
  ) {}

  fail(pos: number, at: string, msg: string): never {
    const {line, col} = position(this.src, pos)
    throw new TemplateError(`template: ${this.name}:${line}:${col}: executing "${this.name}" at <${at}>: ${msg}`)
  }

  walk(nodes: Node[], dot: unknown, scope: Scope): void {
    for (const n of nodes) {
      switch (n.kind) {
        case 'text':
          this.out += n.text
          break
        case 'action': {
          // Only output actions are rewritten; declarations and assignments keep the data as it is.
          const v = this.evalPipe(n.pipe, dot, scope, n.pipe.decl.length === 0)
          if (n.pipe.decl.length === 0) this.out += printValue(v)
          break
        }
        case 'if':
        case 'with': {
          const mark = scope.vars.length
          const v = this.evalPipe(n.pipe, dot, scope)
          if (truth(v)) this.walk(n.list, n.kind === 'with' ? v : dot, scope)
          else if (n.elseList) this.walk(n.elseList, dot, scope)
          scope.vars.length = mark
          break
        }
        case 'range':
          this.walkRange(n, dot, scope)
          break
        case 'break':
          throw new BreakSignal()
        case 'continue':
          throw new ContinueSignal()
      }
    }
  }

  private walkRange(n: Extract<Node, {kind: 'range'}>, dot: unknown, scope: Scope): void {
    const mark = scope.vars.length
    const pipe = {...n.pipe, decl: []}
    const v = this.evalPipe(pipe, dot, scope)
    let entries: Array<[unknown, unknown]>
    if (v === undefined || v === null) entries = []
    else if (Array.isArray(v)) entries = v.map((e, i) => [i, e])
    else if (typeof v === 'number' && Number.isInteger(v)) entries = Array.from({length: Math.max(0, v)}, (_, i) => [i, i])
    else if (typeof v === 'object' && !(v instanceof GoFloat)) {
      const o = v as Record<string, unknown>
      entries = Object.keys(o).sort().map((k) => [k, o[k]])
    } else this.fail(n.pipe.pos, n.pipe.cmds[0].text, `range can't iterate over ${printValue(v)}`)
    if (entries.length === 0) {
      if (n.elseList) this.walk(n.elseList, dot, scope)
      scope.vars.length = mark
      return
    }
    for (const [key, elem] of entries) {
      const iterMark = scope.vars.length
      if (n.pipe.decl.length === 1) scope.vars.push([n.pipe.decl[0], elem])
      else if (n.pipe.decl.length === 2) scope.vars.push([n.pipe.decl[0], key], [n.pipe.decl[1], elem])
      try {
        this.walk(n.list, elem, scope)
      } catch (e) {
        if (e instanceof BreakSignal) {
          scope.vars.length = iterMark
          break
        }
        if (!(e instanceof ContinueSignal)) throw e
      }
      scope.vars.length = iterMark
    }
    scope.vars.length = mark
  }

  /** `pasted`: the pipeline's value is printed, so with `paste` set its data operands are mapped. */
  private evalPipe(pipe: Pipe, dot: unknown, scope: Scope, pasted = false): unknown {
    let value: unknown
    pipe.cmds.forEach((cmd, i) => {
      value = this.evalCommand(cmd, dot, scope, i > 0, value, pasted && this.paste !== undefined)
    })
    if (pipe.decl.length === 1) {
      const name = pipe.decl[0]
      if (pipe.assign) {
        const slot = findVar(scope, name)
        if (!slot) this.fail(pipe.pos, name, `undefined variable: ${name}`)
        slot[1] = value
      } else scope.vars.push([name, value])
    }
    return value
  }

  /**
   * `mapped`: operands are mapped as safetext's rewrite does (common.applyPipeCmds): a data operand (`.`, a field,
   * a variable) is mapped unless it is the head of a command with arguments or an argument of StructuralData; a
   * parenthesized pipeline is rewritten inside; a field of a parenthesized pipeline is left alone.
   */
  private evalCommand(cmd: Command, dot: unknown, scope: Scope, hasFinal: boolean, final: unknown, mapped = false): unknown {
    const [first, ...rest] = cmd.args
    if (first.kind === 'ident') {
      const fn = this.funcs[first.name]
      const mapArgs = mapped && first.name !== STRUCTURAL_DATA
      const thunks: Array<() => unknown> = rest.map((a) => () => (mapArgs ? this.evalMapped(a, dot, scope, cmd) : this.evalArg(a, dot, scope, cmd)))
      if (hasFinal) thunks.push(() => final)
      try {
        if (first.name === 'and' || first.name === 'or') return this.logic(first.name, thunks, cmd)
        return fn(...thunks.map((t) => t()))
      } catch (e) {
        if (e instanceof TemplateError || e instanceof BreakSignal || e instanceof ContinueSignal) throw e
        this.fail(cmd.pos, cmd.text, `error calling ${first.name}: ${(e as Error).message}`)
      }
    }
    if (rest.length > 0 || hasFinal) {
      this.fail(cmd.pos, cmd.text, `can't give argument to non-function ${cmd.text.split(' ')[0]}`)
    }
    return mapped ? this.evalMapped(first, dot, scope, cmd) : this.evalArg(first, dot, scope, cmd)
  }

  private evalMapped(arg: Arg, dot: unknown, scope: Scope, cmd: Command): unknown {
    if (arg.kind === 'dot' || arg.kind === 'field' || arg.kind === 'var') return mapStrings(this.evalArg(arg, dot, scope, cmd), this.paste!)
    if (arg.kind === 'pipe' && arg.chain.length === 0) return this.evalPipe(arg.pipe, dot, {vars: [...scope.vars]}, true)
    return this.evalArg(arg, dot, scope, cmd)
  }

  private logic(op: 'and' | 'or', thunks: Array<() => unknown>, cmd: Command): unknown {
    if (thunks.length === 0) this.fail(cmd.pos, cmd.text, `wrong number of args for ${op}: want at least 1 got 0`)
    let v: unknown
    for (const t of thunks) {
      v = t()
      if (op === 'and' ? !truth(v) : truth(v)) return v
    }
    return v
  }

  private evalArg(arg: Arg, dot: unknown, scope: Scope, cmd: Command): unknown {
    switch (arg.kind) {
      case 'dot':
        return dot
      case 'literal':
        return arg.value
      case 'ident':
        return this.evalCommand({args: [arg], pos: arg.pos, text: arg.name}, dot, scope, false, undefined)
      case 'field':
        return this.fields(dot, arg.chain, arg.pos, cmd)
      case 'var': {
        const slot = findVar(scope, arg.name)
        if (!slot) this.fail(arg.pos, arg.name, `undefined variable: ${arg.name}`)
        return this.fields(slot[1], arg.chain, arg.pos, cmd)
      }
      case 'pipe':
        return this.fields(this.evalPipe(arg.pipe, dot, {vars: [...scope.vars]}), arg.chain, arg.pos, cmd)
    }
  }

  private fields(base: unknown, chain: string[], pos: number, cmd: Command): unknown {
    let v = base
    for (const f of chain) {
      if (v === undefined || v === null) return undefined
      if (typeof v !== 'object' || Array.isArray(v) || v instanceof GoFloat) {
        this.fail(pos, cmd.text, `can't evaluate field ${f} in type ${typeName(v)}`)
      }
      v = (v as Record<string, unknown>)[f]
    }
    return v
  }
}

function findVar(scope: Scope, name: string): [string, unknown] | undefined {
  for (let i = scope.vars.length - 1; i >= 0; i--) if (scope.vars[i][0] === name) return scope.vars[i]
  return undefined
}

// ---------- built-in functions ----------

function basicCompare(a: unknown, b: unknown, op: string): number {
  const an = num(a)
  const bn = num(b)
  if (an !== undefined && bn !== undefined) return an < bn ? -1 : an > bn ? 1 : 0
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'boolean' && typeof b === 'boolean' && (op === 'eq' || op === 'ne')) return a === b ? 0 : 1
  if (a === undefined || a === null || b === undefined || b === null) {
    if (op === 'eq' || op === 'ne') return (a ?? null) === (b ?? null) ? 0 : 1
    throw new Error('invalid type for comparison')
  }
  if (typeof a === 'object' || typeof b === 'object') throw new Error(`non-comparable type ${typeName(typeof a === 'object' ? a : b)}`)
  if (op === 'eq' || op === 'ne') throw new Error('incompatible types for comparison')
  throw new Error('invalid type for comparison')
}

function goLen(v: unknown): number {
  // null is how the Go view carries a nil slice or map, whose length is 0; undefined is no value at all.
  if (v === null) return 0
  if (typeof v === 'string') return Buffer.byteLength(v)
  if (Array.isArray(v)) return v.length
  if (v && typeof v === 'object' && !(v instanceof GoFloat)) return Object.keys(v).length
  throw new Error(`len of ${v === undefined || v === null ? 'nil pointer' : `type ${typeName(v)}`}`)
}

function goIndex(item: unknown, ...indexes: unknown[]): unknown {
  let v = item
  for (const ix of indexes) {
    if (Array.isArray(v) || typeof v === 'string') {
      const i = num(ix)
      if (i === undefined || !Number.isInteger(i)) throw new Error(`cannot index slice/array with type ${typeName(ix)}`)
      const len = Array.isArray(v) ? v.length : Buffer.byteLength(v)
      if (i < 0 || i >= len) throw new Error(`index out of range: ${i}`)
      v = Array.isArray(v) ? v[i] : Buffer.from(v)[i]
    } else if (v && typeof v === 'object' && !(v instanceof GoFloat)) {
      v = (v as Record<string, unknown>)[String(ix)]
    } else if (v === null) {
      // A nil slice has no elements; a nil map yields the zero value for any key.
      if (typeof ix === 'number') throw new Error(`index out of range: ${ix}`)
      v = undefined
    } else if (v === undefined) {
      throw new Error('index of untyped nil')
    } else throw new Error(`can't index item of type ${typeName(v)}`)
  }
  return v
}

function goSlice(item: unknown, ...bounds: unknown[]): unknown {
  if (!Array.isArray(item) && typeof item !== 'string') throw new Error(`can't slice item of type ${typeName(item)}`)
  const len = Array.isArray(item) ? item.length : item.length
  const [lo = 0, hi = len] = bounds.map((b) => num(b))
  if (lo === undefined || hi === undefined || lo < 0 || hi < lo || hi > len) throw new Error(`index out of range: ${hi}`)
  return item.slice(lo, hi)
}

/** fmt.Sprint: a space between operands when neither side is a string. */
function sprint(args: unknown[]): string {
  let out = ''
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' '
    out += goSprint(a)
  })
  return out
}

/** fmt.Sprintf for the common verbs: v s d f e g x X o q t c and %%, with flags, width, precision. */
export function sprintf(format: string, ...args: unknown[]): string {
  let out = ''
  let argi = 0
  const re = /%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?([a-zA-Z%])/g
  let last = 0
  for (let m = re.exec(format); m; m = re.exec(format)) {
    out += format.slice(last, m.index)
    last = re.lastIndex
    const [, flags, w, p, verb] = m
    if (verb === '%') {
      out += '%'
      continue
    }
    const width = w === '*' ? Number(args[argi++]) : w ? Number(w) : undefined
    const prec = p === '*' ? Number(args[argi++]) : p !== undefined ? Number(p || '0') : undefined
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`
      continue
    }
    const a = args[argi++]
    let s = formatVerb(verb, a, flags, prec)
    if (width !== undefined && [...s].length < width) {
      const pad = width - [...s].length
      if (flags.includes('-')) s += ' '.repeat(pad)
      else if (flags.includes('0') && /[dfegxXo]/.test(verb) && num(a) !== undefined) {
        const sign = /^[+-]/.test(s) ? s[0] : ''
        s = sign + '0'.repeat(pad) + s.slice(sign.length)
      } else s = ' '.repeat(pad) + s
    }
    out += s
  }
  out += format.slice(last)
  if (argi < args.length) {
    out += `%!(EXTRA ${args.slice(argi).map((a) => `${typeName(a)}=${goSprint(a)}`).join(', ')})`
  }
  return out
}

function formatVerb(verb: string, a: unknown, flags: string, prec: number | undefined): string {
  const n = num(a)
  const bad = (): string => `%!${verb}(${typeName(a)}=${goSprint(a)})`
  const signed = (s: string, v: number): string => (v >= 0 && flags.includes('+') ? '+' : v >= 0 && flags.includes(' ') ? ' ' : '') + s
  switch (verb) {
    case 'v':
      return typeof a === 'string' || a === undefined || a === null ? (a === undefined || a === null ? '<nil>' : a) : goSprint(a)
    case 's':
      if (typeof a === 'string') return prec !== undefined ? [...a].slice(0, prec).join('') : a
      return typeof a === 'object' && a !== null && !(a instanceof GoFloat) ? goSprint(a) : bad()
    case 'q':
      return typeof a === 'string' ? JSON.stringify(a) : bad()
    case 't':
      return typeof a === 'boolean' ? String(a) : bad()
    case 'd':
      return n !== undefined && Number.isInteger(n) && !(a instanceof GoFloat) ? signed(formatNumber(n), n) : bad()
    case 'c':
      return n !== undefined && Number.isInteger(n) ? String.fromCodePoint(n) : bad()
    case 'x':
    case 'X':
    case 'o': {
      let s: string
      if (typeof a === 'string') s = Buffer.from(a).toString('hex')
      else if (n !== undefined && Number.isInteger(n)) s = (n < 0 ? '-' : '') + Math.abs(n).toString(verb === 'o' ? 8 : 16)
      else return bad()
      return verb === 'X' ? s.toUpperCase() : s
    }
    case 'f':
    case 'F':
      return n !== undefined ? signed(n.toFixed(prec ?? 6), n) : bad()
    case 'e':
    case 'E': {
      if (n === undefined) return bad()
      const s = n.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2')
      return signed(verb === 'E' ? s.toUpperCase() : s, n)
    }
    case 'g':
    case 'G':
      if (n === undefined) return bad()
      return signed(prec === undefined ? goSprint(new GoFloat(n)) : Number(n.toPrecision(prec || 1)).toString(), n)
    default:
      return bad()
  }
}

function builtins(): Record<string, TemplateFunc> {
  const cmp = (op: string, test: (c: number) => boolean) => (a: unknown, ...bs: unknown[]): boolean => {
    if (bs.length === 0) throw new Error('missing argument for comparison')
    if (op === 'eq') return bs.some((b) => basicCompare(a, b, op) === 0)
    return test(basicCompare(a, bs[0], op))
  }
  return {
    and: () => undefined, // evaluated lazily by Exec.logic
    or: () => undefined,
    not: (a: unknown) => !truth(a),
    len: goLen,
    index: goIndex,
    slice: goSlice,
    print: (...a: unknown[]) => sprint(a),
    println: (...a: unknown[]) => a.map(goSprint).join(' ') + '\n',
    printf: (f: unknown, ...a: unknown[]) => sprintf(String(f), ...a),
    eq: cmp('eq', (c) => c === 0),
    ne: cmp('ne', (c) => c !== 0),
    lt: cmp('lt', (c) => c < 0),
    le: cmp('le', (c) => c <= 0),
    gt: cmp('gt', (c) => c > 0),
    ge: cmp('ge', (c) => c >= 0),
  }
}

export interface CompiledTemplate {
  /**
   * Runs the template on `data`. With `paste`, every value an output action prints is mapped through mapStrings
   * with it first (safetext's baseline and mutation runs).
   */
  execute(data: unknown, paste?: (s: string) => string): string
}

/** Parses a template; parse errors (including unknown functions) are thrown as TemplateError. */
export function compileTemplate(
  src: string,
  opts: {name?: string; funcs?: Record<string, TemplateFunc>} = {},
): CompiledTemplate {
  const name = opts.name ?? 'get'
  const funcs = {...builtins(), ...opts.funcs}
  const tree = new Parser(src, name, new Set(Object.keys(funcs))).parse()
  return {
    execute(data: unknown, paste?: (s: string) => string): string {
      const exec = new Exec(src, name, funcs, paste)
      exec.walk(tree, data, {vars: [['$', data]]})
      return exec.out
    },
  }
}
