// Calico's etcd v3 key layout (libcalico-go/lib/backend/model): the mapping between a Backend Key and
// its storage path. Both the etcd and the embedded backend address rows by this path, so a dump of
// either is the same set of (path, JSON) pairs.

import {ValidationError} from '../api/errors.js'
import {KINDS, kindInfo, type KindInfo} from '../api/kinds.js'
import {resourceId} from '../api/resource.js'
import type {Key, ListOptions} from './backend.js'

export const CALICO_ROOT = '/calico/'
export const RESOURCE_ROOT = '/calico/resources/v3/projectcalico.org/'
export const IPAM_ROOT = '/calico/ipam/v2/'

const BLOCK_ROOT = `${IPAM_ROOT}assignment/`
const HANDLE_ROOT = `${IPAM_ROOT}handle/`
const CONFIG_PATH = `${IPAM_ROOT}config`
/** BlockAffinity paths start with the affinity type (model.IPAMAffinityTypeHost / Virtual). */
const AFFINITY_TYPES = ['host', 'virtual'] as const

/** Kinds of the IPAM library, stored under /calico/ipam/v2 instead of the v3 resource tree. */
export const IPAM_KINDS = new Set(['IPAMBlock', 'BlockAffinity', 'IPAMHandle', 'IPAMConfig'])

const resourceKindByPlural = new Map(KINDS.filter((k) => !IPAM_KINDS.has(k.kind)).map((k) => [k.plural, k]))

const BLOCK_PATH = /^\/calico\/ipam\/v2\/assignment\/ipv[46]\/block\/([^/]+)$/
const AFFINITY_PATH = /^\/calico\/ipam\/v2\/(host|virtual)\/([^/]+)\/ipv[46]\/block\/([^/]+)$/
const HANDLE_PATH = /^\/calico\/ipam\/v2\/handle\/([^/]+)$/

function requireKind(kind: string): KindInfo {
  const info = kindInfo(kind)
  if (!info) throw new Error(`unknown resource kind: ${kind}`)
  return info
}

function invalidKey(key: Key, reason: string): ValidationError {
  return new ValidationError([{name: 'Metadata.Name', value: key.name, reason}])
}

/** `10.0.0.0/26` → `ipv4/block/10.0.0.0-26`: the CIDR part of block and affinity paths. */
function cidrSegment(key: Key, cidr: string): string {
  if (!/^[0-9a-fA-F.:]+\/\d{1,3}$/.test(cidr)) throw invalidKey(key, `invalid block CIDR "${cidr}"`)
  const version = cidr.includes(':') ? 6 : 4
  return `ipv${version}/block/${cidr.replace('/', '-')}`
}

/** Splits a BlockAffinity name `host:node1:10.0.0.0/26` into type, host and CIDR (IPv6 CIDRs contain `:`). */
function splitAffinityName(key: Key): {type: string; host: string; cidr: string} {
  const first = key.name.indexOf(':')
  const second = first < 0 ? -1 : key.name.indexOf(':', first + 1)
  if (second < 0) throw invalidKey(key, 'block affinity name must be "<type>:<host>:<cidr>"')
  const type = key.name.slice(0, first)
  const host = key.name.slice(first + 1, second)
  if (!(AFFINITY_TYPES as readonly string[]).includes(type)) throw invalidKey(key, `unknown affinity type "${type}"`)
  if (host === '' || host.includes('/')) throw invalidKey(key, `invalid affinity host "${host}"`)
  return {type, host, cidr: key.name.slice(second + 1)}
}

function checkSegment(value: string, field: string): void {
  if (value === '' || value.includes('/')) {
    throw new ValidationError([{name: field, value, reason: 'must be non-empty and must not contain "/"'}])
  }
}

/** The storage path of one object. Throws ValidationError for names that cannot form a key. */
export function keyToPath(key: Key): string {
  switch (key.kind) {
    case 'IPAMBlock':
      return `${BLOCK_ROOT}${cidrSegment(key, key.name)}`
    case 'BlockAffinity': {
      const {type, host, cidr} = splitAffinityName(key)
      return `${IPAM_ROOT}${type}/${host}/${cidrSegment(key, cidr)}`
    }
    case 'IPAMHandle':
      checkSegment(key.name, 'Metadata.Name')
      return `${HANDLE_ROOT}${key.name}`
    case 'IPAMConfig':
      if (key.name !== 'default') throw invalidKey(key, 'the IPAM configuration is named "default"')
      return CONFIG_PATH
  }
  const info = requireKind(key.kind)
  checkSegment(key.name, 'Metadata.Name')
  if (!info.namespaced) return `${RESOURCE_ROOT}${info.plural}/${key.name}`
  checkSegment(key.namespace ?? '', 'Metadata.Namespace')
  return `${RESOURCE_ROOT}${info.plural}/${key.namespace}/${key.name}`
}

