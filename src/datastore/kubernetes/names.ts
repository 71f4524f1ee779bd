// Kubernetes object names and labels Calico derives for the objects it keeps in a cluster
// (libcalico-go names.CIDRToName, the BlockAffinity CR name and labels, workload endpoint names).

import {createHash} from 'node:crypto'

/** `10.0.0.0/26` → `10-0-0-0-26`; `fd80:24e2::/122` → `fd80-24e2---122` (names.CIDRToName). */
export function cidrToName(cidr: string): string {
  return cidr.replace(/[.:/]/g, '-')
}

/** The BlockAffinity CR name `<host>-<cidrname>`, shortened with a hash when it would reach 253 characters. */
export function blockAffinityName(host: string, cidr: string): string {
  const cidrName = cidrToName(cidr)
  const name = `${host}-${cidrName}`
  if (name.length < 253) return name
  const hash = createHash('sha256').update(`${host}+${cidrName}`).digest('hex').slice(0, 11)
  return `${host.slice(0, 252 - cidrName.length - 13)}-${cidrName}-${hash}`
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** RFC 4648 base32 without padding (Go's base32.StdEncoding.WithPadding(NoPadding)). */
function base32(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]
  return out
}

/** Label value naming a host on BlockAffinity CRs: base32(SHA3-256(hostname)) fits the 63-character limit. */
export function hostnameHash(hostname: string): string {
  return base32(createHash('sha3-256').update(hostname).digest())
}

export const LABEL_HOSTNAME_HASH = 'projectcalico.org/hostname-hash'
export const LABEL_AFFINITY_TYPE = 'projectcalico.org/affinity-type'
export const LABEL_IP_VERSION = 'projectcalico.org/ip-version'

/** `<node>-k8s-<pod>-eth0` with each part's `-` doubled (names.WorkloadEndpointIdentifiers). */
export function workloadEndpointName(node: string, pod: string, endpoint = 'eth0'): string {
  return [node, 'k8s', pod, endpoint].map((p) => p.replaceAll('-', '--')).join('-')
}

/** `cali` + 11 hex digits of sha1("<namespace>.<pod>") (VethNameForWorkload). */
export function vethName(namespace: string, pod: string, prefix = 'cali'): string {
  return prefix + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)
}

export const NAMESPACE_PROFILE_PREFIX = 'kns.'
export const SERVICE_ACCOUNT_PROFILE_PREFIX = 'ksa.'
