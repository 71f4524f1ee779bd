// Calico's special cases for the host-local IPAM plugin (cni-plugin/internal/pkg/utils ReplaceHostLocalIPAMPodCIDRs,
// pkg/k8s CmdAddK8s getIPsByFamily, DeleteIPAM): a `subnet` of `usePodCidr` (`usePodCidrIPv6`), in the `ipam`
// section itself or in any entry of its `ranges`, stands for the Kubernetes Node's pod CIDR of that family; and the
// section's `routes` replace the default routes inside the pod. Pure: the network configuration and the pod CIDRs
// in, the configuration host-local is given and the pod's routes out.
import {isObject, type JsonObject} from '../api/json.js'
import {formatCIDR, parseCIDR} from '../api/net.js'
import {CNI_CODES, CniError} from './errors.js'

export const HOST_LOCAL = 'host-local'
const USE_POD_CIDR = 'usepodcidr'
const USE_POD_CIDR_V6 = 'usepodcidripv6'

/** The Node's pod CIDRs by family; '' for a family it has none of. */
export interface PodCIDRs {
  v4: string
  v6: string
}

/**
 * What DEL substitutes: host-local releases by container ID, so any valid CIDR will do, and DEL then works without
 * the Node (DeleteIPAM's dummy values).
 */
export const RELEASE_POD_CIDRS: PodCIDRs = {v4: '0.0.0.0/0', v6: '::/0'}

function failure(msg: string): CniError {
  return new CniError(CNI_CODES.internal, msg)
}

/** Calico compares the marker case-insensitively (strings.EqualFold). */
function marker(section: unknown): 'v4' | 'v6' | undefined {
  const subnet = isObject(section) && typeof section.subnet === 'string' ? section.subnet.toLowerCase() : ''
  return subnet === USE_POD_CIDR ? 'v4' : subnet === USE_POD_CIDR_V6 ? 'v6' : undefined
}

/** The `ipam` section and each `ranges` entry: where a subnet may be given. */
function subnetSections(raw: JsonObject): unknown[] {
  const ipam = raw.ipam
  if (!isObject(ipam)) throw failure(`failed to parse host-local IPAM data; was expecting a dict, not: ${JSON.stringify(ipam)}`)
  const sections: unknown[] = [ipam]
  if (ipam.ranges === undefined || ipam.ranges === null) return sections
  if (!Array.isArray(ipam.ranges)) throw failure(`failed to parse host-local IPAM ranges section; was expecting a list, not: ${JSON.stringify(ipam.ranges)}`)
  for (const set of ipam.ranges) {
    if (!Array.isArray(set)) throw failure(`failed to parse host-local IPAM range set; was expecting a list, not: ${JSON.stringify(set)}`)
    for (const range of set) {
      if (!isObject(range)) throw failure(`failed to parse host-local IPAM data; was expecting a dict, not: ${JSON.stringify(range)}`)
      sections.push(range)
    }
  }
  return sections
}

/** Whether the configuration asks for the Node's pod CIDR anywhere (only then is the Node read). */
export function usesPodCIDR(raw: JsonObject): boolean {
  return subnetSections(raw).some((s) => marker(s) !== undefined)
}

/** getIPsByFamily: the Node's `spec.podCIDRs` as one CIDR per family; two of one family and none of the other is an error. */
export function podCIDRsByFamily(node: string, cidrs: readonly string[]): PodCIDRs {
  if (cidrs.length === 0) throw failure(`no podCidr for node ${node}`)
  const out: PodCIDRs = {v4: '', v6: ''}
  for (const cidr of cidrs) {
    const parsed = parseCIDR(cidr)
    if (!parsed) throw failure(`invalid CIDR address: ${cidr}`)
    out[parsed.version === 6 ? 'v6' : 'v4'] = cidr
  }
  if (cidrs.length > 1 && (out.v4 === '' || out.v6 === '')) throw failure('ClusterCIDR contains two ranges of the same type')
  return out
}

/** A copy of the configuration with each `usePodCidr`/`usePodCidrIPv6` subnet replaced by that family's pod CIDR. */
export function withPodCIDRs(raw: JsonObject, cidrs: PodCIDRs): JsonObject {
  const copy = structuredClone(raw)
  for (const section of subnetSections(copy)) {
    const family = marker(section)
    if (family === undefined) continue
    const cidr = cidrs[family]
    if (cidr === '') throw failure(family === 'v4' ? 'usePodCidr found but there is no IPv4 CIDR configured' : 'usePodCidrIPv6 found but there is no IPv6 CIDR configured')
    ;(section as JsonObject).subnet = cidr
  }
  return copy
}

/**
 * The destinations host-local's `routes` name (Calico's partial support: only `dst`; the gateway is always the
 * pod's own), as networks. Routes without a `dst` are skipped.
 */
export function hostLocalRoutes(raw: JsonObject): string[] {
  const ipam = isObject(raw.ipam) ? raw.ipam : {}
  const routes = ipam.routes
  if (routes === undefined || routes === null) return []
  if (!Array.isArray(routes)) throw failure(`failed to parse host-local IPAM routes section; expecting list, not: ${JSON.stringify(ipam)}`)
  const out: string[] = []
  for (const route of routes) {
    const dst = isObject(route) ? route.dst : undefined
    if (dst === undefined) continue
    if (typeof dst !== 'string') throw failure(`invalid IPAM routes section; expecting 'dst' to be a string, not: ${JSON.stringify(dst)}`)
    const cidr = parseCIDR(dst)
    if (!cidr) throw failure(`invalid CIDR address: ${dst}`)
    out.push(formatCIDR(cidr))
  }
  return out
}
