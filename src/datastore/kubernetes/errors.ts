// Kubernetes API failures as Calico's errors (k8s/resources/errors.go K8sErrorToCalico), plus one
// clear line for the failures that are about the cluster rather than the resource.

import {
  DatastoreError, ResourceAlreadyExistsError, ResourceDoesNotExistError, ResourceUpdateConflictError, ValidationError,
} from '../../api/errors.js'
import type {Key} from '../backend.js'
import {kindInfo} from '../../api/kinds.js'
import {resourceId} from '../../api/resource.js'
import {keyId} from '../keys.js'
import {KubeApiError} from './client.js'
import type {Source} from './resources.js'

/** How errors name a key: keys.ts's ids, plus the namespace of KDD-only namespaced kinds. */
export function idOf(key: Key): string {
  return key.namespace !== undefined && !kindInfo(key.kind) ? resourceId(key.kind, key.name, key.namespace) : keyId(key)
}

export function crdName(source: Source): string {
  return `${source.plural}.${source.group}`
}

export function crdMissingError(source: Source): DatastoreError {
  return new DatastoreError(`the CustomResourceDefinition ${crdName(source)} is not installed in the cluster; install Calico's CRDs first (kubectl apply -f manifests/crds${source.group === 'projectcalico.org' ? '/v3' : ''})`)
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404 && err.objectName !== undefined
}

/** Maps a failed request about `key` (stored in `source`) to the error calicoctl shows. */
export function toCalicoError(err: unknown, source: Source, key?: Key): Error {
  if (!(err instanceof KubeApiError)) return err instanceof Error ? err : new Error(String(err))
  const id = key ? idOf(key) : crdName(source)
  switch (err.code) {
    case 404:
      if (err.objectName === undefined) {
        return source.group === '' || source.group.endsWith('k8s.io')
          ? new DatastoreError(`the Kubernetes API server does not serve ${crdName(source)}: ${err.message}`)
          : crdMissingError(source)
      }
      // Calico wraps the API server's error, so calicoctl prints its text where etcd prints <nil>.
      return key ? new ResourceDoesNotExistError(id, err.message) : new DatastoreError(err.message)
    case 409:
      return err.reason === 'AlreadyExists' ? new ResourceAlreadyExistsError(id, err.message) : new ResourceUpdateConflictError(id)
    case 401:
      return new DatastoreError(`the Kubernetes API server rejected the credentials (401 Unauthorized); check the token or client certificate in the kubeconfig`)
    case 403:
      return new DatastoreError(`the Kubernetes API server denied access (403 Forbidden): ${err.message}; grant the Calico ClusterRole (manifests/rbac) to this user`)
    case 422:
    case 400:
      return new ValidationError([{name: 'Metadata', value: key?.name, reason: err.message}])
    default:
      return new DatastoreError(`the Kubernetes API server failed the request for ${id} (${err.code}${err.reason ? ` ${err.reason}` : ''}): ${err.message}`)
  }
}
