// Pure parts shared by both backends: key layout (libcalico-model.md §9.1, §10) and value encoding (§9.2).

import {describe, expect, it} from 'vitest'
import {ParsingDatastoreEntryError, ValidationError} from '../../src/api/errors.js'
import type {Resource} from '../../src/api/resource.js'
import type {Key} from '../../src/datastore/backend.js'
import {decodeValue, encodeValue, parseRevision, POLICY_NAME_ANNOTATION} from '../../src/datastore/codec.js'
import {keyId, keyToPath, listRanges, pathToKey, watchPrefix} from '../../src/datastore/keys.js'

const R = '/calico/resources/v3/projectcalico.org'

const layout: [Key, string][] = [
  [{kind: 'FelixConfiguration', name: 'default'}, `${R}/felixconfigurations/default`],
  [{kind: 'NetworkPolicy', namespace: 'default', name: 'my-network-policy'}, `${R}/networkpolicies/default/my-network-policy`],
  [{kind: 'Node', name: 'node1'}, `${R}/nodes/node1`],
  [{kind: 'BGPFilter', name: 'filter-1'}, `${R}/bgpfilters/filter-1`],
  [{kind: 'WorkloadEndpoint', namespace: 'ns1', name: 'node1-k8s-pod-eth0'}, `${R}/workloadendpoints/ns1/node1-k8s-pod-eth0`],
  [{kind: 'IPAMConfiguration', name: 'default'}, `${R}/ipamconfigurations/default`],
  [{kind: 'StagedKubernetesNetworkPolicy', namespace: 'ns1', name: 'k'}, `${R}/stagedkubernetesnetworkpolicies/ns1/k`],
  [{kind: 'IPAMBlock', name: '10.0.0.0/26'}, '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26'],
  [{kind: 'IPAMBlock', name: 'fd80:24e2:f998:72d6::/122'}, '/calico/ipam/v2/assignment/ipv6/block/fd80:24e2:f998:72d6::-122'],
  [{kind: 'BlockAffinity', name: 'host:node1:10.0.0.0/26'}, '/calico/ipam/v2/host/node1/ipv4/block/10.0.0.0-26'],
  [{kind: 'BlockAffinity', name: 'host:node1:fd80::/122'}, '/calico/ipam/v2/host/node1/ipv6/block/fd80::-122'],
  [{kind: 'BlockAffinity', name: 'virtual:load-balancer:10.0.1.0/26'}, '/calico/ipam/v2/virtual/load-balancer/ipv4/block/10.0.1.0-26'],
  [{kind: 'IPAMHandle', name: 'k8s-pod-network.0123abc'}, '/calico/ipam/v2/handle/k8s-pod-network.0123abc'],
  [{kind: 'IPAMConfig', name: 'default'}, '/calico/ipam/v2/config'],
]

describe('key layout', () => {
  it.each(layout)('%j ↔ %s', (key, path) => {
    expect(keyToPath(key)).toBe(path)
    expect(pathToKey(path)).toEqual(key)
  })

  it('ignores a namespace given for a cluster-scoped kind', () => {
    expect(keyToPath({kind: 'IPPool', name: 'p', namespace: 'ns'})).toBe(`${R}/ippools/p`)
  })

  it.each([
    '/calico/ipam/v2/host/node1', // legacy IPAMHost
    '/calico/felix/v2/no-region/host/node1/status',
    `${R}/unknownthings/x`,
    `${R}/networkpolicies/ns1`,
    `${R}/networkpolicies/ns1/a/b`,
    `${R}/ippools/a/b`,
    `${R}/ipamblocks/x`, // IPAM kinds never live in the v3 tree
    '/calico/ipam/v2/other/node1/ipv4/block/10.0.0.0-26',
  ])('maps foreign path %s to no key', (path) => {
    expect(pathToKey(path)).toBeUndefined()
  })

  it.each<[Key, string]>([
    [{kind: 'NetworkPolicy', name: 'np'}, 'Metadata.Namespace'],
    [{kind: 'IPPool', name: 'a/b'}, 'Metadata.Name'],
    [{kind: 'IPPool', name: ''}, 'Metadata.Name'],
    [{kind: 'BlockAffinity', name: 'node1:10.0.0.0/26'}, 'block affinity name'],
    [{kind: 'BlockAffinity', name: 'other:node1:10.0.0.0/26'}, 'unknown affinity type'],
    [{kind: 'IPAMBlock', name: '10.0.0.0'}, 'invalid block CIDR'],
    [{kind: 'IPAMConfig', name: 'x'}, 'named "default"'],
  ])('rejects %j', (key, fragment) => {
    expect(() => keyToPath(key)).toThrow(ValidationError)
    expect(() => keyToPath(key)).toThrow(fragment)
  })

  it('rejects unknown kinds', () => {
    expect(() => keyToPath({kind: 'Gadget', name: 'x'})).toThrow('unknown resource kind: Gadget')
  })

  it('names keys in errors as calicoctl and libcalico-go do', () => {
    expect(keyId({kind: 'NetworkPolicy', namespace: 'ns1', name: 'np'})).toBe('NetworkPolicy(ns1/np)')
    expect(keyId({kind: 'IPPool', name: 'p', namespace: 'ignored'})).toBe('IPPool(p)')
    expect(keyId({kind: 'IPAMBlock', name: '10.0.0.0/26'})).toBe('BlockKey(cidr=10.0.0.0/26)')
    expect(keyId({kind: 'BlockAffinity', name: 'host:node1:fd80::/122'})).toBe('BlockAffinityKey(cidr=fd80::/122, host=node1, affinityType=host)')
    expect(keyId({kind: 'IPAMHandle', name: 'h'})).toBe('IPAMHandleKey(id=h)')
    expect(keyId({kind: 'IPAMConfig', name: 'default'})).toBe('IPAMConfigKey()')
  })
})

