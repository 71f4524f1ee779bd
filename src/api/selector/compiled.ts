// The immutable parsed selector handed to consumers, and the cache that lets hot paths (the node agent
// re-reading the same policies) skip parsing altogether.

import {createHash} from 'node:crypto'
import {
  collectLabels,
  compile,
  containsGlobal,
  prefixLabels,
  render,
  type LabelReader,
  type Predicate,
  type SelectorNode,
} from './ast.js'
import {parseTree, SelectorParseError} from './parser.js'
import {labelRestrictions, type LabelRestriction} from './restrictions.js'

export type Labels = Readonly<Record<string, string>>

/** Looks a label up in some label source (e.g. endpoint labels layered over inherited profile labels). */
export type LabelLookup = (name: string) => string | undefined

export interface Selector {
  /** Whether a set of labels matches. */
  matches(labels: Labels): boolean
  /** Same as matches(), reading labels through a function instead of a record. */
  matchesLookup(lookup: LabelLookup): boolean
  /** Calico's canonical string form (`Selector.String()`): "" becomes "all()", n-ary nodes parenthesised. */
  toString(): string
  /** Calico's `UniqueID()`: "s:" + base64url(sha224("s:" + canonical)), equal for equivalent spellings. */
  uniqueId(): string
  /** The syntax tree (immutable). */
  readonly root: SelectorNode
  /** Every label name the selector reads. */
  readonly labelNames: ReadonlySet<string>
  /** True when global() appears anywhere in the expression. */
  readonly usesGlobal: boolean
  /** True when the whole selector is global() (the only form Calico allows it in, as a namespaceSelector). */
  readonly isGlobal: boolean
  /** True when the selector is all() (or was empty). */
  readonly isAll: boolean
  /**
   * Per label, what any matching label set must satisfy (Calico's LabelRestrictions): for indexing
   * endpoints by the labels selectors need. Empty when nothing is required (e.g. all(), a != 'x').
   */
  labelRestrictions(): ReadonlyMap<string, LabelRestriction>
  /** A new selector with `prefix` put in front of every label name (Calico's PrefixVisitor). */
  withLabelPrefix(prefix: string): Selector
  /** Same canonical form. */
  equals(other: Selector): boolean
}

const readRecord: LabelReader<Labels> = (labels, name) => {
  const v = labels[name]
  // typeof guards against inherited Object.prototype members such as "constructor".
  return typeof v === 'string' ? v : undefined
}

const readLookup: LabelReader<LabelLookup> = (lookup, name) => lookup(name)

// Derived forms (canonical text, label set, ...) are computed on first use: hot paths mostly only match.
class CompiledSelector implements Selector {
  readonly isGlobal: boolean
  readonly isAll: boolean
  /** Compiled on first use: many selectors are parsed only to be validated or printed (scoping, set IDs). */
  private predicate?: Predicate<Labels>
  private canonical?: string
  private labels?: ReadonlySet<string>
  private global?: boolean
  private lookupPredicate?: Predicate<LabelLookup>
  private id?: string
  private restrictions?: ReadonlyMap<string, LabelRestriction>

  constructor(readonly root: SelectorNode) {
    this.isGlobal = root.kind === 'global'
    this.isAll = root.kind === 'all'
  }

  get labelNames(): ReadonlySet<string> {
    this.labels ??= collectLabels(this.root, new Set())
    return this.labels
  }

  get usesGlobal(): boolean {
    this.global ??= containsGlobal(this.root)
    return this.global
  }

  matches(labels: Labels): boolean {
    this.predicate ??= compile(this.root, readRecord)
    return this.predicate(labels)
  }

  matchesLookup(lookup: LabelLookup): boolean {
    this.lookupPredicate ??= compile(this.root, readLookup)
    return this.lookupPredicate(lookup)
  }

  toString(): string {
    this.canonical ??= render(this.root)
    return this.canonical
  }

  uniqueId(): string {
    this.id ??= `s:${createHash('sha224').update(`s:${this.toString()}`, 'utf8').digest('base64url')}`
    return this.id
  }

  labelRestrictions(): ReadonlyMap<string, LabelRestriction> {
    if (!this.restrictions) {
      const map = labelRestrictions(this.root)
      for (const [label, r] of map) {
        if (r.mustHaveOneOf) Object.freeze(r.mustHaveOneOf)
        map.set(label, Object.freeze(r))
      }
      this.restrictions = map
    }
    return this.restrictions
  }

  withLabelPrefix(prefix: string): Selector {
    return new CompiledSelector(prefixLabels(this.root, prefix))
  }

  equals(other: Selector): boolean {
    return this === other || this.toString() === other.toString()
  }
}

/** Builds a selector from an already-built tree (e.g. after rewriting one). */
export function selectorFromTree(root: SelectorNode): Selector {
  return new CompiledSelector(root)
}

interface ParseFailure {
  readonly reason: string
  readonly column: number
}

type CacheEntry = CompiledSelector | ParseFailure

/**
 * Bounded least-recently-used cache of parse results, failures included. Selectors are immutable, so one
 * instance can be shared by every caller that parses the same text.
 */
export class SelectorCache {
  private readonly entries = new Map<string, CacheEntry>()

  constructor(readonly capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`selector cache capacity must be a positive integer: ${capacity}`)
  }

  get size(): number {
    return this.entries.size
  }

  /** Parses `expr` or returns the cached result; throws SelectorParseError. */
  parse(expr: string): Selector {
    const entry = this.lookup(expr)
    if (entry instanceof CompiledSelector) return entry
    throw new SelectorParseError(entry.reason, entry.column, expr)
  }

  /** The parse error message, or undefined when `expr` is valid. */
  validate(expr: string): string | undefined {
    const entry = this.lookup(expr)
    if (entry instanceof CompiledSelector) return undefined
    return new SelectorParseError(entry.reason, entry.column, expr).message
  }

  /**
   * parse(), and the selector's canonical text finds the same instance from then on. For callers that build a
   * selector's text (scoping, folding), print it canonically and look that text up again (IP set selectors): one
   * parse instead of two. Sound because canonical text parses to an equivalent selector with the same canonical text.
   */
  parseCanonical(expr: string): Selector {
    const entry = this.lookup(expr)
    if (!(entry instanceof CompiledSelector)) throw new SelectorParseError(entry.reason, entry.column, expr)
    const text = entry.toString()
    if (!this.entries.has(text)) this.insert(text, entry)
    return entry
  }

  /**
   * The cached selector for `selector`'s canonical text: the one already there, or `selector` (a parse result or
   * selectorFromTree's), which that text finds from then on.
   */
  adopt(selector: Selector): Selector {
    const text = selector.toString()
    const entry = this.entries.get(text)
    if (entry instanceof CompiledSelector) return entry
    if (!(selector instanceof CompiledSelector)) throw new TypeError('SelectorCache.adopt: not a selector of this module')
    this.insert(text, selector)
    return selector
  }

  clear(): void {
    this.entries.clear()
  }

  private lookup(expr: string): CacheEntry {
    const hit = this.entries.get(expr)
    if (hit !== undefined) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.entries.delete(expr)
      this.entries.set(expr, hit)
      return hit
    }
    let entry: CacheEntry
    try {
      entry = new CompiledSelector(parseTree(expr))
    } catch (err) {
      if (!(err instanceof SelectorParseError)) throw err
      entry = Object.freeze({reason: err.reason, column: err.column})
    }
    this.insert(expr, entry)
    return entry
  }

  private insert(expr: string, entry: CacheEntry): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    this.entries.set(expr, entry)
  }
}
