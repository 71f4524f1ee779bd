// Address filters: the IPReservation CIDRs that auto-assignment must skip (addr_filter.go, reserved.go).
import {cidrContainsCIDR, cidrContainsIP, cidrSize, cidrsOverlap, parseCIDROrIP} from './net.js'
import type {CIDR, IPAddr} from './net.js'

export interface AddrFilter {
  matchesIP(ip: IPAddr): boolean
  /** True when every address of the CIDR is filtered. */
  matchesWholeCIDR(cidr: CIDR): boolean
  /** True when at least one address of the CIDR is filtered. */
  matchesSome(cidr: CIDR): boolean
}

export const NO_FILTER: AddrFilter = {
  matchesIP: () => false,
  matchesWholeCIDR: () => false,
  matchesSome: () => false,
}

/** A filter over a list of CIDRs (duplicates and nesting allowed). */
export class CIDRFilter implements AddrFilter {
  constructor(readonly cidrs: readonly CIDR[]) {}

  matchesIP(ip: IPAddr): boolean {
    return this.cidrs.some((c) => cidrContainsIP(c, ip))
  }

  matchesSome(cidr: CIDR): boolean {
    return this.cidrs.some((c) => cidrsOverlap(c, cidr))
  }

  matchesWholeCIDR(cidr: CIDR): boolean {
    const inside: CIDR[] = []
    for (const c of this.cidrs) {
      if (cidrContainsCIDR(c, cidr)) return true
      if (cidrContainsCIDR(cidr, c)) inside.push(c)
    }
    if (inside.length === 0) return false
    // CIDRs nest or are disjoint, so summing the outermost ones counts each covered address once.
    const outermost = inside.filter((c, i) => !inside.some((o, j) => j !== i && cidrContainsCIDR(o, c) && (o.prefix < c.prefix || j < i)))
    const covered = outermost.reduce((n, c) => n + cidrSize(c), 0n)
    return covered === cidrSize(cidr)
  }
}

/** Collects IPReservation `reservedCIDRs` entries; malformed entries are ignored, as Calico does at runtime. */
export function reservationFilter(reservedCIDRs: Iterable<string>): CIDRFilter {
  const cidrs: CIDR[] = []
  for (const raw of reservedCIDRs) {
    const text = raw.trim()
    if (text === '') continue
    const c = parseCIDROrIP(text)
    if (c) cidrs.push(c)
  }
  return new CIDRFilter(cidrs)
}
