// Deterministic object names in the agent's table, following Felix's scheme (`<layer>-cali-pi-<policy>`,
// `cali40s-<id>` sets) so that a restarted agent recognises its own objects without memory.
import {createHash} from 'node:crypto'
import type {IPFamily} from './model.js'

export type Layer = 'filter' | 'raw' | 'mangle' | 'nat'

/** Felix's mark bits with the default mask 0xffff0000 (markbits allocation order). */
export const MARK_ACCEPT = 0x10000
export const MARK_PASS = 0x20000
export const MARK_DROP = 0x40000
export const MARK_SCRATCH0 = 0x80000
export const MARK_SCRATCH1 = 0x100000
export const MARK_ALL = MARK_ACCEPT | MARK_PASS | MARK_SCRATCH0 | MARK_SCRATCH1

/** Room left for a name in nft (NFT_NAME_MAXLEN is 256 including the terminator); keep well inside it. */
export const MAX_NAME_LENGTH = 200

const SAFE_NAME = /^[A-Za-z0-9_./-]+$/

/**
 * `<prefix><suffix>` when that is short and uses only identifier-safe characters; otherwise
 * `<prefix>_<base64url(sha256(suffix))>` (libcalico-go's GetLengthLimitedID), so distinct inputs keep distinct names.
 */
export function limitedName(prefix: string, suffix: string, max = MAX_NAME_LENGTH): string {
  const plain = prefix + suffix
  if (plain.length <= max && SAFE_NAME.test(suffix)) return plain
  // Hashed names recur on every render (each IP set's, each time): remember them.
  const key = `${max}\n${plain}`
  let name = hashedNames.get(key)
  if (name === undefined) {
    name = (prefix + '_' + createHash('sha256').update(suffix).digest('base64url')).slice(0, max)
    if (hashedNames.size >= HASHED_NAMES_LIMIT) hashedNames.clear()
    hashedNames.set(key, name)
  }
  return name
}

const hashedNames = new Map<string, string>()
const HASHED_NAMES_LIMIT = 100_000

export function policyChainName(layer: Layer, direction: 'in' | 'out', policyKey: string): string {
  return limitedName(`${layer}-cali-p${direction === 'in' ? 'i' : 'o'}-`, policyKey)
}

export function profileChainName(layer: Layer, direction: 'in' | 'out', profile: string): string {
  return limitedName(`${layer}-cali-pr${direction === 'in' ? 'i' : 'o'}-`, profile)
}

/** Felix's name for the chains of an all-interfaces (`*`) host endpoint. */
export const ALL_INTERFACES = 'any-interface-at-all'

/**
 * Per-endpoint chains: `tw`/`fw` (to/from workload), `th`/`fh` (to/from host endpoint), `thfw`/`fhfw` (forwarded
 * through a host endpoint).
 */
export function endpointChainName(layer: Layer, kind: 'tw' | 'fw' | 'th' | 'fh' | 'thfw' | 'fhfw', iface: string): string {
  return limitedName(`${layer}-cali-${kind}-`, iface === '*' ? ALL_INTERFACES : iface)
}

/** `cali40s-…` / `cali60n-…`: Felix's set name with `:` made legal for nft. */
export function setName(family: IPFamily, id: string): string {
  // Asked for every rule that uses a set, on every render: remembered by id (whose hash the string keeps).
  const byId = setNames[family]
  let name = byId.get(id)
  if (name === undefined) {
    if (byId.size >= HASHED_NAMES_LIMIT) byId.clear()
    byId.set(id, (name = limitedName(`cali${family}0`, id.replace(/:/g, '-'))))
  }
  return name
}

const setNames: Record<IPFamily, Map<string, string>> = {4: new Map(), 6: new Map()}

export function staticName(layer: Layer, name: string): string {
  return `${layer}-${name}`
}
