// How the agent takes the VXLAN overlay's stored inputs: IP pools validated like the policy inputs, Nodes decoded
// (the Kubernetes datastore's Node view carries a CIDR-form address the validator refuses), IPAM blocks as stored.
import {describe, expect, it} from 'vitest'

import {checkVxlanValue} from '../../src/agent/resources.js'

const V3 = 'projectcalico.org/v3'

describe('checkVxlanValue', () => {
  it('validates IP pools: an invalid one is refused with the reason', () => {
    const ok = checkVxlanValue({kind: 'IPPool', name: 'p'}, {apiVersion: V3, kind: 'IPPool', metadata: {name: 'p'}, spec: {cidr: '10.0.0.0/16', vxlanMode: 'Always'}})
    expect(ok.ok && (ok.item.value as {spec: {vxlanMode: string}}).spec.vxlanMode).toBe('Always')
    const bad = checkVxlanValue({kind: 'IPPool', name: 'p'}, {apiVersion: V3, kind: 'IPPool', metadata: {name: 'p'}, spec: {cidr: '10.0.0.0/16', vxlanMode: 'Sometimes'}})
    expect(bad.ok).toBe(false)
  })

  it('takes the Kubernetes datastore\'s Node view with its CIDR-form address, but refuses a mistyped field', () => {
    const view = {apiVersion: V3, kind: 'Node', metadata: {name: 'n1'}, spec: {bgp: {ipv4Address: '192.0.2.1/24'}, addresses: [{address: '192.0.2.1/24', type: 'CalicoNodeIP'}]}}
    expect(checkVxlanValue({kind: 'Node', name: 'n1'}, view).ok).toBe(true)
    expect(checkVxlanValue({kind: 'Node', name: 'n1'}, {...view, spec: {ipv4VXLANTunnelAddr: 7}}).ok).toBe(false)
    expect(checkVxlanValue({kind: 'Node', name: 'n1'}, {...view, kind: 'IPPool'}).ok).toBe(false)
  })

  it('passes IPAM blocks through as stored', () => {
    const block = {cidr: '10.0.0.0/26', affinity: 'host:n1'}
    expect(checkVxlanValue({kind: 'IPAMBlock', name: '10.0.0.0/26'}, block)).toEqual({ok: true, item: {kind: 'IPAMBlock', name: '10.0.0.0/26', value: block}})
  })
})
