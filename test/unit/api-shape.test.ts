import {describe, expect, it} from 'vitest'

import {decodeResource, orderResourceFields, toGoView} from '../../src/api/decode.js'
import type {Resource} from '../../src/api/resource.js'

const V3 = 'projectcalico.org/v3'

describe('orderResourceFields', () => {
  it('puts keys in Go struct order at every level and sorts map keys', () => {
    const stored = {
      spec: {blockSize: 26, cidr: '10.0.0.0/24', allowedUses: ['Workload'], ipipMode: 'Always'},
      metadata: {labels: {z: '1', a: '2'}, creationTimestamp: '2026-01-01T00:00:00Z', uid: 'u', name: 'p', resourceVersion: '7'},
      apiVersion: V3,
      kind: 'IPPool',
    } as unknown as Resource
    const out = orderResourceFields(stored)
    expect(Object.keys(out)).toEqual(['kind', 'apiVersion', 'metadata', 'spec'])
    expect(Object.keys(out.metadata)).toEqual(['name', 'uid', 'resourceVersion', 'creationTimestamp', 'labels'])
    expect(Object.keys(out.metadata.labels ?? {})).toEqual(['a', 'z'])
    expect(Object.keys(out.spec ?? {})).toEqual(['cidr', 'ipipMode', 'blockSize', 'allowedUses'])
    expect(out).toEqual(stored)
  })

  it('orders nested rule structs and keeps keys it does not know at the end', () => {
    const stored = {
      kind: 'GlobalNetworkPolicy', apiVersion: V3, metadata: {name: 'g'},
      spec: {types: ['Ingress'], ingress: [{destination: {ports: [80]}, protocol: 'TCP', action: 'Allow'}], futureField: 1},
    } as unknown as Resource
    const out = orderResourceFields(stored)
    expect(Object.keys(out.spec ?? {})).toEqual(['ingress', 'types', 'futureField'])
    expect(Object.keys((out.spec?.ingress as object[])[0])).toEqual(['action', 'protocol', 'destination'])
  })

  it('shares parts already in order and copies only the path to a part that is not, leaving the input alone', () => {
    const ordered = decodeResource({
      apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: {name: 'g', labels: {a: '1', b: '2'}},
      spec: {ingress: [{action: 'Allow', protocol: 'TCP'}, {action: 'Deny'}], egress: [{action: 'Allow'}], types: ['Ingress', 'Egress']},
    })
    expect(orderResourceFields(ordered)).toBe(ordered)

    const mixed = structuredClone(ordered)
    const rules = mixed.spec?.ingress as Array<Record<string, unknown>>
    rules[1] = {destination: {ports: [80]}, action: 'Deny'}
    const snapshot = structuredClone(mixed)
    const out = orderResourceFields(mixed)
    expect(out).not.toBe(mixed)
    expect(Object.keys((out.spec?.ingress as object[])[1])).toEqual(['action', 'destination'])
    expect((out.spec?.ingress as object[])[0]).toBe(rules[0])
    expect(out.spec?.egress).toBe(mixed.spec?.egress)
    expect(out.metadata).toBe(mixed.metadata)
    expect(mixed).toEqual(snapshot)
    expect(Object.keys(rules[1])).toEqual(['destination', 'action'])
  })

  it('drops undefined values and sorts an unsorted map inside an otherwise ordered object', () => {
    const res = {kind: 'Tier', apiVersion: V3, metadata: {name: 't', labels: {b: '1', a: '2'}}, spec: {order: undefined, defaultAction: 'Pass'}}
    const out = orderResourceFields(res as unknown as Resource)
    expect(Object.keys(out.metadata.labels ?? {})).toEqual(['a', 'b'])
    expect(Object.keys(out.spec ?? {})).toEqual(['defaultAction'])
    expect(Object.keys(res.metadata.labels)).toEqual(['b', 'a'])
  })

  it('returns unknown kinds unchanged', () => {
    const odd = {kind: 'IPAMBlock', apiVersion: V3, metadata: {name: 'b'}, spec: {z: 1, a: 2}} as unknown as Resource
    expect(orderResourceFields(odd)).toBe(odd)
  })
})

