// Pure conversions between Calico's values (as the Backend interface carries them) and the Kubernetes
// objects that hold them in a cluster (libcalico-go/lib/backend/k8s/resources and conversion):
// the crd.projectcalico.org/v1 metadata mapping, IPAM objects in their CRD shape, and the kinds Calico
// derives from native objects (Node, Profile, WorkloadEndpoint, KubernetesNetworkPolicy).

import {CalicoError, ParsingDatastoreEntryError} from '../../api/errors.js'
import {convertK8sNetworkPolicy, convertK8sUID, type K8sNetworkPolicy} from '../../api/k8s-networkpolicy.js'
import {POLICY_KINDS} from '../../api/kinds.js'
import {hostCIDRText} from '../../api/net.js'
import {allowedSourcePrefixes as parseAllowedSourcePrefixes, ANNOTATION_ALLOWED_SOURCE_PREFIXES} from '../../api/pod-annotations.js'
import type {ObjectMeta, OwnerReference, Resource} from '../../api/resource.js'
import type {KubeMeta, KubeObject} from './client.js'
import {
  blockAffinityName, cidrToName, hostnameHash, LABEL_AFFINITY_TYPE, LABEL_HOSTNAME_HASH,
  LABEL_IP_VERSION, NAMESPACE_PROFILE_PREFIX, SERVICE_ACCOUNT_PROFILE_PREFIX, vethName, workloadEndpointName,
} from './names.js'
import {isObject, type JsonObject} from '../../api/json.js'

export const METADATA_ANNOTATION = 'projectcalico.org/metadata'
export const V1_GROUP = 'crd.projectcalico.org'
export const V3_GROUP = 'projectcalico.org'
export type CalicoGroup = typeof V1_GROUP | typeof V3_GROUP

/** Labels and annotations Calico keeps on the CR itself in v1 mode (resources.go isOurs). */
function isOurs(key: string): boolean {
  return key.includes('projectcalico.org/') || key.includes('operator.tigera.io/')
}

function pick(map: Record<string, string> | undefined, keep: (k: string) => boolean): Record<string, string> | undefined {
  if (!map) return undefined
  const out = Object.fromEntries(Object.entries(map).filter(([k]) => keep(k)))
  return Object.keys(out).length > 0 ? out : undefined
}

/** ConvertUID for values that may not be UUIDs: such a UID cannot have come from a cluster, so it is not sent. */
export function tryConvertUID(uid: string | undefined): string | undefined {
  if (!uid) return undefined
  try {
    return convertK8sUID(uid)
  } catch {
    return undefined
  }
}

function convertOwnerRefs(refs: OwnerReference[] | undefined, from: string, to: string): OwnerReference[] | undefined {
  return refs?.map((r) => (r.apiVersion === from || r.apiVersion === 'projectcalico.org/v3'
    ? {...r, apiVersion: to, uid: tryConvertUID(r.uid) ?? r.uid}
    : r))
}

/**
 * A v3 resource as a crd.projectcalico.org/v1 CR (ConvertCalicoResourceToK8sResource): the full v3
 * metadata travels in the projectcalico.org/metadata annotation (name only for policy kinds), the CR
 * keeps only Calico's own labels/annotations, and its UID is the converted v3 UID.
 */
export function toV1Resource(crKind: string, value: Resource, name: string, namespace: string | undefined): KubeObject {
  const m = value.metadata
  // Field order follows Go's metav1.ObjectMeta so the annotation matches what Calico writes.
  const stored: JsonObject = {}
  if (POLICY_KINDS.has(value.kind) && m.name) stored.name = m.name
  if (m.generateName) stored.generateName = m.generateName
  if (m.generation) stored.generation = m.generation
  stored.creationTimestamp = m.creationTimestamp ?? null
  if (m.deletionTimestamp) stored.deletionTimestamp = m.deletionTimestamp
  if (m.deletionGracePeriodSeconds !== undefined) stored.deletionGracePeriodSeconds = m.deletionGracePeriodSeconds
  if (m.labels && Object.keys(m.labels).length > 0) stored.labels = m.labels
  if (m.annotations && Object.keys(m.annotations).length > 0) stored.annotations = m.annotations
  const refs = convertOwnerRefs(m.ownerReferences, 'projectcalico.org/v3', `${V1_GROUP}/v1`)
  if (refs?.length) stored.ownerReferences = refs
  if (m.finalizers?.length) stored.finalizers = m.finalizers

  const metadata: KubeMeta = {name}
  if (namespace !== undefined) metadata.namespace = namespace
  const uid = tryConvertUID(m.uid)
  if (uid) metadata.uid = uid
  const labels = pick(m.labels, isOurs)
  if (labels) metadata.labels = labels
  metadata.annotations = {...pick(m.annotations, isOurs), [METADATA_ANNOTATION]: JSON.stringify(stored)}
  const out: KubeObject = {apiVersion: `${V1_GROUP}/v1`, kind: crKind, metadata}
  if (value.spec !== undefined) out.spec = value.spec
  if (value.status !== undefined) out.status = value.status
  return out
}

