// Calico's `usePodCidr` for host-local IPAM (ReplaceHostLocalIPAMPodCIDRs, getIPsByFamily): which subnets are replaced,
// what is kept, and Calico's errors.
import {describe, expect, it} from 'vitest'

import {hostLocalRoutes, podCIDRsByFamily, RELEASE_POD_CIDRS, usesPodCIDR, withPodCIDRs} from '../../src/cni/hostlocal.js'

const conf = (ipam: Record<string, unknown>) => ({cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', ipam: {type: 'host-local', ...ipam}})
const dual = {v4: '10.90.1.0/24', v6: 'fd00:90:1::/64'}

describe('host-local usePodCidr', () => {
  it('replaces the marker in the ipam section and in every range, whatever its case, keeping everything else', () => {
    const raw = conf({
      subnet: 'usePodCidr',
      dataDir: '/tmp/x',
      routes: [{dst: '0.0.0.0/0'}],
      ranges: [[{subnet: 'USEPODCIDR', rangeStart: '10.90.1.10'}], [{subnet: 'usePodCidrIPv6'}], [{subnet: '192.0.2.0/24'}]],
    })
    expect(usesPodCIDR(raw)).toBe(true)
    const out = withPodCIDRs(raw, dual)
    expect(out).toEqual(conf({
      subnet: '10.90.1.0/24',
      dataDir: '/tmp/x',
      routes: [{dst: '0.0.0.0/0'}],
      ranges: [[{subnet: '10.90.1.0/24', rangeStart: '10.90.1.10'}], [{subnet: 'fd00:90:1::/64'}], [{subnet: '192.0.2.0/24'}]],
    }))
    // The configuration as received is not changed.
    expect(raw.ipam).toMatchObject({subnet: 'usePodCidr', ranges: [[{subnet: 'USEPODCIDR'}], [{subnet: 'usePodCidrIPv6'}], [{subnet: '192.0.2.0/24'}]]})
  })

  it('leaves a configuration without the marker alone, and substitutes any valid CIDR for release', () => {
    expect(usesPodCIDR(conf({ranges: [[{subnet: '10.0.0.0/24'}]]}))).toBe(false)
    expect(withPodCIDRs(conf({ranges: [[{subnet: 'usePodCidr'}], [{subnet: 'usePodCidrIPv6'}]]}), RELEASE_POD_CIDRS).ipam).toMatchObject({
      ranges: [[{subnet: '0.0.0.0/0'}], [{subnet: '::/0'}]],
    })
  })

  it('fails when the node has no pod CIDR of the family asked for', () => {
    expect(() => withPodCIDRs(conf({subnet: 'usePodCidrIPv6'}), {v4: '10.90.1.0/24', v6: ''})).toThrow('usePodCidrIPv6 found but there is no IPv6 CIDR configured')
    expect(() => withPodCIDRs(conf({ranges: [[{subnet: 'usePodCidr'}]]}), {v4: '', v6: 'fd00::/64'})).toThrow('usePodCidr found but there is no IPv4 CIDR configured')
  })

  it('rejects ranges that are not lists of range sets', () => {
    expect(() => usesPodCIDR(conf({ranges: {subnet: 'usePodCidr'}}))).toThrow('failed to parse host-local IPAM ranges section; was expecting a list, not: {"subnet":"usePodCidr"}')
    expect(() => usesPodCIDR(conf({ranges: [{subnet: 'usePodCidr'}]}))).toThrow('failed to parse host-local IPAM range set; was expecting a list, not: {"subnet":"usePodCidr"}')
    expect(() => usesPodCIDR(conf({ranges: [['usePodCidr']]}))).toThrow('failed to parse host-local IPAM data; was expecting a dict, not: "usePodCidr"')
  })
})

describe('the Node\'s pod CIDRs by family', () => {
  it('takes one CIDR of each family', () => {
    expect(podCIDRsByFamily('n1', ['10.90.1.0/24'])).toEqual({v4: '10.90.1.0/24', v6: ''})
    expect(podCIDRsByFamily('n1', ['fd00:90:1::/64', '10.90.1.0/24'])).toEqual(dual)
  })

  it('fails on none, on two of one family, and on a malformed CIDR', () => {
    expect(() => podCIDRsByFamily('n1', [])).toThrow('no podCidr for node n1')
    expect(() => podCIDRsByFamily('n1', ['10.90.1.0/24', '10.90.2.0/24'])).toThrow('ClusterCIDR contains two ranges of the same type')
    expect(() => podCIDRsByFamily('n1', ['10.90.1.0'])).toThrow('invalid CIDR address: 10.90.1.0')
  })
})

describe('host-local routes', () => {
  it('takes each route\'s destination as a network, skipping routes without one', () => {
    expect(hostLocalRoutes(conf({routes: [{dst: '10.80.1.1/16', gw: '10.80.0.1'}, {gw: '1.2.3.4'}, {dst: 'fd00:80::/32'}]}))).toEqual(['10.80.0.0/16', 'fd00:80::/32'])
    expect(hostLocalRoutes(conf({}))).toEqual([])
  })

  it('fails on a malformed routes section as Calico does', () => {
    expect(() => hostLocalRoutes(conf({routes: {dst: '10.0.0.0/8'}}))).toThrow(/^failed to parse host-local IPAM routes section; expecting list, not: /)
    expect(() => hostLocalRoutes(conf({routes: [{dst: 10}]}))).toThrow("invalid IPAM routes section; expecting 'dst' to be a string, not: 10")
    expect(() => hostLocalRoutes(conf({routes: [{dst: '10.0.0.0'}]}))).toThrow('invalid CIDR address: 10.0.0.0')
  })
})
