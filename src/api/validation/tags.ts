// Go field tags (`validate:"name"`, `"net"`, `"ip"`, `"mac"`, ...) shared by several kinds. A failing tag is
// reported with go-playground's generic reason under the Go field name.

import type {Obj} from './collector.js'
import {at, Collector, isSet, join, str, strs} from './collector.js'
import {isMasked} from '../net.js'
import {parseCIDROrIP, parseIP} from './cnet.js'
import {NAME_RE} from './names.js'

const MAC_RE = /^([0-9A-Fa-f]{2}([-:])){5}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}$/

/** A `validate:"net"` value: a CIDR or address, with no host bits set. */
export function isStrictNet(s: string): boolean {
  const n = parseCIDROrIP(s)
  return n !== undefined && isMasked(n)
}

/** `validate:"name"` on a string field (empty means unset). */
export function checkNameTag(c: Collector, path: string, name: string, v: string | undefined): void {
  if (v !== undefined && v !== '' && !NAME_RE.test(v)) c.tag(path, name, v, 'name')
}

/** `validate:"dive,name"` on a list of names. */
export function checkNameList(c: Collector, o: Obj, key: string, goName: string, path: string): void {
  const names = strs(c, o, key, path)
  if (!names) return
  for (let i = 0; i < names.length; i++) {
    const s = names[i]!
    if (!NAME_RE.test(s)) c.tag(at(join(path, key), i), `${goName}[${i}]`, s, 'name')
  }
}

/** `validate:"ip"`, `"ipv4"` or `"ipv6"`; returns the value read. */
export function checkIPTag(c: Collector, o: Obj, key: string, goName: string, path: string, version?: 4 | 6): string | undefined {
  const v = str(c, o, key, path)
  if (!isSet(v)) return v
  const ip = parseIP(v)
  if (!ip || (version !== undefined && ip.version !== version)) c.tag(join(path, key), goName, v, version ? `ipv${version}` : 'ip')
  return v
}

/** `validate:"mac"` (the forms Go's net.ParseMAC accepts for 48-bit addresses). */
export function checkMAC(c: Collector, o: Obj, key: string, goName: string, path: string): void {
  const v = str(c, o, key, path)
  if (isSet(v) && !MAC_RE.test(v)) c.tag(join(path, key), goName, v, 'mac')
}
