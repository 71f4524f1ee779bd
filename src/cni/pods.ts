// Where pod labels and the service account come from. With the Kubernetes datastore the Pod is read through the
// backend when it offers `readPod` (the seam for src/datastore/kubernetes); otherwise from the network
// configuration's `args.cni.labels`, with Kubernetes' default service account.
import type {Backend} from '../datastore/backend.js'
import type {NetConf} from './config.js'
import type {PodInfo} from './endpoint.js'
import {labelsFromArgs} from './endpoint.js'
import {CNI_CODES, CniError} from './errors.js'
import type {WorkloadIdentifiers} from './names.js'

/** Kubernetes runs pods without an explicit service account as `default`. */
export const DEFAULT_SERVICE_ACCOUNT = 'default'

/** The pod facts a backend that mirrors Kubernetes can supply. */
export interface KubernetesPod {
  labels?: Record<string, string>
  serviceAccountName?: string
}

/** Implemented by a Backend that can read core/v1 Pods (the Kubernetes datastore). */
export interface PodReader {
  readPod(namespace: string, name: string): Promise<KubernetesPod | undefined>
}

export function hasPodReader(backend: Backend): backend is Backend & PodReader {
  return typeof (backend as Partial<PodReader>).readPod === 'function'
}

export async function podInfo(conf: NetConf, ids: WorkloadIdentifiers, backend: Backend): Promise<PodInfo> {
  const fromArgs = labelsFromArgs(conf.labels)
  if (ids.orchestrator !== 'k8s') return {labels: fromArgs, serviceAccountName: ''}
  if (conf.datastoreType === 'kubernetes' && hasPodReader(backend)) {
    const pod = await backend.readPod(ids.namespace, ids.pod)
    if (pod === undefined) throw new CniError(CNI_CODES.internal, `pods "${ids.pod}" not found`)
    return {labels: {...(pod.labels ?? {})}, serviceAccountName: pod.serviceAccountName || DEFAULT_SERVICE_ACCOUNT}
  }
  return {labels: fromArgs, serviceAccountName: DEFAULT_SERVICE_ACCOUNT}
}
