// The calculator's input types are structural subsets of the api's v3 types: a decoded resource can be passed
// straight through asCalcResource. The assignments below are checked by `tsc` (the test also runs them).
import {describe, expect, it} from 'vitest'
import type * as api from '../../src/api/types.js'
import {asCalcResource, type EntityRule, type FelixConfigurationSpec, type HostEndpointSpec, type IPPoolSpec, type NodeSpec, type NetworkSetSpec, type PolicySpec, type ProfileSpec, type Rule, type TierSpec, type WorkloadEndpointSpec} from '../../src/dataplane/calc/index.js'

// Compile-time: each api spec type is assignable to the calculator's view of it.
export type Assignable = [
  api.WorkloadEndpointSpec extends WorkloadEndpointSpec ? true : never,
  api.HostEndpointSpec extends HostEndpointSpec ? true : never,
  api.GlobalNetworkPolicySpec extends PolicySpec ? true : never,
  api.NetworkPolicySpec extends PolicySpec ? true : never,
  api.StagedGlobalNetworkPolicySpec extends PolicySpec ? true : never,
  api.ProfileSpec extends ProfileSpec ? true : never,
  api.TierSpec extends TierSpec ? true : never,
  api.NetworkSetSpec extends NetworkSetSpec ? true : never,
  api.GlobalNetworkSetSpec extends NetworkSetSpec ? true : never,
  api.Rule extends Rule ? true : never,
  api.EntityRule extends EntityRule ? true : never,
  api.FelixConfigurationSpec extends FelixConfigurationSpec ? true : never,
  api.IPPoolSpec extends IPPoolSpec ? true : never,
  api.NodeSpec extends NodeSpec ? true : never,
]

const allAssignable: Assignable = [true, true, true, true, true, true, true, true, true, true, true, true, true, true]

describe('asCalcResource', () => {
  it('api spec types fit the calculator inputs', () => expect(allAssignable.every(Boolean)).toBe(true))

  it('passes the kinds the calculator reads and drops the others', () => {
    const wep: api.WorkloadEndpoint = {apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: {name: 'w', namespace: 'ns'}, spec: {node: 'n1'}}
    const pool: api.IPPool = {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'p'}, spec: {cidr: '10.0.0.0/16'}}
    const peer: api.BGPPeer = {apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: {name: 'p'}, spec: {}}
    expect(asCalcResource(wep)?.kind).toBe('WorkloadEndpoint')
    // IP pools are read for natOutgoing.
    expect(asCalcResource(pool)?.kind).toBe('IPPool')
    expect(asCalcResource(peer)).toBeUndefined()
  })
})
