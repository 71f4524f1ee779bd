// Calico's pod annotations that more than one layer reads: the CNI plugin when it sets a pod up, and the Kubernetes
// datastore when it shows the pod as its WorkloadEndpoint. Pure; each caller raises its own error type with the text.
import {canonicalCIDR} from './net.js'

export const ANNOTATION_ALLOWED_SOURCE_PREFIXES = 'cni.projectcalico.org/allowedSourcePrefixes'

/** A JSON list of strings (what Go's json.Unmarshal into []string accepts), or why not. */
export function parseStringList(text: string): {list: string[]} | {error: string} {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    return {error: (err as Error).message}
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return {error: 'not a JSON list of strings'}
  return {list: v as string[]}
}

/**
 * The allowedSourcePrefixes annotation (Calico's HandleSourceIPSpoofingAnnotation): each prefix as its network
 * (`10.1.2.3/16` → `10.1.0.0/16`), the endpoint's allowSpoofedSourcePrefixes; or Calico's message for the first
 * malformed part. An absent or empty annotation is no prefixes.
 */
export function allowedSourcePrefixes(text: string | undefined): {prefixes: string[]} | {error: string} {
  if (!text) return {prefixes: []}
  const parsed = parseStringList(text)
  if ('error' in parsed) return {error: `failed to parse '${text}' as JSON: ${parsed.error}`}
  const prefixes: string[] = []
  for (const prefix of parsed.list) {
    const cidr = canonicalCIDR(prefix)
    if (cidr === undefined) return {error: `failed to parse '${prefix}' as a CIDR: invalid CIDR address: ${prefix}`}
    prefixes.push(cidr)
  }
  return {prefixes}
}