describe('toGoView', () => {
  const pool = decodeResource({
    apiVersion: V3, kind: 'IPPool', metadata: {name: 'ippool-name1', labels: {a: 'b'}},
    spec: {cidr: '10.0.1.0/24', ipipMode: 'Always', nodeSelector: "foo == 'bar'", assignmentMode: 'Automatic'},
  })

  it('exposes Go field names with zero values for unset non-pointer fields', () => {
    const v = toGoView(pool) as Record<string, Record<string, unknown>>
    expect(v.Kind).toBe('IPPool')
    expect(v.APIVersion).toBe(V3)
    expect(v.TypeMeta).toEqual({Kind: 'IPPool', APIVersion: V3})
    expect(v.ObjectMeta.Name).toBe('ippool-name1')
    expect(v.ObjectMeta.Labels).toEqual({a: 'b'})
    expect(v.Name).toBe('ippool-name1')
    expect(v.Spec).toMatchObject({
      CIDR: '10.0.1.0/24', IPIPMode: 'Always', VXLANMode: '', NATOutgoing: false, Disabled: false, DisableBGPExport: false,
      BlockSize: 0, NodeSelector: "foo == 'bar'", AllowedUses: null, AssignmentMode: 'Automatic',
    })
    expect(v.Status).toBeNull()
  })

  it('keeps nil pointers as null and walks lists of structs', () => {
    const peer = toGoView(decodeResource({apiVersion: V3, kind: 'BGPPeer', metadata: {name: 'p'}, spec: {peerIP: '10.0.0.1', asNumber: 64512}}))
    expect(peer.Spec).toMatchObject({Node: '', PeerIP: '10.0.0.1', ASNumber: 64512, LocalASNumber: null, Password: null, Filters: null})
    const gnp = toGoView(decodeResource({apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: {name: 'g'}, spec: {order: 10, ingress: [{action: 'Allow', source: {nets: ['1.2.3.0/24']}}]}}))
    const spec = gnp.Spec as Record<string, unknown>
    expect(spec.Order).toBe(10)
    expect(spec.Tier).toBe('')
    const rule = (spec.Ingress as Record<string, Record<string, unknown>>[])[0]
    expect(rule.Action).toBe('Allow')
    expect(rule.Source.Nets).toEqual(['1.2.3.0/24'])
    expect(rule.Destination.Selector).toBe('')
    expect(rule.Protocol).toBeNull()
  })

  it('prints metav1.Time the way Go templates do', () => {
    const tier = toGoView(decodeResource({apiVersion: V3, kind: 'Tier', metadata: {name: 't', creationTimestamp: '2026-03-04T05:06:07Z'}, spec: {}}))
    expect((tier.ObjectMeta as Record<string, unknown>).CreationTimestamp).toBe('2026-03-04 05:06:07 +0000 UTC')
    expect((tier.ObjectMeta as Record<string, unknown>).DeletionTimestamp).toBeNull()
    const bare = toGoView(decodeResource({apiVersion: V3, kind: 'Tier', metadata: {name: 't'}, spec: {}}))
    expect(bare.CreationTimestamp).toBe('0001-01-01 00:00:00 +0000 UTC')
  })

  it('fills the Node BGP spec only when present (pointer)', () => {
    const withBGP = toGoView(decodeResource({apiVersion: V3, kind: 'Node', metadata: {name: 'n'}, spec: {bgp: {ipv4Address: '10.0.0.1/24'}}}))
    expect((withBGP.Spec as Record<string, Record<string, unknown>>).BGP).toMatchObject({ASNumber: null, IPv4Address: '10.0.0.1/24', IPv6Address: ''})
    const without = toGoView(decodeResource({apiVersion: V3, kind: 'Node', metadata: {name: 'n'}}))
    expect((without.Spec as Record<string, unknown>).BGP).toBeNull()
  })
})