describe('list ranges', () => {
  const prefixes = (kind: string, namePrefix?: string, namespace?: string) => listRanges({kind, namePrefix, namespace}).map((r) => r.prefix)

  it('narrow resource lists by namespace and name prefix', () => {
    expect(prefixes('IPPool')).toEqual([`${R}/ippools/`])
    expect(prefixes('IPPool', 'pool-')).toEqual([`${R}/ippools/pool-`])
    expect(prefixes('NetworkPolicy', undefined, 'ns1')).toEqual([`${R}/networkpolicies/ns1/`])
    expect(prefixes('NetworkPolicy', 'a', 'ns1')).toEqual([`${R}/networkpolicies/ns1/a`])
    // Across namespaces a name prefix is filtered after reading.
    expect(prefixes('NetworkPolicy', 'a')).toEqual([`${R}/networkpolicies/`])
  })

  it('narrow IPAM lists as far as the name prefix allows', () => {
    expect(prefixes('BlockAffinity')).toEqual(['/calico/ipam/v2/host/', '/calico/ipam/v2/virtual/'])
    expect(prefixes('BlockAffinity', 'host:node1:')).toEqual(['/calico/ipam/v2/host/node1/'])
    expect(prefixes('BlockAffinity', 'host:node1:10.')).toEqual(['/calico/ipam/v2/host/node1/'])
    expect(prefixes('BlockAffinity', 'host:no')).toEqual(['/calico/ipam/v2/host/no'])
    expect(prefixes('BlockAffinity', 'virt')).toEqual(['/calico/ipam/v2/virtual/'])
    expect(prefixes('BlockAffinity', 'bogus:')).toEqual([])
    expect(prefixes('IPAMBlock')).toEqual(['/calico/ipam/v2/assignment/ipv4/block/', '/calico/ipam/v2/assignment/ipv6/block/'])
    expect(prefixes('IPAMBlock', '10.0.0.0/2')).toEqual(['/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-2'])
    expect(prefixes('IPAMBlock', 'fd80:')).toEqual(['/calico/ipam/v2/assignment/ipv6/block/fd80:'])
    expect(prefixes('IPAMHandle', 'k8s-')).toEqual(['/calico/ipam/v2/handle/k8s-'])
    expect(prefixes('IPAMConfig')).toEqual(['/calico/ipam/v2/config'])
  })

  it('watch the smallest subtree holding every requested kind', () => {
    expect(watchPrefix(undefined)).toBe('/calico/')
    expect(watchPrefix([])).toBe('/calico/')
    expect(watchPrefix(['IPPool'])).toBe(`${R}/ippools/`)
    expect(watchPrefix(['IPPool', 'NetworkPolicy'])).toBe(`${R}/`)
    expect(watchPrefix(['BlockAffinity'])).toBe('/calico/ipam/v2/')
    expect(watchPrefix(['IPAMBlock'])).toBe('/calico/ipam/v2/assignment/')
    expect(watchPrefix(['IPPool', 'IPAMBlock'])).toBe('/calico/')
  })
})

