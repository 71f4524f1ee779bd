// IP address and CIDR parsing with Go's net.ParseIP / net.ParseCIDR acceptance rules, which Calico's validator
// relies on (e.g. IPv4 octets with leading zeros are rejected, zones are not accepted).

export type IPVersion = 4 | 6

export interface IPAddr {
  version: IPVersion
  /** The address as an unsigned integer of 32 (v4) or 128 (v6) bits. */
  value: bigint
}

export interface IPNet {
  /** The address as written (before masking). */
  ip: IPAddr
  prefixLength: number
}

const V4_DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

function parseIPv4(s: string): bigint | undefined {
  const m = V4_DOTTED.exec(s)
  if (!m) return undefined
  let v = 0n
  for (let i = 1; i <= 4; i++) {
    const part = m[i]
    if (part.length > 1 && part[0] === '0') return undefined
    const n = Number(part)
    if (n > 255) return undefined
    v = (v << 8n) | BigInt(n)
  }
  return v
}

function parseIPv6(s: string): bigint | undefined {
  let head = s
  let tail = ''
  const dc = s.indexOf('::')
  if (dc >= 0) {
    head = s.slice(0, dc)
    tail = s.slice(dc + 2)
    if (tail.includes('::')) return undefined
  }
  const groups = (part: string): number[] | undefined => {
    if (part === '') return []
    const out: number[] = []
    const items = part.split(':')
    for (let i = 0; i < items.length; i++) {
      const it = items[i]
      if (i === items.length - 1 && it.includes('.')) {
        const v4 = parseIPv4(it)
        if (v4 === undefined) return undefined
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn))
      } else if (HEX_GROUP.test(it)) {
        out.push(parseInt(it, 16))
      } else {
        return undefined
      }
    }
    return out
  }
  const h = groups(head)
  const t = groups(tail)
  if (!h || !t) return undefined
  // An embedded IPv4 address is only allowed at the very end.
  if (dc >= 0 && tail === '' && head.includes('.')) return undefined
  const total = h.length + t.length
  if (dc >= 0 ? total > 7 : total !== 8) return undefined
  const all = [...h, ...new Array<number>(8 - total).fill(0), ...t]
  let v = 0n
  for (const g of all) v = (v << 16n) | BigInt(g)
  return v
}

const V4_MAPPED_PREFIX = 0xffffn << 32n

/** Go's net.ParseIP: IPv4 dotted quad or IPv6; IPv4-mapped IPv6 addresses count as IPv4 (as in Calico's cnet). */
export function parseIP(s: string): IPAddr | undefined {
  if (s.includes('.') && !s.includes(':')) {
    const v = parseIPv4(s)
    return v === undefined ? undefined : {version: 4, value: v}
  }
  if (!s.includes(':')) return undefined
  const v = parseIPv6(s)
  if (v === undefined) return undefined
  if (v >> 32n === V4_MAPPED_PREFIX >> 32n) return {version: 4, value: v & 0xffffffffn}
  return {version: 6, value: v}
}

export function bitsOf(version: IPVersion): number {
  return version === 4 ? 32 : 128
}

/** Go's net.ParseCIDR: `<ip>/<prefix>` only. */
export function parseCIDR(s: string): IPNet | undefined {
  const slash = s.indexOf('/')
  if (slash < 0) return undefined
  const ipPart = s.slice(0, slash)
  const lenPart = s.slice(slash + 1)
  if (!/^\d{1,3}$/.test(lenPart)) return undefined
  // Go parses the address part on its own, so a v4-mapped address keeps IPv6 prefix semantics; we treat it as v4.
  const ip = parseIP(ipPart)
  if (!ip) return undefined
  let prefixLength = Number(lenPart)
  const isMapped = ip.version === 4 && ipPart.includes(':')
  if (isMapped) {
    if (prefixLength < 96) return undefined
    prefixLength -= 96
  }
  if (prefixLength > bitsOf(ip.version)) return undefined
  return {ip, prefixLength}
}

/** libcalico-go cnet.ParseCIDROrIP: a CIDR, or a bare address taken as a full-length prefix. */
export function parseCIDROrIP(s: string): IPNet | undefined {
  if (s.includes('/')) return parseCIDR(s)
  const ip = parseIP(s)
  return ip ? {ip, prefixLength: bitsOf(ip.version)} : undefined
}

function maskOf(version: IPVersion, prefixLength: number): bigint {
  const bits = BigInt(bitsOf(version))
  const host = bits - BigInt(prefixLength)
  return ((1n << bits) - 1n) ^ ((1n << host) - 1n)
}

/** The network address of a CIDR (host bits cleared). */
export function networkOf(n: IPNet): bigint {
  return n.ip.value & maskOf(n.ip.version, n.prefixLength)
}

/** Whether the address as written has no host bits set (Calico's "strictly masked"). */
export function isMasked(n: IPNet): boolean {
  return networkOf(n) === n.ip.value
}

export function netContainsIP(n: IPNet, ip: IPAddr): boolean {
  if (n.ip.version !== ip.version) return false
  return (ip.value & maskOf(n.ip.version, n.prefixLength)) === networkOf(n)
}

/** Whether two networks share at least one address. */
export function netsOverlap(a: IPNet, b: IPNet): boolean {
  if (a.ip.version !== b.ip.version) return false
  const shorter = a.prefixLength <= b.prefixLength ? a : b
  const longer = shorter === a ? b : a
  return netContainsIP(shorter, {version: longer.ip.version, value: networkOf(longer)})
}

export function formatIP(ip: IPAddr): string {
  if (ip.version === 4) {
    const v = ip.value
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.')
  }
  const groups: number[] = []
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn))
  // RFC 5952: compress the longest run (length >= 2) of zero groups.
  let best = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}

/** Canonical `network/prefix` form (what Go's IPNet.String prints). */
export function formatCIDR(n: IPNet): string {
  return `${formatIP({version: n.ip.version, value: networkOf(n)})}/${n.prefixLength}`
}
