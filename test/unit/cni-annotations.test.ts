// The pod and namespace annotations Calico's plugin acts on (cni-plugin/pkg/k8s CmdAddK8s), with Calico's messages.
import {describe, expect, it} from 'vitest'

import {addressSource, allowedSourcePrefixes, checkFloatingIPs, ipamForPod, requestedMAC} from '../../src/cni/annotations.js'
import {parseNetConf, type IpamConf} from '../../src/cni/config.js'

const conf = (extra: Record<string, unknown> = {}) =>
  parseNetConf(JSON.stringify({cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', datastore_type: 'kubernetes', ipam: {type: 'calico-ipam'}, ...extra}))
const calicoIpam: IpamConf = conf().ipam

describe('IP pools and families', () => {
  it('takes the namespace\'s pools, each replaced by the pod\'s own', () => {
    const ns = {'cni.projectcalico.org/ipv4pools': '["ns-v4"]', 'cni.projectcalico.org/ipv6pools': '["ns-v6"]'}
    expect(ipamForPod(calicoIpam, ns, {})).toMatchObject({ipv4Pools: ['ns-v4'], ipv6Pools: ['ns-v6']})
    expect(ipamForPod(calicoIpam, ns, {'cni.projectcalico.org/ipv4pools': '["pod-a","10.9.0.0/16"]'})).toMatchObject({
      ipv4Pools: ['pod-a', '10.9.0.0/16'],
      ipv6Pools: ['ns-v6'],
    })
    expect(ipamForPod(calicoIpam, {}, {})).toEqual(calicoIpam)
  })

  it('sets the families to exactly those ipFamilies lists', () => {
    expect(ipamForPod(calicoIpam, {}, {'cni.projectcalico.org/ipFamilies': '["IPv6"]'})).toMatchObject({assignIPv4: false, assignIPv6: true})
    expect(ipamForPod(calicoIpam, {'cni.projectcalico.org/ipFamilies': '["IPv4","IPv6"]'}, {})).toMatchObject({assignIPv4: true, assignIPv6: true})
    expect(() => ipamForPod(calicoIpam, {}, {'cni.projectcalico.org/ipFamilies': '["IPv5"]'})).toThrow('error parsing ipFamilies: ["IPv5"]')
  })

  it('rejects a malformed pool list and leaves other IPAM plugins\' settings alone', () => {
    expect(() => ipamForPod(calicoIpam, {}, {'cni.projectcalico.org/ipv4pools': 'pool-a'})).toThrow(/^error parsing annotation cni\.projectcalico\.org\/ipv4pools "pool-a": /)
    const hostLocal = conf({ipam: {type: 'host-local'}}).ipam
    expect(ipamForPod(hostLocal, {}, {'cni.projectcalico.org/ipv4pools': '["x"]'})).toBe(hostLocal)
  })
})

describe('address annotations', () => {
  it('uses IPAM when neither annotation is set', () => {
    expect(addressSource(conf(), {})).toEqual({kind: 'ipam'})
  })

  it('takes ipAddrs through Calico IPAM: one address per family', () => {
    expect(addressSource(conf(), {'cni.projectcalico.org/ipAddrs': '["10.0.0.9","fd00::9"]'})).toEqual({kind: 'ipAddrs', ips: ['10.0.0.9', 'fd00::9']})
    const bad: [string, string][] = [
      ['["10.0.0.9","10.0.0.10"]', 'cannot have more than one IPv4 address for "cni.projectcalico.org/ipAddrs" annotation'],
      ['["fd00::9","fd00::a"]', 'cannot have more than one IPv6 address for "cni.projectcalico.org/ipAddrs" annotation'],
      ['["10.0.0.300"]', 'invalid IP format: 10.0.0.300'],
      ['[]', 'annotation "cni.projectcalico.org/ipAddrs" specified but empty'],
    ]
    for (const [value, msg] of bad) expect(() => addressSource(conf(), {'cni.projectcalico.org/ipAddrs': value}), value).toThrow(msg)
    expect(() => addressSource(conf(), {'cni.projectcalico.org/ipAddrs': '10.0.0.9'})).toThrow(
      /^failed to parse IPs 10\.0\.0\.9 for annotation "cni\.projectcalico\.org\/ipAddrs": failed to parse '10\.0\.0\.9' as JSON: /,
    )
    expect(() => addressSource(conf({ipam: {type: 'host-local'}}), {'cni.projectcalico.org/ipAddrs': '["10.0.0.9"]'})).toThrow(
      'ipAddrs is not compatible with configured IPAM: host-local',
    )
  })

  it('takes ipAddrsNoIpam only when the feature is enabled, and never both annotations', () => {
    const noIpam = {'cni.projectcalico.org/ipAddrsNoIpam': '["10.0.0.9"]'}
    expect(() => addressSource(conf(), noIpam)).toThrow('requested feature is not enabled: ip_addrs_no_ipam')
    const enabled = conf({feature_control: {ip_addrs_no_ipam: true}})
    expect(addressSource(enabled, noIpam)).toEqual({kind: 'noIpam', ips: ['10.0.0.9']})
    expect(() => addressSource(enabled, {...noIpam, 'cni.projectcalico.org/ipAddrs': '["10.0.0.8"]'})).toThrow(
      "can't have both annotations: 'ipAddrs' and 'ipAddrsNoIpam' in use at the same time",
    )
    expect(() => addressSource(conf({ipam: {type: 'host-local'}, feature_control: {ip_addrs_no_ipam: true}}), noIpam)).toThrow(
      'ipAddrsNoIpam is not compatible with configured IPAM: host-local',
    )
  })

  it('gates floating IPs on feature_control.floating_ips', () => {
    const floating = {'cni.projectcalico.org/floatingIPs': '["1.2.3.4"]'}
    expect(() => checkFloatingIPs(conf(), floating)).toThrow('requested feature is not enabled: floating_ips')
    expect(() => checkFloatingIPs(conf({feature_control: {floating_ips: true}}), floating)).not.toThrow()
    expect(() => checkFloatingIPs(conf({feature_control: {floating_ips: true}}), {'cni.projectcalico.org/floatingIPs': '1.2.3.4'})).toThrow(
      /^failed to parse '1\.2\.3\.4' as JSON: /,
    )
    expect(() => checkFloatingIPs(conf(), {})).not.toThrow()
  })
})

describe('allowed source prefixes', () => {
  const spoof = (text: string) => allowedSourcePrefixes({'cni.projectcalico.org/allowedSourcePrefixes': text})

  it('gives each prefix as its network, in both families', () => {
    expect(spoof('["10.1.2.3/16", "192.0.2.0/24", "2001:db8:0:0::1/64"]')).toEqual(['10.1.0.0/16', '192.0.2.0/24', '2001:db8::/64'])
    expect(allowedSourcePrefixes({})).toEqual([])
    expect(spoof('')).toEqual([])
  })

  it('fails on anything that is not a list of CIDRs, bare addresses included', () => {
    expect(() => spoof('10.0.0.0/8')).toThrow(/^failed to parse '10\.0\.0\.0\/8' as JSON: /)
    expect(() => spoof('["10.0.0.1"]')).toThrow("failed to parse '10.0.0.1' as a CIDR: invalid CIDR address: 10.0.0.1")
    expect(() => spoof('["10.0.0.0/33"]')).toThrow("failed to parse '10.0.0.0/33' as a CIDR")
  })
})

describe('the interface MAC address', () => {
  const mac = (text: string) => requestedMAC({'cni.projectcalico.org/hwAddr': text})

  it('takes six octets in Go\'s spellings, written with colons in lower case', () => {
    expect(mac('0A:58:0a:47:C8:09')).toBe('0a:58:0a:47:c8:09')
    expect(mac('0a-58-0a-47-c8-09')).toBe('0a:58:0a:47:c8:09')
    expect(mac('0a58.0a47.c809')).toBe('0a:58:0a:47:c8:09')
    expect(requestedMAC({})).toBeUndefined()
  })

  it('refuses anything else with Calico\'s message', () => {
    for (const bad of ['0a:58:0a:47:c8', '0a:58-0a:47:c8:09', 'zz:58:0a:47:c8:09', '02:00:5e:10:00:00:00:01', '']) {
      expect(() => mac(bad), bad).toThrow(`failed to parse MAC address ${bad} provided via cni.projectcalico.org/hwAddr: address ${bad}: invalid MAC address`)
    }
  })
})
