// calico/node's IP autodetection methods (first-found, can-reach=, interface=, skip-interface=, cidr=), as pure
// selection over an interface list. The I/O that produces the list and the can-reach probe is in host.ts.
// Addresses and CIDRs are parsed by src/api/net.ts (Go's net.ParseIP/ParseCIDR rules, as calico/node's).
import {cidrContainsIP, parseCIDR, parseIP, type CIDR, type IPVersion} from '../api/net.js'

export type Family = IPVersion

export interface HostAddress {
  address: string
  prefixLength: number
  family: Family
}

export interface HostInterface {
  name: string
  addresses: HostAddress[]
}

export type AutodetectMethod =
  | {kind: 'first-found'}
  | {kind: 'can-reach'; destination: string}
  | {kind: 'interface'; patterns: RegExp[]}
  | {kind: 'skip-interface'; patterns: RegExp[]}
  | {kind: 'cidr'; cidrs: CIDR[]}

/** calico/node's DEFAULT_INTERFACES_TO_EXCLUDE: bridges, tunnels and workload interfaces never carry the node IP. */
export const DEFAULT_INTERFACES_TO_EXCLUDE: readonly RegExp[] = [
  /^docker.*/, /^cbr.*/, /^dummy.*/, /^virbr.*/, /^lxcbr.*/, /^veth.*/, /^lo/, /^cali.*/, /^tunl.*/, /^flannel.*/,
  /^kube-ipvs.*/, /^cni.*/, /^vxlan\.calico.*/, /^vxlan-v6\.calico.*/, /^wireguard\.cali.*/, /^wg-v6\.cali.*/, /^nodelocaldns.*/,
]

export class AutodetectError extends Error {}

function regexes(list: string, method: string): RegExp[] {
  return list.split(',').map((s) => {
    try {
      return new RegExp(s)
    } catch {
      throw new AutodetectError(`invalid IP autodetection method: ${method}`)
    }
  })
}

/** Parses `first-found`, `can-reach=<addr>`, `interface=<re,...>`, `skip-interface=<re,...>`, `cidr=<cidr,...>`. */
export function parseAutodetectMethod(method: string): AutodetectMethod {
  if (method === '' || method === 'first-found') return {kind: 'first-found'}
  const eq = method.indexOf('=')
  const name = eq < 0 ? method : method.slice(0, eq)
  const value = eq < 0 ? '' : method.slice(eq + 1)
  if (value !== '') {
    switch (name) {
      case 'can-reach':
        return {kind: 'can-reach', destination: value}
      case 'interface':
        return {kind: 'interface', patterns: regexes(value, method)}
      case 'skip-interface':
        return {kind: 'skip-interface', patterns: regexes(value, method)}
      case 'cidr':
        return {
          kind: 'cidr',
          cidrs: value.split(',').map((c) => {
            const parsed = parseCIDR(c.trim())
            if (!parsed) throw new AutodetectError(`invalid IP autodetection method: ${method}`)
            return parsed
          }),
        }
    }
  }
  throw new AutodetectError(`invalid IP autodetection method: ${method}`)
}

/** Whether `address` (as listed on an interface) lies in one of `cidrs`, of its own family. */
function inAnyCidr(address: string, cidrs: readonly CIDR[]): boolean {
  const ip = parseIP(address)
  return ip !== undefined && cidrs.some((c) => cidrContainsIP(c, ip))
}

/** Addresses that can never be a node's routable IP: loopback, link-local, unspecified, multicast. */
export function usableAddress(a: HostAddress): boolean {
  const ip = parseIP(a.address)
  if (!ip || ip.version !== a.family) return false
  if (ip.version === 4) {
    const first = Number(ip.value >> 24n)
    const second = Number((ip.value >> 16n) & 0xffn)
    return ip.value !== 0n && first !== 127 && !(first === 169 && second === 254) && first < 224
  }
  const top16 = Number(ip.value >> 112n)
  return ip.value !== 0n && ip.value !== 1n && (top16 & 0xffc0) !== 0xfe80 && top16 >> 8 !== 0xff
}

const asCidr = (a: HostAddress): string => `${a.address}/${a.prefixLength}`

function firstUsable(ifaces: readonly HostInterface[], family: Family, accept: (i: HostInterface) => boolean): string | undefined {
  for (const i of ifaces) {
    if (!accept(i)) continue
    const a = i.addresses.find((x) => x.family === family && usableAddress(x))
    if (a) return asCidr(a)
  }
  return undefined
}

const excludedByDefault = (name: string): boolean => DEFAULT_INTERFACES_TO_EXCLUDE.some((r) => r.test(name))

/**
 * The node address (CIDR form, `10.0.0.5/24`) a method picks from `ifaces`, in their order, or undefined.
 * `can-reach` needs the source address the kernel would use (from host.ts): it is then looked up here, so the
 * prefix length comes from the interface that owns it.
 */
export function selectAddress(
  method: AutodetectMethod,
  family: Family,
  ifaces: readonly HostInterface[],
  routeSource?: string,
): string | undefined {
  switch (method.kind) {
    case 'first-found':
      return firstUsable(ifaces, family, (i) => !excludedByDefault(i.name))
    case 'interface':
      return firstUsable(ifaces, family, (i) => method.patterns.some((r) => r.test(i.name)))
    case 'skip-interface':
      return firstUsable(ifaces, family, (i) => !excludedByDefault(i.name) && !method.patterns.some((r) => r.test(i.name)))
    case 'cidr':
      for (const i of ifaces) {
        const a = i.addresses.find((x) => x.family === family && usableAddress(x) && inAnyCidr(x.address, method.cidrs))
        if (a) return asCidr(a)
      }
      return undefined
    case 'can-reach': {
      if (routeSource === undefined) return undefined
      for (const i of ifaces) {
        const a = i.addresses.find((x) => x.address === routeSource)
        if (a) return asCidr(a)
      }
      // Not on any listed interface (e.g. a /32 on a tunnel); report it as a host address.
      return `${routeSource}/${family === 4 ? 32 : 128}`
    }
  }
}
