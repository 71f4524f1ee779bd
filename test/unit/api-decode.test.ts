import {describe, expect, it} from 'vitest'

import {DecodeError, decodeDocument, decodeResource} from '../../src/api/decode.js'

const V3 = 'projectcalico.org/v3'

function decodeErr(doc: unknown): DecodeError {
  try {
    decodeDocument(doc)
  } catch (err) {
    if (err instanceof DecodeError) return err
    throw err
  }
  throw new Error('expected a DecodeError')
}

describe('decodeResource: kind and version', () => {
  it.each([
    [{apiVersion: 'v7', kind: 'BGPPeer', metadata: {name: 'p'}}, 'unknown resource type (BGPPeer) and/or version (v7)'],
    [{kind: 'IPPool', metadata: {name: 'p'}}, 'unknown resource type (IPPool) and/or version ()'],
    [{apiVersion: V3, kind: 'Widget', metadata: {name: 'p'}}, 'unknown resource type (Widget) and/or version (projectcalico.org/v3)'],
    [{apiVersion: 'v1', kind: 'List', items: []}, 'unknown resource type (List) and/or version (v1)'],
    [{apiVersion: V3, metadata: {name: 'p'}},
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []unstructured.Unstructured'],
    ['just text',
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type []unstructured.Unstructured'],
  ])('%j -> %s', (doc, message) => {
    expect(decodeErr(doc).message).toBe(message)
  })

  it('rejects a List kind where a single resource is expected', () => {
    expect(() => decodeResource({apiVersion: V3, kind: 'IPPoolList', items: []})).toThrow(DecodeError)
  })
})

describe('strict field handling', () => {
  it.each([
    // [doc, message, path, reason]
    [
      {apiVersion: V3, kind: 'BGPPeer', metadata: {name: 'x'}, spec: {asNumber: 64590, unknown: 'thing', node: 'node2'}},
      'field in document is not recognized or is in the wrong location: unknown', 'spec.unknown', 'json: unknown field "unknown"',
    ],
    [
      {apiVersion: V3, kind: 'IPPool', metadata: {name: 'x'}, spec: {cidr: '10.0.0.0/24', blockSize: '26'}},
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field IPPoolSpec.spec.blockSize of type int',
      'spec.blockSize', 'json: cannot unmarshal string into Go struct field IPPoolSpec.spec.blockSize of type int',
    ],
    [
      {apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: {name: 'x'}, spec: {ingress: [{action: 'Allow'}, {action: 5}]}},
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field Rule.spec.ingress.action of type v3.Action',
      'spec.ingress[1].action', 'json: cannot unmarshal number into Go struct field Rule.spec.ingress.action of type v3.Action',
    ],
    [
      {apiVersion: V3, kind: 'NetworkPolicy', metadata: {name: 'x'}, spec: {egress: [{action: 'Allow', destination: {nets: ['1.2.3.0/24', 7]}}]}},
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field EntityRule.spec.egress.destination.nets of type string',
      'spec.egress[0].destination.nets[1]', 'json: cannot unmarshal number into Go struct field EntityRule.spec.egress.destination.nets of type string',
    ],
    [
      {apiVersion: V3, kind: 'IPPool', metadata: {name: 'x', labels: {a: 1}}, spec: {cidr: '10.0.0.0/24'}},
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
      'metadata.labels.a', 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
    ],
    [
      {apiVersion: V3, kind: 'IPPool', metadata: {name: 'x'}, spec: {cidr: '10.0.0.0/24', blockSize: 26.5}},
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number 26.5 into Go struct field IPPoolSpec.spec.blockSize of type int',
      'spec.blockSize', 'json: cannot unmarshal number 26.5 into Go struct field IPPoolSpec.spec.blockSize of type int',
    ],
    [
      {apiVersion: V3, kind: 'BGPPeer', metadata: {name: 'x'}, spec: {ttlSecurity: 300}},
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number 300 into Go struct field BGPPeerSpec.spec.ttlSecurity of type uint8',
      'spec.ttlSecurity', 'json: cannot unmarshal number 300 into Go struct field BGPPeerSpec.spec.ttlSecurity of type uint8',
    ],
    [
      {apiVersion: V3, kind: 'IPPool', metadata: {name: 'x'}, spec: 'nope'},
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field IPPool.spec of type v3.IPPoolSpec',
      'spec', 'json: cannot unmarshal string into Go struct field IPPool.spec of type v3.IPPoolSpec',
    ],
    [
      {apiVersion: V3, kind: 'IPPool', metadata: {name: 'x'}, spec: {allowedUses: 'Workload'}},
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field IPPoolSpec.spec.allowedUses of type []v3.IPPoolAllowedUse',
      'spec.allowedUses', 'json: cannot unmarshal string into Go struct field IPPoolSpec.spec.allowedUses of type []v3.IPPoolAllowedUse',
    ],
    [
      {apiVersion: V3, kind: 'FelixConfiguration', metadata: {name: 'default'}, spec: {netlinkTimeout: 'soon'}},
      'error unmarshaling JSON: while decoding JSON: time: invalid duration "soon"', 'spec.netlinkTimeout', 'time: invalid duration "soon"',
    ],
    [
      {apiVersion: V3, kind: 'FelixConfiguration', metadata: {name: 'default'}, spec: {netlinkTimeout: '10'}},
      'error unmarshaling JSON: while decoding JSON: time: missing unit in duration "10"', 'spec.netlinkTimeout', 'time: missing unit in duration "10"',
    ],
    [
      {apiVersion: V3, kind: 'NetworkPolicy', metadata: {name: 'x'}, spec: {ingress: [{action: 'Allow', protocol: 'TCP', destination: {ports: ['90:80']}}]}},
      'error unmarshaling JSON: while decoding JSON: minimum port number (90) is greater than maximum port number (80) in port range',
      'spec.ingress[0].destination.ports[0]', 'minimum port number (90) is greater than maximum port number (80) in port range',
    ],
    [
      {apiVersion: V3, kind: 'NetworkPolicy', metadata: {name: 'x'}, spec: {ingress: [{action: 'Allow', destination: {ports: ['bad port']}}]}},
      'error unmarshaling JSON: while decoding JSON: invalid name for named port (bad port)',
      'spec.ingress[0].destination.ports[0]', 'invalid name for named port (bad port)',
    ],
    [
      {apiVersion: V3, kind: 'BGPPeer', metadata: {name: 'x'}, spec: {asNumber: 'x.y'}},
      'error unmarshaling JSON: while decoding JSON: invalid AS Number format (x.y)', 'spec.asNumber', 'invalid AS Number format (x.y)',
    ],
    [
      {apiVersion: V3, kind: 'BGPPeer', metadata: {name: 'x'}, spec: {asNumber: true}},
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal bool into Go struct field BGPPeerSpec.spec.asNumber of type string',
      'spec.asNumber', 'json: cannot unmarshal bool into Go struct field BGPPeerSpec.spec.asNumber of type string',
    ],
    [
      {apiVersion: V3, kind: 'Tier', metadata: {name: 'x', bogus: 1}, spec: {}},
      'field in document is not recognized or is in the wrong location: bogus', 'metadata.bogus', 'json: unknown field "bogus"',
    ],
    [
      {apiVersion: V3, kind: 'Tier', metadata: {name: 'x'}, spec: {}, extra: {}},
      'field in document is not recognized or is in the wrong location: extra', 'extra', 'json: unknown field "extra"',
    ],
  ])('%j', (doc, message, path, reason) => {
    const err = decodeErr(doc)
    expect(err.message).toBe(message)
    expect(err.path).toBe(path)
    expect(err.reason).toBe(reason)
  })

  it('reports the first soft error in document order, like Go saveError', () => {
    const err = decodeErr({apiVersion: V3, kind: 'IPPool', metadata: {name: 'x'}, spec: {first: 1, blockSize: 'x'}})
    expect(err.reason).toBe('json: unknown field "first"')
    expect(err.unknownField).toBe(true)
  })

  it('lets an UnmarshalJSON failure win over an earlier saved error, as Go returns it immediately', () => {
    const err = decodeErr({apiVersion: V3, kind: 'BGPPeer', metadata: {name: 'x'}, spec: {first: 1, asNumber: 'bad'}})
    expect(err.reason).toBe('invalid AS Number format (bad)')
  })
})

describe('canonical decoding', () => {
  it('matches field names case-insensitively and emits canonical names in Go order', () => {
    const res = decodeResource({
      kind: 'Profile', apiVersion: V3, metadata: {name: 'profile2'},
      spec: {Egress: [{action: 'Allow', destination: {}, source: {}}], Ingress: [{ipVersion: 4, ICMP: {type: 256, code: 255}, action: 'Deny', protocol: 'ICMP'}]},
    })
    expect(res).toEqual({
      kind: 'Profile', apiVersion: V3, metadata: {name: 'profile2'},
      spec: {ingress: [{action: 'Deny', ipVersion: 4, protocol: 'ICMP', icmp: {type: 256, code: 255}}], egress: [{action: 'Allow'}]},
    })
    expect(Object.keys(res.spec ?? {})).toEqual(['ingress', 'egress'])
    expect(Object.keys((res.spec?.ingress as object[])[0])).toEqual(['action', 'ipVersion', 'protocol', 'icmp'])
  })

  it('prefers the exact-case field name', () => {
    const res = decodeResource({kind: 'Tier', apiVersion: V3, metadata: {name: 't'}, spec: {Order: 100}})
    expect(res.spec).toEqual({order: 100})
  })

  it('normalises durations as Go prints them', () => {
    const res = decodeResource({
      kind: 'FelixConfiguration', apiVersion: V3, metadata: {name: 'felixconfiguration1'},
      spec: {ipv6Support: false, logSeverityScreen: 'Debug', netlinkTimeout: '125s', reportingTTL: '9910s', iptablesLockProbeInterval: '500ms'},
    })
    expect(res.spec).toMatchObject({netlinkTimeout: '2m5s', reportingTTL: '2h45m10s', iptablesLockProbeInterval: '500ms', ipv6Support: false})
  })

  it('canonicalises ports, protocols and AS numbers like numorstring', () => {
    const res = decodeResource({
      kind: 'GlobalNetworkPolicy', apiVersion: V3, metadata: {name: 'p'},
      spec: {ingress: [{action: 'Allow', protocol: '6', notProtocol: 'udplite', source: {ports: [80, '443', '80:90', '8080:8080', 'http']}}]},
    })
    const rule = (res.spec?.ingress as Record<string, unknown>[])[0]
    expect(rule.protocol).toBe(6)
    expect(rule.notProtocol).toBe('udplite')
    expect(rule.source).toEqual({ports: [80, 443, '80:90', 8080, 'http']})
    const peer = decodeResource({kind: 'BGPPeer', apiVersion: V3, metadata: {name: 'b'}, spec: {asNumber: '1.10', localASNumber: '65000'}})
    expect(peer.spec).toEqual({asNumber: 65546, localASNumber: 65000})
  })

  it('applies Go omitempty: zero non-pointer values vanish, pointer zeros stay, required fields appear', () => {
    const pool = decodeResource({kind: 'IPPool', apiVersion: V3, metadata: {name: 'p'}, spec: {natOutgoing: false, blockSize: 0, allowedUses: []}})
    expect(pool.spec).toEqual({cidr: ''})
    const felix = decodeResource({kind: 'FelixConfiguration', apiVersion: V3, metadata: {name: 'default'}, spec: {ipipEnabled: false}})
    expect(felix.spec).toMatchObject({ipipEnabled: false})
    const ipam = decodeResource({kind: 'IPAMConfiguration', apiVersion: V3, metadata: {name: 'default'}})
    expect(ipam.spec).toEqual({strictAffinity: false, autoAllocateBlocks: false})
    const rule = decodeResource({kind: 'GlobalNetworkPolicy', apiVersion: V3, metadata: {name: 'g'}, spec: {ingress: [{source: {}}]}})
    expect(rule.spec).toEqual({ingress: [{action: ''}]})
  })

  it('drops nulls and sorts map keys as Go marshals maps', () => {
    const res = decodeResource({kind: 'Profile', apiVersion: V3, metadata: {name: 'p', labels: {z: '1', a: '2'}, annotations: null}, spec: {labelsToApply: {b: 'x', a: 'y'}}})
    expect(Object.keys(res.metadata.labels ?? {})).toEqual(['a', 'z'])
    expect(res.metadata).not.toHaveProperty('annotations')
    expect(Object.keys(res.spec?.labelsToApply as object)).toEqual(['a', 'b'])
  })

  it('accepts managedFields from kubectl exports and keeps fieldsV1 opaque', () => {
    const entry = {manager: 'kubectl', operation: 'Apply', apiVersion: V3, time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: {'f:spec': {'f:order': {}}}}
    const res = decodeResource({kind: 'Tier', apiVersion: V3, metadata: {name: 't', managedFields: [entry]}, spec: {}})
    expect(res.metadata.managedFields).toEqual([entry])
  })

  it('normalises creationTimestamp to UTC seconds', () => {
    const res = decodeResource({kind: 'Tier', apiVersion: V3, metadata: {name: 't', creationTimestamp: '2026-01-01T01:00:00.123+01:00'}, spec: {}})
    expect(res.metadata.creationTimestamp).toBe('2026-01-01T00:00:00Z')
  })
})

describe('decodeDocument', () => {
  it('decodes a mixed-kind top-level array in order', () => {
    const out = decodeDocument([
      {apiVersion: V3, kind: 'BGPPeer', metadata: {name: 'compound-config'}, spec: {node: 'node1', peerIP: '192.168.0.250', asNumber: 64513}},
      {apiVersion: V3, kind: 'Tier', metadata: {name: 't'}, spec: {order: 10}},
    ])
    expect(out.map((r) => r.kind)).toEqual(['BGPPeer', 'Tier'])
  })

  it('resolves every kind in an array before decoding any', () => {
    const err = decodeErr([
      {apiVersion: V3, kind: 'Tier', metadata: {name: 't'}, spec: {bogus: 1}},
      {apiVersion: 'v9', kind: 'Tier', metadata: {name: 'u'}},
    ])
    expect(err.message).toBe('unknown resource type (Tier) and/or version (v9)')
  })

  it('reports an array item without a kind the way Unstructured does', () => {
    expect(decodeErr([{metadata: {name: 'x'}, apiVersion: V3}]).message).toBe(
      `error unmarshaling JSON: while decoding JSON: Object 'Kind' is missing in '{"apiVersion":"projectcalico.org/v3","metadata":{"name":"x"}}'`,
    )
  })

  it('expands a <Kind>List into its items, giving each its kind', () => {
    const out = decodeDocument({
      apiVersion: V3, kind: 'WorkloadEndpointList', metadata: {resourceVersion: '12'},
      items: [{metadata: {name: 'node1-k8s-pod-eth0', namespace: 'ns'}, spec: {node: 'node1', interfaceName: 'cali0'}}],
    })
    expect(out).toEqual([{
      kind: 'WorkloadEndpoint', apiVersion: V3, metadata: {name: 'node1-k8s-pod-eth0', namespace: 'ns'},
      spec: {node: 'node1', interfaceName: 'cali0'},
    }])
  })

  it('is strict inside list items too', () => {
    const err = decodeErr({apiVersion: V3, kind: 'IPPoolList', items: [{metadata: {name: 'a'}, spec: {cidr: '1.2.3.0/24', bad: 1}}]})
    expect(err.path).toBe('items[0].spec.bad')
  })

  it('returns nothing for an empty array', () => {
    expect(decodeDocument([])).toEqual([])
  })
})