/** The Key stored at a path, or undefined for paths outside the layout (other components' keys, legacy IPAMHost). */
export function pathToKey(path: string): Key | undefined {
  if (path.startsWith(RESOURCE_ROOT)) {
    const parts = path.slice(RESOURCE_ROOT.length).split('/')
    const info = resourceKindByPlural.get(parts[0])
    if (!info) return undefined
    if (info.namespaced) {
      return parts.length === 3 && parts[1] && parts[2] ? {kind: info.kind, namespace: parts[1], name: parts[2]} : undefined
    }
    return parts.length === 2 && parts[1] ? {kind: info.kind, name: parts[1]} : undefined
  }
  if (path === CONFIG_PATH) return {kind: 'IPAMConfig', name: 'default'}
  let m = BLOCK_PATH.exec(path)
  if (m) return {kind: 'IPAMBlock', name: m[1].replace('-', '/')}
  m = AFFINITY_PATH.exec(path)
  if (m) return {kind: 'BlockAffinity', name: `${m[1]}:${m[2]}:${m[3].replace('-', '/')}`}
  m = HANDLE_PATH.exec(path)
  if (m) return {kind: 'IPAMHandle', name: m[1]}
  return undefined
}

/**
 * A key range to read for a list: every path starting with `prefix`. Results still go through
 * pathToKey and `matches`, because some ranges are wider than the request (e.g. all block affinities
 * span the `host/` and `virtual/` trees, and `host/` also holds legacy IPAMHost keys).
 */
export interface ListRange {
  prefix: string
}

function escapeForPrefix(namePrefix: string): string {
  return namePrefix.replace('/', '-')
}

/** The path prefixes that together cover a list request. */
export function listRanges(opts: ListOptions): ListRange[] {
  const prefix = opts.namePrefix ?? ''
  switch (opts.kind) {
    case 'IPAMBlock': {
      // The IP version is only known once the prefix shows a `.` or `:`.
      const versions = prefix.includes(':') ? [6] : prefix.includes('.') ? [4] : [4, 6]
      return versions.map((v) => ({prefix: `${BLOCK_ROOT}ipv${v}/block/${escapeForPrefix(prefix)}`}))
    }
    case 'BlockAffinity': {
      // Name `<type>:<host>:<cidr>`: narrow by as many whole segments as the prefix gives.
      const [type, host, ...rest] = prefix.split(':')
      if (host === undefined) return AFFINITY_TYPES.filter((t) => t.startsWith(type)).map((t) => ({prefix: `${IPAM_ROOT}${t}/`}))
      if (!(AFFINITY_TYPES as readonly string[]).includes(type)) return []
      return [{prefix: rest.length === 0 ? `${IPAM_ROOT}${type}/${host}` : `${IPAM_ROOT}${type}/${host}/`}]
    }
    case 'IPAMHandle':
      return [{prefix: `${HANDLE_ROOT}${prefix}`}]
    case 'IPAMConfig':
      return 'default'.startsWith(prefix) ? [{prefix: CONFIG_PATH}] : []
  }
  const info = requireKind(opts.kind)
  if (info.namespaced && opts.namespace !== undefined) {
    return [{prefix: `${RESOURCE_ROOT}${info.plural}/${opts.namespace}/${prefix}`}]
  }
  if (info.namespaced && prefix !== '') {
    // A name prefix across namespaces cannot be expressed as one path prefix.
    return [{prefix: `${RESOURCE_ROOT}${info.plural}/`}]
  }
  return [{prefix: `${RESOURCE_ROOT}${info.plural}/${prefix}`}]
}

/** Whether a decoded key belongs to a list request (ranges may be wider than the request). */
export function keyMatches(key: Key, opts: ListOptions): boolean {
  if (key.kind !== opts.kind) return false
  if (opts.namespace !== undefined && kindInfo(opts.kind)?.namespaced && key.namespace !== opts.namespace) return false
  return opts.namePrefix === undefined || key.name.startsWith(opts.namePrefix)
}

/** The smallest path prefix under which every given kind lives (for a single watch). */
export function watchPrefix(kinds: readonly string[] | undefined): string {
  if (!kinds || kinds.length === 0) return CALICO_ROOT
  const prefixes = kinds.flatMap((kind) => listRanges({kind}).map((r) => r.prefix))
  let common = prefixes[0] ?? CALICO_ROOT
  for (const p of prefixes.slice(1)) {
    let i = 0
    while (i < common.length && i < p.length && common[i] === p[i]) i++
    common = common.slice(0, i)
  }
  // Cut back to a whole path segment so the prefix means "this subtree".
  return common.slice(0, common.lastIndexOf('/') + 1) || CALICO_ROOT
}

/** How errors name a key: calicoctl's `Kind(ns/name)` for resources, libcalico-go's key strings for IPAM. */
export function keyId(key: Key): string {
  switch (key.kind) {
    case 'IPAMBlock':
      return `BlockKey(cidr=${key.name})`
    case 'BlockAffinity': {
      const first = key.name.indexOf(':')
      const second = key.name.indexOf(':', first + 1)
      if (first < 0 || second < 0) return `BlockAffinityKey(${key.name})`
      return `BlockAffinityKey(cidr=${key.name.slice(second + 1)}, host=${key.name.slice(first + 1, second)}, affinityType=${key.name.slice(0, first)})`
    }
    case 'IPAMHandle':
      return `IPAMHandleKey(id=${key.name})`
    case 'IPAMConfig':
      return 'IPAMConfigKey()'
  }
  return resourceId(key.kind, key.name, kindInfo(key.kind)?.namespaced ? key.namespace : undefined)
}
