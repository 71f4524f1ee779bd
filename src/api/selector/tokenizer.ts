// Lexer for Calico's label-selector language, following libcalico-go's tokenizer rule for rule: the same
// accepted inputs, the same quirks (keyword operators only right after a label, "notin"/"startswith"
// accepted, no escapes in strings), plus the source offset of every token so errors can name a column.

export const MAX_LABEL_LENGTH = 512

export type TokenKind =
  | 'label'
  | 'string'
  | 'lbrace'
  | 'rbrace'
  | 'comma'
  | 'eq'
  | 'ne'
  | 'in'
  | 'not'
  | 'notIn'
  | 'contains'
  | 'startsWith'
  | 'endsWith'
  | 'all'
  | 'has'
  | 'lparen'
  | 'rparen'
  | 'and'
  | 'or'
  | 'global'
  | 'eof'

export interface Token {
  readonly kind: TokenKind
  /** Label name for `label` and `has`, literal text for `string`, '' otherwise. */
  readonly value: string
  /** 0-based offset of the token's first character in the input. */
  readonly pos: number
}

/** A lexing failure; `pos` is the 0-based offset the problem was found at. */
export class TokenizeError extends Error {
  constructor(readonly reason: string, readonly pos: number) {
    super(reason)
  }
}

// Calico only treats space and tab as whitespace: a newline in a selector is an error.
function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09
}

function isIdentChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x2f || // /
    c === 0x2d // -
  )
}

function skipBlanks(input: string, i: number): number {
  while (i < input.length && isBlank(input.charCodeAt(i))) i++
  return i
}

function wordBoundaryAt(input: string, i: number): boolean {
  return i >= input.length || !isIdentChar(input.charCodeAt(i))
}

/** End offset of the identifier starting at `i`; throws when it is empty or longer than the limit. */
function identifierEnd(input: string, i: number): number {
  let end = i
  while (end < input.length && isIdentChar(input.charCodeAt(end))) end++
  if (end === i) throw new TokenizeError('expected identifier', i)
  if (end - i > MAX_LABEL_LENGTH) throw new TokenizeError(`label too long: ${input.slice(i, end)}`, i)
  return end
}

/**
 * Matches a keyword operator followed by a word boundary; returns the offset after it or -1. Multi-word
 * operators ("not in", "notin", "starts  with") allow blanks between the words, and, as in Calico, blanks
 * after the last word are skipped before the boundary check: so `a starts with b` fails to tokenize while
 * `a contains b` tokenizes (and then fails to parse).
 */
function matchWords(input: string, i: number, words: readonly string[]): number {
  let at = i
  for (let w = 0; w < words.length; w++) {
    const word = words[w]!
    if (!input.startsWith(word, at)) return -1
    at += word.length
    if (words.length > 1) at = skipBlanks(input, at)
  }
  return wordBoundaryAt(input, at) ? at : -1
}

const LABEL_OPERATORS: ReadonlyArray<readonly [TokenKind, readonly string[]]> = [
  ['contains', ['contains']],
  ['startsWith', ['starts', 'with']],
  ['endsWith', ['ends', 'with']],
  ['notIn', ['not', 'in']],
  ['in', ['in']],
]

const FUNCTIONS: ReadonlyArray<readonly [TokenKind, string]> = [
  ['all', 'all('],
  ['global', 'global('],
]

