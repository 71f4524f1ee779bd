// IPv4/IPv6 address and CIDR arithmetic on bigint values, formatted the way Go's net package prints them.
import {IPAMError} from './errors.js'

export type IPVersion = 4 | 6

export interface IPAddr {
  readonly version: IPVersion
  /** The address as an unsigned integer (32 or 128 bits). */
  readonly value: bigint
}

/** A network: `base` is always masked to `prefix` bits. */
export interface CIDR {
  readonly version: IPVersion
  readonly base: bigint
  readonly prefix: number
}

export function addressBits(version: IPVersion): number {
  return version === 4 ? 32 : 128
}

function parseIPv4Value(s: string): bigint | undefined {
  const parts = s.split('.')
  if (parts.length !== 4) return undefined
  let value = 0n
  for (const p of parts) {
    // Go rejects leading zeros (ambiguous octal) and anything but decimal digits.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined
    const n = Number(p)
    if (n > 255) return undefined
    value = (value << 8n) | BigInt(n)
  }
  return value
}

function parseIPv6Value(text: string): bigint | undefined {
  if (text.length === 0 || text.includes('%')) return undefined
  let s = text
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) stands for the last two groups.
  const lastColon = s.lastIndexOf(':')
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4Value(s.slice(lastColon + 1))
    if (v4 === undefined) return undefined
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`
  }
  const halves = s.split('::')
  if (halves.length > 2) return undefined
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return []
    const out: number[] = []
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
      out.push(parseInt(g, 16))
    }
    return out
  }
  const head = parseGroups(halves[0])
  if (head === undefined) return undefined
  let groups: number[]
  if (halves.length === 2) {
    const rest = parseGroups(halves[1])
    if (rest === undefined || head.length + rest.length >= 8) return undefined
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest]
  } else {
    if (head.length !== 8) return undefined
    groups = head
  }
  let value = 0n
  for (const g of groups) value = (value << 16n) | BigInt(g)
  return value
}

/** Parses a literal IPv4 or IPv6 address; undefined when malformed. */
export function parseIP(s: string): IPAddr | undefined {
  if (s.includes(':')) {
    const value = parseIPv6Value(s)
    return value === undefined ? undefined : {version: 6, value}
  }
  const value = parseIPv4Value(s)
  return value === undefined ? undefined : {version: 4, value}
}

/** Go's net.IP.String(): dotted quad, or RFC 5952 compressed IPv6 (longest zero run of ≥2 groups). */
export function formatIP(ip: IPAddr): string {
  if (ip.version === 4) {
    const v = ip.value
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.')
  }
  const groups: number[] = []
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn))
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
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':')
  if (bestStart < 0) return hex(groups)
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`
}

export function hostMask(version: IPVersion, prefix: number): bigint {
  return (1n << BigInt(addressBits(version) - prefix)) - 1n
}

function allOnes(version: IPVersion): bigint {
  return (1n << BigInt(addressBits(version))) - 1n
}

/** Builds the network containing `ip` with the given prefix length. */
export function maskIP(ip: IPAddr, prefix: number): CIDR {
  return {version: ip.version, base: ip.value & (allOnes(ip.version) ^ hostMask(ip.version, prefix)), prefix}
}

/** Parses `addr/len`; the address is masked (Go's ParseCIDR network). Undefined when malformed. */
export function parseCIDR(s: string): CIDR | undefined {
  const slash = s.indexOf('/')
  if (slash < 0) return undefined
  const ip = parseIP(s.slice(0, slash))
  const lenText = s.slice(slash + 1)
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined
  const prefix = Number(lenText)
  if (prefix > addressBits(ip.version)) return undefined
  return maskIP(ip, prefix)
}

/** Like parseCIDR, but a bare address is taken as a /32 or /128 (Calico's ParseCIDROrIP). */
export function parseCIDROrIP(s: string): CIDR | undefined {
  if (s.includes('/')) return parseCIDR(s)
  const ip = parseIP(s)
  return ip ? {version: ip.version, base: ip.value, prefix: addressBits(ip.version)} : undefined
}

export function formatCIDR(c: CIDR): string {
  return `${formatIP({version: c.version, value: c.base})}/${c.prefix}`
}

/** Canonical text of a CIDR string (masked, compressed); undefined when malformed. */
export function canonicalCIDR(s: string): string | undefined {
  const c = parseCIDR(s)
  return c ? formatCIDR(c) : undefined
}

export function cidrSize(c: CIDR): bigint {
  return 1n << BigInt(addressBits(c.version) - c.prefix)
}

export function cidrLast(c: CIDR): bigint {
  return c.base + cidrSize(c) - 1n
}

export function cidrContainsIP(c: CIDR, ip: IPAddr): boolean {
  return c.version === ip.version && ip.value >= c.base && ip.value <= cidrLast(c)
}

export function cidrContainsCIDR(outer: CIDR, inner: CIDR): boolean {
  return outer.version === inner.version && inner.prefix >= outer.prefix && cidrContainsIP(outer, {version: inner.version, value: inner.base})
}

export function cidrsOverlap(a: CIDR, b: CIDR): boolean {
  return a.version === b.version && a.base <= cidrLast(b) && b.base <= cidrLast(a)
}

/** The n-th address of a network (n = 0 is the base). */
export function nthIP(c: CIDR, n: number | bigint): IPAddr {
  return {version: c.version, value: c.base + BigInt(n)}
}


/** The first address of a network. */
export function cidrBaseIP(c: CIDR): IPAddr {
  return {version: c.version, value: c.base}
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

/** The IP version of an address or CIDR in text form (IPv6 text always contains ':'). */
export function textVersion(text: string): IPVersion {
  return text.includes(':') ? 6 : 4
}
