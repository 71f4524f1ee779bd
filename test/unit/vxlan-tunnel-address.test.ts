// The node agent's VXLAN tunnel address, as calico/node allocates it: assigned through Calico IPAM from a VXLAN pool
// with calico/node's handle and attributes, kept while valid, replaced when not, released when no pool needs it.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {reconcileVxlanTunnel, vxlanTunnelHandle, vxlanTunnelPools} from '../../src/agent/registration.js'
import type {Resource} from '../../src/api/resource.js'
import type {Node} from '../../src/api/types/endpoints.js'
import {vtepMac} from '../../src/dataplane/routing/vxlan.js'
import {EmbeddedBackend} from '../../src/datastore/embedded/backend.js'
import {IPAMClient} from '../../src/ipam/index.js'

const V3 = 'projectcalico.org/v3'

function pool(name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}): Resource {
  return {apiVersion: V3, kind: 'IPPool', metadata: {name, ...meta}, spec: {ipipMode: 'Never', natOutgoing: false, blockSize: 26, ...spec}}
}

describe('vxlanTunnelPools', () => {
  it('takes enabled IPv4 VXLAN pools that allow tunnel addresses and select the node', () => {
    const pools = [
      pool('always', {cidr: '10.1.0.0/16', vxlanMode: 'Always'}),
      pool('cross', {cidr: '10.2.0.0/16', vxlanMode: 'CrossSubnet'}),
      pool('never', {cidr: '10.3.0.0/16', vxlanMode: 'Never'}),
      pool('disabled', {cidr: '10.4.0.0/16', vxlanMode: 'Always', disabled: true}),
      pool('workloads-only', {cidr: '10.5.0.0/16', vxlanMode: 'Always', allowedUses: ['Workload']}),
      pool('other-nodes', {cidr: '10.6.0.0/16', vxlanMode: 'Always', nodeSelector: "zone == 'b'"}),
      pool('deleting', {cidr: '10.7.0.0/16', vxlanMode: 'Always'}, {deletionTimestamp: '2026-01-01T00:00:00Z'}),
      pool('v6', {cidr: 'fd00::/64', vxlanMode: 'Always'}),
    ]
    expect(vxlanTunnelPools(pools, {zone: 'a'})).toEqual(['10.1.0.0/16', '10.2.0.0/16'])
    expect(vxlanTunnelPools(pools, {zone: 'b'})).toEqual(['10.1.0.0/16', '10.2.0.0/16', '10.6.0.0/16'])
  })
})

describe('reconcileVxlanTunnel', () => {
  let dir: string
  let backend: EmbeddedBackend
  let ipam: IPAMClient
  const node = async (): Promise<Node> => (await backend.get<Node>({kind: 'Node', name: 'n1'})).value
  const putPool = (p: Resource) => backend.apply({kind: 'IPPool', name: p.metadata.name!}, p)

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-vxlan-'))
    backend = EmbeddedBackend.open({dir}).backend
    ipam = new IPAMClient(backend)
    await backend.create({kind: 'Node', name: 'n1'}, {apiVersion: V3, kind: 'Node', metadata: {name: 'n1'}, spec: {bgp: {ipv4Address: '192.0.2.1/24'}}})
  })
  afterEach(async () => {
    await backend.close()
    rmSync(dir, {recursive: true, force: true})
  })

  it('assigns an address with calico/node\'s handle and attributes, writes the MAC, and then keeps both', async () => {
    await putPool(pool('p', {cidr: '10.65.0.0/16', vxlanMode: 'Always'}))
    expect(await reconcileVxlanTunnel(backend, 'n1', ipam)).toMatch(/^VXLAN tunnel address 10\.65\.\d+\.\d+ assigned$/)
    const spec = (await node()).spec!
    expect(spec.bgp).toEqual({ipv4Address: '192.0.2.1/24'})
    expect(spec.vxlanTunnelMACAddr).toBe(vtepMac('n1'))
    const address = spec.ipv4VXLANTunnelAddr!
    expect(await ipam.ipsByHandle(vxlanTunnelHandle('n1'))).toEqual([address])
    expect((await ipam.getAssignmentAttributes(address)).attrs).toEqual({node: 'n1', type: 'vxlanTunnelAddress'})
    expect(await reconcileVxlanTunnel(backend, 'n1', ipam)).toBeUndefined()
    expect((await node()).spec!.ipv4VXLANTunnelAddr).toBe(address)
  })

  it('keeps a MAC the Node already has', async () => {
    const n = await backend.get<Node>({kind: 'Node', name: 'n1'})
    await backend.update({kind: 'Node', name: 'n1'}, {...n.value, spec: {...n.value.spec, vxlanTunnelMACAddr: '66:11:22:33:44:55'}}, n.revision)
    await putPool(pool('p', {cidr: '10.65.0.0/16', vxlanMode: 'CrossSubnet'}))
    await reconcileVxlanTunnel(backend, 'n1', ipam)
    expect((await node()).spec!.vxlanTunnelMACAddr).toBe('66:11:22:33:44:55')
  })

  it('replaces an address IPAM does not hold for the tunnel; the handle then holds only the new one', async () => {
    await putPool(pool('p', {cidr: '10.65.0.0/16', vxlanMode: 'Always'}))
    await reconcileVxlanTunnel(backend, 'n1', ipam)
    const n = await backend.get<Node>({kind: 'Node', name: 'n1'})
    await backend.update({kind: 'Node', name: 'n1'}, {...n.value, spec: {...n.value.spec, ipv4VXLANTunnelAddr: '10.65.200.7'}}, n.revision)
    expect(await reconcileVxlanTunnel(backend, 'n1', ipam)).toMatch(/assigned$/)
    const now = (await node()).spec!.ipv4VXLANTunnelAddr!
    expect(now).not.toBe('10.65.200.7')
    expect(await ipam.ipsByHandle(vxlanTunnelHandle('n1'))).toEqual([now])
  })

  it('releases the address and clears the fields when no pool needs VXLAN any more', async () => {
    await putPool(pool('p', {cidr: '10.65.0.0/16', vxlanMode: 'Always'}))
    await reconcileVxlanTunnel(backend, 'n1', ipam)
    const address = (await node()).spec!.ipv4VXLANTunnelAddr!
    await putPool(pool('p', {cidr: '10.65.0.0/16', vxlanMode: 'Never'}))
    expect(await reconcileVxlanTunnel(backend, 'n1', ipam)).toBe(`VXLAN tunnel address ${address} released`)
    expect((await node()).spec).toEqual({bgp: {ipv4Address: '192.0.2.1/24'}})
    await expect(ipam.getAssignmentAttributes(address)).rejects.toThrow()
    expect(await reconcileVxlanTunnel(backend, 'n1', ipam)).toBeUndefined()
  })
})
