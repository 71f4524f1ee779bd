// What the plugin knows about the pod it wires up. For a Kubernetes pod on the Kubernetes datastore it asks the API
// server, as Calico's plugin does (cni-plugin/pkg/k8s getK8sPodInfo, getK8sNSInfo): the Pod's labels, service
// account and annotations, and its Namespace's labels and annotations (ipamplugin's getNamespace: IP pools'
// namespaceSelector), read over the datastore's own API connection. Otherwise
// the labels come from the network configuration's `args.cni.labels`, with Kubernetes' default service account.
import type {Backend} from '../datastore/backend.js'
import type {KubernetesBackend} from '../datastore/kubernetes/backend.js'
import type {KubeObject} from '../datastore/kubernetes/client.js'
import type {NetConf} from './config.js'
import type {PodInfo} from './endpoint.js'
import {labelsFromArgs} from './endpoint.js'
import {CNI_CODES, CniError} from './errors.js'
import type {WorkloadIdentifiers} from './names.js'

/** Kubernetes runs pods without an explicit service account as `default`. */
export const DEFAULT_SERVICE_ACCOUNT = 'default'

/** The pod facts the API server supplies. */
export interface KubernetesPod {
  labels: Record<string, string>
  annotations: Record<string, string>
  serviceAccountName: string
}

/** The namespace facts Calico uses: labels for IP pools' namespaceSelector, annotations for IPAM settings. */
export interface KubernetesNamespace {
  labels: Record<string, string>
  annotations: Record<string, string>
}

/** Reads pods and namespaces; failures (a missing pod included) are CniErrors with the API server's message. */
export interface PodReader {
  readPod(namespace: string, name: string): Promise<KubernetesPod>
  readNamespace(namespace: string): Promise<KubernetesNamespace>
}

/** Everything ADD uses about the pod: the endpoint's labels and account, and the annotations Calico acts on. */
export interface PodFacts extends PodInfo {
  annotations: Record<string, string>
  namespaceAnnotations: Record<string, string>
  /** Undefined when no API server was asked (IPAM then matches namespace selectors against no labels). */
  namespaceLabels?: Record<string, string>
}

/** Implemented by test doubles standing in for the API server. */
export function hasPodReader(backend: Backend): backend is Backend & PodReader {
  const r = backend as Partial<PodReader>
  return typeof r.readPod === 'function' && typeof r.readNamespace === 'function'
}

const stringMap = (v: unknown): Record<string, string> =>
  typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')) : {}

/** The API server reads over the Kubernetes backend's client (the module is loaded already when that backend is). */
async function apiServerReader(backend: KubernetesBackend): Promise<PodReader> {
  const {KubeApiError} = await import('../datastore/kubernetes/client.js')
  const get = async (path: string): Promise<KubeObject> => {
    try {
      return await backend.client.request<KubeObject>('GET', path)
    } catch (err) {
      // kubelet retries a failed ADD; the message is the API server's own (`pods "web-0" not found`).
      if (err instanceof KubeApiError) throw new CniError(CNI_CODES.internal, err.message)
      throw err
    }
  }
  const ns = encodeURIComponent
  return {
    async readPod(namespace, name) {
      const pod = await get(`/api/v1/namespaces/${ns(namespace)}/pods/${ns(name)}`)
      const spec = (pod.spec ?? {}) as {serviceAccountName?: unknown}
      return {
        labels: stringMap(pod.metadata.labels),
        annotations: stringMap(pod.metadata.annotations),
        serviceAccountName: typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : '',
      }
    },
    async readNamespace(namespace) {
      const {metadata} = await get(`/api/v1/namespaces/${ns(namespace)}`)
      return {labels: stringMap(metadata.labels), annotations: stringMap(metadata.annotations)}
    },
  }
}

/** Who answers pod questions for this datastore: the API server on KDD, nobody elsewhere. */
export async function podReaderFor(backend: Backend): Promise<PodReader | undefined> {
  if (hasPodReader(backend)) return backend
  if (backend.type === 'kubernetes') return apiServerReader(backend as KubernetesBackend)
  return undefined
}

export async function podFacts(conf: NetConf, ids: WorkloadIdentifiers, reader: PodReader | undefined): Promise<PodFacts> {
  const none = {annotations: {}, namespaceAnnotations: {}}
  if (ids.orchestrator !== 'k8s') return {labels: labelsFromArgs(conf.labels), serviceAccountName: '', ...none}
  if (reader === undefined) return {labels: labelsFromArgs(conf.labels), serviceAccountName: DEFAULT_SERVICE_ACCOUNT, ...none}
  // The namespace first, as Calico does: a pod in a namespace that is gone fails on the namespace.
  const namespace = await reader.readNamespace(ids.namespace)
  const pod = await reader.readPod(ids.namespace, ids.pod)
  return {
    labels: pod.labels,
    serviceAccountName: pod.serviceAccountName || DEFAULT_SERVICE_ACCOUNT,
    annotations: pod.annotations,
    namespaceAnnotations: namespace.annotations,
    namespaceLabels: namespace.labels,
  }
}