/**
 * The v3 view of a v1 CR (ConvertK8sResourceToCalicoResource). Every object of a list goes through
 * here, so it builds the metadata once, field by field, rather than copying and deleting.
 */
export function fromV1Resource(kind: string, cr: KubeObject, path: string): Resource {
  const crm = cr.metadata
  const raw = crm.annotations?.[METADATA_ANNOTATION]
  const spec = isObject(cr.spec) ? cr.spec : undefined
  const metadata = raw === undefined ? unannotatedMetadata(kind, crm, spec) : annotatedMetadata(kind, crm, spec, parseStoredMetadata(raw, path))
  const out: Resource = {apiVersion: 'projectcalico.org/v3', kind, metadata}
  if (cr.spec !== undefined) out.spec = cr.spec as Record<string, unknown>
  if (cr.status !== undefined) out.status = cr.status as Record<string, unknown>
  return out
}

function parseStoredMetadata(raw: string, path: string): ObjectMeta {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (err) {
    throw new ParsingDatastoreEntryError(path, `annotation "${METADATA_ANNOTATION}" contained invalid JSON: ${(err as Error).message}`)
  }
  return isObject(parsed) ? (parsed as ObjectMeta) : {}
}

/** The v3 name: the stored one, else the CR's, without the `default.` prefix old policy CRs carry. */
function v3Name(kind: string, crm: KubeMeta, spec: JsonObject | undefined, storedName: string | undefined): string {
  if (storedName) return storedName
  const name = crm.name || ''
  if (!POLICY_KINDS.has(kind) || !name.startsWith('default.')) return name
  const tier = typeof spec?.tier === 'string' ? spec.tier : ''
  return tier === '' || tier === 'default' ? name.slice('default.'.length) : name
}

/** Metadata from the projectcalico.org/metadata annotation, in Go's ObjectMeta field order. */
function annotatedMetadata(kind: string, crm: KubeMeta, spec: JsonObject | undefined, stored: ObjectMeta): ObjectMeta {
  const metadata: ObjectMeta = {name: v3Name(kind, crm, spec, stored.name)}
  if (stored.generateName) metadata.generateName = stored.generateName
  if (crm.namespace !== undefined) metadata.namespace = crm.namespace
  const uid = tryConvertUID(crm.uid)
  if (uid) metadata.uid = uid
  metadata.resourceVersion = crm.resourceVersion
  if (stored.generation) metadata.generation = stored.generation
  metadata.creationTimestamp = stored.creationTimestamp || crm.creationTimestamp
  if (stored.deletionTimestamp) metadata.deletionTimestamp = stored.deletionTimestamp
  const labels = merged(crm.labels, stored.labels, undefined)
  if (labels) metadata.labels = labels
  // The CR's own annotations (Calico's) come first, the stored ones win; the metadata annotation itself is dropped.
  const annotations = merged(crm.annotations, stored.annotations, METADATA_ANNOTATION)
  if (annotations) metadata.annotations = annotations
  const refs = convertOwnerRefs(stored.ownerReferences, `${V1_GROUP}/v1`, 'projectcalico.org/v3')
  if (refs?.length) metadata.ownerReferences = refs
  if (stored.finalizers?.length) metadata.finalizers = stored.finalizers
  return metadata
}

/** A CR written by something other than Calico (no metadata annotation): its own metadata, v3-converted. */
function unannotatedMetadata(kind: string, crm: KubeMeta, spec: JsonObject | undefined): ObjectMeta {
  const metadata: ObjectMeta = {...(crm as ObjectMeta), name: v3Name(kind, crm, spec, undefined)}
  if (crm.namespace !== undefined) metadata.namespace = crm.namespace
  const uid = tryConvertUID(crm.uid)
  if (uid) metadata.uid = uid
  else delete metadata.uid
  metadata.resourceVersion = crm.resourceVersion
  const annotations = merged(crm.annotations, undefined, METADATA_ANNOTATION)
  if (annotations) metadata.annotations = annotations
  else delete metadata.annotations
  return metadata
}

/** `{...base, ...over}` without `skip`, or undefined when that is empty. */
function merged(base: Record<string, string> | undefined, over: Record<string, string> | undefined, skip: string | undefined): Record<string, string> | undefined {
  let out: Record<string, string> | undefined
  for (const from of [base, over]) {
    if (!from) continue
    for (const k of Object.keys(from)) {
      if (k === skip) continue
      out ??= {}
      // A `__proto__` key (JSON.parse makes it an own property) must stay data, as spreading keeps it.
      if (k === '__proto__') Object.defineProperty(out, k, {value: from[k], enumerable: true, writable: true, configurable: true})
      else out[k] = from[k]
    }
  }
  return out
}

