// Where pod labels and the service account come from. With the Kubernetes datastore, from the Pod: through the
// backend's `readPod` when it offers one, else through the WorkloadEndpoint the backend derives from the Pod
// (libcalico-model.md §11.3: pod labels plus Calico's, spec.serviceAccountName). Otherwise from the network
// configuration's `args.cni.labels`, with Kubernetes' default service account.
import {ResourceDoesNotExistError} from '../api/errors.js'
import type {Resource} from '../api/resource.js'
import type {Backend} from '../datastore/backend.js'
import type {NetConf} from './config.js'
import type {PodInfo} from './endpoint.js'
import {labelsFromArgs} from './endpoint.js'
import {CNI_CODES, CniError} from './errors.js'
import type {WorkloadIdentifiers} from './names.js'
import {wepName} from './names.js'

/** Kubernetes runs pods without an explicit service account as `default`. */
export const DEFAULT_SERVICE_ACCOUNT = 'default'
/** Labels Calico adds to endpoints itself; never taken as pod labels. */
const CALICO_LABEL_PREFIX = 'projectcalico.org/'

/** The pod facts a backend that mirrors Kubernetes can supply. */
export interface KubernetesPod {
  labels?: Record<string, string>
  serviceAccountName?: string
}

/** Implemented by a Backend that can read core/v1 Pods directly. */
export interface PodReader {
  readPod(namespace: string, name: string): Promise<KubernetesPod | undefined>
}

export function hasPodReader(backend: Backend): backend is Backend & PodReader {
  return typeof (backend as Partial<PodReader>).readPod === 'function'
}

function podNotFound(ids: WorkloadIdentifiers): CniError {
  return new CniError(CNI_CODES.internal, `pods "${ids.pod}" not found`)
}

async function podFromDatastore(ids: WorkloadIdentifiers, backend: Backend): Promise<KubernetesPod> {
  if (hasPodReader(backend)) {
    const pod = await backend.readPod(ids.namespace, ids.pod)
    if (pod === undefined) throw podNotFound(ids)
    return pod
  }
  let wep: Resource
  try {
    wep = (await backend.get<Resource>({kind: 'WorkloadEndpoint', name: wepName(ids), namespace: ids.namespace})).value
  } catch (err) {
    if (err instanceof ResourceDoesNotExistError) throw podNotFound(ids)
    throw err
  }
  const labels = Object.fromEntries(Object.entries(wep.metadata.labels ?? {}).filter(([k]) => !k.startsWith(CALICO_LABEL_PREFIX)))
  const sa = (wep.spec as {serviceAccountName?: unknown} | undefined)?.serviceAccountName
  return typeof sa === 'string' ? {labels, serviceAccountName: sa} : {labels}
}

export async function podInfo(conf: NetConf, ids: WorkloadIdentifiers, backend: Backend): Promise<PodInfo> {
  const fromArgs = labelsFromArgs(conf.labels)
  if (ids.orchestrator !== 'k8s') return {labels: fromArgs, serviceAccountName: ''}
  if (conf.datastoreType === 'kubernetes') {
    const pod = await podFromDatastore(ids, backend)
    return {labels: {...(pod.labels ?? {})}, serviceAccountName: pod.serviceAccountName || DEFAULT_SERVICE_ACCOUNT}
  }
  return {labels: fromArgs, serviceAccountName: DEFAULT_SERVICE_ACCOUNT}
}
