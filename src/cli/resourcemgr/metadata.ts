// How calicoctl treats the metadata of its input (resourcemgr.go): which fields survive a create, what an update
// keeps from the stored object, what --export strips.
import type {ObjectMeta, Resource} from '../../api/resource.js'

/** Keeps only name, namespace, resourceVersion, labels and annotations; server-owned fields are dropped. */
export function prepareMetadataForCreate(res: Resource): Resource {
  const {name, namespace, resourceVersion, labels, annotations} = res.metadata
  const metadata: ObjectMeta = {}
  if (name !== undefined) metadata.name = name
  if (namespace !== undefined) metadata.namespace = namespace
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion
  if (labels !== undefined) metadata.labels = labels
  if (annotations !== undefined) metadata.annotations = annotations
  return {...res, metadata}
}

/** The stored metadata with the input's labels and annotations: the only metadata a user may change. */
export function mergeMetadataForUpdate(stored: Resource, input: Resource): Resource {
  const metadata: ObjectMeta = {...structuredClone(stored.metadata)}
  delete metadata.labels
  delete metadata.annotations
  if (input.metadata.labels !== undefined) metadata.labels = input.metadata.labels
  if (input.metadata.annotations !== undefined) metadata.annotations = input.metadata.annotations
  return {...input, metadata}
}

/** `get --export`: drops what ties a named object to one cluster. */
export function exportMetadata(res: Resource): Resource {
  const metadata: ObjectMeta = {...res.metadata}
  delete metadata.namespace
  delete metadata.uid
  delete metadata.resourceVersion
  delete metadata.creationTimestamp
  delete metadata.deletionTimestamp
  delete metadata.deletionGracePeriodSeconds
  return {...res, metadata}
}