/** v3 CRD mode: objects go over the wire unchanged apart from the server-owned fields. */
export function toV3Resource(value: Resource, name: string, namespace: string | undefined): KubeObject {
  const metadata: KubeMeta = {...(value.metadata as KubeMeta), name}
  delete metadata.resourceVersion
  delete metadata.selfLink
  if (namespace !== undefined) metadata.namespace = namespace
  if (metadata.uid && tryConvertUID(metadata.uid) === undefined) delete metadata.uid
  return {...value, apiVersion: `${V3_GROUP}/v3`, metadata} as KubeObject
}

export function fromV3Resource(kind: string, cr: KubeObject): Resource {
  return {...(cr as unknown as Resource), apiVersion: 'projectcalico.org/v3', kind}
}

// ---- IPAM objects -----------------------------------------------------------------------------

/** Renames top-level fields (the etcd JSON and the CRD spec differ in a few names). */
function rename(o: JsonObject, names: Record<string, string>): JsonObject {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [names[k] ?? k, v]))
}

const BLOCK_FROM_CRD = {affinityClaimTime: 'affinity_claim_time'}
const CONFIG_TO_CRD = {strict_affinity: 'strictAffinity', auto_allocate_blocks: 'autoAllocateBlocks'}
const CONFIG_FROM_CRD = {strictAffinity: 'strict_affinity', autoAllocateBlocks: 'auto_allocate_blocks'}

/**
 * An IPAM CR's metadata. In v1 mode Calico's backend also writes the projectcalico.org/metadata annotation of the
 * metadata it builds for the object (ConvertCalicoResourceToK8sResource): no creation time, the labels if any.
 */
function crMeta(group: CalicoGroup, name: string, labels?: Record<string, string>): KubeMeta {
  const meta: KubeMeta = labels ? {name, labels} : {name}
  if (group === V1_GROUP) {
    const stored: JsonObject = {creationTimestamp: null}
    // Go marshals map keys sorted.
    if (labels) stored.labels = Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    meta.annotations = {[METADATA_ANNOTATION]: JSON.stringify(stored)}
  }
  return meta
}

/**
 * The IPAMBlock CR spec in Go's IPAMBlockSpec field order, `affinity`/`affinityClaimTime` only when set, and the
 * deprecated `strictAffinity` always: Calico's CRDs require it (and the lists), so the API server rejects a block
 * without it. Other fields are written as given, so a block reads back as it was written.
 */
export function ipamBlockToCR(group: CalicoGroup, cidr: string, value: unknown): KubeObject {
  const v = isObject(value) ? value : {}
  const spec: JsonObject = {cidr}
  if (v.affinity !== undefined && v.affinity !== null) spec.affinity = v.affinity
  if (v.affinity_claim_time !== undefined && v.affinity_claim_time !== null) spec.affinityClaimTime = v.affinity_claim_time
  spec.allocations = v.allocations ?? []
  spec.unallocated = v.unallocated ?? []
  spec.attributes = v.attributes ?? []
  for (const k of ['sequenceNumber', 'sequenceNumberForAllocation', 'deleted']) if (v[k] !== undefined) spec[k] = v[k]
  spec.strictAffinity = false
  return {apiVersion: apiVersionOf(group), kind: 'IPAMBlock', metadata: crMeta(group, cidrToName(cidr)), spec}
}

/** The etcd-model block: `affinity` null when the CR has none, and no deprecated `strictAffinity`. */
export function ipamBlockFromCR(cr: KubeObject): {name: string; value: JsonObject} {
  const {cidr, affinity, strictAffinity: _deprecated, ...rest} = rename(isObject(cr.spec) ? cr.spec : {}, BLOCK_FROM_CRD)
  return {name: String(cidr ?? ''), value: {cidr, affinity: affinity ?? null, ...rest}}
}

export function ipamHandleToCR(group: CalicoGroup, id: string, value: unknown): KubeObject {
  const spec = isObject(value) ? value : {}
  return {apiVersion: apiVersionOf(group), kind: 'IPAMHandle', metadata: crMeta(group, id.toLowerCase()), spec: {handleID: id, ...spec}}
}

export function ipamHandleFromCR(cr: KubeObject): {name: string; value: JsonObject} {
  const spec = {...(isObject(cr.spec) ? cr.spec : {})}
  const name = typeof spec.handleID === 'string' ? spec.handleID : cr.metadata.name ?? ''
  delete spec.handleID
  return {name, value: spec}
}

