import type {Resource} from './resource.js'

/** Applies the defaults Calico applies on write. Placeholder until the schema lands. */
export function applyDefaults(res: Resource): Resource {
  return res
}
