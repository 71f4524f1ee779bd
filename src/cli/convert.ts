// `calicoctl convert`: Kubernetes networking.k8s.io/v1 NetworkPolicy manifests to Calico v3 NetworkPolicy, as
// calicoctl v3.31 printed them (name unchanged, no tier field, policyTypes taken as written). Removed upstream in
// v3.32; kept here because users still convert manifests with it.
import yaml from 'js-yaml'

import {applyDefaults} from '../api/defaults.js'
import {convertK8sNetworkPolicy, type K8sNetworkPolicy} from '../api/k8s-networkpolicy.js'
import type {Resource, ResourceList} from '../api/resource.js'
import {validateResource} from '../api/validate.js'
import {readResourceText, splitDocuments} from './input.js'
import {isObject} from '../api/json.js'

const K8S_NETWORKING = 'networking.k8s.io/v1'

export interface ConvertOptions {
  ignoreValidation?: boolean
  stdin?: () => Promise<string>
}

/** The objects of a manifest: documents, top-level arrays and `<Kind>List`/`List` items, in order. */
function manifestObjects(text: string, file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  const add = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(add)
    if (!isObject(v)) throw new Error(`${file}: a document must be an object or a list of objects`)
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) return v.items.forEach(add)
    out.push(v)
  }
  for (const doc of splitDocuments(text)) {
    const parsed = yaml.load(doc, {schema: yaml.CORE_SCHEMA, filename: file})
    if (parsed !== undefined && parsed !== null) add(parsed)
  }
  return out
}

function convertOne(obj: Record<string, unknown>): Resource {
  const apiVersion = String(obj.apiVersion ?? '')
  const kind = String(obj.kind ?? '')
  if (apiVersion.toLowerCase() !== K8S_NETWORKING || kind.toLowerCase() !== 'networkpolicy') {
    throw new Error(`conversion of ${kind || '<no kind>'} (${apiVersion || '<no apiVersion>'}) is not supported: only ${K8S_NETWORKING} NetworkPolicy can be converted`)
  }
  if (!isObject(obj.metadata) || !isObject(obj.spec)) throw new Error(`NetworkPolicy needs metadata and spec`)
  const {policy, error} = convertK8sNetworkPolicy(obj as unknown as K8sNetworkPolicy, {naming: 'convert', apiServerDefaults: false})
  if (error) throw error
  const res = policy as unknown as Resource
  // Cluster-specific metadata does not belong in a manifest.
  for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
    delete res.metadata[field]
  }
  return res
}

/**
 * Converts every object of the file. One result prints as the object itself, several as a v1 List, as
 * calicoctl did.
 */
export async function convertManifests(filename: string, options: ConvertOptions = {}): Promise<Resource | ResourceList> {
  let objects: Record<string, unknown>[]
  try {
    objects = manifestObjects(await readResourceText(filename, options.stdin), filename)
  } catch (err) {
    throw new Error(`failed to create resources from file: ${(err as Error).message}`)
  }
  const results: Resource[] = []
  for (const obj of objects) {
    let res: Resource
    try {
      res = convertOne(obj)
    } catch (err) {
      throw new Error(`failed to convert resource: ${(err as Error).message}`)
    }
    if (!options.ignoreValidation) {
      try {
        validateResource(applyDefaults(res))
      } catch (err) {
        // calicoctl's text runs the two sentences together; kept as it printed them.
        throw new Error(
          `converted manifest resource(s) failed validation: ${(err as Error).message}Re-run the command with '--ignore-validation' flag to see the converted output`,
        )
      }
    }
    results.push(res)
  }
  if (results.length === 0) throw new Error(`failed to create resources from file: no resources specified in file ${filename}`)
  return results.length === 1 ? results[0] : {apiVersion: 'v1', kind: 'List', metadata: {}, items: results}
}