/** Splits a BlockAffinity key name `<type>:<host>:<cidr>` (IPv6 CIDRs contain `:`). */
export function splitAffinityKey(name: string): {type: string; host: string; cidr: string} | undefined {
  const first = name.indexOf(':')
  const second = first < 0 ? -1 : name.indexOf(':', first + 1)
  if (second < 0) return undefined
  return {type: name.slice(0, first), host: name.slice(first + 1, second), cidr: name.slice(second + 1)}
}

export function blockAffinityToCR(group: CalicoGroup, keyName: string, value: unknown): KubeObject {
  const parts = splitAffinityKey(keyName)
  if (!parts) throw new Error(`invalid block affinity name "${keyName}"`)
  const v = isObject(value) ? value : {}
  const deleted = v.deleted === true || v.deleted === 'true'
  return {
    apiVersion: apiVersionOf(group),
    kind: 'BlockAffinity',
    metadata: crMeta(group, blockAffinityName(parts.host, parts.cidr), {
      [LABEL_HOSTNAME_HASH]: hostnameHash(parts.host),
      [LABEL_AFFINITY_TYPE]: parts.type,
      [LABEL_IP_VERSION]: parts.cidr.includes(':') ? '6' : '4',
    }),
    // v1 CRDs declare `deleted` as a string; the v3 type made it a bool.
    spec: {state: v.state ?? '', node: parts.host, type: parts.type, cidr: parts.cidr, deleted: group === V1_GROUP ? String(deleted) : deleted},
  }
}

export function blockAffinityFromCR(cr: KubeObject): {name: string; value: JsonObject} {
  const spec = isObject(cr.spec) ? cr.spec : {}
  const type = typeof spec.type === 'string' && spec.type !== '' ? spec.type : 'host'
  return {
    name: `${type}:${String(spec.node ?? '')}:${String(spec.cidr ?? '')}`,
    value: {state: spec.state ?? '', deleted: spec.deleted === true || spec.deleted === 'true'},
  }
}

/** IPAMConfigSpec's two bools are not omitempty, and Calico's CRDs require them: absent in the model means false. */
export function ipamConfigToCR(group: CalicoGroup, value: unknown): KubeObject {
  const v = isObject(value) ? value : {}
  const spec = {...rename(v, CONFIG_TO_CRD), strictAffinity: v.strict_affinity === true, autoAllocateBlocks: v.auto_allocate_blocks === true}
  return {apiVersion: apiVersionOf(group), kind: group === V1_GROUP ? 'IPAMConfig' : 'IPAMConfiguration', metadata: crMeta(group, 'default'), spec}
}

/** The model's bools are omitempty (absent is false), so the false ones the CR must carry are left out. */
export function ipamConfigFromCR(cr: KubeObject): JsonObject {
  const out = rename(isObject(cr.spec) ? cr.spec : {}, CONFIG_FROM_CRD)
  for (const k of ['strict_affinity', 'auto_allocate_blocks']) if (out[k] === false) delete out[k]
  return out
}

/** IPAM soft delete: a CR marked deleted is gone for readers (design/ipam "Soft vs hard delete"). */
export function isSoftDeleted(cr: KubeObject): boolean {
  return isObject(cr.spec) && (cr.spec.deleted === true || cr.spec.deleted === 'true')
}

export function apiVersionOf(group: CalicoGroup): string {
  return group === V1_GROUP ? `${V1_GROUP}/v1` : `${V3_GROUP}/v3`
}

// ---- Node --------------------------------------------------------------------------------------

const NODE = {
  ipv4: 'projectcalico.org/IPv4Address',
  ipv6: 'projectcalico.org/IPv6Address',
  asn: 'projectcalico.org/ASNumber',
  ipip: 'projectcalico.org/IPv4IPIPTunnelAddr',
  vxlan4: 'projectcalico.org/IPv4VXLANTunnelAddr',
  vxlanMac: 'projectcalico.org/VXLANTunnelMACAddr',
  vxlan6: 'projectcalico.org/IPv6VXLANTunnelAddr',
  vxlanMac6: 'projectcalico.org/VXLANTunnelMACAddrV6',
  wg4: 'projectcalico.org/IPv4WireguardInterfaceAddr',
  wg6: 'projectcalico.org/IPv6WireguardInterfaceAddr',
  wgKey: 'projectcalico.org/WireguardPublicKey',
  wgKey6: 'projectcalico.org/WireguardPublicKeyV6',
  rrid: 'projectcalico.org/RouteReflectorClusterID',
  interfaces: 'projectcalico.org/Interfaces',
  labels: 'projectcalico.org/labels',
  annotations: 'projectcalico.org/annotations',
  kubeLabels: 'projectcalico.org/kube-labels',
} as const

