import {describe, expect, it} from 'vitest'
import type {Resource} from '../../src/api/resource.js'
import {CIDRFilter, reservationFilter} from '../../src/ipam/addrfilter.js'
import {NoQualifiedPoolError} from '../../src/ipam/errors.js'
import {formatCIDR, parseCIDR} from '../../src/ipam/net.js'
import type {CIDR} from '../../src/ipam/net.js'
import {
  blocksIn,
  determinePools,
  enabledPools,
  filterPoolsByUse,
  fnv1_32,
  maxPrefixLen,
  poolFromResource,
  randomBlocks,
} from '../../src/ipam/pools.js'
import type {Pool} from '../../src/ipam/pools.js'

function cidr(s: string): CIDR {
  const c = parseCIDR(s)
  if (!c) throw new Error(s)
  return c
}

function pool(name: string, spec: Record<string, unknown>, extra: Partial<Resource> = {}): Pool {
  const p = poolFromResource({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name}, spec, ...extra})
  if (!p) throw new Error(name)
  return p
}

describe('poolFromResource', () => {
  it('applies the client defaults IPAM relies on', () => {
    expect(pool('a', {cidr: '10.0.0.0/24'})).toMatchObject({
      cidrText: '10.0.0.0/24',
      blockSize: 26,
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
      disabled: false,
      unallocatable: false,
    })
    expect(pool('b', {cidr: 'fd80:24e2:f998:72d6::/120'}).blockSize).toBe(122)
    expect(pool('c', {cidr: '10.0.0.0/24', blockSize: 30, allowedUses: ['Tunnel']})).toMatchObject({blockSize: 30, allowedUses: ['Tunnel']})
    expect(poolFromResource({apiVersion: 'v', kind: 'IPPool', metadata: {name: 'x'}, spec: {cidr: 'bogus'}})).toBeUndefined()
  })

  it('marks terminating and not-allocatable pools', () => {
    expect(pool('t', {cidr: '10.0.0.0/24'}, {metadata: {name: 't', deletionTimestamp: '2026-01-01T00:00:00Z'}}).unallocatable).toBe(true)
    expect(pool('s', {cidr: '10.0.0.0/24'}, {status: {conditions: [{type: 'Allocatable', status: 'False'}]}}).unallocatable).toBe(true)
  })
})

describe('pool selection', () => {
  const pools = [
    pool('z-v4', {cidr: '10.1.0.0/16'}),
    pool('a-v4', {cidr: '10.0.0.0/16'}),
    pool('off', {cidr: '10.2.0.0/16', disabled: true}),
    pool('manual', {cidr: '10.3.0.0/16', assignmentMode: 'Manual'}),
    pool('tunnel', {cidr: '10.4.0.0/16', allowedUses: ['Tunnel']}),
    pool('tiny-blocks', {cidr: '10.5.0.0/16', blockSize: 31}),
    pool('v6', {cidr: 'fd00::/64'}),
  ]

  it('keeps enabled pools of the version in name order', () => {
    expect(enabledPools(pools, 4).map((p) => p.name)).toEqual(['a-v4', 'manual', 'tiny-blocks', 'tunnel', 'z-v4'])
    expect(enabledPools(pools, 6).map((p) => p.name)).toEqual(['v6'])
  })

  it('skips Manual pools unless requested and honours requests as-is', () => {
    const enabled = enabledPools(pools, 4)
    const base = {version: 4 as const, enabled, nodeLabels: {}, maxPrefixLen: 32}
    expect(determinePools({...base, requested: []}).map((p) => p.name)).toEqual(['a-v4', 'tiny-blocks', 'tunnel', 'z-v4'])
    expect(determinePools({...base, requested: [cidr('10.3.0.0/16')]}).map((p) => p.name)).toEqual(['manual'])
    expect(() => determinePools({...base, requested: [cidr('10.2.0.0/16')]})).toThrow(
      'the given pool (10.2.0.0/16) does not exist, or is not enabled',
    )
  })

  it('drops pools whose blocks cannot hold host-reserved addresses', () => {
    const reserved = {startOfBlock: 3, endOfBlock: 1, handle: 'windows-reserved-ipam-handle', note: 'windows'}
    expect(maxPrefixLen(4, reserved)).toBe(29)
    expect(maxPrefixLen(6, reserved)).toBe(125)
    expect(maxPrefixLen(4)).toBe(32)
    const enabled = enabledPools(pools, 4)
    const names = determinePools({version: 4, enabled, requested: [], nodeLabels: {}, maxPrefixLen: 29}).map((p) => p.name)
    expect(names).not.toContain('tiny-blocks')
    expect(() => determinePools({version: 4, enabled: [enabled[2]], requested: [], nodeLabels: {}, maxPrefixLen: 29})).toThrow(NoQualifiedPoolError)
  })

  it('filters by allowed use', () => {
    expect(filterPoolsByUse(pools, 'Tunnel').map((p) => p.name)).toContain('tunnel')
    expect(filterPoolsByUse(pools, 'Workload').map((p) => p.name)).not.toContain('tunnel')
    expect(filterPoolsByUse(pools, 'LoadBalancer')).toEqual([])
  })
})

