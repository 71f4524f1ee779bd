// IPv4/IPv6 address and CIDR arithmetic on bigints: normalisation, containment and overlap suppression
// (nft interval sets reject overlapping elements, so set members must be made disjoint first).

export interface Cidr {
  family: 4 | 6
  /** Network address (host bits zero). */
  addr: bigint
  prefix: number
}

export class CidrError extends Error {}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.')
  if (parts.length !== 4) return undefined
  let v = 0n
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined
    const n = Number(p)
    if (n > 255) return undefined
    v = (v << 8n) | BigInt(n)
  }
  return v
}

function parseV6(s: string): bigint | undefined {
  let head = s
  let tailV4: bigint | undefined
  const lastColon = s.lastIndexOf(':')
  if (s.includes('.') && lastColon >= 0) {
    tailV4 = parseV4(s.slice(lastColon + 1))
    if (tailV4 === undefined) return undefined
    head = s.slice(0, lastColon + 1) + '0:0'
  }
  const dbl = head.split('::')
  if (dbl.length > 2) return undefined
  const group = (g: string): string[] => (g === '' ? [] : g.split(':'))
  const left = group(dbl[0]!)
  const right = dbl.length === 2 ? group(dbl[1]!) : []
  const missing = 8 - left.length - right.length
  if (dbl.length === 1 ? missing !== 0 : missing < 1) return undefined
  const groups = [...left, ...Array<string>(dbl.length === 2 ? missing : 0).fill('0'), ...right]
  let v = 0n
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
    v = (v << 16n) | BigInt(parseInt(g, 16))
  }
  if (tailV4 !== undefined) v = (v & ~0xffffffffn) | tailV4
  return v
}

export function parseIP(s: string): {family: 4 | 6; addr: bigint} | undefined {
  const v4 = parseV4(s)
  if (v4 !== undefined) return {family: 4, addr: v4}
  if (!s.includes(':')) return undefined
  const v6 = parseV6(s)
  return v6 === undefined ? undefined : {family: 6, addr: v6}
}

function bits(family: 4 | 6): number {
  return family === 4 ? 32 : 128
}

function maskOf(family: 4 | 6, prefix: number): bigint {
  const b = BigInt(bits(family))
  return ((1n << b) - 1n) ^ ((1n << (b - BigInt(prefix))) - 1n)
}

/** Parses `a.b.c.d[/n]` or an IPv6 form, zeroing host bits as Calico's NormalizeIPNets does. */
export function parseCidr(s: string): Cidr {
  const slash = s.indexOf('/')
  const ipText = slash < 0 ? s : s.slice(0, slash)
  const ip = parseIP(ipText.trim())
  if (!ip) throw new CidrError(`invalid IP address ${JSON.stringify(s)}`)
  const max = bits(ip.family)
  const prefix = slash < 0 ? max : Number(s.slice(slash + 1))
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (slash >= 0 && !/^\d+$/.test(s.slice(slash + 1)))) {
    throw new CidrError(`invalid CIDR ${JSON.stringify(s)}`)
  }
  return {family: ip.family, addr: ip.addr & maskOf(ip.family, prefix), prefix}
}

export function formatIP(family: 4 | 6, addr: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((sh) => String((addr >> sh) & 0xffn)).join('.')
  }
  const groups: number[] = []
  for (let i = 7; i >= 0; i--) groups.push(Number((addr >> BigInt(i * 16)) & 0xffffn))
  // RFC 5952: compress the longest run (≥2) of zero groups.
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`
}

/** Canonical text: `10.0.0.0/8`; single addresses keep the explicit `/32` or `/128`. */
export function formatCidr(c: Cidr): string {
  return `${formatIP(c.family, c.addr)}/${c.prefix}`
}

export function normalizeCidr(s: string): string {
  return formatCidr(parseCidr(s))
}

export function cidrContainsAddr(c: Cidr, family: 4 | 6, addr: bigint): boolean {
  return c.family === family && (addr & maskOf(family, c.prefix)) === c.addr
}

export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefix <= inner.prefix && cidrContainsAddr(outer, inner.family, inner.addr)
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
  parsed.sort((a, b) => a.family - b.family || (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : a.prefix - b.prefix))
  const out: Cidr[] = []
  for (const c of parsed) {
    const last = out[out.length - 1]
    // Sorted by address then prefix: a covering CIDR always precedes what it covers.
    if (last && cidrContains(last, c)) continue
    out.push(c)
  }
  return out.map(formatCidr)
}

export function cidrFamily(s: string): 4 | 6 {
  return s.includes(':') ? 6 : 4
}

