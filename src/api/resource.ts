// The wire shape shared by every projectcalico.org/v3 object. Per-kind spec types live in types.ts.

export const API_VERSION = 'projectcalico.org/v3'

export interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
  blockOwnerDeletion?: boolean
}

export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string
  deletionTimestamp?: string
  deletionGracePeriodSeconds?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: OwnerReference[]
  finalizers?: string[]
  selfLink?: string
  /** Server-side-apply bookkeeping; kept so objects exported by kubectl decode, otherwise unused. */
  managedFields?: ManagedFieldsEntry[]
}

export interface ManagedFieldsEntry {
  manager?: string
  operation?: 'Apply' | 'Update'
  apiVersion?: string
  time?: string
  fieldsType?: string
  fieldsV1?: Record<string, unknown>
  subresource?: string
}

/** A v3 resource as read from YAML/JSON or a datastore: spec and status stay structurally typed per kind. */
export interface Resource<Spec = Record<string, unknown>, Status = Record<string, unknown>> {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
  spec?: Spec
  status?: Status
}

export interface ResourceList<R extends Resource = Resource> {
  apiVersion: string
  kind: string
  metadata: {resourceVersion?: string}
  items: R[]
}

/** Calico's `model.ResourceKey.String()`: `Kind(name)` or `Kind(ns/name)`. */
export function resourceId(kind: string, name: string, namespace?: string): string {
  return namespace ? `${kind}(${namespace}/${name})` : `${kind}(${name})`
}
