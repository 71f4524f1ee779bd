import type {Resource} from './resource.js'

/** Strictly decodes one parsed YAML/JSON object into a v3 resource. Placeholder until the schema lands. */
export function decodeResource(doc: unknown): Resource {
  return doc as Resource
}
