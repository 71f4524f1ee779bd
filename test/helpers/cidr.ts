// Address checks for tests that look at what an allocator handed out, on the project's own address arithmetic
// (src/api/net.ts) rather than a test's private copy of it.
import {cidrContainsCIDR, parseCIDR, parseCIDROrIP} from '../../src/api/net.js'

/** Whether the address (IPv4 or IPv6, without prefix) is in the network; false when either does not parse. */
export function inCIDR(ip: string, cidr: string): boolean {
  const [net, addr] = [parseCIDR(cidr), parseCIDROrIP(ip)]
  return net !== undefined && addr !== undefined && cidrContainsCIDR(net, addr)
}
