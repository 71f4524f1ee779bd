// The one test for "a JSON object" (not null, not an array) that decoders, converters and patchers share. Pure.

/** A decoded JSON object whose values are not yet checked. */
export type JsonObject = Record<string, unknown>

/**
 * Whether v is a plain JSON object. Narrows `unknown` to JsonObject, and a JSON union type (such as
 * `null | string | Json[] | {[k: string]: Json}`) to its object member.
 */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
