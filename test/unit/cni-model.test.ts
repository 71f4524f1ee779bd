// The pure parts of the plugin: identifiers and names, WorkloadEndpoint construction, results, attributes.
import {describe, expect, it} from 'vitest'

import type {CniEnv} from '../../src/cni/config.js'
import {buildWorkloadEndpoint} from '../../src/cni/endpoint.js'
import {CniError, asCniError} from '../../src/cni/errors.js'
import {goTimeString} from '../../src/api/gotime.js'
import {hostCIDRText} from '../../src/api/net.js'
import {allocationAttrs, resolvePools} from '../../src/cni/ipam.js'
import {hostVethName, ipamHandleID, k8sHostVethName, wepName, workloadIdentifiers} from '../../src/cni/names.js'
import {decodeResult, encodeResult, versionInfo} from '../../src/cni/result.js'
import {DatastoreError} from '../../src/api/errors.js'

const env = (args: Record<string, string>): CniEnv => ({command: 'ADD', containerID: 'a1b2c3d4e5f6a7b8', netns: '/var/run/netns/x', ifName: 'eth0', args, path: []})

describe('identifiers and names', () => {
  it('recognises kubelet’s pods', () => {
    const ids = workloadIdentifiers(env({K8S_POD_NAMESPACE: 'kube-system', K8S_POD_NAME: 'coredns-1'}), 'node-1')
    expect(ids).toEqual({orchestrator: 'k8s', node: 'node-1', namespace: 'kube-system', pod: 'coredns-1', containerID: 'a1b2c3d4e5f6a7b8', endpoint: 'eth0'})
    expect(wepName(ids)).toBe('node--1-k8s-coredns--1-eth0')
  })

  it('treats other runtimes as the cni orchestrator in namespace default', () => {
    const ids = workloadIdentifiers(env({}), 'n1')
    expect(ids).toMatchObject({orchestrator: 'cni', namespace: 'default', pod: ''})
    expect(wepName(ids)).toBe('n1-cni-a1b2c3d4e5f6a7b8-eth0')
    expect(hostVethName(ids)).toBe('calia1b2c3d4e5f')
  })

  it('hashes <namespace>.<pod> into the host veth name (vectors from sha1sum)', () => {
    // printf 'ns1.web-1' | sha1sum → 987019c768f…; printf 'default.nginx' | sha1sum → c440f455693…
    expect(k8sHostVethName('ns1', 'web-1')).toBe('cali987019c768f')
    expect(k8sHostVethName('default', 'nginx')).toBe('calic440f455693')
  })

  it('names the IPAM handle after the network and container', () => {
    expect(ipamHandleID('k8s-pod-network', 'abc')).toBe('k8s-pod-network.abc')
  })
})

describe('WorkloadEndpoint', () => {
  const ids = workloadIdentifiers(env({K8S_POD_NAMESPACE: 'web', K8S_POD_NAME: 'front-0'}), 'node-a')
  const iface = {hostName: 'cali0123456789a', mac: '0a:58:0a:00:00:05', ipNetworks: ['10.0.0.5/32']}

  it('carries the pod, its labels, Calico’s labels and the namespace/service-account profiles', () => {
    const wep = buildWorkloadEndpoint(ids, {labels: {app: 'front', 'projectcalico.org/namespace': 'spoofed'}, serviceAccountName: 'frontend'}, iface, 'k8s-pod-network')
    expect(wep).toEqual({
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: {
        name: 'node--a-k8s-front--0-eth0',
        namespace: 'web',
        labels: {
          app: 'front',
          'projectcalico.org/namespace': 'web',
          'projectcalico.org/orchestrator': 'k8s',
          'projectcalico.org/serviceaccount': 'frontend',
        },
      },
      spec: {
        orchestrator: 'k8s',
        node: 'node-a',
        containerID: 'a1b2c3d4e5f6a7b8',
        pod: 'front-0',
        serviceAccountName: 'frontend',
        endpoint: 'eth0',
        ipNetworks: ['10.0.0.5/32'],
        profiles: ['kns.web', 'ksa.web.frontend'],
        interfaceName: 'cali0123456789a',
        mac: '0a:58:0a:00:00:05',
      },
    })
  })

  it('leaves a service account too long for a label out of the labels only', () => {
    const sa = 's'.repeat(70)
    const wep = buildWorkloadEndpoint(ids, {labels: {}, serviceAccountName: sa}, iface, 'net')
    expect(wep.metadata.labels?.['projectcalico.org/serviceaccount']).toBeUndefined()
    expect((wep.spec as {profiles: string[]}).profiles).toEqual(['kns.web', `ksa.web.${sa}`])
  })

  it('adds the ports and generateName an API server gave for the pod', () => {
    const ports = [{name: 'http', protocol: 'TCP', port: 8080}, {name: '', protocol: 'UDP', port: 53, hostPort: 5353, hostIP: '10.0.0.1'}]
    const wep = buildWorkloadEndpoint(ids, {labels: {}, serviceAccountName: 'default', ports, generateName: 'front-'}, iface, 'k8s-pod-network')
    expect(wep.metadata.generateName).toBe('front-')
    expect((wep.spec as {ports: unknown}).ports).toEqual(ports)
    const plain = buildWorkloadEndpoint(ids, {labels: {}, serviceAccountName: 'default', ports: []}, iface, 'k8s-pod-network')
    expect(plain.spec).not.toHaveProperty('ports')
    expect(plain.metadata).not.toHaveProperty('generateName')
  })

  it('gives plain CNI workloads the network’s profile', () => {
    const wep = buildWorkloadEndpoint(workloadIdentifiers(env({}), 'n1'), {labels: {}, serviceAccountName: ''}, iface, 'mynet')
    expect(wep.metadata).toMatchObject({name: 'n1-cni-a1b2c3d4e5f6a7b8-eth0', namespace: 'default'})
    expect(wep.spec).toMatchObject({orchestrator: 'cni', profiles: ['mynet']})
  })
})

