import {describe, expect, it} from 'vitest'
import {NodeRunError, parseASNumber, resolveAddress, type HostFacts} from '../../src/agent/addresses.js'
import {parseCIDR} from '../../src/api/net.js'
import {AutodetectError, parseAutodetectMethod, selectAddress, usableAddress, type HostInterface} from '../../src/agent/autodetect.js'

const v4 = (address: string, prefixLength = 24) => ({address, prefixLength, family: 4 as const})
const v6 = (address: string, prefixLength = 64) => ({address, prefixLength, family: 6 as const})

const IFACES: HostInterface[] = [
  {name: 'lo', addresses: [v4('127.0.0.1', 8), v6('::1', 128)]},
  {name: 'docker0', addresses: [v4('172.17.0.1', 16)]},
  {name: 'cali12345', addresses: [v4('169.254.1.1', 32)]},
  {name: 'eth0', addresses: [v6('fe80::1'), v4('192.0.2.10'), v6('2001:db8::10')]},
  {name: 'eth1', addresses: [v4('198.51.100.7', 25), v6('2001:db8:1::7')]},
]

const host = (source = '198.51.100.7'): HostFacts => ({interfaces: () => IFACES, sourceFor: async () => source})

describe('autodetection methods', () => {
  it('parses each method and rejects unknown ones with calicoctl\'s message', () => {
    expect(parseAutodetectMethod('first-found')).toEqual({kind: 'first-found'})
    expect(parseAutodetectMethod('')).toEqual({kind: 'first-found'})
    expect(parseAutodetectMethod('can-reach=8.8.8.8')).toEqual({kind: 'can-reach', destination: '8.8.8.8'})
    expect(parseAutodetectMethod('interface=eth.*,ens3').kind).toBe('interface')
    expect(parseAutodetectMethod('cidr=10.0.0.0/8,fd00::/8').kind).toBe('cidr')
    for (const bad of ['bogus', 'interface=', 'can-reach', 'cidr=10.0.0.0/33', 'cidr=nope', 'interface=(']) {
      expect(() => parseAutodetectMethod(bad), bad).toThrow(AutodetectError)
      expect(() => parseAutodetectMethod(bad)).toThrow(`invalid IP autodetection method: ${bad}`)
    }
  })

  it('first-found skips excluded interfaces and unusable addresses', () => {
    expect(selectAddress({kind: 'first-found'}, 4, IFACES)).toBe('192.0.2.10/24')
    expect(selectAddress({kind: 'first-found'}, 6, IFACES)).toBe('2001:db8::10/64')
  })

  it('interface= and skip-interface= filter by regular expression', () => {
    expect(selectAddress(parseAutodetectMethod('interface=eth1'), 4, IFACES)).toBe('198.51.100.7/25')
    expect(selectAddress(parseAutodetectMethod('interface=nomatch'), 4, IFACES)).toBeUndefined()
    expect(selectAddress(parseAutodetectMethod('skip-interface=eth0'), 4, IFACES)).toBe('198.51.100.7/25')
    // skip-interface still honours the default exclusions.
    expect(selectAddress(parseAutodetectMethod('skip-interface=eth.*'), 4, IFACES)).toBeUndefined()
  })

  it('cidr= picks the first address inside one of the ranges', () => {
    expect(selectAddress(parseAutodetectMethod('cidr=198.51.100.0/24'), 4, IFACES)).toBe('198.51.100.7/25')
    expect(selectAddress(parseAutodetectMethod('cidr=2001:db8:1::/48'), 6, IFACES)).toBe('2001:db8:1::7/64')
    expect(selectAddress(parseAutodetectMethod('cidr=10.0.0.0/8'), 4, IFACES)).toBeUndefined()
  })

  it('can-reach= reports the route source with its interface prefix length', () => {
    expect(selectAddress(parseAutodetectMethod('can-reach=1.1.1.1'), 4, IFACES, '198.51.100.7')).toBe('198.51.100.7/25')
    expect(selectAddress(parseAutodetectMethod('can-reach=1.1.1.1'), 4, IFACES, '203.0.113.9')).toBe('203.0.113.9/32')
  })

  it('cidr= ranges are parsed as Go\'s net.ParseCIDR does (masked, leading zeros and zones refused)', () => {
    expect(parseAutodetectMethod('cidr=198.51.100.7/24, 2001:db8::1/48')).toEqual({kind: 'cidr', cidrs: [parseCIDR('198.51.100.0/24'), parseCIDR('2001:db8::/48')]})
    for (const bad of ['cidr=010.0.0.0/8', 'cidr=fe80::/10%eth0', 'cidr=10.0.0.0/+8', 'cidr=10.0.0.0']) {
      expect(() => parseAutodetectMethod(bad), bad).toThrow(`invalid IP autodetection method: ${bad}`)
    }
    // An embedded IPv4 tail is an IPv6 address here, so an IPv4 range does not contain it.
    const mapped: HostInterface[] = [{name: 'eth0', addresses: [v6('::ffff:198.51.100.9', 120)]}]
    expect(selectAddress(parseAutodetectMethod('cidr=198.51.100.0/24'), 6, mapped)).toBeUndefined()
    expect(selectAddress(parseAutodetectMethod('cidr=::ffff:198.51.100.0/120'), 6, mapped)).toBe('::ffff:198.51.100.9/120')
  })

  it('unusable addresses', () => {
    expect(usableAddress(v4('0.0.0.0'))).toBe(false)
    expect(usableAddress(v4('127.0.0.53'))).toBe(false)
    expect(usableAddress(v6('::1'))).toBe(false)
    expect(usableAddress(v6('not-an-address'))).toBe(false)
    // An address listed under the other family is not trusted.
    expect(usableAddress(v6('10.1.2.3'))).toBe(false)
    expect(usableAddress(v4('169.254.3.3'))).toBe(false)
    expect(usableAddress(v4('224.0.0.1'))).toBe(false)
    expect(usableAddress(v6('fe80::5'))).toBe(false)
    expect(usableAddress(v6('ff02::1'))).toBe(false)
    expect(usableAddress(v4('10.1.2.3'))).toBe(true)
  })
})

