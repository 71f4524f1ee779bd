// How the agent feeds the overlay's stored kinds to the policy calculation (OverlayCalcFeed): IP pools and Nodes as
// set/delete events, IPAM blocks never, and a Node change in nothing the calculation reads (status, labels) not at all,
// so that it costs no table render; after a snapshot's reset, everything is fed again.
import {describe, expect, it} from 'vitest'
import {OverlayCalcFeed} from '../../src/agent/resources.js'

const v3 = 'projectcalico.org/v3'
const node = (labels: Record<string, string>, spec: Record<string, unknown>): unknown => ({apiVersion: v3, kind: 'Node', metadata: {name: 'n2', labels}, spec})

describe('OverlayCalcFeed', () => {
  it('pools and deletions pass as events, IPAM blocks never', () => {
    const feed = new OverlayCalcFeed()
    const pool = {apiVersion: v3, kind: 'IPPool', metadata: {name: 'p'}, spec: {cidr: '10.0.0.0/16', natOutgoing: true}}
    expect(feed.event({kind: 'IPPool', name: 'p', value: pool})).toEqual({type: 'set', resource: pool})
    expect(feed.event({kind: 'IPPool', name: 'p', value: pool})).toEqual({type: 'set', resource: pool})
    expect(feed.event({kind: 'IPPool', name: 'p'})).toEqual({type: 'delete', kind: 'IPPool', name: 'p'})
    expect(feed.event({kind: 'IPAMBlock', name: '10-0-0-0-26', value: {cidr: '10.0.0.0/26', affinity: 'host:n2'}})).toBeUndefined()
  })

  it('a Node only when its address or VTEP address changes, and again after a reset', () => {
    const feed = new OverlayCalcFeed()
    const first = node({a: '1'}, {bgp: {ipv4Address: '10.0.0.2/24'}})
    expect(feed.event({kind: 'Node', name: 'n2', value: first})).toEqual({type: 'set', resource: first})
    expect(feed.event({kind: 'Node', name: 'n2', value: node({a: '2'}, {bgp: {ipv4Address: '10.0.0.2/24'}})})).toBeUndefined()
    const vtep = node({a: '2'}, {bgp: {ipv4Address: '10.0.0.2/24'}, ipv4VXLANTunnelAddr: '10.65.1.1'})
    expect(feed.event({kind: 'Node', name: 'n2', value: vtep})).toEqual({type: 'set', resource: vtep})
    feed.reset()
    expect(feed.event({kind: 'Node', name: 'n2', value: vtep})).toEqual({type: 'set', resource: vtep})
    expect(feed.event({kind: 'Node', name: 'n2'})).toEqual({type: 'delete', kind: 'Node', name: 'n2'})
    expect(feed.event({kind: 'Node', name: 'n2'})).toBeUndefined()
  })
})
