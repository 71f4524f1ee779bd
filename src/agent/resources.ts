// What the node agent reads from the datastore and how each stored value becomes a calculation input.
// - The watched kinds follow Felix's syncer (libcalico-go felixsyncerv1.go), per datastore: the Kubernetes datastore
//   adds KubernetesNetworkPolicy (networking.k8s.io NetworkPolicies read directly, which on etcd kube-controllers
//   would have copied in). Profiles and WorkloadEndpoints are watched on every datastore; on Kubernetes the backend
//   derives them from Namespaces, ServiceAccounts and Pods.
// - The validation filter (Felix's ValidationFilter): every stored object is decoded and validated before the
//   calculation sees it; one that fails is treated as absent (so an update that breaks a resource removes its old
//   effect rather than keeping stale rules) and reported once per revision.
// - Felix's WorkloadEndpoint update processor drops endpoints without addresses (a pod the CNI plugin has not
//   networked yet): they are absent for the calculation too, without a warning, until an address arrives.
// - The VXLAN overlay's inputs (Nodes, IP pools, IPAM blocks: vxlan-manager.ts VXLAN_KINDS) are watched besides
//   these and checked by checkVxlanValue; the policy calculation also takes the IP pools and Nodes from there
//   (OverlayCalcFeed), for natOutgoing and the VXLAN host rules.
import {DecodeMemo} from '../api/decode.js'
import {decodeAndDefault} from '../api/defaults.js'
import type {Resource} from '../api/resource.js'
import {validateResource, ValidationMemo} from '../api/validate.js'
import {asCalcResource, type CalcEvent, type CalcKind, type CalcResource, type NodeSpec} from '../dataplane/calc/index.js'
import type {VxlanItem, VxlanKind} from '../dataplane/routing/vxlan-manager.js'
import type {DatastoreType, Key} from '../datastore/backend.js'

/** The kinds the node agent watches on every datastore: everything the policy calculation reads. */
export const AGENT_KINDS: readonly CalcKind[] = [
  'FelixConfiguration',
  'Tier',
  'Profile',
  'GlobalNetworkSet',
  'NetworkSet',
  'GlobalNetworkPolicy',
  'NetworkPolicy',
  'StagedGlobalNetworkPolicy',
  'StagedNetworkPolicy',
  'StagedKubernetesNetworkPolicy',
  'HostEndpoint',
  'WorkloadEndpoint',
]

/**
 * Kinds only one datastore serves to the agent. Felix also watches KubernetesClusterNetworkPolicy, EndpointSlices
 * and Services on Kubernetes; the calculation has no use for them yet (no cluster network policies, no `services`
 * rule matches), so they are not read.
 */
const DATASTORE_KINDS: Readonly<Record<DatastoreType, readonly CalcKind[]>> = {
  embedded: [],
  etcdv3: [],
  kubernetes: ['KubernetesNetworkPolicy'],
}

/** The kinds the agent watches on a datastore of this type. */
export function agentKinds(datastore: DatastoreType): CalcKind[] {
  return [...AGENT_KINDS, ...DATASTORE_KINDS[datastore]]
}

export type Checked =
  | {ok: true; resource: CalcResource}
  /** `silent`: absent by design (an endpoint without addresses yet), not a validation failure to report. */
  | {ok: false; reason: string; silent?: boolean}

/**
 * The registered type a stored kind's value has. The Kubernetes datastore's KubernetesNetworkPolicy values are
 * projectcalico.org/v3 NetworkPolicies (libcalico-go K8sNetworkPolicyToCalico) under their own key kind.
 */
const VALUE_KIND: Readonly<Partial<Record<string, string>>> = {KubernetesNetworkPolicy: 'NetworkPolicy'}

/**
 * What checking the many values of a snapshot shares: parts that repeat across them (rules, ports) are decoded and
 * validated once. Stored values are parsed JSON, as the memos require.
 */
export class CheckMemo {
  readonly decode = new DecodeMemo()
  readonly validation = new ValidationMemo()
}