/** Go's json.Marshal of a map: keys sorted. */
function goMapJSON(m: Record<string, string> | undefined): string {
  if (!m) return 'null'
  return JSON.stringify(Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))
}

function parseMap(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined
  try {
    const v: unknown = JSON.parse(text)
    return isObject(v) ? (v as Record<string, string>) : undefined
  } catch {
    return undefined
  }
}

interface NodeSpec {
  podCIDR?: string
  podCIDRs?: string[]
}
interface NodeStatus {
  addresses?: {type: string; address: string}[]
}

/** K8sNodeToCalico: the Calico Node view of a Kubernetes Node (its annotations and addresses). */
export function nodeFromK8s(node: KubeObject, usePodCIDR = false): Resource {
  const nodeSpec = (node.spec ?? {}) as NodeSpec
  const nodeStatus = (node.status ?? {}) as NodeStatus
  const a = node.metadata.annotations ?? {}
  const metadata: ObjectMeta = {name: node.metadata.name, resourceVersion: node.metadata.resourceVersion, creationTimestamp: node.metadata.creationTimestamp, uid: node.metadata.uid}
  const calicoLabels = parseMap(a[NODE.labels])
  const labels = {...calicoLabels, ...node.metadata.labels}
  if (Object.keys(labels).length > 0) metadata.labels = labels
  metadata.annotations = {...parseMap(a[NODE.annotations]), [NODE.kubeLabels]: goMapJSON(node.metadata.labels)}

  const spec: JsonObject = {}
  const bgp: JsonObject = {}
  if (a[NODE.ipv4]) bgp.ipv4Address = a[NODE.ipv4]
  if (a[NODE.ipv6]) bgp.ipv6Address = a[NODE.ipv6]
  if (a[NODE.asn] && /^\d+(\.\d+)?$/.test(a[NODE.asn])) bgp.asNumber = asNumber(a[NODE.asn])
  if (a[NODE.rrid]) bgp.routeReflectorClusterID = a[NODE.rrid]
  // Host-local IPAM: the tunnel address is the first address of the node's pod CIDR (getStaticTunnelAddress).
  const podTunnel = usePodCIDR && nodeSpec.podCIDR ? firstHostAddress(nodeSpec.podCIDR) : undefined
  if (usePodCIDR && nodeSpec.podCIDR) {
    if (podTunnel) bgp.ipv4IPIPTunnelAddr = podTunnel
  } else if (a[NODE.ipip]) bgp.ipv4IPIPTunnelAddr = a[NODE.ipip]
  if (Object.keys(bgp).length > 0) spec.bgp = bgp
  if (a[NODE.vxlan4]) spec.ipv4VXLANTunnelAddr = a[NODE.vxlan4]
  if (a[NODE.vxlanMac]) spec.vxlanTunnelMACAddr = a[NODE.vxlanMac]
  if (a[NODE.vxlan6]) spec.ipv6VXLANTunnelAddr = a[NODE.vxlan6]
  if (a[NODE.vxlanMac6]) spec.vxlanTunnelMACAddrV6 = a[NODE.vxlanMac6]
  const addresses: {address: string; type: string}[] = []
  if (typeof bgp.ipv4Address === 'string') addresses.push({address: bgp.ipv4Address, type: 'CalicoNodeIP'})
  if (typeof bgp.ipv6Address === 'string') addresses.push({address: bgp.ipv6Address, type: 'CalicoNodeIP'})
  for (const addr of nodeStatus.addresses ?? []) {
    if (addr.type === 'InternalIP' || addr.type === 'ExternalIP') addresses.push({address: addr.address, type: addr.type})
  }
  if (addresses.length > 0) spec.addresses = addresses
  const wg: JsonObject = {}
  if (usePodCIDR && nodeSpec.podCIDR) {
    if (podTunnel && a[NODE.wgKey]) wg.interfaceIPv4Address = podTunnel
  } else {
    if (a[NODE.wg4]) wg.interfaceIPv4Address = a[NODE.wg4]
    if (a[NODE.wg6]) wg.interfaceIPv6Address = a[NODE.wg6]
  }
  if (Object.keys(wg).length > 0) spec.wireguard = wg
  spec.orchRefs = [{nodeName: node.metadata.name, orchestrator: 'k8s'}]
  if (a[NODE.interfaces]) {
    try {
      spec.interfaces = JSON.parse(a[NODE.interfaces]) as unknown
    } catch {
      // Calico logs and ignores a malformed interfaces annotation.
    }
  }
  const status: JsonObject = {}
  if (a[NODE.wgKey]) status.wireguardPublicKey = a[NODE.wgKey]
  if (a[NODE.wgKey6]) status.wireguardPublicKeyV6 = a[NODE.wgKey6]
  if (nodeSpec.podCIDRs?.length) status.podCIDRs = [...nodeSpec.podCIDRs]
  const out: Resource = {apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata, spec}
  if (Object.keys(status).length > 0) out.status = status
  return out
}

