// The calculator's CIDR needs on top of src/api/net.ts: a parse that throws (input reaching the calculator was
// validated, so a bad CIDR is a bug worth surfacing) and overlap suppression (nft interval sets reject overlapping
// elements, so set members must be made disjoint first).
import type {CIDR} from '../../api/net.js'
import {cidrContainsCIDR, formatCIDR, parseCIDROrIP, parseIP} from '../../api/net.js'

export class CidrError extends Error {}

/** Parses `a.b.c.d[/n]` or an IPv6 form, zeroing host bits as Calico's NormalizeIPNets does. */
export function parseCidr(s: string): CIDR {
  const c = parseCIDROrIP(s)
  if (c) return c
  const slash = s.indexOf('/')
  const badAddress = !parseIP(slash < 0 ? s : s.slice(0, slash))
  throw new CidrError(`${badAddress ? 'invalid IP address' : 'invalid CIDR'} ${JSON.stringify(s)}`)
}

/** Canonical text: `10.0.0.0/8`; single addresses keep the explicit `/32` or `/128`. */
export function normalizeCidr(s: string): string {
  return formatCIDR(parseCidr(s))
}

/**
 * Drops every CIDR covered by another one (and duplicates): the result matches exactly the same addresses and has
 * no overlaps. Input and output are canonical CIDR strings, output in a deterministic order.
 */
export function suppressOverlaps(cidrs: Iterable<string>): string[] {
  const unique = [...new Set(cidrs)]
  // Fast path (the common case: endpoint addresses): distinct host routes cannot overlap.
  if (unique.every((c) => c.endsWith('/32') || c.endsWith('/128'))) return unique.sort()
  const parsed = unique.map(parseCidr)
  parsed.sort((a, b) => a.version - b.version || (a.base < b.base ? -1 : a.base > b.base ? 1 : a.prefix - b.prefix))
  const out: CIDR[] = []
  for (const c of parsed) {
    const last = out[out.length - 1]
    // Sorted by address then prefix: a covering CIDR always precedes what it covers.
    if (last && cidrContainsCIDR(last, c)) continue
    out.push(c)
  }
  return out.map(formatCIDR)
}
