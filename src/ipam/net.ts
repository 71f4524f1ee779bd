// IPAM's address helpers. Parsing, formatting and CIDR arithmetic live in src/api/net.ts and are re-exported here
// so IPAM modules (and the ipam commands) keep one import path; what follows is only what IPAM itself needs.
import type {CIDR, IPAddr} from '../api/net.js'
import {parseCIDR, parseIP} from '../api/net.js'
import {IPAMError} from './errors.js'

export {
  addressBits,
  canonicalCIDR,
  cidrBaseIP,
  cidrContainsCIDR,
  cidrContainsIP,
  cidrLast,
  cidrSize,
  cidrsOverlap,
  compareAddressText,
  formatCIDR,
  formatIP,
  hostMask,
  maskIP,
  parseCIDR,
  parseCIDROrIP,
  parseIP,
  textVersion,
} from '../api/net.js'
export type {CIDR, IPAddr, IPVersion} from '../api/net.js'

/** The n-th address of a network (n = 0 is the base). */
export function nthIP(c: CIDR, n: number | bigint): IPAddr {
  return {version: c.version, value: c.base + BigInt(n)}
}

/** parseCIDR for input that must be valid (IPAMError otherwise). */
export function mustParseCIDR(text: string): CIDR {
  const c = parseCIDR(text)
  if (!c) throw new IPAMError(`invalid CIDR address: ${text}`)
  return c
}

/** parseIP for input that must be valid (IPAMError otherwise). */
export function mustParseIP(text: string): IPAddr {
  const ip = parseIP(text)
  if (!ip) throw new IPAMError(`invalid IP address: ${text}`)
  return ip
}
