import {describe, expect, it} from 'vitest'

import {decodeResource} from '../../src/api/decode.js'
import {applyDefaults, canonicalCIDR} from '../../src/api/defaults.js'
import type {Resource} from '../../src/api/resource.js'

const V3 = 'projectcalico.org/v3'

function res(kind: string, spec: unknown, metadata: Record<string, unknown> = {name: 'x'}): Resource {
  return decodeResource({apiVersion: V3, kind, metadata, spec})
}

describe('applyDefaults per kind', () => {
  it.each<[string, string, unknown, Record<string, unknown>, Record<string, unknown>?]>([
    // IPPool: clientv3 validateAndSetDefaults + CRD defaults (libcalico-model.md §9.2 stored example).
    ['IPPool v4', 'IPPool', {cidr: '192.168.0.0/16', ipipMode: 'Always', natOutgoing: true},
      {cidr: '192.168.0.0/16', vxlanMode: 'Never', ipipMode: 'Always', natOutgoing: true, blockSize: 26, nodeSelector: 'all()',
        allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic'}],
    ['IPPool v6 canonical CIDR', 'IPPool', {cidr: 'FD80:24E2:F998:72D6:0:0:0:0/64'},
      {cidr: 'fd80:24e2:f998:72d6::/64', vxlanMode: 'Never', ipipMode: 'Never', blockSize: 122, nodeSelector: 'all()',
        allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic'}],
    ['IPPool keeps explicit values', 'IPPool',
      {cidr: '10.0.1.0/24', ipipMode: 'Always', vxlanMode: 'Never', blockSize: 27, allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic', nodeSelector: "foo == 'bar'"},
      {cidr: '10.0.1.0/24', vxlanMode: 'Never', ipipMode: 'Always', blockSize: 27, nodeSelector: "foo == 'bar'", allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic'}],
    ['IPPool with an unparsable CIDR is left for validation', 'IPPool', {cidr: 'nonsense'},
      {cidr: 'nonsense', vxlanMode: 'Never', ipipMode: 'Never', nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic'}],
    ['NetworkPolicy ingress only', 'NetworkPolicy', {ingress: [{action: 'Allow'}]},
      {tier: 'default', ingress: [{action: 'Allow'}], types: ['Ingress']}, {'projectcalico.org/tier': 'default'}],
    ['NetworkPolicy no rules -> Ingress', 'NetworkPolicy', {selector: 'all()'},
      {tier: 'default', selector: 'all()', types: ['Ingress']}, {'projectcalico.org/tier': 'default'}],
    ['GlobalNetworkPolicy egress only in a tier', 'GlobalNetworkPolicy', {tier: 'admin', egress: [{action: 'Deny'}]},
      {tier: 'admin', egress: [{action: 'Deny'}], types: ['Egress']}, {'projectcalico.org/tier': 'admin'}],
    ['GlobalNetworkPolicy both directions', 'GlobalNetworkPolicy', {ingress: [{action: 'Allow'}], egress: [{action: 'Allow'}]},
      {tier: 'default', ingress: [{action: 'Allow'}], egress: [{action: 'Allow'}], types: ['Ingress', 'Egress']}, {'projectcalico.org/tier': 'default'}],
    ['explicit types are kept', 'GlobalNetworkPolicy', {egress: [{action: 'Allow'}], types: ['Ingress', 'Egress']},
      {tier: 'default', egress: [{action: 'Allow'}], types: ['Ingress', 'Egress']}, {'projectcalico.org/tier': 'default'}],
    ['StagedNetworkPolicy', 'StagedNetworkPolicy', {ingress: [{action: 'Allow'}]},
      {stagedAction: 'Set', tier: 'default', ingress: [{action: 'Allow'}], types: ['Ingress']}, {'projectcalico.org/tier': 'default'}],
    ['StagedGlobalNetworkPolicy', 'StagedGlobalNetworkPolicy', {stagedAction: 'Delete'},
      {stagedAction: 'Delete', tier: 'default'}, {'projectcalico.org/tier': 'default'}],
    ['StagedNetworkPolicy staged for deletion', 'StagedNetworkPolicy', {stagedAction: 'Delete', tier: 't1', types: ['Egress']},
      {stagedAction: 'Delete', tier: 't1'}, {'projectcalico.org/tier': 't1'}],
    ['StagedKubernetesNetworkPolicy', 'StagedKubernetesNetworkPolicy', {},
      {stagedAction: 'Set', podSelector: {}}],
    ['Tier without order', 'Tier', {}, {order: 1000000, defaultAction: 'Deny'}],
    ['Tier with order and Pass', 'Tier', {order: 100, defaultAction: 'Pass'}, {order: 100, defaultAction: 'Pass'}],
    ['BGPConfiguration', 'BGPConfiguration', {asNumber: 64513},
      {logSeverityScreen: 'Info', asNumber: 64513, serviceLoadBalancerAggregation: 'Enabled'}],
    ['FelixConfiguration', 'FelixConfiguration', {},
      {nftablesMode: 'Auto', nftablesFlowTableOffload: 'Disabled', bpfLogLevel: '', bpfConnectTimeLoadBalancing: 'TCP',
        bpfHostNetworkedNATWithoutCTLB: 'Enabled', floatingIPs: 'Disabled'}],
    ['FelixConfiguration legacy CTLB flag', 'FelixConfiguration', {bpfConnectTimeLoadBalancingEnabled: false, nftablesMode: 'Enabled'},
      {nftablesMode: 'Enabled', nftablesFlowTableOffload: 'Disabled', bpfLogLevel: '', bpfConnectTimeLoadBalancingEnabled: false,
        bpfConnectTimeLoadBalancing: 'Disabled', bpfHostNetworkedNATWithoutCTLB: 'Disabled', floatingIPs: 'Disabled'}],
    ['KubeControllersConfiguration', 'KubeControllersConfiguration',
      {controllers: {node: {reconcilerPeriod: '300s'}, loadBalancer: {}, migration: {}}},
      {healthChecks: 'Enabled', prometheusMetricsPort: 9094,
        controllers: {node: {reconcilerPeriod: '5m0s', leakGracePeriod: '15m0s'}, loadBalancer: {assignIPs: 'AllServices'}, migration: {policyNameMigrator: 'Enabled'}}}],
    ['IPAMConfiguration keeps Go zero values of non-omitempty bools', 'IPAMConfiguration', {maxBlocksPerHost: 0},
      {strictAffinity: false, autoAllocateBlocks: false}],
    ['ClusterInformation has no defaults', 'ClusterInformation', {clusterGUID: 'abc'}, {clusterGUID: 'abc'}],
    ['HostEndpoint has no defaults', 'HostEndpoint', {node: 'n1', interfaceName: 'eth0'}, {node: 'n1', interfaceName: 'eth0'}],
  ])('%s', (_name, kind, spec, want, labels) => {
    const input = res(kind, spec)
    const snapshot = structuredClone(input)
    const out = applyDefaults(input)
    expect(out.spec).toEqual(want)
    expect(Object.keys(out.spec ?? {})).toEqual(Object.keys(want))
    if (labels) expect(out.metadata.labels).toEqual(labels)
    else expect(out.metadata.labels).toBeUndefined()
    expect(input).toEqual(snapshot)
  })

  it('keeps other labels next to the tier label', () => {
    const out = applyDefaults(res('NetworkPolicy', {tier: 'a'}, {name: 'p', namespace: 'ns', labels: {app: 'x', 'projectcalico.org/tier': 'stale'}}))
    expect(out.metadata.labels).toEqual({app: 'x', 'projectcalico.org/tier': 'a'})
  })

  it('returns an object that shares nothing with its input', () => {
    const input = res('KubeControllersConfiguration', {controllers: {node: {hostEndpoint: {autoCreate: 'Enabled'}}, loadBalancer: {}}}, {
      name: 'default',
      labels: {a: 'b'},
    })
    const snapshot = structuredClone(input)
    const out = applyDefaults(input)
    const objects = (v: unknown, acc: unknown[] = []): unknown[] => {
      if (typeof v === 'object' && v !== null) {
        acc.push(v)
        for (const x of Object.values(v)) objects(x, acc)
      }
      return acc
    }
    const outside = new Set(objects(input))
    expect(objects(out).filter((o) => outside.has(o))).toEqual([])
    expect(input).toEqual(snapshot)
  })

  it('still defaults an object that does not decode, leaving its extra fields alone', () => {
    const input = {apiVersion: V3, kind: 'Tier', metadata: {name: 't'}, spec: {extra: 1}} as unknown as Resource
    const out = applyDefaults(input)
    expect(out.spec).toEqual({extra: 1, order: 1000000, defaultAction: 'Deny'})
    expect(input.spec).toEqual({extra: 1})
  })

  it('is idempotent for every kind it defaults', () => {
    for (const kind of ['IPPool', 'NetworkPolicy', 'Tier', 'FelixConfiguration', 'KubeControllersConfiguration', 'BGPConfiguration', 'IPAMConfiguration']) {
      const once = applyDefaults(res(kind, kind === 'IPPool' ? {cidr: '10.1.0.0/16'} : {}))
      expect(applyDefaults(once), kind).toEqual(once)
    }
  })
})

describe('canonicalCIDR', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.0.0.1/8', '10.0.0.1/8'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['::/0', '::/0'],
    ['::ffff:0:0/96', '::ffff:0:0/96'],
    ['fd00:0:0:0:0:0:0:0/120', 'fd00::/120'],
    ['1:0:0:2:0:0:0:3/128', '1:0:0:2::3/128'],
  ])('%s -> %s', (input, want) => {
    expect(canonicalCIDR(input)?.text).toBe(want)
  })

  it.each(['10.0.0.0', '010.0.0.0/8', '10.0.0.0/33', '1:2:3/64', 'fd00::/129', '10.0.0.0/-1', ''])('rejects %j', (input) => {
    expect(canonicalCIDR(input)).toBeUndefined()
  })
})
