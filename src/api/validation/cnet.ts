// Addresses as libcalico-go's cnet package sees them (src/api/net.ts with its unmapV4 option): an IPv4-mapped IPv6
// address is IPv4, so e.g. `::ffff:10.0.0.1` passes an `ipv4` check as it does in Calico's validator.
import type {IPAddr, IPNet} from '../net.js'
import {parseIP as goParseIP, parseIPNet, parseIPNetOrIP} from '../net.js'

const CNET = {unmapV4: true} as const

/** cnet.ParseIP. */
export function parseIP(s: string): IPAddr | undefined {
  return goParseIP(s, CNET)
}

/** cnet.ParseCIDR: the address as written (for strict-mask checks) and its network. */
export function parseCIDR(s: string): IPNet | undefined {
  return parseIPNet(s, CNET)
}

/** cnet.ParseCIDROrIP: a CIDR, or a bare address as a full-length prefix. */
export function parseCIDROrIP(s: string): IPNet | undefined {
  return parseIPNetOrIP(s, CNET)
}