describe('results', () => {
  const result = {
    interfaces: [{name: 'cali1', mac: 'ee:ee:ee:ee:ee:ee'}, {name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/p'}],
    ips: [{address: '10.0.0.5/32', interface: 1}, {address: 'fd00::5/128', interface: 1}],
    dns: {},
  }

  it('writes 1.0.0 without per-address versions and 0.3.x/0.4.0 with them', () => {
    expect(encodeResult(result, '1.0.0')).toEqual({cniVersion: '1.0.0', ...result})
    expect(encodeResult(result, '0.3.1').ips).toEqual([
      {version: '4', address: '10.0.0.5/32', interface: 1},
      {version: '6', address: 'fd00::5/128', interface: 1},
    ])
  })

  it('reads a prevResult back', () => {
    expect(decodeResult(encodeResult(result, '0.4.0'))).toEqual({interfaces: result.interfaces, ips: encodeResult(result, '0.4.0').ips})
    expect(decodeResult(undefined)).toBeUndefined()
    expect(decodeResult({ips: [{nope: 1}]})).toEqual({interfaces: [], ips: []})
  })

  it('turns block-prefixed assignments into host routes', () => {
    expect(hostCIDRText('10.0.0.5/26')).toBe('10.0.0.5/32')
    expect(hostCIDRText('fd00::5/122')).toBe('fd00::5/128')
  })

  it('reports the versions it speaks', () => {
    expect(versionInfo()).toEqual({cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0']})
  })
})

describe('IPAM request details', () => {
  it('formats timestamps like Go’s time.Time.String in UTC', () => {
    expect(goTimeString(new Date('2026-11-27T14:42:02.120Z'))).toBe('2026-11-27 14:42:02.12 +0000 UTC')
    expect(goTimeString(new Date('2026-11-27T14:42:02.000Z'))).toBe('2026-11-27 14:42:02 +0000 UTC')
  })

  it('records node, pod and namespace with each allocation', () => {
    const ids = workloadIdentifiers(env({K8S_POD_NAMESPACE: 'web', K8S_POD_NAME: 'a'}), 'n1')
    expect(allocationAttrs(ids, new Date('2026-01-01T00:00:00Z'))).toEqual({node: 'n1', timestamp: '2026-01-01 00:00:00 +0000 UTC', pod: 'a', namespace: 'web'})
    expect(allocationAttrs(workloadIdentifiers(env({}), 'n1'), new Date(0))).toEqual({node: 'n1', timestamp: '1970-01-01 00:00:00 +0000 UTC'})
  })

  it('resolves pool names and CIDRs, refusing the wrong family', () => {
    const pools = [{apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'default-ipv4-ippool'}, spec: {cidr: '10.0.0.0/16'}}]
    expect(resolvePools(['default-ipv4-ippool', '10.1.0.0/24'], pools, true)).toEqual(['10.0.0.0/16', '10.1.0.0/24'])
    expect(() => resolvePools(['missing'], pools, true)).toThrow('error parsing pool "missing"')
    expect(() => resolvePools(['fd00::/64'], pools, true)).toThrow(`"fd00::" isn't a IPv4 address`)
    expect(() => resolvePools(['10.0.0.0/8'], pools, false)).toThrow(`"10.0.0.0" isn't a IPv6 address`)
  })
})

describe('errors', () => {
  it('serialises as the spec’s error object', () => {
    expect(new CniError(7, 'bad', 'why').toJSON('1.0.0')).toEqual({cniVersion: '1.0.0', code: 7, msg: 'bad', details: 'why'})
    expect(new CniError(3, 'gone').toJSON('0.4.0')).toEqual({cniVersion: '0.4.0', code: 3, msg: 'gone'})
  })

  it('maps other failures: datastore trouble is transient (11), anything else internal (999)', () => {
    expect(asCniError(new DatastoreError('cannot connect to etcd')).code).toBe(11)
    expect(asCniError(new Error('boom'))).toMatchObject({code: 999, message: 'boom'})
  })
})