/** `10.244.1.0/24` → `10.244.1.1`; IPv6 pod CIDRs give no tunnel address (as in Calico). */
function firstHostAddress(cidr: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/\d+$/.exec(cidr)
  if (!m) return undefined
  return `${m[1]}.${m[2]}.${m[3]}.${(Number(m[4]) + 1) % 256}`
}

function asNumber(text: string): number {
  // asdot notation `<high>.<low>`.
  const [hi, lo] = text.split('.')
  return lo === undefined ? Number(hi) : Number(hi) * 65536 + Number(lo)
}

/** mergeCalicoNodeIntoK8sNode: writes the Calico fields back into the Node's annotations. */
export function mergeNodeIntoK8s(value: Resource, node: KubeObject): KubeObject {
  const m = value.metadata
  const kubeLabels = parseMap(m.annotations?.[NODE.kubeLabels]) ?? {}
  const labels = {...m.labels}
  for (const k of Object.keys(kubeLabels)) delete labels[k]
  const annotations = {...m.annotations}
  delete annotations[NODE.kubeLabels]
  const a: Record<string, string> = {...node.metadata.annotations}
  if (Object.keys(labels).length > 0) a[NODE.labels] = goMapJSON(labels)
  else delete a[NODE.labels]
  if (Object.keys(annotations).length > 0) a[NODE.annotations] = goMapJSON(annotations)
  else delete a[NODE.annotations]
  const spec = (value.spec ?? {}) as JsonObject
  const bgp = isObject(spec.bgp) ? spec.bgp : undefined
  const wg = isObject(spec.wireguard) ? spec.wireguard : undefined
  const status = (value.status ?? {}) as JsonObject
  const set = (key: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') a[key] = String(v)
    else delete a[key]
  }
  set(NODE.vxlan4, spec.ipv4VXLANTunnelAddr)
  set(NODE.vxlanMac, spec.vxlanTunnelMACAddr)
  set(NODE.vxlan6, spec.ipv6VXLANTunnelAddr)
  set(NODE.vxlanMac6, spec.vxlanTunnelMACAddrV6)
  set(NODE.ipv4, bgp?.ipv4Address)
  set(NODE.ipip, bgp?.ipv4IPIPTunnelAddr)
  set(NODE.ipv6, bgp?.ipv6Address)
  set(NODE.asn, bgp?.asNumber)
  set(NODE.rrid, bgp?.routeReflectorClusterID)
  set(NODE.wg4, wg?.interfaceIPv4Address)
  set(NODE.wg6, wg?.interfaceIPv6Address)
  set(NODE.wgKey, status.wireguardPublicKey)
  set(NODE.wgKey6, status.wireguardPublicKeyV6)
  if (spec.interfaces !== undefined) a[NODE.interfaces] = JSON.stringify(spec.interfaces)
  else delete a[NODE.interfaces]
  return {...node, metadata: {...node.metadata, annotations: a}}
}

// ---- Profiles from Namespaces and ServiceAccounts ----------------------------------------------

function prefixedLabels(prefix: string, labels: Record<string, string> | undefined, nameKey: string, name: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(labels ?? {})) out[`${prefix}${k}`] = v
  out[`${prefix}${nameKey}`] = name
  return out
}

/** NamespaceToProfile: `kns.<ns>`, allow-all rules, the namespace's labels as `pcns.` labels. */
export function namespaceToProfile(ns: KubeObject): Resource {
  const name = ns.metadata.name ?? ''
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: {
      name: `${NAMESPACE_PROFILE_PREFIX}${name}`,
      uid: tryConvertUID(ns.metadata.uid),
      creationTimestamp: ns.metadata.creationTimestamp,
      resourceVersion: `${ns.metadata.resourceVersion ?? ''}/`,
    },
    spec: {
      ingress: [{action: 'Allow'}],
      egress: [{action: 'Allow'}],
      labelsToApply: prefixedLabels('pcns.', ns.metadata.labels, 'projectcalico.org/name', name),
    },
  }
}

/** ServiceAccountToProfile: `ksa.<ns>.<sa>`, no rules, the account's labels as `pcsa.` labels. */
export function serviceAccountToProfile(sa: KubeObject): Resource {
  const name = sa.metadata.name ?? ''
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: {
      name: `${SERVICE_ACCOUNT_PROFILE_PREFIX}${sa.metadata.namespace}.${name}`,
      uid: tryConvertUID(sa.metadata.uid),
      creationTimestamp: sa.metadata.creationTimestamp,
      resourceVersion: `/${sa.metadata.resourceVersion ?? ''}`,
    },
    spec: {labelsToApply: prefixedLabels('pcsa.', sa.metadata.labels, 'projectcalico.org/name', name)},
  }
}

