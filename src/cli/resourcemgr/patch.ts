// Strategic merge patch as `calicoctl patch` applies it to v3 resources. Calico's v3 types carry no
// patchMergeKey tags, so Kubernetes' strategic merge reduces to these rules:
//   - objects merge key by key, recursively;
//   - lists (and scalars) in the patch replace the original value wholesale;
//   - a `null` value deletes the key;
//   - the directive `$patch: replace` inside an object replaces that object instead of merging,
//     `$patch: delete` removes it.
import {isObject} from '../../api/json.js'

export type Json = null | boolean | number | string | Json[] | {[key: string]: Json}

export class PatchError extends Error {}

function withoutDirective(obj: {[key: string]: Json}): {[key: string]: Json} {
  const copy = {...obj}
  delete copy.$patch
  return copy
}

function merge(original: Json | undefined, patch: Json): Json | undefined {
  if (!isObject(patch)) return patch
  const directive = patch.$patch
  if (directive !== undefined) {
    if (directive === 'delete') return undefined
    if (directive === 'replace') return stripNulls(withoutDirective(patch))
    throw new PatchError(`unknown patch type: ${JSON.stringify(directive)}`)
  }
  const out: {[key: string]: Json} = isObject(original) ? {...original} : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete out[key]
      continue
    }
    const merged = merge(out[key], value)
    if (merged === undefined) delete out[key]
    else out[key] = merged
  }
  return out
}

/** A null in a brand-new subtree means nothing to delete; drop it rather than store it. */
function stripNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripNulls)
  if (!isObject(v)) return v
  const out: {[key: string]: Json} = {}
  for (const [k, child] of Object.entries(v)) if (child !== null) out[k] = stripNulls(child)
  return out
}

/** Applies a patch document (JSON text) to an object; throws PatchError on malformed patches. */
export function strategicMergePatch(original: {[key: string]: Json}, patchText: string): {[key: string]: Json} {
  let patch: Json
  try {
    patch = JSON.parse(patchText)
  } catch (err) {
    throw new PatchError((err as Error).message)
  }
  if (!isObject(patch)) throw new PatchError('patch must be a JSON object')
  const merged = merge(original, patch)
  return isObject(merged) ? merged : {}
}
