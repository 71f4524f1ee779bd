// The pod and namespace annotations Calico's plugin acts on for a Kubernetes pod (cni-plugin/pkg/k8s CmdAddK8s):
// IP pools and address families for Calico IPAM, fixed addresses with (`ipAddrs`) or without (`ipAddrsNoIpam`)
// IPAM, the floating-IP feature gate, the source prefixes a pod may spoof, and its interface's MAC address. Pure:
// annotations and configuration in, a decision or Calico's error out.
import {isIP} from 'node:net'

import {allowedSourcePrefixes as parseAllowedSourcePrefixes, ANNOTATION_ALLOWED_SOURCE_PREFIXES, parseStringList} from '../api/pod-annotations.js'

import type {IpamConf, NetConf} from './config.js'
import {CNI_CODES, CniError} from './errors.js'

export const ANNOTATION_IPV4_POOLS = 'cni.projectcalico.org/ipv4pools'
export const ANNOTATION_IPV6_POOLS = 'cni.projectcalico.org/ipv6pools'
export const ANNOTATION_IP_FAMILIES = 'cni.projectcalico.org/ipFamilies'
export const ANNOTATION_IP_ADDRS = 'cni.projectcalico.org/ipAddrs'
export const ANNOTATION_IP_ADDRS_NO_IPAM = 'cni.projectcalico.org/ipAddrsNoIpam'
export const ANNOTATION_FLOATING_IPS = 'cni.projectcalico.org/floatingIPs'
export {ANNOTATION_ALLOWED_SOURCE_PREFIXES}
export const ANNOTATION_HW_ADDR = 'cni.projectcalico.org/hwAddr'

const CALICO_IPAM = 'calico-ipam'

function failure(msg: string): CniError {
  return new CniError(CNI_CODES.internal, msg)
}

/** The list an annotation holds; a malformed one fails the ADD naming the annotation. */
function annotationList(text: string, annotation: string): string[] {
  const parsed = parseStringList(text)
  if ('error' in parsed) throw failure(`error parsing annotation ${annotation} ${JSON.stringify(text)}: ${parsed.error}`)
  return parsed.list
}

/** parseIPAddrs: the list of an address annotation. */
function ipList(text: string): string[] {
  const parsed = parseStringList(text)
  if ('error' in parsed) throw failure(`failed to parse '${text}' as JSON: ${parsed.error}`)
  return parsed.list
}

/**
 * Calico IPAM's settings for this pod: `ipv4pools`, `ipv6pools` and `ipFamilies` from the namespace, each replaced by
 * the pod's own annotation when it has one. Other IPAM plugins get the configuration unchanged.
 */
export function ipamForPod(ipam: IpamConf, namespaceAnnotations: Record<string, string>, podAnnotations: Record<string, string>): IpamConf {
  if (ipam.type !== CALICO_IPAM) return ipam
  const pick = (key: string) => podAnnotations[key] || namespaceAnnotations[key] || ''
  const v4 = pick(ANNOTATION_IPV4_POOLS)
  const v6 = pick(ANNOTATION_IPV6_POOLS)
  const families = pick(ANNOTATION_IP_FAMILIES)
  const out: IpamConf = {...ipam}
  if (v4 !== '') out.ipv4Pools = annotationList(v4, ANNOTATION_IPV4_POOLS)
  if (v6 !== '') out.ipv6Pools = annotationList(v6, ANNOTATION_IPV6_POOLS)
  if (families !== '') {
    out.assignIPv4 = false
    out.assignIPv6 = false
    for (const family of annotationList(families, ANNOTATION_IP_FAMILIES)) {
      if (family === 'IPv4') out.assignIPv4 = true
      else if (family === 'IPv6') out.assignIPv6 = true
      else throw failure(`error parsing ipFamilies: ${families}`)
    }
  }
  return out
}

/** Where the pod's addresses come from. */
export type AddressSource =
  | {kind: 'ipam'}
  /** These addresses, assigned through Calico IPAM under the container's handle. */
  | {kind: 'ipAddrs'; ips: string[]}
  /** These addresses as they are: IPAM is not consulted and holds nothing for the pod. */
  | {kind: 'noIpam'; ips: string[]}

