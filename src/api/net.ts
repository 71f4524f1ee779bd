// IPv4/IPv6 addresses and CIDRs as bigints: parsing with Go's net.ParseIP / net.ParseCIDR acceptance rules (Calico
// parses every address through them), Go's text forms, and the mask/containment/overlap arithmetic shared by the
// validator, IPAM and the policy calculator. Pure: imports nothing.

export type IPVersion = 4 | 6

export interface IPAddr {
  readonly version: IPVersion
  /** The address as an unsigned integer of 32 (v4) or 128 (v6) bits. */
  readonly value: bigint
}

/** A network: `base` is always masked to `prefix` bits. */
export interface CIDR {
  readonly version: IPVersion
  readonly base: bigint
  readonly prefix: number
}

/** Go's net.ParseCIDR result pair: the address as written and the (masked) network. */
export interface IPNet {
  readonly ip: IPAddr
  readonly cidr: CIDR
}

export interface ParseOptions {
  /**
   * Calico's cnet view (cnet.IP.Version uses To4): an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is IPv4, and a
   * mapped CIDR keeps only its last 32 bits, so its prefix must be at least 96. Without it, such input stays IPv6.
   */
  readonly unmapV4?: boolean
}

export function addressBits(version: IPVersion): number {
  return version === 4 ? 32 : 128
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

/**
 * A dotted quad as Go's net.ParseIP reads it: four decimal octets of at most three digits, no leading zeros (they
 * would be ambiguous octal), each at most 255. Scanned by character into a number, then one BigInt: every endpoint
 * address goes through here when the agent starts.
 */
function parseIPv4Value(s: string): bigint | undefined {
  let value = 0
  let octets = 0
  let i = 0
  while (i < s.length) {
    const start = i
    let n = 0
    for (let c = s.charCodeAt(i); c >= 48 && c <= 57; c = s.charCodeAt(++i)) n = n * 10 + (c - 48)
    const digits = i - start
    if (digits === 0 || digits > 3 || n > 255 || (digits > 1 && s.charCodeAt(start) === 48)) return undefined
    value = value * 256 + n
    if (++octets === 4) return i === s.length ? BigInt(value) : undefined
    // Anything but a dot after the first three octets (or a dot at the very end) is malformed.
    if (s.charCodeAt(i) !== 46 || ++i === s.length) return undefined
  }
  return undefined
}

function parseIPv6Value(text: string): bigint | undefined {
  // Zones (`fe80::1%eth0`) are not addresses for Calico.
  if (text.length === 0 || text.includes('%')) return undefined
  let s = text
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) stands for the last two groups; anywhere else a '.' fails below.
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
      if (!HEX_GROUP.test(g)) return undefined
      out.push(parseInt(g, 16))
    }
    return out
  }
  const head = parseGroups(halves[0])
  if (head === undefined) return undefined
  let groups: number[]
  if (halves.length === 2) {
    const rest = parseGroups(halves[1])
    // "::" stands for at least one zero group.
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

const V4_MAPPED_TAG = 0xffffn

function isV4Mapped(ip: IPAddr): boolean {
  return ip.version === 6 && ip.value >> 32n === V4_MAPPED_TAG
}

/** The IPv4 address an IPv4-mapped IPv6 address stands for (Go's To4); any other address unchanged. */
export function unmapIP(ip: IPAddr): IPAddr {
  return isV4Mapped(ip) ? {version: 4, value: ip.value & 0xffffffffn} : ip
}

/**
 * A network inside ::ffff:0:0/96 as IPv4, its mask cut to the last 32 bits (how Go's IPNet.String prints it); any
 * other network unchanged.
 */
export function unmapCIDR(c: CIDR): CIDR {
  if (c.version !== 6 || c.prefix < 96 || c.base >> 32n !== V4_MAPPED_TAG) return c
  return {version: 4, base: c.base & 0xffffffffn, prefix: c.prefix - 96}
}

/** Go's net.ParseIP: a dotted quad or an IPv6 literal; undefined when malformed. */
export function parseIP(s: string, opts: ParseOptions = {}): IPAddr | undefined {
  let ip: IPAddr | undefined
  if (s.includes(':')) {
    const value = parseIPv6Value(s)
    ip = value === undefined ? undefined : {version: 6, value}
  } else {
    const value = parseIPv4Value(s)
    ip = value === undefined ? undefined : {version: 4, value}
  }
  return ip && opts.unmapV4 ? unmapIP(ip) : ip
}

export function hostMask(version: IPVersion, prefix: number): bigint {
  return (1n << BigInt(addressBits(version) - prefix)) - 1n
}

function allOnes(version: IPVersion): bigint {
  return (1n << BigInt(addressBits(version))) - 1n
}

/** The network containing `ip` with the given prefix length. */
export function maskIP(ip: IPAddr, prefix: number): CIDR {
  // A full-length prefix (every endpoint address) masks nothing: no BigInt arithmetic for it.
  if (prefix === addressBits(ip.version)) return {version: ip.version, base: ip.value, prefix}
  return {version: ip.version, base: ip.value & (allOnes(ip.version) ^ hostMask(ip.version, prefix)), prefix}
}

/** The single-address network of `ip` (/32 or /128). */
export function hostCIDR(ip: IPAddr): CIDR {
  return {version: ip.version, base: ip.value, prefix: addressBits(ip.version)}
}

/** Go's net.ParseCIDR: `<ip>/<decimal prefix>`, returning the address as written and its network. */
export function parseIPNet(s: string, opts: ParseOptions = {}): IPNet | undefined {
  const slash = s.indexOf('/')
  if (slash < 0) return undefined
  const ipText = s.slice(0, slash)
  const lenText = s.slice(slash + 1)
  // Go's dtoi: decimal digits, leading zeros allowed.
  if (!/^[0-9]+$/.test(lenText)) return undefined
  let ip = parseIP(ipText)
  if (!ip) return undefined
  let prefix = Number(lenText)
  if (prefix > addressBits(ip.version)) return undefined
  if (opts.unmapV4 && isV4Mapped(ip)) {
    if (prefix < 96) return undefined
    ip = unmapIP(ip)
    prefix -= 96
  }
  return {ip, cidr: maskIP(ip, prefix)}
}

/** libcalico-go cnet.ParseCIDROrIP: a CIDR, or a bare address taken as a full-length prefix. */
export function parseIPNetOrIP(s: string, opts: ParseOptions = {}): IPNet | undefined {
  if (s.includes('/')) return parseIPNet(s, opts)
  const ip = parseIP(s, opts)
  return ip ? {ip, cidr: hostCIDR(ip)} : undefined
}

/** The network of Go's net.ParseCIDR; undefined when malformed. */
export function parseCIDR(s: string, opts: ParseOptions = {}): CIDR | undefined {
  return parseIPNet(s, opts)?.cidr
}

/** Like parseCIDR, but a bare address is taken as a /32 or /128 (Calico's ParseCIDROrIP). */
export function parseCIDROrIP(s: string, opts: ParseOptions = {}): CIDR | undefined {
  return parseIPNetOrIP(s, opts)?.cidr
}

/** Whether the address as written has no host bits set (Calico's "strictly masked"). */
export function isMasked(n: IPNet): boolean {
  return n.ip.value === n.cidr.base
}

/** Go's net.IP.String(): dotted quad, or RFC 5952 compressed IPv6 (the first longest zero run of ≥2 groups). */
export function formatIP(ip: IPAddr): string {
  if (ip.version === 4) {
    // One conversion to a number (exact below 2^32) instead of four BigInt shifts: agents format every address.
    const v = Number(ip.value)
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`
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

/** Canonical `network/prefix` text (Go's IPNet.String for a network of its own family). */
export function formatCIDR(c: CIDR): string {
  return `${formatIP(cidrBaseIP(c))}/${c.prefix}`
}

/** Canonical text of a CIDR string (masked, compressed); undefined when malformed. */
export function canonicalCIDR(s: string): string | undefined {
  const c = parseCIDR(s)
  return c ? formatCIDR(c) : undefined
}

/** The first address of a network. */
export function cidrBaseIP(c: CIDR): IPAddr {
  return {version: c.version, value: c.base}
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
  return outer.version === inner.version && inner.prefix >= outer.prefix && cidrContainsIP(outer, cidrBaseIP(inner))
}

/** Whether two networks share at least one address. */
export function cidrsOverlap(a: CIDR, b: CIDR): boolean {
  return a.version === b.version && a.base <= cidrLast(b) && b.base <= cidrLast(a)
}

/**
 * Orders addresses given as text: IPv4 before IPv6, then numerically (as IPAM reports list them). When either is not
 * an address the texts are compared as strings.
 */
export function compareAddressText(a: string, b: string): number {
  const x = parseIP(a)
  const y = parseIP(b)
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0
  return x.version !== y.version ? x.version - y.version : x.value < y.value ? -1 : x.value > y.value ? 1 : 0
}

/** The IP version of an address or CIDR known to be well-formed (IPv6 text always contains ':'). */
export function textVersion(text: string): IPVersion {
  return text.includes(':') ? 6 : 4
}

/**
 * The single-address CIDR text of a well-formed address, written with or without a prefix (`10.0.0.5/26` →
 * `10.0.0.5/32`, `fd00::5` → `fd00::5/128`), as pods, routes and workload endpoints carry it.
 */
export function hostCIDRText(address: string): string {
  const ip = address.split('/')[0] ?? address
  return `${ip}/${addressBits(textVersion(ip))}`
}
