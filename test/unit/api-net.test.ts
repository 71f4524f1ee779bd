// src/api/net.ts: Go's net.ParseIP / net.ParseCIDR acceptance, the cnet (unmapV4) view, and CIDR arithmetic.
import {describe, expect, it} from 'vitest'

import {
  canonicalCIDR,
  cidrContainsCIDR,
  compareAddressText,
  cidrContainsIP,
  cidrsOverlap,
  formatCIDR,
  formatIP,
  isMasked,
  parseCIDR,
  parseCIDROrIP,
  parseIP,
  parseIPNet,
  parseIPNetOrIP,
  unmapCIDR,
} from '../../src/api/net.js'

describe('parseIP (Go net.ParseIP)', () => {
  it('accepts dotted quads and IPv6 literals, including an embedded IPv4 tail', () => {
    expect(parseIP('10.0.0.1')).toEqual({version: 4, value: 0x0a000001n})
    expect(parseIP('::')).toEqual({version: 6, value: 0n})
    expect(parseIP('1:2:3:4:5:6:7::')?.value).toBe(0x0001000200030004000500060007_0000n)
    expect(parseIP('1:2:3:4:5:6:1.2.3.4')?.value).toBe(0x00010002000300040005000601020304n)
    expect(parseIP('::1.2.3.4')).toEqual({version: 6, value: 0x01020304n})
  })

  it('refuses what Go refuses', () => {
    for (const bad of ['010.0.0.1', '256.1.1.1', '1.2.3', '1.2.3.4.5', ' 10.0.0.1', 'fe80::1%eth0', '1::2::3',
      '1:2:3:4:5:6:7:8:9', '1::2:3:4:5:6:7:8', '', 'abc', ':1::', ':::', '1.2.3.4::', '1.2.3.4::1', '::1.2.3.4:1',
      '::01.2.3.4', '12345::']) {
      expect(parseIP(bad), bad).toBeUndefined()
    }
  })

  it('keeps an IPv4-mapped address IPv6 unless asked for the cnet view', () => {
    expect(parseIP('::ffff:10.0.0.1')).toEqual({version: 6, value: 0xffff0a000001n})
    expect(parseIP('::ffff:10.0.0.1', {unmapV4: true})).toEqual({version: 4, value: 0x0a000001n})
  })
})

describe('parseIPNet / parseCIDR (Go net.ParseCIDR)', () => {
  it('returns the address as written and the masked network', () => {
    const n = parseIPNet('10.1.2.3/16')!
    expect(formatIP(n.ip)).toBe('10.1.2.3')
    expect(formatCIDR(n.cidr)).toBe('10.1.0.0/16')
    expect(isMasked(n)).toBe(false)
    expect(isMasked(parseIPNet('10.1.0.0/16')!)).toBe(true)
  })

  it('takes a decimal prefix up to the address width, leading zeros allowed as in Go dtoi', () => {
    expect(parseCIDR('10.0.0.0/08')).toEqual({version: 4, base: 0x0a000000n, prefix: 8})
    expect(parseCIDR('10.0.0.0/33')).toBeUndefined()
    expect(parseCIDR('::/129')).toBeUndefined()
    for (const bad of ['10.0.0.1', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/+8', '10.0.0.0/8 ', '10.0.0.0/8/8']) {
      expect(parseCIDR(bad), bad).toBeUndefined()
    }
  })

  it('bare addresses only through the OrIP variants', () => {
    expect(parseCIDROrIP('10.0.0.1')).toEqual({version: 4, base: 0x0a000001n, prefix: 32})
    expect(parseIPNetOrIP('fe80::1')?.cidr.prefix).toBe(128)
  })

  it('cnet view: a mapped CIDR is IPv4 with the mask cut to 32 bits, and needs a prefix of at least 96', () => {
    expect(parseCIDR('::ffff:10.1.2.3/120', {unmapV4: true})).toEqual({version: 4, base: 0x0a010200n, prefix: 24})
    expect(parseCIDR('::ffff:10.1.2.3/64', {unmapV4: true})).toBeUndefined()
    expect(parseCIDR('::ffff:10.1.2.3/64')).toEqual({version: 6, base: 0n, prefix: 64})
  })

  it('unmapCIDR prints mapped networks the way Go IPNet.String does', () => {
    expect(formatCIDR(unmapCIDR(parseCIDR('::ffff:10.1.2.3/120')!))).toBe('10.1.2.0/24')
    expect(formatCIDR(unmapCIDR(parseCIDR('::ffff:10.1.2.3/88')!))).toBe('::ff00:0:0/88')
    expect(formatCIDR(unmapCIDR(parseCIDR('2001:db8::/32')!))).toBe('2001:db8::/32')
  })
})

describe('formatting and arithmetic', () => {
  it('formats IPv6 per RFC 5952 (first longest run of two or more zero groups)', () => {
    expect(canonicalCIDR('2001:db8:0:0:1::1/64')).toBe('2001:db8::/64')
    expect(formatIP(parseIP('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3')
    expect(formatIP(parseIP('1:0:2:0:3:0:4:0')!)).toBe('1:0:2:0:3:0:4:0')
    expect(formatIP(parseIP('1:0:0:2:3:0:0:4')!)).toBe('1::2:3:0:0:4')
  })

  it('containment and overlap respect the IP version', () => {
    const ten = parseCIDR('10.0.0.0/8')!
    expect(cidrContainsIP(ten, parseIP('10.255.0.1')!)).toBe(true)
    expect(cidrContainsIP(ten, parseIP('11.0.0.0')!)).toBe(false)
    expect(cidrContainsIP(parseCIDR('::/0')!, parseIP('10.0.0.1')!)).toBe(false)
    expect(cidrContainsCIDR(ten, parseCIDR('10.1.0.0/16')!)).toBe(true)
    expect(cidrContainsCIDR(parseCIDR('10.1.0.0/16')!, ten)).toBe(false)
    expect(cidrsOverlap(parseCIDR('10.1.0.0/16')!, ten)).toBe(true)
    expect(cidrsOverlap(parseCIDR('10.0.0.0/16')!, parseCIDR('10.1.0.0/16')!)).toBe(false)
  })
})

describe('compareAddressText', () => {
  it('sorts IPv4 before IPv6 and numerically, not by text', () => {
    const sorted = ['fd00::10', '10.0.0.10', 'fd00::9', '10.0.0.9', '9.255.255.255', '::1'].sort(compareAddressText)
    expect(sorted).toEqual(['9.255.255.255', '10.0.0.9', '10.0.0.10', '::1', 'fd00::9', 'fd00::10'])
    expect(compareAddressText('10.0.0.1', '10.0.0.1')).toBe(0)
    // Anything that is not an address compares as text.
    expect(compareAddressText('b', '10.0.0.1')).toBeGreaterThan(0)
    expect(compareAddressText('a', 'b')).toBeLessThan(0)
  })
})