/** At most one IPv4 and one IPv6 address, as a JSON list (validateAndExtractIPs). */
function singleFamilyIPs(text: string, annotation: string): string[] {
  let ips: string[]
  try {
    ips = ipList(text)
  } catch (err) {
    throw failure(`failed to parse IPs ${text} for annotation "${annotation}": ${(err as Error).message}`)
  }
  if (ips.length === 0) throw failure(`annotation "${annotation}" specified but empty`)
  let v4 = false
  let v6 = false
  for (const ip of ips) {
    const family = isIP(ip)
    if (family === 0) throw failure(`invalid IP format: ${ip}`)
    if (family === 4) {
      if (v4) throw failure(`cannot have more than one IPv4 address for "${annotation}" annotation`)
      v4 = true
    } else {
      if (v6) throw failure(`cannot have more than one IPv6 address for "${annotation}" annotation`)
      v6 = true
    }
  }
  return ips
}

/** Which addresses the pod gets, with Calico's checks of the two address annotations against the configuration. */
export function addressSource(conf: NetConf, podAnnotations: Record<string, string>): AddressSource {
  const ipAddrs = podAnnotations[ANNOTATION_IP_ADDRS] ?? ''
  const noIpam = podAnnotations[ANNOTATION_IP_ADDRS_NO_IPAM] ?? ''
  if (ipAddrs === '' && noIpam === '') return {kind: 'ipam'}
  if (ipAddrs !== '' && noIpam !== '') throw failure(`can't have both annotations: 'ipAddrs' and 'ipAddrsNoIpam' in use at the same time`)
  if (noIpam !== '') {
    if (conf.ipam.type !== CALICO_IPAM) throw failure(`ipAddrsNoIpam is not compatible with configured IPAM: ${conf.ipam.type}`)
    if (!conf.featureControl.ipAddrsNoIpam) throw failure('requested feature is not enabled: ip_addrs_no_ipam')
    return {kind: 'noIpam', ips: singleFamilyIPs(noIpam, ANNOTATION_IP_ADDRS_NO_IPAM)}
  }
  if (conf.ipam.type !== CALICO_IPAM) throw failure(`ipAddrs is not compatible with configured IPAM: ${conf.ipam.type}`)
  return {kind: 'ipAddrs', ips: singleFamilyIPs(ipAddrs, ANNOTATION_IP_ADDRS)}
}

/** Floating IPs need `feature_control.floating_ips`, and must be a JSON list of addresses. */
export function checkFloatingIPs(conf: NetConf, podAnnotations: Record<string, string>): void {
  const text = podAnnotations[ANNOTATION_FLOATING_IPS] ?? ''
  if (text === '') return
  if (!conf.featureControl.floatingIPs) throw failure('requested feature is not enabled: floating_ips')
  ipList(text)
}

/**
 * The prefixes the pod may send from besides its own addresses (HandleSourceIPSpoofingAnnotation), as network
 * CIDRs (`10.1.2.3/16` → `10.1.0.0/16`): the endpoint's allowSpoofedSourcePrefixes. Any malformed entry fails the ADD.
 */
export function allowedSourcePrefixes(podAnnotations: Record<string, string>): string[] {
  const parsed = parseAllowedSourcePrefixes(podAnnotations[ANNOTATION_ALLOWED_SOURCE_PREFIXES])
  if ('error' in parsed) throw failure(parsed.error)
  return parsed.prefixes
}

/** Six octets, in any of Go's net.ParseMAC spellings (`:` or `-` separated, or `xxxx.xxxx.xxxx`). */
const MAC_FORMS = [/^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i, /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i]

/**
 * The MAC address the pod's interface must have (DoNetworking's `hwAddr` annotation), as `aa:bb:cc:dd:ee:ff`;
 * undefined to keep the kernel's. A veth takes six octets only.
 */
export function requestedMAC(podAnnotations: Record<string, string>): string | undefined {
  const text = podAnnotations[ANNOTATION_HW_ADDR]
  if (text === undefined) return undefined
  if (!MAC_FORMS.some((re) => re.test(text))) throw failure(`failed to parse MAC address ${text} provided via ${ANNOTATION_HW_ADDR}: address ${text}: invalid MAC address`)
  const hex = text.replace(/[^0-9a-f]/gi, '').toLowerCase()
  return hex.match(/../g)?.join(':')
}
