// Which selectors can match which label sets, without evaluating every selector against every endpoint (Felix's
// labelindex). A selector's label restrictions (src/api/selector LabelRestrictions) name a label that any match must
// carry, often with the values it may have: `app == 'web' && tier == 'db'` can only match label sets with app=web.
// Two indexes use that: SourceIndex finds the label sets a new selector could match, SelectorIndex the selectors a
// new label set could match. Both only narrow the candidates; the caller still evaluates the selector on each.
import type {Labels, LabelRestriction, Selector} from '../../api/selector.js'

/** The one restricted label a selector is indexed under: label=value for each of `values`, or just the label's presence. */
type IndexedBy = {kind: 'values'; label: string; values: readonly string[]} | {kind: 'present'; label: string} | {kind: 'none'} | {kind: 'never'}

/**
 * Labels every pod, host endpoint or network set in a namespace carries (namespace, orchestrator, the `pcns.`/`pcsa.`
 * labels inherited from Namespace and ServiceAccount profiles): a restriction on them narrows little, so another
 * restricted label is preferred.
 */
function isBroadLabel(label: string): boolean {
  return label.startsWith('projectcalico.org/') || label.startsWith('pcns.') || label.startsWith('pcsa.')
}

function rankOf(label: string, r: LabelRestriction): number {
  // Lower is better: specific values on an application label first, mere presence on a broad label last.
  return (isBroadLabel(label) ? 2 : 0) + (r.mustHaveOneOf === undefined ? 1 : 0)
}

const indexedBySelector = new WeakMap<Selector, IndexedBy>()

/** Picks the most selective required label of a selector, or none when it requires no label to be present. */
function indexedBy(sel: Selector): IndexedBy {
  // Once per selector (selectors are immutable and shared): it is asked again for every set or group lookup.
  let by = indexedBySelector.get(sel)
  if (!by) indexedBySelector.set(sel, (by = pickIndexLabel(sel)))
  return by
}

function pickIndexLabel(sel: Selector): IndexedBy {
  let best: {label: string; r: LabelRestriction; rank: number} | undefined
  for (const [label, r] of sel.labelRestrictions()) {
    if (r.mustBeAbsent && r.mustBePresent) return {kind: 'never'}
    if (r.mustHaveOneOf !== undefined && r.mustHaveOneOf.length === 0) return {kind: 'never'}
    if (!r.mustBePresent) continue
    const rank = rankOf(label, r)
    const better = !best || rank < best.rank || (rank === best.rank && (r.mustHaveOneOf?.length ?? 0) < (best.r.mustHaveOneOf?.length ?? 0))
    if (better) best = {label, r, rank}
  }
  if (!best) return {kind: 'none'}
  return best.r.mustHaveOneOf ? {kind: 'values', label: best.label, values: best.r.mustHaveOneOf} : {kind: 'present', label: best.label}
}

function bucket<K, V>(m: Map<K, Set<V>>, k: K): Set<V> {
  let s = m.get(k)
  if (!s) m.set(k, (s = new Set()))
  return s
}

function drop<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k)
  if (s?.delete(v) && s.size === 0) m.delete(k)
}

/** Label sets (endpoints, network sets) by label name and value. */
export class SourceIndex<S extends {readonly labels: Labels}> {
  private readonly all = new Set<S>()
  /** label → value → sources carrying label=value. */
  private readonly byValue = new Map<string, Map<string, Set<S>>>()

  get size(): number {
    return this.all.size
  }

  /** Adds a source; its labels must not change while it is indexed (remove it, change, add again). */
  add(src: S): void {
    this.all.add(src)
    for (const label in src.labels) bucket(this.valuesOf(label), src.labels[label]!).add(src)
  }

  remove(src: S): void {
    if (!this.all.delete(src)) return
    for (const label in src.labels) {
      const values = this.byValue.get(label)
      if (!values) continue
      drop(values, src.labels[label]!, src)
      if (values.size === 0) this.byValue.delete(label)
    }
  }

  /**
   * Calls `visit` with every indexed source the selector could match (a superset of those it does match). A visitor
   * rather than a generator: the calculation runs mostly as cold code at start, where a generator allocates a result
   * object per element.
   */
  forEachCandidate(sel: Selector, visit: (src: S) => void): void {
    const by = indexedBy(sel)
    switch (by.kind) {
      case 'never':
        return
      case 'none':
        this.all.forEach((src) => visit(src))
        return
      case 'present':
        this.byValue.get(by.label)?.forEach((set) => set.forEach((src) => visit(src)))
        return
      case 'values': {
        const values = this.byValue.get(by.label)
        if (!values) return
        for (let i = 0; i < by.values.length; i++) values.get(by.values[i]!)?.forEach((src) => visit(src))
      }
    }
  }

  private valuesOf(label: string): Map<string, Set<S>> {
    let m = this.byValue.get(label)
    if (!m) this.byValue.set(label, (m = new Map()))
    return m
  }
}

/** Selectors (of IP sets, of policies) by the label each one requires. */
export class SelectorIndex<E> {
  private readonly entries = new Map<E, IndexedBy>()
  /** Selectors that require no label: candidates for every label set. */
  private readonly unindexed = new Set<E>()
  /** label → selectors requiring only that the label be present. */
  private readonly byLabel = new Map<string, Set<E>>()
  /** label → value → selectors requiring label to have that value (among others). */
  private readonly byValue = new Map<string, Map<string, Set<E>>>()

  add(entry: E, sel: Selector): void {
    this.remove(entry)
    const by = indexedBy(sel)
    this.entries.set(entry, by)
    if (by.kind === 'none') this.unindexed.add(entry)
    else if (by.kind === 'present') bucket(this.byLabel, by.label).add(entry)
    else if (by.kind === 'values') {
      let values = this.byValue.get(by.label)
      if (!values) this.byValue.set(by.label, (values = new Map()))
      for (const v of by.values) bucket(values, v).add(entry)
    }
  }

  remove(entry: E): void {
    const by = this.entries.get(entry)
    if (!by) return
    this.entries.delete(entry)
    if (by.kind === 'none') this.unindexed.delete(entry)
    else if (by.kind === 'present') drop(this.byLabel, by.label, entry)
    else if (by.kind === 'values') {
      const values = this.byValue.get(by.label)!
      for (const v of by.values) drop(values, v, entry)
      if (values.size === 0) this.byValue.delete(by.label)
    }
  }

  /** Calls `visit` with every indexed selector that could match these labels (a superset of those that do), each once. */
  forEachCandidate(labels: Labels, visit: (entry: E) => void): void {
    this.unindexed.forEach((e) => visit(e))
    for (const label in labels) {
      // An entry is indexed under exactly one label (and, for `values`, its value appears once per label set), so
      // no entry is visited twice.
      this.byLabel.get(label)?.forEach((e) => visit(e))
      this.byValue.get(label)?.get(labels[label]!)?.forEach((e) => visit(e))
    }
  }
}