/** Splits `kns.<ns>` / `ksa.<ns>.<sa>` (namespace names contain no dots). */
export function parseProfileName(name: string): {namespace: string; serviceAccount?: string} | undefined {
  if (name.startsWith(NAMESPACE_PROFILE_PREFIX)) return {namespace: name.slice(NAMESPACE_PROFILE_PREFIX.length)}
  if (name.startsWith(SERVICE_ACCOUNT_PROFILE_PREFIX)) {
    const rest = name.slice(SERVICE_ACCOUNT_PROFILE_PREFIX.length)
    const dot = rest.indexOf('.')
    if (dot > 0) return {namespace: rest.slice(0, dot), serviceAccount: rest.slice(dot + 1)}
  }
  return undefined
}

// ---- WorkloadEndpoints from Pods ---------------------------------------------------------------

export const ANNOTATION_POD_IP = 'cni.projectcalico.org/podIP'
export const ANNOTATION_POD_IPS = 'cni.projectcalico.org/podIPs'
export const ANNOTATION_CONTAINER_ID = 'cni.projectcalico.org/containerID'

interface PodSpec {
  nodeName?: string
  hostNetwork?: boolean
  serviceAccountName?: string
  containers?: {ports?: {name?: string; containerPort?: number; hostPort?: number; hostIP?: string; protocol?: string}[]}[]
  initContainers?: {ports?: {name?: string; containerPort?: number; hostPort?: number; hostIP?: string; protocol?: string}[]}[]
}
interface PodStatus {
  phase?: string
  podIP?: string
  podIPs?: {ip: string}[]
}
const podSpec = (pod: KubeObject): PodSpec => (pod.spec ?? {}) as PodSpec
const podStatus = (pod: KubeObject): PodStatus => (pod.status ?? {}) as PodStatus

/** IsValidCalicoWorkloadEndpoint: scheduled pods on the pod network. */
export function podIsWorkload(pod: KubeObject): boolean {
  return !podSpec(pod).hostNetwork && Boolean(podSpec(pod).nodeName)
}

/** A pod IP as an endpoint network: a bare address becomes its /32 or /128, a CIDR (as in Calico's annotations) is kept. */
function podIPCIDR(ip: string): string {
  return ip.includes('/') ? ip : hostCIDRText(ip)
}

function podIPs(pod: KubeObject): string[] {
  const a = pod.metadata.annotations ?? {}
  const status = podStatus(pod)
  if (status.podIPs?.length) return status.podIPs.map((p) => p.ip)
  if (status.podIP) return [status.podIP]
  if (a[ANNOTATION_POD_IPS]) return a[ANNOTATION_POD_IPS].split(',')
  if (a[ANNOTATION_POD_IP]) return [a[ANNOTATION_POD_IP]]
  if (a['vpc.amazonaws.com/pod-ips']) return a['vpc.amazonaws.com/pod-ips'].split(',')
  return []
}

function podFinished(pod: KubeObject): boolean {
  const a = pod.metadata.annotations ?? {}
  if (pod.metadata.deletionTimestamp && (a[ANNOTATION_POD_IP] === '' || a['vpc.amazonaws.com/pod-ips'] === '')) return true
  const phase = podStatus(pod).phase
  return phase === 'Failed' || phase === 'Succeeded' || phase === 'Completed'
}

