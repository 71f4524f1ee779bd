// Calico protocol and port values (numorstring.Protocol / numorstring.Port) in numeric form.
import type {PortRange, PortSpec} from './types.js'

const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
}

export const PROTO_ICMP = 1
export const PROTO_TCP = 6
export const PROTO_UDP = 17
export const PROTO_ICMPV6 = 58
export const PROTO_SCTP = 132

/** Protocols that carry ports (Calico only allows `ports` with these). */
export const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 132, 136])

export class ProtocolError extends Error {}

/** Protocol name (any case) or number (also as a numeric string) → IANA number. */
export function protocolNumber(p: number | string): number {
  if (typeof p === 'number') {
    if (!Number.isInteger(p) || p < 0 || p > 255) throw new ProtocolError(`invalid protocol number ${p}`)
    return p
  }
  const byName = PROTOCOL_NUMBERS[p.toLowerCase()]
  if (byName !== undefined) return byName
  if (/^\d+$/.test(p)) return protocolNumber(Number(p))
  throw new ProtocolError(`unknown protocol ${JSON.stringify(p)}`)
}

export function protocolName(n: number): string {
  for (const [name, num] of Object.entries(PROTOCOL_NUMBERS)) if (num === n) return name
  return String(n)
}

export interface SplitPorts {
  ranges: PortRange[]
  names: string[]
}

/** Splits a Calico ports list into numeric ranges (`80`, `"80"`, `"1000:2000"`) and port names. */
export function splitPorts(ports: readonly PortSpec[] | undefined): SplitPorts {
  const ranges: PortRange[] = []
  const names: string[] = []
  for (const p of ports ?? []) {
    if (typeof p === 'number') {
      ranges.push(checkedRange(p, p))
      continue
    }
    const m = /^(\d+)(?::(\d+))?$/.exec(p)
    if (m) ranges.push(checkedRange(Number(m[1]), Number(m[2] ?? m[1])))
    else names.push(p)
  }
  return {ranges, names}
}

function checkedRange(first: number, last: number): PortRange {
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last > 65535 || first > last) {
    throw new ProtocolError(`invalid port range ${first}:${last}`)
  }
  return {first, last}
}

export function portInRanges(port: number, ranges: readonly PortRange[]): boolean {
  for (const r of ranges) if (port >= r.first && port <= r.last) return true
  return false
}
