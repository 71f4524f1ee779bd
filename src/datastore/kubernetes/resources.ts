// Where each kind lives in a cluster: its Kubernetes resource(s), and how one Kubernetes object
// becomes the Backend's KVPair (k8s/resources/*: customresource, ipam_*, node, profile,
// workloadendpoint, kubenetworkpolicy). Pure apart from the names; the backend does the I/O.

import {kindInfo, type KindInfo} from '../../api/kinds.js'
import type {Resource} from '../../api/resource.js'
import type {Key, KVPair} from '../backend.js'
import type {KubeObject} from './client.js'
import {
  apiVersionOf, blockAffinityFromCR, blockAffinityToCR, fromV1Resource, fromV3Resource,
  ipamBlockFromCR, ipamBlockToCR, ipamConfigFromCR, ipamConfigToCR, ipamHandleFromCR, ipamHandleToCR,
  isSoftDeleted, kubernetesNetworkPolicy, namespaceToProfile, nodeFromK8s, podIsWorkload, podToWorkloadEndpoint,
  serviceAccountToProfile, toV1Resource, toV3Resource, V1_GROUP, type CalicoGroup,
} from './convert.js'
import {cidrToName} from './names.js'

export interface Source {
  group: string
  version: string
  plural: string
  namespaced: boolean
}

/** How a kind is stored. `crd` and `ipam` are writable custom resources; the rest derive from native objects. */
export type Mapping =
  | {type: 'crd'; kind: string; source: Source; crKind: string; statusSubresource: boolean}
  | {type: 'ipam'; kind: 'IPAMBlock' | 'BlockAffinity' | 'IPAMHandle' | 'IPAMConfig'; source: Source}
  | {type: 'node'; kind: 'Node'; source: Source}
  | {type: 'profile'; kind: 'Profile'; sources: [Source, Source]}
  | {type: 'wep'; kind: 'WorkloadEndpoint'; source: Source}
  | {type: 'knp'; kind: 'KubernetesNetworkPolicy'; source: Source}

