import {describe, expect, it} from 'vitest'
import {
  canonicalCIDR,
  cidrContainsCIDR,
  cidrContainsIP,
  cidrsOverlap,
  cidrSize,
  formatCIDR,
  formatIP,
  maskIP,
  nthIP,
  parseCIDR,
  parseCIDROrIP,
  parseIP,
} from '../../src/ipam/net.js'

function ip(s: string) {
  const v = parseIP(s)
  if (!v) throw new Error(`bad test address ${s}`)
  return v
}

function net(s: string) {
  const v = parseCIDR(s)
  if (!v) throw new Error(`bad test CIDR ${s}`)
  return v
}

describe('parseIP / formatIP', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['fd80:24e2:f998:72d6::', 'fd80:24e2:f998:72d6::'],
    ['FD80:24E2:F998:72D6:0:0:0:1', 'fd80:24e2:f998:72d6::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
  ])('%s prints as %s', (input, want) => {
    expect(formatIP(ip(input))).toBe(want)
  })

  it.each(['', '10.0.0', '10.0.0.256', '01.0.0.1', '1.2.3.4.5', 'fd80:::1', '1:2:3:4:5:6:7:8:9', 'g::1', '10.0.0.1/32', 'fe80::1%eth0'])(
    'rejects %j',
    (input) => {
      expect(parseIP(input)).toBeUndefined()
    },
  )

  it('distinguishes versions', () => {
    expect(ip('10.0.0.1').version).toBe(4)
    expect(ip('::a00:1').version).toBe(6)
    expect(ip('10.0.0.1').value).toBe(0x0a000001n)
  })
})

describe('CIDRs', () => {
  it('masks the address like Go ParseCIDR', () => {
    expect(formatCIDR(net('10.0.0.77/26'))).toBe('10.0.0.64/26')
    expect(canonicalCIDR('fd80:24e2:f998:72d6::7f/122')).toBe('fd80:24e2:f998:72d6::40/122')
    expect(canonicalCIDR('10.0.0.0/33')).toBeUndefined()
    expect(canonicalCIDR('10.0.0.0')).toBeUndefined()
  })

  it('takes a bare address as a host route', () => {
    expect(formatCIDR(parseCIDROrIP('10.0.0.1') ?? net('0.0.0.0/0'))).toBe('10.0.0.1/32')
    expect(formatCIDR(parseCIDROrIP('fd00::1') ?? net('::/0'))).toBe('fd00::1/128')
    expect(parseCIDROrIP('nonsense')).toBeUndefined()
  })

  it('computes sizes, containment and overlap', () => {
    expect(cidrSize(net('10.0.0.0/24'))).toBe(256n)
    expect(cidrSize(net('fd00::/64'))).toBe(1n << 64n)
    expect(cidrContainsIP(net('10.0.0.0/26'), ip('10.0.0.63'))).toBe(true)
    expect(cidrContainsIP(net('10.0.0.0/26'), ip('10.0.0.64'))).toBe(false)
    expect(cidrContainsIP(net('::/0'), ip('10.0.0.1'))).toBe(false)
    expect(cidrContainsCIDR(net('10.0.0.0/24'), net('10.0.0.64/26'))).toBe(true)
    expect(cidrContainsCIDR(net('10.0.0.64/26'), net('10.0.0.0/24'))).toBe(false)
    expect(cidrsOverlap(net('10.0.0.0/24'), net('10.0.0.128/25'))).toBe(true)
    expect(cidrsOverlap(net('10.0.0.0/25'), net('10.0.0.128/25'))).toBe(false)
  })

  it('walks ordinals with bigint arithmetic for IPv6', () => {
    expect(formatIP(nthIP(net('10.0.0.0/26'), 5))).toBe('10.0.0.5')
    expect(formatIP(nthIP(net('fd80:24e2:f998:72d6::/122'), 63))).toBe('fd80:24e2:f998:72d6::3f')
    expect(formatCIDR(maskIP(ip('fd80:24e2:f998:72d6::ff'), 122))).toBe('fd80:24e2:f998:72d6::c0/122')
  })
})
