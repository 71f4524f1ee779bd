// The patch types kubectl sends: JSON merge patch (RFC 7386; CRDs), JSON patch (RFC 6902) and
// strategic merge patch for native kinds. Strategic merge is implemented for what kubectl's
// client-side apply produces: maps merge, `null` deletes, lists of objects merge by their merge key
// (for the native fields that declare one), other lists are replaced, and the `$patch`,
// `$setElementOrder/`, `$retainKeys` and `$deleteFromPrimitiveList/` directives are honoured.
import {isObject} from '../../src/api/json.js'

export type Json = null | boolean | number | string | Json[] | {[k: string]: Json}
type JsonObject = {[k: string]: Json}

export class PatchError extends Error {}

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch
  const out: JsonObject = isObject(target) ? {...target} : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

function pointer(path: string): string[] {
  if (path === '') return []
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer ${JSON.stringify(path)}`)
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function clone<T extends Json>(v: T): T {
  return structuredClone(v)
}

export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations')
  let doc = clone(target)
  const parentOf = (parts: string[]): [Json, string] => {
    let cur: Json = doc
    for (const p of parts.slice(0, -1)) {
      const next: Json | undefined = Array.isArray(cur) ? cur[Number(p)] : isObject(cur) ? cur[p] : undefined
      if (next === undefined) throw new PatchError(`path not found: /${parts.join('/')}`)
      cur = next
    }
    return [cur, parts[parts.length - 1]]
  }
  const read = (path: string): Json => {
    let cur: Json = doc
    for (const p of pointer(path)) {
      const next: Json | undefined = Array.isArray(cur) ? cur[Number(p)] : isObject(cur) ? cur[p] : undefined
      if (next === undefined) throw new PatchError(`path not found: ${path}`)
      cur = next
    }
    return cur
  }
  const remove = (path: string): Json => {
    const [parent, last] = parentOf(pointer(path))
    if (Array.isArray(parent)) return parent.splice(Number(last), 1)[0]
    if (!isObject(parent) || !(last in parent)) throw new PatchError(`path not found: ${path}`)
    const old = parent[last]
    delete parent[last]
    return old
  }
  const add = (path: string, value: Json) => {
    const parts = pointer(path)
    if (parts.length === 0) {
      doc = value
      return
    }
    const [parent, last] = parentOf(parts)
    if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, value)
    else if (isObject(parent)) parent[last] = value
    else throw new PatchError(`cannot add at ${path}`)
  }
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw new PatchError('invalid JSON patch operation')
    switch (op.op) {
      case 'add':
        add(op.path, clone(op.value ?? null))
        break
      case 'remove':
        remove(op.path)
        break
      case 'replace':
        remove(op.path)
        add(op.path, clone(op.value ?? null))
        break
      case 'move':
        add(op.path, remove(String(op.from)))
        break
      case 'copy':
        add(op.path, clone(read(String(op.from))))
        break
      case 'test':
        if (JSON.stringify(read(op.path)) !== JSON.stringify(op.value)) throw new PatchError(`test failed at ${op.path}`)
        break
      default:
        throw new PatchError(`unknown JSON patch operation ${JSON.stringify(op.op)}`)
    }
  }
  return doc
}

/** patchMergeKey of the native list fields kubectl patches (k8s.io/api struct tags). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  env: 'name',
  ports: 'containerPort',
  conditions: 'type',
  imagePullSecrets: 'name',
  secrets: 'name',
  tolerations: 'key',
  hostAliases: 'ip',
  addresses: 'type',
  ownerReferences: 'uid',
  podIPs: 'ip',
}

function mergeList(field: string, target: Json[], patch: Json[]): Json[] {
  const key = MERGE_KEYS[field]
  if (!key || !patch.every(isObject) || !target.every(isObject)) {
    return patch.filter((p) => !(isObject(p) && p.$patch !== undefined))
  }
  const out = [...target] as JsonObject[]
  for (const item of patch as JsonObject[]) {
    const idx = out.findIndex((t) => t[key] === item[key])
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1)
    } else if (item.$patch === 'replace') {
      return patch.filter((p) => isObject(p) && p.$patch === undefined)
    } else if (idx >= 0) out[idx] = strategicMerge(out[idx], item) as JsonObject
    else out.push(strategicMerge(undefined, item) as JsonObject)
  }
  return out
}

export function strategicMerge(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch
  if (patch.$patch === 'replace') {
    const rest = {...patch}
    delete rest.$patch
    return rest
  }
  if (patch.$patch === 'delete') return null
  let out: JsonObject = isObject(target) ? {...target} : {}
  const retain = patch.$retainKeys
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length)
      const cur = out[field]
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.includes(x))
      continue
    }
    if (v === null) delete out[k]
    else if (Array.isArray(v)) out[k] = mergeList(k, Array.isArray(out[k]) ? (out[k] as Json[]) : [], v)
    else out[k] = strategicMerge(out[k], v)
  }
  if (Array.isArray(retain)) {
    out = Object.fromEntries(Object.entries(out).filter(([k]) => retain.includes(k)))
  }
  return out
}
