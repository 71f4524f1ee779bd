// What the plugin asks the API server about the pod it wires up (cni-plugin/pkg/k8s getK8sPodInfo, getK8sNSInfo,
// getPodCidrs; ipamplugin getNamespace, getVMIInfoForPod): the Pod's labels, service account, named ports and
// annotations, its Namespace's labels (IP pools' namespaceSelector) and annotations, its Node's pod CIDRs
// (host-local IPAM's `usePodCidr`), and the KubeVirt VirtualMachineInstance and VirtualMachine a virt-launcher pod
// runs. Calico reads the Pod and Namespace only in its k8s policy mode (`policy.type: k8s`); without it the labels
// come from the network configuration's `args.cni.labels`, with Kubernetes' default service account.
// On the Kubernetes datastore the reads go over the datastore's own API connection, elsewhere over a connection of
// their own (Calico's NewK8sClient: the kubeconfig and the API root and credential overrides).
import {isObject} from '../api/json.js'
import type {OwnerReference} from '../api/resource.js'
import type {Backend} from '../datastore/backend.js'
import type {KubernetesBackend} from '../datastore/kubernetes/backend.js'
import type {KubeClient, KubeObject} from '../datastore/kubernetes/client.js'
import type {NetConf} from './config.js'
import {datastoreConfig} from './datastore.js'
import type {EndpointPort, PodInfo} from './endpoint.js'
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
  /** The containers' named and host ports, as the Pod's endpoint lists them. */
  ports: EndpointPort[]
  generateName?: string
  /** KubeVirt's virt-launcher pods are owned by their VirtualMachineInstance. */
  ownerReferences: OwnerReference[]
}

/** What the plugin uses of a KubeVirt VirtualMachineInstance or VirtualMachine (kubevirt.io/v1). */
export interface KubeVirtObject {
  uid: string
  /** Its deletionTimestamp is set. */
  deleting: boolean
  ownerReferences: OwnerReference[]
}

export type KubeVirtKind = 'virtualmachineinstances' | 'virtualmachines'

/** The API server answered 404: the object does not exist. */
export class ApiNotFoundError extends CniError {}

/** The namespace facts Calico uses: labels for IP pools' namespaceSelector, annotations for IPAM settings. */
export interface KubernetesNamespace {
  labels: Record<string, string>
  annotations: Record<string, string>
}

/** Reads pods, namespaces and nodes; failures (a missing pod included) are CniErrors with the API server's message. */
export interface PodReader {
  readPod(namespace: string, name: string): Promise<KubernetesPod>
  readNamespace(namespace: string): Promise<KubernetesNamespace>
  /** The Node's `spec.podCIDRs` (empty when the node has none). */
  readNodePodCIDRs(name: string): Promise<string[]>
  readKubeVirt(kind: KubeVirtKind, namespace: string, name: string): Promise<KubeVirtObject>
}

/** A reader and the connection it may have opened for itself. */
export interface OpenPodReader {
  reader: PodReader
  close(): void
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
  return [r.readPod, r.readNamespace, r.readNodePodCIDRs, r.readKubeVirt].every((f) => typeof f === 'function')
}

/** Calico reads the Pod and its Namespace only in its k8s policy mode (CmdAddK8s). */
export function readsPod(conf: NetConf, ids: WorkloadIdentifiers): boolean {
  return ids.orchestrator === 'k8s' && conf.policyType === 'k8s'
}

/** calico-ipam reads the namespace for IP pools' namespaceSelector when it has Kubernetes access (ipamplugin cmdAdd). */
export function readsNamespaceForIpam(conf: NetConf, ids: WorkloadIdentifiers): boolean {
  return (conf.kubeconfig !== undefined || conf.policyType === 'k8s') && ids.namespace !== ''
}

const ownerReferences = (v: unknown): OwnerReference[] =>
  Array.isArray(v) ? v.filter((r): r is OwnerReference => isObject(r) && typeof r.apiVersion === 'string' && typeof r.kind === 'string' && typeof r.name === 'string') : []

const stringMap = (v: unknown): Record<string, string> =>
  typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')) : {}

