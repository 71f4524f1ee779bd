// The JSON shape calicoctl's Go structs marshal to: field order (which `-o json` exposes) and
// the members Go always emits even when unset (a zero metav1.Time prints `null`, non-pointer
// spec/status structs print `{}`).

import type {Resource, ResourceList} from '../../api/resource.js'
import {keysInOrder} from '../../api/schema/shape.js'

export type Result = Resource | ResourceList

/** Reorders a resource's spec/status fields into Go struct order (engineer B's orderResourceFields). */
export type FieldOrderer = (res: Resource) => Resource

const OBJECT_META_ORDER = [
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers',
  'managedFields',
]
const LIST_META_ORDER = ['selfLink', 'resourceVersion', 'continue', 'remainingItemCount']

/**
 * Kinds whose Go type has a non-pointer Status struct with only omitempty fields, which encoding/json
 * prints as `status: {}` when unset. (CalicoNodeStatus's zero status has non-omitempty members; a
 * stored one always carries its status.)
 */
const ALWAYS_STATUS = new Set(['KubeControllersConfiguration', 'Node', 'Tier'])

export function isList(r: Result): r is ResourceList {
  return Array.isArray((r as ResourceList).items)
}

function ordered(obj: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of order) if (k in obj && obj[k] !== undefined) out[k] = obj[k]
  for (const [k, v] of Object.entries(obj)) if (!(k in out) && v !== undefined) out[k] = v
  return out
}

function sortedKeys(m: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]]))
}

const RESOURCE_ORDER = ['kind', 'apiVersion', 'metadata', 'spec', 'status']
const RESOURCE_INDEX = new Map(RESOURCE_ORDER.map((k, i) => [k, i]))
const OBJECT_META_INDEX = new Map(OBJECT_META_ORDER.map((k, i) => [k, i]))

/** Whether `sortedKeys` would keep this map's key order (non-objects are left alone). */
function keysSorted(m: unknown): boolean {
  if (!m || typeof m !== 'object') return true
  let previous: string | undefined
  for (const k in m) {
    if (previous !== undefined && previous > k) return false
    previous = k
  }
  return true
}

/**
 * Whether key order matters: it does for JSON; the YAML emitter sorts every mapping's keys itself (as go-yaml
 * does), so for YAML ordering would be work thrown away (a sixth of a bulk `get -o yaml`'s formatting).
 */
export type KeyOrder = 'go' | 'any'

function shapeResource(res: Resource, orderFields: FieldOrderer | undefined, keyOrder: KeyOrder): Record<string, unknown> {
  const r = orderFields && keyOrder === 'go' ? orderFields(res) : res
  const hasStatus = r.status !== undefined || !ALWAYS_STATUS.has(r.kind)
  // A stored resource has every member Go would add, and once ordered its keys are in Go order already: it is
  // used as it is (no copies per item of a bulk get). YAML needs no order at all (its emitter sorts).
  if (r.metadata.creationTimestamp !== undefined && r.spec != null && hasStatus) {
    const self = r as unknown as Record<string, unknown>
    if (keyOrder === 'any') return self
    const meta = r.metadata as Record<string, unknown>
    if (keysInOrder(self, RESOURCE_INDEX) && keysInOrder(meta, OBJECT_META_INDEX) && keysSorted(meta.labels) && keysSorted(meta.annotations)) {
      return self
    }
  }
  const meta: Record<string, unknown> = {...r.metadata}
  if (meta.creationTimestamp === undefined) meta.creationTimestamp = null
  if (keyOrder === 'any') {
    const out: Record<string, unknown> = {...r, metadata: meta, spec: r.spec ?? {}}
    if (!hasStatus) out.status = {}
    return out
  }
  // Go maps marshal with sorted keys.
  for (const k of ['labels', 'annotations']) {
    const m = meta[k]
    if (m && typeof m === 'object') meta[k] = sortedKeys(m as Record<string, unknown>)
  }
  const out: Record<string, unknown> = {
    kind: r.kind,
    apiVersion: r.apiVersion,
    metadata: ordered(meta, OBJECT_META_ORDER),
    spec: r.spec ?? {},
  }
  if (r.status !== undefined) out.status = r.status
  else if (!hasStatus) out.status = {}
  return ordered({...(r as unknown as Record<string, unknown>), ...out}, RESOURCE_ORDER)
}

/**
 * A result (resource or `<Kind>List`) as the plain object Go's encoding/json would produce; with keyOrder
 * 'any', the same members and values in whatever key order is cheapest (undefined members may remain: both
 * emitters skip them).
 */
export function toGoJSONShape(result: Result, orderFields?: FieldOrderer, keyOrder: KeyOrder = 'go'): Record<string, unknown> {
  if (!isList(result)) return shapeResource(result, orderFields, keyOrder)
  return {
    kind: result.kind,
    apiVersion: result.apiVersion,
    metadata: keyOrder === 'go' ? ordered({...result.metadata}, LIST_META_ORDER) : result.metadata,
    items: result.items.map((i) => shapeResource(i, orderFields, keyOrder)),
  }
}