describe('value codec', () => {
  const np = (): Resource => ({
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: {name: 'allow', namespace: 'ns1', resourceVersion: '12', selfLink: '/s', annotations: {keep: 'me'}},
    spec: {tier: 'default'},
  })
  const npKey: Key = {kind: 'NetworkPolicy', namespace: 'ns1', name: 'allow'}

  it('stores no resourceVersion or selfLink and adds the policy-name annotation for policy kinds', () => {
    const input = np()
    const stored = JSON.parse(encodeValue(npKey, input)) as Resource
    expect(stored.metadata).toEqual({name: 'allow', namespace: 'ns1', annotations: {keep: 'me', [POLICY_NAME_ANNOTATION]: '{"name":"allow"}'}})
    expect(input).toEqual(np()) // not mutated
    for (const kind of ['GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy']) {
      expect(encodeValue({kind, name: 'x'}, {kind, metadata: {name: 'x'}})).toContain(`"${POLICY_NAME_ANNOTATION}"`)
    }
    for (const kind of ['StagedKubernetesNetworkPolicy', 'IPPool', 'Tier']) {
      expect(encodeValue({kind, name: 'x', namespace: 'n'}, {kind, metadata: {name: 'x'}})).not.toContain(POLICY_NAME_ANNOTATION)
    }
  })

  it('decodes with the revision as resourceVersion and the annotation removed', () => {
    const decoded = decodeValue(npKey, encodeValue(npKey, np()), '77', 'p') as Resource
    expect(decoded.metadata).toEqual({name: 'allow', namespace: 'ns1', annotations: {keep: 'me'}, resourceVersion: '77'})
  })

  it('takes the name from the annotation, else strips a legacy default. prefix for the default tier', () => {
    const row = (name: string, tier: string | undefined, annotations?: Record<string, string>) =>
      JSON.stringify({kind: 'NetworkPolicy', metadata: {name, namespace: 'ns1', annotations}, spec: tier === undefined ? {} : {tier}})
    const name = (text: string) => (decodeValue(npKey, text, '1', 'p') as Resource).metadata.name
    expect(name(row('default.foo', 'default', {[POLICY_NAME_ANNOTATION]: '{"name":"default.foo"}'}))).toBe('default.foo')
    expect(name(row('default.foo', 'default'))).toBe('foo')
    expect(name(row('default.foo', undefined))).toBe('foo')
    expect(name(row('default.foo', ''))).toBe('foo')
    expect(name(row('tier1.foo', 'tier1'))).toBe('tier1.foo')
    expect(name(row('default.foo', 'tier1'))).toBe('default.foo')
    expect(() => name(row('x', 'default', {[POLICY_NAME_ANNOTATION]: '{bad'}))).toThrow(ParsingDatastoreEntryError)
  })

  it('passes IPAM values through verbatim; an empty affinity reads as {}', () => {
    const block = {cidr: '10.0.0.0/26', affinity: null, allocations: [null], metadata: {resourceVersion: 'kept'}}
    const key: Key = {kind: 'IPAMBlock', name: '10.0.0.0/26'}
    expect(encodeValue(key, block)).toBe(JSON.stringify(block))
    expect(decodeValue(key, JSON.stringify(block), '5', 'p')).toEqual(block)
    expect(decodeValue({kind: 'BlockAffinity', name: 'host:n:10.0.0.0/26'}, '', '5', 'p')).toEqual({})
    expect(() => decodeValue({kind: 'IPAMHandle', name: 'h'}, '', '5', '/calico/ipam/v2/handle/h')).toThrow(
      /failed to parse datastore entry \/calico\/ipam\/v2\/handle\/h/,
    )
  })

  it('rejects v3 rows that are not objects with metadata', () => {
    expect(() => decodeValue({kind: 'IPPool', name: 'p'}, '[1]', '1', 'k')).toThrow('failed to parse datastore entry k: expected a JSON object with metadata')
  })

  it('accepts only decimal revisions', () => {
    expect(parseRevision('0')).toBe(0)
    expect(parseRevision('123456')).toBe(123456)
    for (const bad of ['', '-1', '1.5', 'abc', ' 1', '1234567890123456']) expect(() => parseRevision(bad)).toThrow(ValidationError)
  })
})