/** Pod and Namespace reads over an API client (the Kubernetes modules are loaded only on this path). */
async function apiServerReader(client: KubeClient): Promise<PodReader> {
  const [{KubeApiError}, {podToWorkloadEndpoint}] = await Promise.all([import('../datastore/kubernetes/client.js'), import('../datastore/kubernetes/convert.js')])
  const get = async (path: string): Promise<KubeObject> => {
    try {
      return await client.request<KubeObject>('GET', path)
    } catch (err) {
      // kubelet retries a failed ADD; the message is the API server's own (`pods "web-0" not found`).
      if (err instanceof KubeApiError) throw err.code === 404 ? new ApiNotFoundError(CNI_CODES.internal, err.message) : new CniError(CNI_CODES.internal, err.message)
      throw err
    }
  }
  const ns = encodeURIComponent
  return {
    async readPod(namespace, name) {
      const pod = await get(`/api/v1/namespaces/${ns(namespace)}/pods/${ns(name)}`)
      const spec = (pod.spec ?? {}) as {serviceAccountName?: unknown}
      // The ports as the Pod's endpoint view has them (Calico's getK8sPodInfo converts the Pod the same way).
      const view = podToWorkloadEndpoint(pod)
      const ports = (view.spec as {ports?: EndpointPort[]}).ports ?? []
      const out: KubernetesPod = {
        labels: stringMap(pod.metadata.labels),
        annotations: stringMap(pod.metadata.annotations),
        serviceAccountName: typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : '',
        ports,
        ownerReferences: ownerReferences(pod.metadata.ownerReferences),
      }
      if (typeof pod.metadata.generateName === 'string' && pod.metadata.generateName !== '') out.generateName = pod.metadata.generateName
      return out
    },
    async readNamespace(namespace) {
      const {metadata} = await get(`/api/v1/namespaces/${ns(namespace)}`)
      return {labels: stringMap(metadata.labels), annotations: stringMap(metadata.annotations)}
    },
    async readNodePodCIDRs(name) {
      const {spec} = await get(`/api/v1/nodes/${ns(name)}`)
      const cidrs = (spec as {podCIDRs?: unknown} | undefined)?.podCIDRs
      return Array.isArray(cidrs) ? cidrs.filter((c): c is string => typeof c === 'string') : []
    },
    async readKubeVirt(kind, namespace, name) {
      const {metadata} = await get(`/apis/kubevirt.io/v1/namespaces/${ns(namespace)}/${kind}/${ns(name)}`)
      return {uid: metadata.uid ?? '', deleting: typeof metadata.deletionTimestamp === 'string' && metadata.deletionTimestamp !== '', ownerReferences: ownerReferences(metadata.ownerReferences)}
    },
  }
}

/**
 * Who answers API questions for this invocation (the caller decides whether it has any): a stand-in the backend
 * provides (tests), the Kubernetes datastore's API connection, or a connection of its own on another datastore.
 */
export async function openPodReader(conf: NetConf, backend: Backend): Promise<OpenPodReader> {
  if (hasPodReader(backend)) return {reader: backend, close: () => undefined}
  if (backend.type === 'kubernetes') return {reader: await apiServerReader((backend as KubernetesBackend).client), close: () => undefined}
  const {KubeClient} = await import('../datastore/kubernetes/client.js')
  const client = await KubeClient.connect({...datastoreConfig(conf), datastoreType: 'kubernetes'})
  return {reader: await apiServerReader(client), close: () => client.close()}
}

/** Runs `fn` with this invocation's API reader, closing a connection it opened for itself. */
export async function withPodReader<T>(conf: NetConf, backend: Backend, fn: (reader: PodReader) => Promise<T>): Promise<T> {
  const open = await openPodReader(conf, backend)
  try {
    return await fn(open.reader)
  } finally {
    open.close()
  }
}

/** The pod's facts; `reader` is given only when Calico would read the Pod (readsPod). */
export async function podFacts(conf: NetConf, ids: WorkloadIdentifiers, reader: PodReader | undefined): Promise<PodFacts> {
  const none = {annotations: {}, namespaceAnnotations: {}}
  if (ids.orchestrator !== 'k8s') return {labels: labelsFromArgs(conf.labels), serviceAccountName: '', ...none}
  if (reader === undefined) return {labels: labelsFromArgs(conf.labels), serviceAccountName: DEFAULT_SERVICE_ACCOUNT, ...none}
  // The namespace first, as Calico does: a pod in a namespace that is gone fails on the namespace.
  const namespace = await reader.readNamespace(ids.namespace)
  const pod = await reader.readPod(ids.namespace, ids.pod)
  const facts: PodFacts = {
    labels: pod.labels,
    serviceAccountName: pod.serviceAccountName || DEFAULT_SERVICE_ACCOUNT,
    ports: pod.ports,
    annotations: pod.annotations,
    namespaceAnnotations: namespace.annotations,
    namespaceLabels: namespace.labels,
  }
  if (pod.generateName !== undefined) facts.generateName = pod.generateName
  return facts
}
