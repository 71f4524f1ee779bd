// Minimal delta between two desired tables as one `nft -f` transaction: only changed chains are flushed and
// refilled (nft has no stable per-rule identity without handles); a set or map that only gains elements gets just
// those, one that loses any is flushed and refilled. Ordered so that every reference resolves at each step of the
// transaction.
//
// Elements are written as the set's declaration inside a table block, never as `add element`/`delete element`: for
// those, nft (1.0.6) first dumps the elements of every interval set in the namespace into its cache (one netlink dump
// per set: ~10 ms more per transaction with 500 sets, growing with every set and element), and a declaration loads
// none. Flushing a set needs no elements either, so refilling the one changed set costs only that set.
import type {NftChain, NftMap, NftSet, NftTable} from './model.js'
import {addChainText, addMapText, addSetText, baseChainText, elementLines, mapElementText, ruleText, setElementText, setTypeText, tableId} from './text.js'

export interface TableDelta {
  /** The script, or '' when nothing changed. */
  script: string
  stats: {
    chainsAdded: number
    chainsChanged: number
    chainsDeleted: number
    setElementsAdded: number
    setElementsDeleted: number
    mapElementsChanged: number
  }
}

function sameChain(a: NftChain, b: NftChain): boolean {
  // Renders share the rule arrays of unchanged chains: identity settles most comparisons without any text.
  if (a.rules === b.rules && a.base === b.base) return true
  if (baseChainText(a) !== baseChainText(b) || a.rules.length !== b.rules.length) return false
  for (let i = 0; i < a.rules.length; i++) if (ruleText(a.rules[i]!) !== ruleText(b.rules[i]!)) return false
  return true
}

const keysSorted = <T>(m: Map<string, T>): string[] => [...m.keys()].sort()

/** Sorted names of `next`'s chains that are new or differ from `prev`'s (sorting only those keeps a delta cheap). */
function touchedChains(prev: NftTable, next: NftTable): string[] {
  const out: string[] = []
  for (const [name, n] of next.chains) {
    const p = prev.chains.get(name)
    if (!p || !sameChain(p, n)) out.push(name)
  }
  return out.sort()
}

/**
 * Delta from `prev` (what the kernel holds, as last applied) to `next`. Both must describe the same table.
 * Passing `undefined` for `prev` is a start-up: use renderFullScript instead to also sweep unknown leftovers.
 */
export function diffTables(prev: NftTable, next: NftTable): TableDelta {
  if (prev.name !== next.name || prev.family !== next.family) throw new Error('diffTables: different tables')
  const id = tableId(next)
  const stats: TableDelta['stats'] = {chainsAdded: 0, chainsChanged: 0, chainsDeleted: 0, setElementsAdded: 0, setElementsDeleted: 0, mapElementsChanged: 0}
  const head: string[] = []
  const elems: string[] = []
  const rules: string[] = []
  const mapElems: string[] = []
  const tail: string[] = []

  // 1. New objects first (empty), so rules and elements below can reference them.
  for (const name of keysSorted(next.sets)) {
    const n = next.sets.get(name)!
    const p = prev.sets.get(name)
    if (p && (p.kind !== n.kind || p.family !== n.family)) {
      // Set names encode their type, so this means a renderer bug or a foreign table: never patch it in place.
      throw new Error(`set ${name} changed type; re-render the full table`)
    }
    if (!p) head.push(addSetText(id, n))
    // Renders share unchanged sets: identity settles them without comparing elements.
    if (p === n) continue
    const before = new Set(p?.elements ?? [])
    const after = new Set(n.elements)
    const removed = [...before].filter((e) => !after.has(e))
    const added = n.elements.filter((e) => !before.has(e))
    // Flushed first when it loses any: an interval set also rejects an added element overlapping one still present.
    if (removed.length > 0) elems.push(`flush set ${id} ${name}`)
    elems.push(...setElementBlocks(next, n, (removed.length > 0 ? n.elements : added).map((e) => setElementText(n, e))))
    stats.setElementsAdded += added.length
    stats.setElementsDeleted += removed.length
  }
  for (const name of keysSorted(next.maps)) if (!prev.maps.has(name)) head.push(addMapText(id, next.maps.get(name)!))

  const changedBase: string[] = []
  for (const name of touchedChains(prev, next)) {
    const n = next.chains.get(name)!
    const p = prev.chains.get(name)
    if (!p) {
      head.push(addChainText(id, n))
      for (const r of n.rules) rules.push(`add rule ${id} ${name} ${ruleText(r)}`)
      stats.chainsAdded++
      continue
    }
    stats.chainsChanged++
    if (baseChainText(p) !== baseChainText(n)) changedBase.push(name)
    // 2. Changed chains: flush and refill (Felix's nft table does the same).
    rules.push(`flush chain ${id} ${name}`)
    for (const r of n.rules) rules.push(`add rule ${id} ${name} ${ruleText(r)}`)
  }
  for (const name of changedBase) {
    // Hook/priority/policy of a base chain: re-declaring it updates the policy; hook changes need a full render.
    const n = next.chains.get(name)!
    if (prev.chains.get(name)!.base?.hook !== n.base?.hook || prev.chains.get(name)!.base?.priority !== n.base?.priority) {
      throw new Error(`base chain ${name} changed hook or priority; re-render the full table`)
    }
    head.push(addChainText(id, n))
  }

  // 3. Map elements: a map that loses or retargets a key is flushed and refilled, otherwise it gets the new keys.
  for (const name of keysSorted(next.maps)) {
    const n = next.maps.get(name)!
    const p = prev.maps.get(name)
    let del = 0
    for (const [k, v] of p?.elements ?? []) if (n.elements.get(k) !== v) del++
    const keys = [...n.elements.keys()].sort().filter((k) => del > 0 || p?.elements.get(k) !== n.elements.get(k))
    if (del > 0) mapElems.push(`flush map ${id} ${name}`)
    mapElems.push(...mapElementBlocks(next, n, keys.map((k) => mapElementText(k, n.elements.get(k)!))))
    stats.mapElementsChanged += del + keys.filter((k) => p?.elements.get(k) !== n.elements.get(k)).length
  }

  // 4. Removals last: flush every removed chain before deleting any (they may jump to each other), then maps and
  // sets, which no remaining rule references any more.
  const goneChains = [...prev.chains.keys()].filter((c) => !next.chains.has(c)).sort()
  for (const c of goneChains) tail.push(`flush chain ${id} ${c}`)
  for (const c of goneChains) tail.push(`delete chain ${id} ${c}`)
  stats.chainsDeleted = goneChains.length
  for (const m of keysSorted(prev.maps)) if (!next.maps.has(m)) tail.push(`delete map ${id} ${m}`)
  for (const s of keysSorted(prev.sets)) if (!next.sets.has(s)) tail.push(`delete set ${id} ${s}`)

  const all = [...head, ...elems, ...rules, ...mapElems, ...tail]
  return {script: all.length === 0 ? '' : all.join('\n') + '\n', stats}
}

/** Elements added to an existing set through its declaration in a table block (see the header), in chunks. */
function setElementBlocks(t: NftTable, set: NftSet, elems: string[]): string[] {
  return elementLines(`table ${tableId(t)} { set ${set.name} { ${setTypeText(set)} elements =`, elems).map((l) => `${l}; }; }`)
}

function mapElementBlocks(t: NftTable, map: NftMap, elems: string[]): string[] {
  return elementLines(`table ${tableId(t)} { map ${map.name} { type ifname : verdict; elements =`, elems).map((l) => `${l}; }; }`)
}