export const NODES: Source = {group: '', version: 'v1', plural: 'nodes', namespaced: false}
export const NAMESPACES: Source = {group: '', version: 'v1', plural: 'namespaces', namespaced: false}
export const SERVICE_ACCOUNTS: Source = {group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true}
export const PODS: Source = {group: '', version: 'v1', plural: 'pods', namespaced: true}
export const K8S_NETWORK_POLICIES: Source = {group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', namespaced: true}

/** Kinds the crd.projectcalico.org/v1 CRDs hold with a status subresource (libcalico-go/config/crd). */
const V1_STATUS_KINDS = new Set(['CalicoNodeStatus', 'IPPool', 'KubeControllersConfiguration', 'Tier'])

/** Every v3 kind stored as a Calico CRD (the others are derived from native objects). */
export const CRD_KINDS: readonly string[] = [
  'BGPConfiguration', 'BGPFilter', 'BGPPeer', 'CalicoNodeStatus', 'ClusterInformation', 'FelixConfiguration',
  'GlobalNetworkPolicy', 'GlobalNetworkSet', 'HostEndpoint', 'IPAMConfiguration', 'IPPool', 'IPReservation',
  'KubeControllersConfiguration', 'NetworkPolicy', 'NetworkSet', 'StagedGlobalNetworkPolicy',
  'StagedKubernetesNetworkPolicy', 'StagedNetworkPolicy', 'Tier',
]

export const IPAM_CRD_KINDS = ['IPAMBlock', 'BlockAffinity', 'IPAMHandle', 'IPAMConfig'] as const

/** All kinds this backend serves; KubernetesNetworkPolicy is KDD-only. */
export const KDD_KINDS: readonly string[] = [...CRD_KINDS, ...IPAM_CRD_KINDS, 'Node', 'Profile', 'WorkloadEndpoint', 'KubernetesNetworkPolicy']

function crdSource(group: CalicoGroup, plural: string, namespaced: boolean): Source {
  return {group, version: group === V1_GROUP ? 'v1' : 'v3', plural, namespaced}
}

/** IPAMConfiguration (public) and IPAMConfig (IPAM library) share one CR: `ipamconfigs` in v1, `ipamconfigurations` in v3. */
function ipamConfigPlural(group: CalicoGroup): string {
  return group === V1_GROUP ? 'ipamconfigs' : 'ipamconfigurations'
}

export function mappingFor(kind: string, group: CalicoGroup): Mapping | undefined {
  switch (kind) {
    case 'Node':
      return {type: 'node', kind, source: NODES}
    case 'Profile':
      return {type: 'profile', kind, sources: [NAMESPACES, SERVICE_ACCOUNTS]}
    case 'WorkloadEndpoint':
      return {type: 'wep', kind, source: PODS}
    case 'KubernetesNetworkPolicy':
      return {type: 'knp', kind, source: K8S_NETWORK_POLICIES}
    case 'IPAMBlock':
      return {type: 'ipam', kind, source: crdSource(group, 'ipamblocks', false)}
    case 'BlockAffinity':
      return {type: 'ipam', kind, source: crdSource(group, 'blockaffinities', false)}
    case 'IPAMHandle':
      return {type: 'ipam', kind, source: crdSource(group, 'ipamhandles', false)}
    case 'IPAMConfig':
      return {type: 'ipam', kind, source: crdSource(group, ipamConfigPlural(group), false)}
  }
  if (!CRD_KINDS.includes(kind)) return undefined
  const info = kindInfo(kind) as KindInfo
  const v1 = group === V1_GROUP
  const plural = kind === 'IPAMConfiguration' ? ipamConfigPlural(group) : info.plural
  const crKind = kind === 'IPAMConfiguration' && v1 ? 'IPAMConfig' : kind
  return {type: 'crd', kind, source: crdSource(group, plural, info.namespaced), crKind, statusSubresource: v1 ? V1_STATUS_KINDS.has(kind) : true}
}

/** `/api/v1/...` for the core group, `/apis/<group>/<version>/...` otherwise. */
export function resourcePath(source: Source, namespace?: string, name?: string, subresource?: string): string {
  let p = source.group === '' ? `/api/${source.version}` : `/apis/${source.group}/${source.version}`
  if (source.namespaced && namespace !== undefined) p += `/namespaces/${encodeURIComponent(namespace)}`
  p += `/${source.plural}`
  if (name !== undefined) p += `/${encodeURIComponent(name)}`
  if (subresource) p += `/${subresource}`
  return p
}

/** The Kubernetes object name a writable key is stored under. */
export function objectName(m: Mapping, key: Key): string {
  if (m.type !== 'ipam') return key.name
  switch (m.kind) {
    case 'IPAMBlock':
      return cidrToName(key.name)
    case 'BlockAffinity':
      return (blockAffinityToCR(V1_GROUP, key.name, {}).metadata.name) ?? key.name
    case 'IPAMHandle':
      return key.name.toLowerCase()
    case 'IPAMConfig':
      return 'default'
  }
}

/** The Kubernetes object for a write. */
export function toObject(m: Mapping & {type: 'crd' | 'ipam'}, group: CalicoGroup, key: Key, value: unknown): KubeObject {
  if (m.type === 'ipam') {
    switch (m.kind) {
      case 'IPAMBlock':
        return ipamBlockToCR(group, key.name, value)
      case 'BlockAffinity':
        return blockAffinityToCR(group, key.name, value)
      case 'IPAMHandle':
        return ipamHandleToCR(group, key.name, value)
      case 'IPAMConfig':
        return ipamConfigToCR(group, value)
    }
  }
  const namespace = m.source.namespaced ? key.namespace : undefined
  const resource = value as Resource
  if (m.kind === 'IPAMConfiguration' && group !== V1_GROUP) return {...toV3Resource(resource, key.name, namespace), kind: 'IPAMConfiguration', apiVersion: apiVersionOf(group)}
  return group === V1_GROUP ? toV1Resource(m.crKind, resource, key.name, namespace) : toV3Resource(resource, key.name, namespace)
}

export interface Converted {
  /** Undefined when the object does not identify a key (a pod not yet scheduled). */
  key?: Key
  /** Absent when the object is not a Calico object at all (a host-networked pod). */
  pair?: KVPair
  /** An IPAM row marked deleted: gone for readers once its writer (or the next reader) finishes the delete. */
  softDeleted?: boolean
}

/** What conversions need to know about the cluster. */
export interface ConvertContext {
  group: CalicoGroup
  /** Host-local IPAM: node tunnel addresses come from the Node's podCIDR (calicoctl's usePodCIDR). */
  usePodCIDR?: boolean
  /** Workload interface name prefix (the first of FELIX_INTERFACEPREFIX; default `cali`). */
  interfacePrefix?: string
}

/** One Kubernetes object as the Backend's view of it. */
export function fromObject(m: Mapping, ctx: ConvertContext, source: Source, obj: KubeObject): Converted {
  const group = ctx.group
  const rv = obj.metadata.resourceVersion ?? ''
  const make = (key: Key, value: unknown, revision = rv): Converted => ({key, pair: {key, value, revision}})
  const path = resourcePath(source, obj.metadata.namespace, obj.metadata.name)
  switch (m.type) {
    case 'crd': {
      const value = group === V1_GROUP ? fromV1Resource(m.kind, obj, path) : fromV3Resource(m.kind, obj)
      const key: Key = {kind: m.kind, name: value.metadata.name ?? ''}
      if (m.source.namespaced) key.namespace = obj.metadata.namespace
      return make(key, value)
    }
    case 'ipam': {
      let key: Key
      let value: unknown
      if (m.kind === 'IPAMBlock') ({name: key, value} = named(m.kind, ipamBlockFromCR(obj)))
      else if (m.kind === 'BlockAffinity') ({name: key, value} = named(m.kind, blockAffinityFromCR(obj)))
      else if (m.kind === 'IPAMHandle') ({name: key, value} = named(m.kind, ipamHandleFromCR(obj)))
      else {
        key = {kind: 'IPAMConfig', name: 'default'}
        value = ipamConfigFromCR(obj)
      }
      return {...make(key, value), softDeleted: isSoftDeleted(obj)}
    }
    case 'node': {
      const value = nodeFromK8s(obj, ctx.usePodCIDR)
      return make({kind: 'Node', name: obj.metadata.name ?? ''}, value)
    }
    case 'profile': {
      const value = source.plural === 'namespaces' ? namespaceToProfile(obj) : serviceAccountToProfile(obj)
      return make({kind: 'Profile', name: value.metadata.name ?? ''}, value, value.metadata.resourceVersion)
    }
    case 'wep': {
      if (!podIsWorkload(obj)) return {}
      const value = podToWorkloadEndpoint(obj, ctx.interfacePrefix)
      return make({kind: 'WorkloadEndpoint', namespace: obj.metadata.namespace, name: value.metadata.name ?? ''}, value)
    }
    case 'knp': {
      const value = kubernetesNetworkPolicy(obj)
      return make({kind: 'KubernetesNetworkPolicy', namespace: obj.metadata.namespace, name: obj.metadata.name ?? ''}, value)
    }
  }
}

function named(kind: string, r: {name: string; value: unknown}): {name: Key; value: unknown} {
  return {name: {kind, name: r.name}, value: r.value}
}

/** Parses `<node>-k8s-<pod>-<endpoint>` where each part has its `-` doubled. */
export function parseWorkloadEndpointName(name: string): {node: string; pod: string; endpoint: string} | undefined {
  const parts = splitEscapedName(name)
  if (parts.length !== 4 || parts[1] !== 'k8s') return undefined
  return {node: parts[0], pod: parts[2], endpoint: parts[3]}
}

/** Splits a workload endpoint name (or a prefix of one) at single dashes, turning `--` back into `-`. */
export function splitEscapedName(name: string): string[] {
  const parts: string[] = []
  let cur = ''
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '-' && name[i + 1] === '-') {
      cur += '-'
      i++
    } else if (name[i] === '-') {
      parts.push(cur)
      cur = ''
    } else cur += name[i]
  }
  parts.push(cur)
  return parts
}
