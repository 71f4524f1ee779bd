// The identifiers Calico derives for a workload (cni-plugin/internal/pkg/utils GetIdentifiers, GetHandleID;
// libcalico-go/lib/names): who the workload is, its host-side interface name, its IPAM handle, its
// WorkloadEndpoint name. Pure.
import {createHash} from 'node:crypto'

import {workloadEndpointName} from '../datastore/client.js'
import type {CniEnv} from './config.js'

export const HOST_VETH_PREFIX = 'cali'
/** Calico's namespace for workloads of plain CNI (non-Kubernetes) runtimes. */
export const CNI_DEFAULT_NAMESPACE = 'default'

export interface WorkloadIdentifiers {
  orchestrator: 'k8s' | 'cni'
  node: string
  namespace: string
  /** Empty for the cni orchestrator. */
  pod: string
  containerID: string
  /** The container-side interface name (CNI_IFNAME). */
  endpoint: string
}

/** k8s when kubelet's CNI_ARGS name the pod, else the plain CNI orchestrator (namespace `default`). */
export function workloadIdentifiers(env: CniEnv, node: string): WorkloadIdentifiers {
  const pod = env.args.K8S_POD_NAME ?? ''
  const namespace = env.args.K8S_POD_NAMESPACE ?? ''
  const base = {node, containerID: env.containerID, endpoint: env.ifName}
  if (pod !== '' && namespace !== '') return {...base, orchestrator: 'k8s', namespace, pod}
  return {...base, orchestrator: 'cni', namespace: CNI_DEFAULT_NAMESPACE, pod: ''}
}

/** `cali` + the first 11 hex digits of sha1("<namespace>.<pod>"): 15 characters, IFNAMSIZ-safe (VethNameForWorkload). */
export function k8sHostVethName(namespace: string, pod: string): string {
  return HOST_VETH_PREFIX + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)
}

/** The host-side veth name: hashed pod identity for k8s, else `cali` + the first 11 characters of the container ID. */
export function hostVethName(ids: WorkloadIdentifiers): string {
  if (ids.orchestrator === 'k8s') return k8sHostVethName(ids.namespace, ids.pod)
  return HOST_VETH_PREFIX + ids.containerID.slice(0, 11)
}

/** `<network name>.<container ID>`, e.g. `k8s-pod-network.0a1b...` (ipam-model.md "Handle IDs"). */
export function ipamHandleID(networkName: string, containerID: string): string {
  return `${networkName}.${containerID}`
}

/** `<node>-k8s-<pod>-<endpoint>` / `<node>-cni-<containerID>-<endpoint>`, every `-` inside a part doubled. */
export function wepName(ids: WorkloadIdentifiers): string {
  return workloadEndpointName({
    node: ids.node,
    orchestrator: ids.orchestrator,
    pod: ids.pod,
    containerID: ids.containerID,
    endpoint: ids.endpoint,
  })
}
