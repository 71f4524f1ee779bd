// Lower bounds on the labels a selector needs (libcalico-go parser/ast.go LabelRestrictions). An index can
// use them to consider only endpoints that carry a required label (or one of its required values) instead
// of evaluating every selector against every endpoint.

import type {SelectorNode} from './ast.js'
import {toSortedSet} from './ast.js'

export interface LabelRestriction {
  /** The label must be present, e.g. `has(a)`, `a == 'x'`. */
  readonly mustBePresent: boolean
  /** The label must be absent, e.g. `!has(a)`. */
  readonly mustBeAbsent: boolean
  /**
   * When set, the label's value must be one of these (sorted). Empty means the selector cannot match at all
   * (`a == 'x' && a == 'y'`); undefined means no value restriction is known.
   */
  readonly mustHaveOneOf?: readonly string[]
}

type Restrictions = Map<string, LabelRestriction>

/** Whether some labels could satisfy the restriction. */
export function possibleToSatisfy(r: LabelRestriction): boolean {
  if (r.mustBePresent && r.mustBeAbsent) return false
  return r.mustHaveOneOf === undefined || r.mustHaveOneOf.length > 0
}

const PRESENT: LabelRestriction = Object.freeze({mustBePresent: true, mustBeAbsent: false})

export function labelRestrictions(node: SelectorNode): Restrictions {
  switch (node.kind) {
    case 'eq':
      return new Map([[node.label, {mustBePresent: true, mustBeAbsent: false, mustHaveOneOf: [node.value]}]])
    case 'in':
      return new Map([[node.label, {mustBePresent: true, mustBeAbsent: false, mustHaveOneOf: [...node.values]}]])
    case 'has':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return new Map([[node.label, PRESENT]])
    case 'not':
      // Only !has(a) can be inverted: !(a == 'b') does not require a to be absent.
      return node.operand.kind === 'has' ? new Map([[node.operand.label, {mustBePresent: false, mustBeAbsent: true}]]) : new Map()
    case 'and':
      return andRestrictions(node.operands)
    case 'or':
      return orRestrictions(node.operands)
    default:
      // ne, notIn, all(), global() need nothing.
      return new Map()
  }
}

function andRestrictions(operands: readonly SelectorNode[]): Restrictions {
  const out: Restrictions = new Map()
  for (const op of operands) {
    for (const [label, r] of labelRestrictions(op)) {
      const base = out.get(label)
      if (!base) {
        out.set(label, r)
        continue
      }
      let oneOf = base.mustHaveOneOf
      if (oneOf === undefined) oneOf = r.mustHaveOneOf
      else if (r.mustHaveOneOf !== undefined) {
        const allowed = new Set(r.mustHaveOneOf)
        oneOf = oneOf.filter((v) => allowed.has(v))
      }
      out.set(label, {
        mustBePresent: base.mustBePresent || r.mustBePresent,
        mustBeAbsent: base.mustBeAbsent || r.mustBeAbsent,
        ...(oneOf !== undefined ? {mustHaveOneOf: oneOf} : {}),
      })
    }
  }
  return out
}

function orRestrictions(operands: readonly SelectorNode[]): Restrictions {
  // Only labels restricted by every branch survive, with the weakest restriction of the branches.
  const out = labelRestrictions(operands[0])
  for (const op of operands.slice(1)) {
    const other = labelRestrictions(op)
    for (const [label, r] of out) {
      const o = other.get(label)
      const mustBePresent = r.mustBePresent && (o?.mustBePresent ?? false)
      const mustBeAbsent = r.mustBeAbsent && (o?.mustBeAbsent ?? false)
      let oneOf: readonly string[] | undefined
      if (mustBePresent && r.mustHaveOneOf !== undefined && o?.mustHaveOneOf !== undefined) {
        oneOf = toSortedSet([...r.mustHaveOneOf, ...o.mustHaveOneOf])
      }
      if (mustBePresent || mustBeAbsent) out.set(label, {mustBePresent, mustBeAbsent, ...(oneOf !== undefined ? {mustHaveOneOf: oneOf} : {})})
      else out.delete(label)
    }
  }
  return out
}