export function tokenize(input: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  for (;;) {
    i = skipBlanks(input, i)
    if (i >= input.length) {
      tokens.push({kind: 'eof', value: '', pos: input.length})
      return tokens
    }
    const start = i
    // Tokens are pushed inline, without a helper closure or iterator per token: this runs cold for every distinct
    // selector an agent sees.
    const c = input[i]
    switch (c) {
      case '(':
        tokens.push({kind: 'lparen', value: '', pos: start})
        i++
        continue
      case ')':
        tokens.push({kind: 'rparen', value: '', pos: start})
        i++
        continue
      case '{':
        tokens.push({kind: 'lbrace', value: '', pos: start})
        i++
        continue
      case '}':
        tokens.push({kind: 'rbrace', value: '', pos: start})
        i++
        continue
      case ',':
        tokens.push({kind: 'comma', value: '', pos: start})
        i++
        continue
      case '"':
      case "'": {
        const close = input.indexOf(c, i + 1)
        if (close < 0) throw new TokenizeError('unterminated string', start)
        tokens.push({kind: 'string', value: input.slice(i + 1, close), pos: start})
        i = close + 1
        continue
      }
      case '=':
        if (input[i + 1] !== '=') throw new TokenizeError('expected ==', start)
        tokens.push({kind: 'eq', value: '', pos: start})
        i += 2
        continue
      case '!':
        if (input[i + 1] === '=') {
          tokens.push({kind: 'ne', value: '', pos: start})
          i += 2
        } else {
          tokens.push({kind: 'not', value: '', pos: start})
          i++
        }
        continue
      case '&':
        if (input[i + 1] !== '&') throw new TokenizeError('expected &&', start)
        tokens.push({kind: 'and', value: '', pos: start})
        i += 2
        continue
      case '|':
        if (input[i + 1] !== '|') throw new TokenizeError('expected ||', start)
        tokens.push({kind: 'or', value: '', pos: start})
        i += 2
        continue
    }

    const last = tokens.length > 0 ? tokens[tokens.length - 1] : undefined
    if (last?.kind === 'label') {
      // Right after a label only a keyword operator may follow (== and != were handled above).
      let matched = false
      for (let o = 0; o < LABEL_OPERATORS.length; o++) {
        const end = matchWords(input, i, LABEL_OPERATORS[o]![1])
        if (end >= 0) {
          tokens.push({kind: LABEL_OPERATORS[o]![0], value: '', pos: start})
          i = end
          matched = true
          break
        }
      }
      if (!matched) throw new TokenizeError(`expected operator after label ${JSON.stringify(last.value)}`, start)
      continue
    }

    if (input.startsWith('has(', i)) {
      const identStart = skipBlanks(input, i + 4)
      const identEnd = identifierEnd(input, identStart)
      const close = skipBlanks(input, identEnd)
      if (input[close] !== ')') throw new TokenizeError("no closing ')' after has(", close)
      tokens.push({kind: 'has', value: input.slice(identStart, identEnd), pos: start})
      i = close + 1
      continue
    }

    let fn = 0
    while (fn < FUNCTIONS.length && !input.startsWith(FUNCTIONS[fn]![1], i)) fn++
    if (fn < FUNCTIONS.length) {
      const prefix = FUNCTIONS[fn]![1]
      const close = skipBlanks(input, i + prefix.length)
      if (input[close] !== ')') throw new TokenizeError(`no closing ')' after ${prefix}`, close)
      tokens.push({kind: FUNCTIONS[fn]![0], value: '', pos: start})
      i = close + 1
      continue
    }

    const end = identifierEnd(input, i)
    tokens.push({kind: 'label', value: input.slice(i, end), pos: start})
    i = end
  }
}

/** Whether `label` is a valid selector label name (Calico's tokenizer.ValidLabel). */
export function isValidSelectorLabel(label: string): boolean {
  if (label.length === 0 || label.length > MAX_LABEL_LENGTH) return false
  for (let i = 0; i < label.length; i++) {
    if (!isIdentChar(label.charCodeAt(i))) return false
  }
  return true
}

/** How a token reads in an error message. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'label':
      return `label ${JSON.stringify(t.value)}`
    case 'string':
      return `string ${JSON.stringify(t.value)}`
    case 'has':
      return `has(${t.value})`
    case 'eof':
      return 'end of selector'
    default:
      return `'${TOKEN_TEXT[t.kind]}'`
  }
}

const TOKEN_TEXT: Record<Exclude<TokenKind, 'label' | 'string' | 'has' | 'eof'>, string> = {
  lbrace: '{',
  rbrace: '}',
  comma: ',',
  eq: '==',
  ne: '!=',
  in: 'in',
  not: '!',
  notIn: 'not in',
  contains: 'contains',
  startsWith: 'starts with',
  endsWith: 'ends with',
  all: 'all()',
  lparen: '(',
  rparen: ')',
  and: '&&',
  or: '||',
  global: 'global()',
}