// Go field paths used by calicoctl's table columns (calicoctl/resourcemgr/*.go headingsMap templates).
const COLUMN_PATHS: Record<string, string[]> = {
  BGPConfiguration: ['.Spec.ASNumber', '.Spec.LogSeverityScreen', '.Spec.NodeToNodeMeshEnabled'],
  BGPFilter: ['.Spec.ExportV4', '.Spec.ExportV6', '.Spec.ImportV4', '.Spec.ImportV6'],
  BGPPeer: ['.Spec.ASNumber', '.Spec.Node', '.Spec.NodeSelector', '.Spec.PeerIP'],
  ClusterInformation: ['.Spec.CalicoVersion', '.Spec.ClusterGUID', '.Spec.ClusterType', '.Spec.DatastoreReady'],
  FelixConfiguration: ['.ObjectMeta.Name'],
  GlobalNetworkPolicy: ['.Spec.Order', '.Spec.Selector', '.Spec.Tier'],
  GlobalNetworkSet: ['.Spec.Nets'],
  HostEndpoint: ['.Spec.ExpectedIPs', '.Spec.InterfaceName', '.Spec.Node', '.Spec.Profiles'],
  IPAMConfiguration: ['.Spec.AutoAllocateBlocks', '.Spec.MaxBlocksPerHost', '.Spec.StrictAffinity'],
  IPPool: ['.Spec.AssignmentMode', '.Spec.CIDR', '.Spec.DisableBGPExport', '.Spec.Disabled', '.Spec.IPIPMode', '.Spec.NATOutgoing', '.Spec.NodeSelector', '.Spec.VXLANMode'],
  IPReservation: ['.Spec.ReservedCIDRs'],
  KubeControllersConfiguration: ['.ObjectMeta.Name'],
  NetworkPolicy: ['.ObjectMeta.Namespace', '.Spec.Order', '.Spec.Selector', '.Spec.Tier'],
  NetworkSet: ['.ObjectMeta.Namespace', '.Spec.Nets'],
  Node: ['.Spec.BGP.ASNumber', '.Spec.BGP.IPv4Address', '.Spec.BGP.IPv6Address'],
  CalicoNodeStatus: ['.Spec.Classes', '.Spec.Node'],
  Profile: ['.Spec.LabelsToApply'],
  StagedGlobalNetworkPolicy: ['.Spec.Order', '.Spec.Selector', '.Spec.Tier'],
  StagedKubernetesNetworkPolicy: ['.ObjectMeta.Namespace', '.Spec.PodSelector'],
  StagedNetworkPolicy: ['.ObjectMeta.Namespace', '.Spec.Order', '.Spec.Selector', '.Spec.Tier'],
  Tier: ['.Spec.Order'],
  WorkloadEndpoint: ['.ObjectMeta.Namespace', '.Spec.IPNATs', '.Spec.IPNetworks', '.Spec.InterfaceName', '.Spec.Node', '.Spec.Orchestrator', '.Spec.Pod', '.Spec.Profiles', '.Spec.Workload'],
}

describe('calicoctl column templates resolve against the Go view', () => {
  it.each(Object.entries(COLUMN_PATHS))('%s', (kind, paths) => {
    // Node's BGP is a pointer: give it one so the nested paths exist.
    const spec = kind === 'Node' ? {bgp: {}} : {}
    const view = toGoView(decodeResource({apiVersion: V3, kind, metadata: {name: 'x'}, spec}))
    for (const path of ['.ObjectMeta.Name', ...paths]) {
      let cur: unknown = view
      for (const part of path.slice(1).split('.')) {
        expect(cur !== null && typeof cur === 'object' && part in cur, `${kind} ${path}`).toBe(true)
        cur = (cur as Record<string, unknown>)[part]
      }
    }
  })
})