describe('block generators', () => {
  it('lists the blocks of a CIDR in order', () => {
    const p = pool('p', {cidr: '10.0.0.0/24'})
    expect([...blocksIn(p, cidr('10.0.0.0/24'))].map(formatCIDR)).toEqual(['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26'])
    expect([...blocksIn(p, cidr('10.0.0.64/26'))].map(formatCIDR)).toEqual(['10.0.0.64/26'])
  })

  it('visits every block exactly once from a host-dependent start, the same each time', () => {
    const p = pool('p', {cidr: '10.0.0.0/22', blockSize: 28})
    const a = [...randomBlocks(p, 'host-a')].map(formatCIDR)
    expect(a).toHaveLength(64)
    expect(new Set(a).size).toBe(64)
    expect([...randomBlocks(p, 'host-a')].map(formatCIDR)).toEqual(a)
    const starts = new Set(['host-a', 'host-b', 'host-c', 'host-d', 'host-e'].map((h) => formatCIDR(randomBlocks(p, h).next().value as CIDR)))
    expect(starts.size).toBeGreaterThan(1)
    const v6 = pool('v6', {cidr: 'fd00::/48', blockSize: 122})
    expect(formatCIDR(randomBlocks(v6, 'h').next().value as CIDR)).toMatch(/^fd00:0?:?.*\/122$/)
  })

  it('hashes host names with 32-bit FNV-1', () => {
    expect(fnv1_32('')).toBe(0x811c9dc5)
    expect(fnv1_32('a')).toBe(0x050c5d7e)
    expect(fnv1_32('foobar')).toBe(0x31f0b262)
  })
})

describe('reservation filter', () => {
  it('matches addresses, partial and whole CIDRs', () => {
    const f = reservationFilter(['10.0.0.1/32', '10.0.0.32/30', '11.0.0.0/30', ' 10.0.0.17 ', 'garbage', ''])
    expect(f.cidrs).toHaveLength(4)
    expect(f.matchesSome(cidr('10.0.0.0/26'))).toBe(true)
    expect(f.matchesSome(cidr('10.0.1.0/26'))).toBe(false)
    expect(f.matchesWholeCIDR(cidr('10.0.0.0/26'))).toBe(false)
    expect(f.matchesWholeCIDR(cidr('10.0.0.32/31'))).toBe(true)
    // Two halves (and a duplicate nested inside one) cover the whole block.
    const halves = new CIDRFilter([cidr('10.0.0.0/27'), cidr('10.0.0.32/27'), cidr('10.0.0.40/29')])
    expect(halves.matchesWholeCIDR(cidr('10.0.0.0/26'))).toBe(true)
    expect(new CIDRFilter([cidr('10.0.0.0/27'), cidr('10.0.0.0/27')]).matchesWholeCIDR(cidr('10.0.0.0/26'))).toBe(false)
  })
})