/** Decodes, defaults and validates one stored value as calicoctl would before writing it. */
export function checkStoredValue(key: Key, value: unknown, memo?: CheckMemo): Checked {
  const valueKind = VALUE_KIND[key.kind] ?? key.kind
  let res: Resource
  try {
    const stored = valueKind === key.kind ? value : asKind(value, valueKind)
    res = decodeAndDefault(stored, memo?.decode)
    validateResource(res, memo ? {memo: memo.validation} : {})
  } catch (err) {
    return {ok: false, reason: (err as Error).message}
  }
  if (res.kind !== valueKind) return {ok: false, reason: `stored under kind ${key.kind} but is a ${res.kind}`}
  if (res.kind === 'WorkloadEndpoint' && ((res.spec as {ipNetworks?: string[]} | undefined)?.ipNetworks ?? []).length === 0) {
    return {ok: false, reason: 'the endpoint has no IP addresses yet', silent: true}
  }
  const calc = asCalcResource((valueKind === key.kind ? res : {...res, kind: key.kind}) as Resource<object, object>)
  return calc ? {ok: true, resource: calc} : {ok: false, reason: `kind ${res.kind} is not a policy input`}
}

/** The value with its `kind` replaced, so the decoder reads it as that registered type. */
function asKind(value: unknown, kind: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? {...value, kind} : value
}

export function deletion(key: Key): CalcEvent {
  const ev: CalcEvent = {type: 'delete', kind: key.kind as CalcKind, name: key.name}
  if (key.namespace !== undefined) ev.namespace = key.namespace
  return ev
}

export const keyText = (key: Key): string => (key.namespace ? `${key.kind}(${key.namespace}/${key.name})` : `${key.kind}(${key.name})`)

/**
 * The overlay's IP pools and Nodes (as checkVxlanValue checked them) as calculation inputs: the same object, or its
 * absence for one deleted or invalid. Pools give natOutgoing and whether VXLAN is on, Nodes the hosts VXLAN may come
 * from. A Node change in nothing the calculation reads (status, labels) gives no event, so it costs no table render;
 * IPAM blocks never do.
 */
export class OverlayCalcFeed {
  /** What of each Node was last fed (its address and VTEP address). */
  private readonly nodes = new Map<string, string>()

  /** A snapshot follows: every object is fed again, into a new calculation. */
  reset(): void {
    this.nodes.clear()
  }

  event(item: VxlanItem): CalcEvent | undefined {
    if (item.kind === 'IPAMBlock') return undefined
    if (item.kind === 'Node') {
      const spec = (item.value as {spec?: NodeSpec} | undefined)?.spec
      const read = JSON.stringify([spec?.bgp?.ipv4Address, spec?.ipv4VXLANTunnelAddr])
      if (this.nodes.get(item.name) === read) return undefined
      this.nodes.set(item.name, read)
    }
    if (item.value === undefined) return {type: 'delete', kind: item.kind, name: item.name}
    return {type: 'set', resource: item.value as CalcResource & {kind: 'IPPool' | 'Node'}}
  }
}

export type CheckedVxlan = {ok: true; item: VxlanItem} | {ok: false; reason: string}

/**
 * A stored Node, IPPool or IPAMBlock as the VXLAN overlay takes it. IP pools pass the same validation filter as the
 * policy inputs (one that fails is absent). Nodes are only decoded, which checks every field's type: the Kubernetes
 * datastore's Node view lists the node's address in CIDR form among spec.addresses (as libcalico-go's
 * fillAllAddresses does), which the validator refuses, and the overlay parses the few addresses it reads itself. IPAM
 * blocks are the IPAM library's own objects, which the overlay reads defensively as stored.
 */
export function checkVxlanValue(key: Key & {kind: VxlanKind}, value: unknown): CheckedVxlan {
  if (key.kind === 'IPAMBlock') return {ok: true, item: {kind: key.kind, name: key.name, value}}
  try {
    const res = decodeAndDefault(value)
    if (key.kind === 'IPPool') validateResource(res)
    if (res.kind !== key.kind) return {ok: false, reason: `stored under kind ${key.kind} but is a ${res.kind}`}
    return {ok: true, item: {kind: key.kind, name: key.name, value: res}}
  } catch (err) {
    return {ok: false, reason: (err as Error).message}
  }
}