/** podToDefaultWorkloadEndpoint (QoS annotations are not converted). */
export function podToWorkloadEndpoint(pod: KubeObject, interfacePrefix = 'cali'): Resource {
  const ns = pod.metadata.namespace ?? ''
  const podName = pod.metadata.name ?? ''
  const spec0 = podSpec(pod)
  const node = spec0.nodeName ?? ''
  const sa = spec0.serviceAccountName ?? ''
  const a = pod.metadata.annotations ?? {}
  const labels: Record<string, string> = {...pod.metadata.labels, 'projectcalico.org/namespace': ns, 'projectcalico.org/orchestrator': 'k8s'}
  if (sa !== '' && sa.length < 63) labels['projectcalico.org/serviceaccount'] = sa
  const ips = podFinished(pod) ? [] : podIPs(pod).map((ip) => podIPCIDR(ip.trim()))
  const ports: JsonObject[] = []
  for (const c of [...(spec0.containers ?? []), ...(spec0.initContainers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.containerPort || (!p.hostPort && !p.name)) continue
      const protocol = p.protocol === 'UDP' ? 'UDP' : p.protocol === 'SCTP' ? 'SCTP' : !p.protocol || p.protocol === 'TCP' ? 'TCP' : undefined
      if (!protocol) continue
      const port: JsonObject = {name: p.name ?? '', protocol, port: p.containerPort}
      if (p.hostPort) port.hostPort = p.hostPort
      if (p.hostIP) port.hostIP = p.hostIP
      ports.push(port)
    }
  }
  const spec: JsonObject = {orchestrator: 'k8s', node, pod: podName}
  if (a[ANNOTATION_CONTAINER_ID]) spec.containerID = a[ANNOTATION_CONTAINER_ID]
  spec.endpoint = 'eth0'
  spec.serviceAccountName = sa || undefined
  spec.ipNetworks = ips
  const floating = parseStringList(a['cni.projectcalico.org/floatingIPs'])
  if (floating.length > 0 && ips.length > 0) {
    const v4 = ips.find((i) => !i.includes(':'))
    const v6 = ips.find((i) => i.includes(':'))
    const nats = floating.flatMap((ext) => {
      const internal = ext.includes(':') ? v6 : v4
      return internal ? [{internalIP: internal.split('/')[0], externalIP: ext}] : []
    })
    if (nats.length > 0) spec.ipNATs = nats
  }
  spec.profiles = [`${NAMESPACE_PROFILE_PREFIX}${ns}`, ...(sa ? [`${SERVICE_ACCOUNT_PROFILE_PREFIX}${ns}.${sa}`] : [])]
  spec.interfaceName = vethName(ns, podName, interfacePrefix)
  if (ports.length > 0) spec.ports = ports
  const spoof = allowedSourcePrefixes(a[ANNOTATION_ALLOWED_SOURCE_PREFIXES])
  if (spoof.length > 0) spec.allowSpoofedSourcePrefixes = spoof
  if (spec.serviceAccountName === undefined) delete spec.serviceAccountName
  const metadata: ObjectMeta = {
    name: workloadEndpointName(node, podName),
    namespace: ns,
    uid: pod.metadata.uid,
    resourceVersion: pod.metadata.resourceVersion,
    creationTimestamp: pod.metadata.creationTimestamp,
    labels,
  }
  if (typeof pod.metadata.generateName === 'string') metadata.generateName = pod.metadata.generateName
  if (a['k8s.v1.cni.cncf.io/network-status']) metadata.annotations = {'k8s.v1.cni.cncf.io/network-status': a['k8s.v1.cni.cncf.io/network-status']}
  return {apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata, spec}
}

/** A Pod Calico cannot read as its WorkloadEndpoint (Calico's lists skip it; reading it alone fails with the message). */
export class PodConversionError extends CalicoError {}

/**
 * HandleSourceIPSpoofingAnnotation: each prefix as its network (`10.1.2.3/16` → `10.1.0.0/16`), as the CNI plugin
 * stores them on an etcd-style datastore. A malformed annotation fails the pod's conversion with Calico's message
 * (the CNI plugin refuses such a pod's ADD with the same text).
 */
function allowedSourcePrefixes(text: string | undefined): string[] {
  const parsed = parseAllowedSourcePrefixes(text)
  if ('error' in parsed) throw new PodConversionError(parsed.error)
  return parsed.prefixes
}

function parseStringList(text: string | undefined): string[] {
  if (!text) return []
  try {
    const v: unknown = JSON.parse(text)
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
  } catch {
    return []
  }
}

/** The pod-status patch CNI writes for a workload endpoint (workloadendpoint.go patch mode). */
export function workloadEndpointPodPatch(value: Resource | undefined): {metadata: {annotations: Record<string, string>}} {
  const spec = (value?.spec ?? {}) as JsonObject
  const nets = Array.isArray(spec.ipNetworks) ? spec.ipNetworks.filter((x): x is string => typeof x === 'string') : []
  const annotations: Record<string, string> = {[ANNOTATION_POD_IP]: nets[0] ?? '', [ANNOTATION_POD_IPS]: nets.join(',')}
  if (value && typeof spec.containerID === 'string' && spec.containerID !== '') annotations[ANNOTATION_CONTAINER_ID] = spec.containerID
  return {metadata: {annotations}}
}

// ---- Kubernetes NetworkPolicies ----------------------------------------------------------------

/** A networking.k8s.io NetworkPolicy as current Calico shows it: kind KubernetesNetworkPolicy, same name. */
export function kubernetesNetworkPolicy(np: KubeObject): Resource {
  const {policy} = convertK8sNetworkPolicy(np as unknown as K8sNetworkPolicy, {naming: 'kubernetes'})
  return {...policy, kind: 'KubernetesNetworkPolicy', metadata: {...policy.metadata, resourceVersion: np.metadata.resourceVersion}} as unknown as Resource
}
