// The WorkloadEndpoint the plugin writes for a container (cni-plugin/pkg/k8s CmdAddK8s, pkg/plugin cmdAdd), and
// the pod facts it is built from. Pure.
import {API_VERSION, type Resource} from '../api/resource.js'
import type {CniLabel} from './config.js'
import type {WorkloadIdentifiers} from './names.js'
import {wepName} from './names.js'

export const LABEL_NAMESPACE = 'projectcalico.org/namespace'
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator'
export const LABEL_SERVICE_ACCOUNT = 'projectcalico.org/serviceaccount'
/** Kubernetes label values are at most 63 characters; a longer account name is not put in a label. */
const MAX_LABEL_VALUE = 63

/** A WorkloadEndpoint port (a container's named or host port). */
export interface EndpointPort {
  name: string
  protocol: string
  port: number
  hostPort?: number
  hostIP?: string
}

/** What the plugin knows about the pod besides its identifiers (ports and generateName only from an API server). */
export interface PodInfo {
  labels: Record<string, string>
  serviceAccountName: string
  ports?: EndpointPort[]
  generateName?: string
  /** Source prefixes the pod may send from besides its own addresses (the allowedSourcePrefixes annotation). */
  allowSpoofedSourcePrefixes?: string[]
}

export interface EndpointInterface {
  /** Host-side veth name (`cali…`). */
  hostName: string
  /** The container-side MAC. */
  mac: string
  /** `10.0.0.5/32`, `fd00::5/128`. */
  ipNetworks: string[]
}

export function labelsFromArgs(labels: readonly CniLabel[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const l of labels) out[l.key] = l.value
  return out
}

/**
 * The WorkloadEndpoint resource: k8s pods get profiles `kns.<ns>` and `ksa.<ns>.<sa>` and Calico's labels;
 * plain CNI workloads get the network's own profile (Calico's behaviour for non-Kubernetes orchestrators).
 */
export function buildWorkloadEndpoint(ids: WorkloadIdentifiers, pod: PodInfo, iface: EndpointInterface, networkName: string): Resource {
  const labels: Record<string, string> = {...pod.labels}
  labels[LABEL_NAMESPACE] = ids.namespace
  labels[LABEL_ORCHESTRATOR] = ids.orchestrator
  const spec: Record<string, unknown> = {
    orchestrator: ids.orchestrator,
    node: ids.node,
    containerID: ids.containerID,
  }
  let profiles: string[]
  if (ids.orchestrator === 'k8s') {
    spec.pod = ids.pod
    if (pod.serviceAccountName !== '' && pod.serviceAccountName.length < MAX_LABEL_VALUE) labels[LABEL_SERVICE_ACCOUNT] = pod.serviceAccountName
    if (pod.serviceAccountName !== '') spec.serviceAccountName = pod.serviceAccountName
    profiles = [`kns.${ids.namespace}`]
    if (pod.serviceAccountName !== '') profiles.push(`ksa.${ids.namespace}.${pod.serviceAccountName}`)
  } else {
    spec.workload = ids.containerID
    profiles = [networkName]
  }
  Object.assign(spec, {
    endpoint: ids.endpoint,
    ipNetworks: [...iface.ipNetworks],
    profiles,
    interfaceName: iface.hostName,
    mac: iface.mac,
  })
  if (pod.ports !== undefined && pod.ports.length > 0) spec.ports = pod.ports.map((p) => ({...p}))
  if (pod.allowSpoofedSourcePrefixes !== undefined && pod.allowSpoofedSourcePrefixes.length > 0) spec.allowSpoofedSourcePrefixes = [...pod.allowSpoofedSourcePrefixes]
  const metadata: Resource['metadata'] = {name: wepName(ids), namespace: ids.namespace, labels}
  if (pod.generateName !== undefined) metadata.generateName = pod.generateName
  return {apiVersion: API_VERSION, kind: 'WorkloadEndpoint', metadata, spec}
}
