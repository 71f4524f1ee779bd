import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {mergeNodeSpec, registerNode} from '../../src/agent/registration.js'
import {AGENT_KINDS, checkStoredValue, deletion} from '../../src/agent/resources.js'
import type {Node} from '../../src/api/types/endpoints.js'
import {EmbeddedBackend} from '../../src/datastore/embedded/backend.js'

const V3 = 'projectcalico.org/v3'

describe('node registration', () => {
  let dir: string
  let backend: EmbeddedBackend
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-reg-'))
    backend = EmbeddedBackend.open({dir}).backend
  })
  afterEach(async () => {
    await backend.close()
    rmSync(dir, {recursive: true, force: true})
  })

  it('creates the Node with addresses, uid and creation time', async () => {
    const node = await registerNode(backend, {name: 'n1', ipv4Address: '192.0.2.1/24', asNumber: 64512}, () => new Date('2026-01-02T03:04:05.678Z'))
    expect(node.spec).toEqual({bgp: {ipv4Address: '192.0.2.1/24', asNumber: 64512}})
    expect(node.metadata.creationTimestamp).toBe('2026-01-02T03:04:05Z')
    expect(node.metadata.uid).toMatch(/^[0-9a-f-]{36}$/)
    expect((await backend.get<Node>({kind: 'Node', name: 'n1'})).value.spec).toEqual(node.spec)
  })

  it('updates only the given fields and keeps what other writers own', async () => {
    await backend.create({kind: 'Node', name: 'n1'}, {
      apiVersion: V3, kind: 'Node', metadata: {name: 'n1', uid: 'u1', creationTimestamp: '2020-01-01T00:00:00Z'},
      spec: {bgp: {ipv4Address: '10.0.0.1/24', ipv4IPIPTunnelAddr: '10.244.0.1'}, ipv4VXLANTunnelAddr: '10.244.0.2'},
    })
    const node = await registerNode(backend, {name: 'n1', ipv4Address: '10.0.0.2/24', ipv6Address: 'fd00::2/64'})
    expect(node.metadata.uid).toBe('u1')
    expect(node.spec).toEqual({
      bgp: {ipv4Address: '10.0.0.2/24', ipv4IPIPTunnelAddr: '10.244.0.1', ipv6Address: 'fd00::2/64'},
      ipv4VXLANTunnelAddr: '10.244.0.2',
    })
    // Same request again: no write at all.
    const before = (await backend.get({kind: 'Node', name: 'n1'})).revision
    await registerNode(backend, {name: 'n1', ipv4Address: '10.0.0.2/24'})
    expect((await backend.get({kind: 'Node', name: 'n1'})).revision).toBe(before)
  })

  it('mergeNodeSpec leaves an empty spec without a bgp section', () => {
    expect(mergeNodeSpec(undefined, {name: 'n'})).toEqual({})
  })
})

describe('validation filter', () => {
  it('passes valid policy inputs through, defaulted', () => {
    const r = checkStoredValue({kind: 'NetworkPolicy', name: 'p', namespace: 't'}, {
      apiVersion: V3, kind: 'NetworkPolicy', metadata: {name: 'p', namespace: 't'}, spec: {selector: "app == 'x'", ingress: [{action: 'Allow'}]},
    })
    expect(r.ok).toBe(true)
    if (r.ok) expect(r.resource.spec).toMatchObject({types: ['Ingress']})
  })

  it('rejects what calicoctl would refuse to write, with the validator\'s reason', () => {
    const bad = checkStoredValue({kind: 'NetworkPolicy', name: 'p', namespace: 't'}, {
      apiVersion: V3, kind: 'NetworkPolicy', metadata: {name: 'p', namespace: 't'}, spec: {selector: 'has('},
    })
    expect(bad).toMatchObject({ok: false})
    if (!bad.ok) expect(bad.reason).toMatch(/Selector/)
    expect(checkStoredValue({kind: 'Profile', name: 'x'}, {nonsense: true}).ok).toBe(false)
    expect(checkStoredValue({kind: 'Profile', name: 'x'}, {apiVersion: V3, kind: 'Tier', metadata: {name: 'x'}, spec: {}})).toMatchObject({ok: false})
  })

  it('watches every kind the calculation reads, and turns keys into deletions', () => {
    expect(AGENT_KINDS).toContain('WorkloadEndpoint')
    expect(AGENT_KINDS).toContain('FelixConfiguration')
    expect(AGENT_KINDS).not.toContain('IPPool')
    expect(deletion({kind: 'NetworkPolicy', name: 'p', namespace: 't'})).toEqual({type: 'delete', kind: 'NetworkPolicy', name: 'p', namespace: 't'})
  })
})
