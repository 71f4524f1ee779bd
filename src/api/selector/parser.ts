// Recursive-descent parser over the token stream, accepting exactly what libcalico-go's parser accepts:
//   selector := orExpr? EOF ; orExpr := andExpr ("||" andExpr)* ; andExpr := op ("&&" op)*
//   op := "!"* ( has(l) | all() | global() | l binop "s" | l [not] in {"s", ...[,]} | "(" orExpr ")" )

import {freezeNode, toSortedSet, type LabelOp, type SelectorNode} from './ast.js'
import {describeToken, tokenize, TokenizeError, type Token, type TokenKind} from './tokenizer.js'

/**
 * A selector that does not parse. `column` is 1-based (the first character of the expression is column 1;
 * the end of the expression is column length + 1), counted in UTF-16 code units, which for the ASCII text
 * selectors are written in is the character position. `reason` is the message without the position.
 */
export class SelectorParseError extends Error {
  constructor(readonly reason: string, readonly column: number, readonly selector: string) {
    super(`${reason} at column ${column}`)
  }

  override get name(): string {
    return 'SelectorParseError'
  }
}

const BINARY_OPS: Partial<Record<TokenKind, LabelOp>> = {
  eq: 'eq',
  ne: 'ne',
  contains: 'contains',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
}

class Parser {
  private i = 0

  constructor(private readonly tokens: readonly Token[], private readonly source: string) {}

  parseRoot(): SelectorNode {
    if (this.peek().kind === 'eof') return freezeNode({kind: 'all'})
    const node = this.parseOr()
    const rest = this.peek()
    if (rest.kind !== 'eof') this.fail(`unexpected ${describeToken(rest)} after the end of the expression`, rest)
    return node
  }

  private peek(offset = 0): Token {
    // The stream always ends with 'eof', so clamping keeps look-ahead safe.
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]
  }

  private fail(reason: string, at: Token): never {
    throw new SelectorParseError(reason, at.pos + 1, this.source)
  }

  private parseOr(): SelectorNode {
    const operands = [this.parseAnd()]
    while (this.peek().kind === 'or') {
      this.i++
      operands.push(this.parseAnd())
    }
    return operands.length === 1 ? operands[0] : freezeNode({kind: 'or', operands})
  }

  private parseAnd(): SelectorNode {
    const operands = [this.parseOperation()]
    while (this.peek().kind === 'and') {
      this.i++
      operands.push(this.parseOperation())
    }
    return operands.length === 1 ? operands[0] : freezeNode({kind: 'and', operands})
  }

  private parseOperation(): SelectorNode {
    // Any run of '!' collapses to one negation (or none).
    let negated = false
    while (this.peek().kind === 'not') {
      negated = !negated
      this.i++
    }
    const node = this.parsePrimary()
    return negated ? freezeNode({kind: 'not', operand: node}) : node
  }

  private parsePrimary(): SelectorNode {
    const t = this.peek()
    switch (t.kind) {
      case 'has':
        this.i++
        return freezeNode({kind: 'has', label: t.value})
      case 'all':
        this.i++
        return freezeNode({kind: 'all'})
      case 'global':
        this.i++
        return freezeNode({kind: 'global'})
      case 'label':
        return this.parseLabelExpression(t)
      case 'lparen': {
        this.i++
        const inner = this.parseOr()
        const close = this.peek()
        if (close.kind !== 'rparen') this.fail(`expected ) but found ${describeToken(close)}`, close)
        this.i++
        return inner
      }
      case 'eof':
        return this.fail('unexpected end of selector, expected an expression', t)
      default:
        return this.fail(`unexpected token ${describeToken(t)}`, t)
    }
  }

  private parseLabelExpression(labelTok: Token): SelectorNode {
    const label = labelTok.value
    const op = this.peek(1)
    const binary = BINARY_OPS[op.kind]
    if (binary) {
      const value = this.peek(2)
      if (value.kind !== 'string') this.fail(`expected a quoted string after ${describeToken(op)} but found ${describeToken(value)}`, value)
      this.i += 3
      return freezeNode({kind: binary, label, value: value.value})
    }
    if (op.kind === 'in' || op.kind === 'notIn') {
      const brace = this.peek(2)
      if (brace.kind !== 'lbrace') this.fail(`expected set literal {...} after ${describeToken(op)} but found ${describeToken(brace)}`, brace)
      this.i += 3
      const values: string[] = []
      // Strings separated by commas; a trailing comma is accepted, as in Calico.
      while (this.peek().kind === 'string') {
        values.push(this.peek().value)
        this.i++
        if (this.peek().kind !== 'comma') break
        this.i++
      }
      const close = this.peek()
      if (close.kind !== 'rbrace') this.fail(`expected } but found ${describeToken(close)}`, close)
      this.i++
      return freezeNode({kind: op.kind, label, values: toSortedSet(values)})
    }
    if (op.kind === 'eof') return this.fail(`unexpected end of selector after ${describeToken(labelTok)}, expected an operator`, op)
    return this.fail(`expected an operator after ${describeToken(labelTok)} but found ${describeToken(op)}`, op)
  }
}

/** Parses an expression into its syntax tree; throws SelectorParseError. */
export function parseTree(expr: string): SelectorNode {
  let tokens: Token[]
  try {
    tokens = tokenize(expr)
  } catch (err) {
    if (err instanceof TokenizeError) throw new SelectorParseError(err.reason, err.pos + 1, expr)
    throw err
  }
  return new Parser(tokens, expr).parseRoot()
}
