// Ports and protocols (numorstring.Port / numorstring.Protocol): their wire forms and Calico's checks on them.

import {Collector} from './collector.js'

/** A parsed port: a single port or range (name empty), or a named port (min = max = 0). */
export interface Port {
  min: number
  max: number
  name: string
}

/** A parsed protocol: a number 0-255, or a name (valid names are checked by validateProtocol). */
export type Protocol = {num: number; str?: undefined} | {str: string; num?: undefined}

const PORT_NAME_RE = /^[a-zA-Z0-9_.-]{1,128}$/
const PROTOCOL_NAME_RE = /^(TCP|UDP|ICMP|ICMPv6|SCTP|UDPLite)$/
const PROTOCOL_NAMES = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite']

/**
 * Reads a port as written (`80`, `"80"`, `"80:90"`, `"http"`). Returns an error string for forms the Go decoder
 * refuses. A reversed range is returned as parsed so that validatePort can report it.
 */
export function parsePort(raw: unknown): Port | string {
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0 || raw > 65535) return `invalid port format (${raw})`
    return {min: raw, max: raw, name: ''}
  }
  if (typeof raw !== 'string') return 'port must be a number or a string'
  if (/^\d+$/.test(raw)) {
    const n = Number(raw)
    return n > 65535 ? `invalid port format (${raw})` : {min: n, max: n, name: ''}
  }
  const m = /^(\d+):(\d+)$/.exec(raw)
  if (m) {
    const lo = Number(m[1])
    const hi = Number(m[2])
    if (lo > 65535) return `invalid minimum port number in range (${raw})`
    if (hi > 65535) return `invalid maximum port number in range (${raw})`
    return {min: lo, max: hi, name: ''}
  }
  if (!PORT_NAME_RE.test(raw)) return `invalid name for named port (${raw})`
  return {min: 0, max: 0, name: raw}
}

/** numorstring.Port struct validation; the Go field name is always `Port`. */
export function validatePort(c: Collector, path: string, p: Port): void {
  if (p.min > p.max) c.go(path, 'Port', p.max, 'port range invalid')
  if (p.name !== '') {
    if (p.min !== 0 || p.max !== 0) {
      c.go(path, 'Port', p.name, 'named port invalid, if name is specified, min and max should be 0')
    }
  } else if (p.min < 1) {
    c.go(path, 'Port', p.min, 'port range invalid, port number must be between 1 and 65535')
  } else if (p.max < 1) {
    c.go(path, 'Port', p.max, 'port range invalid, port number must be between 1 and 65535')
  }
}

/** Parses and validates a list of ports, returning the ones that parsed. */
export function checkPorts(c: Collector, path: string, raw: readonly unknown[]): Port[] {
  const out: Port[] = []
  raw.forEach((r, i) => {
    const p = checkPort(c, `${path}[${i}]`, r)
    if (p) out.push(p)
  })
  return out
}

/** Parses and validates one port field; returns it when it parsed. */
export function checkPort(c: Collector, path: string, raw: unknown): Port | undefined {
  const p = parsePort(raw)
  if (typeof p === 'string') {
    c.go(path, 'Port', raw, p)
    return undefined
  }
  validatePort(c, path, p)
  return p
}

export function allPortsAreNamed(ports: readonly Port[]): boolean {
  return ports.every((p) => p.name !== '')
}

/** Reads a protocol as written; a numeric string 0-255 counts as a number, as in Go's Uint8OrString. */
export function parseProtocol(raw: unknown): Protocol | string {
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0 || raw > 255) return `protocol number out of range (${raw})`
    return {num: raw}
  }
  if (typeof raw !== 'string') return 'protocol must be a number or a string'
  if (/^\d+$/.test(raw) && Number(raw) <= 255) return {num: Number(raw)}
  return {str: raw}
}

/** numorstring.ProtocolFromString: canonical capitalisation for known names (`tcp` becomes `TCP`). */
export function protocolFromString(s: string): Protocol {
  const known = PROTOCOL_NAMES.find((n) => n.toLowerCase() === s.toLowerCase())
  return parseProtocol(known ?? s) as Protocol
}

export function validateProtocol(c: Collector, path: string, p: Protocol): void {
  if (p.num !== undefined) {
    if (p.num === 0) c.go(path, 'Protocol', 0, 'protocol number invalid')
  } else if (!PROTOCOL_NAME_RE.test(p.str)) {
    c.go(path, 'Protocol', p.str, 'protocol name invalid')
  }
}

/** Parses and validates a protocol field; returns it when it parsed. */
export function checkProtocol(c: Collector, path: string, raw: unknown): Protocol | undefined {
  if (raw === undefined || raw === null) return undefined
  const p = parseProtocol(raw)
  if (typeof p === 'string') {
    c.go(path, 'Protocol', raw, p)
    return undefined
  }
  validateProtocol(c, path, p)
  return p
}

/** TCP, UDP and SCTP (by name, lower-case v1 name or number) carry ports. */
export function supportsPorts(p: Protocol): boolean {
  if (p.num !== undefined) return p.num === 6 || p.num === 17 || p.num === 132
  return ['TCP', 'UDP', 'SCTP', 'tcp', 'udp', 'sctp'].includes(p.str)
}

/** Whether the protocol is the named one or its number (CEL compares both forms). */
export function protocolIs(p: Protocol | undefined, name: string, num: number): boolean {
  if (!p) return false
  return p.num === num || p.str === name
}