describe('node run address flags', () => {
  it('explicit addresses: prefix from the owning interface, wrong family rejected', async () => {
    expect(await resolveAddress(4, {value: '192.0.2.10', method: ''}, host())).toBe('192.0.2.10/24')
    expect(await resolveAddress(4, {value: '203.0.113.1', method: ''}, host())).toBe('203.0.113.1/32')
    expect(await resolveAddress(4, {value: '10.0.0.1/16', method: ''}, host())).toBe('10.0.0.1/16')
    await expect(resolveAddress(4, {value: '2001:db8::1', method: ''}, host())).rejects.toThrow('--ip is wrong IP version')
    await expect(resolveAddress(6, {value: '10.0.0.1', method: ''}, host())).rejects.toThrow('--ip6 is wrong IP version')
    await expect(resolveAddress(4, {value: 'nonsense', method: ''}, host())).rejects.toThrow(NodeRunError)
  })

  it('empty keeps the stored IPv4 address, else autodetects; empty IPv6 stays unset; none leaves alone', async () => {
    expect(await resolveAddress(4, {value: '', method: 'first-found', existing: '10.9.9.9/24'}, host())).toBe('10.9.9.9/24')
    expect(await resolveAddress(4, {value: '', method: 'first-found'}, host())).toBe('192.0.2.10/24')
    expect(await resolveAddress(4, {value: 'autodetect', method: 'interface=eth1', existing: '10.9.9.9/24'}, host())).toBe('198.51.100.7/25')
    expect(await resolveAddress(6, {value: '', method: 'first-found'}, host())).toBeUndefined()
    expect(await resolveAddress(6, {value: 'autodetect', method: 'first-found'}, host())).toBe('2001:db8::10/64')
    expect(await resolveAddress(4, {value: 'none', method: ''}, host())).toBeUndefined()
    expect(await resolveAddress(4, {value: 'autodetect', method: 'can-reach=example.invalid'}, host('198.51.100.7'))).toBe('198.51.100.7/25')
  })

  it('autodetection failures and bad methods are errors', async () => {
    await expect(resolveAddress(4, {value: 'autodetect', method: 'interface=nomatch'}, host())).rejects.toThrow('Unable to autodetect an IPv4 address')
    await expect(resolveAddress(4, {value: 'autodetect', method: 'sideways'}, host())).rejects.toThrow('invalid IP autodetection method: sideways')
    const failing: HostFacts = {interfaces: () => IFACES, sourceFor: async () => { throw new Error('no route') }}
    await expect(resolveAddress(4, {value: 'autodetect', method: 'can-reach=10.0.0.1'}, failing)).rejects.toThrow('no route')
  })

  it('--as accepts plain and asdot numbers', () => {
    expect(parseASNumber('')).toBeUndefined()
    expect(parseASNumber('64512')).toBe(64512)
    expect(parseASNumber('1.10')).toBe(65546)
    expect(() => parseASNumber('1.70000')).toThrow('Invalid AS Number format: 1.70000')
    expect(() => parseASNumber('abc')).toThrow(NodeRunError)
    expect(() => parseASNumber('4294967296')).toThrow(NodeRunError)
  })
})
