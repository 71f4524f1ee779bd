// Value encoding shared by the etcd and embedded backends (libcalico-model.md §9.2): the JSON of the
// full object with metadata.resourceVersion and selfLink emptied, plus the policy-name annotation that
// Calico 3.30+ writes for tiered policy kinds. IPAM objects are stored verbatim.

import {ParsingDatastoreEntryError, ValidationError} from '../api/errors.js'
import {POLICY_KINDS} from '../api/kinds.js'
import type {ObjectMeta} from '../api/resource.js'
import type {Key} from './backend.js'
import {IPAM_KINDS} from './keys.js'
import {isObject} from '../api/json.js'

/** Holds the name a policy was created with, so reads can undo legacy tier-prefixed storage names. */
export const POLICY_NAME_ANNOTATION = 'projectcalico.org/metadata'

/** Serialises a value for storage under `key`. */
export function encodeValue(key: Key, value: unknown): string {
  if (IPAM_KINDS.has(key.kind) || !isObject(value) || !isObject(value.metadata)) return JSON.stringify(value)
  const metadata: ObjectMeta = {...(value.metadata as ObjectMeta)}
  delete metadata.resourceVersion
  delete metadata.selfLink
  if (POLICY_KINDS.has(key.kind)) {
    metadata.annotations = {
      ...metadata.annotations,
      [POLICY_NAME_ANNOTATION]: JSON.stringify({name: metadata.name ?? key.name}),
    }
  }
  return JSON.stringify({...value, metadata})
}

/**
 * Parses a stored value. For v3 resources the revision becomes metadata.resourceVersion and policy
 * names are recovered as libcalico-go's determinePolicyName does. `path` only labels errors.
 */
export function decodeValue(key: Key, text: string, revision: string, path: string): unknown {
  // Older Calico wrote block affinities with an empty value; it reads as `{}` (confirmed).
  if (text === '' && key.kind === 'BlockAffinity') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ParsingDatastoreEntryError(path, (err as Error).message)
  }
  if (IPAM_KINDS.has(key.kind)) return value
  if (!isObject(value) || !isObject(value.metadata)) {
    throw new ParsingDatastoreEntryError(path, 'expected a JSON object with metadata')
  }
  const metadata = value.metadata as ObjectMeta
  if (POLICY_KINDS.has(key.kind)) recoverPolicyName(metadata, value.spec, path)
  metadata.resourceVersion = revision
  return value
}

function recoverPolicyName(metadata: ObjectMeta, spec: unknown, path: string): void {
  const annotations = metadata.annotations
  const stored = annotations?.[POLICY_NAME_ANNOTATION]
  if (annotations && stored) {
    let parsed: unknown
    try {
      parsed = JSON.parse(stored)
    } catch (err) {
      throw new ParsingDatastoreEntryError(path, `annotation "${POLICY_NAME_ANNOTATION}" contained invalid JSON: ${(err as Error).message}`)
    }
    if (isObject(parsed) && typeof parsed.name === 'string') metadata.name = parsed.name
    // The value was just parsed from its stored text, so it is changed in place rather than copied.
    delete annotations[POLICY_NAME_ANNOTATION]
    if (Object.keys(annotations).length === 0) delete metadata.annotations
    return
  }
  // Stores written before the annotation existed hold default-tier policies as `default.<name>`.
  const tier = isObject(spec) && typeof spec.tier === 'string' ? spec.tier : ''
  if ((tier === '' || tier === 'default') && metadata.name?.startsWith('default.')) {
    metadata.name = metadata.name.slice('default.'.length)
  }
}

/** Revisions are decimal strings (etcd's int64 mod revision); anything else is a caller error, as in Calico. */
export function parseRevision(revision: string): number {
  if (!/^\d{1,15}$/.test(revision)) {
    throw new ValidationError([{name: 'Metadata.ResourceVersion', value: revision, reason: 'revision is not a valid number'}])
  }
  return Number(revision)
}
