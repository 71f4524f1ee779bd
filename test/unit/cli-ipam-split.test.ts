// `ipam split` and the two ResourceClient operations it is built on (libcalico-go's IPPools().UnsafeCreate and
// UnsafeDelete), against a real embedded store.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ResourceAlreadyExistsError, ResourceDoesNotExistError, ResourceUpdateConflictError, ValidationError} from '../../src/api/errors.js'
import type {Resource} from '../../src/api/resource.js'
import {splitPool} from '../../src/cli/ipam/split.js'
import {ClientError, ResourceClient} from '../../src/datastore/client.js'
import {EmbeddedBackend} from '../../src/datastore/embedded/backend.js'
import {IPAMClient} from '../../src/ipam/index.js'

const NOW = new Date('2026-01-02T03:04:05.678Z')

function pool(name: string, cidr: string, spec: Record<string, unknown> = {}): Resource {
  return {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name}, spec: {cidr, ...spec}}
}

let dir: string
let client: ResourceClient
let ipam: IPAMClient
/** Pools whose affinities the client's delete hook released, as the CLI session's hook does. */
let released: string[]

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ipam-split-'))
  const backend = EmbeddedBackend.open({dir}).backend
  ipam = new IPAMClient(backend)
  released = []
  client = new ResourceClient(backend, {
    now: () => NOW,
    beforePoolDelete: async (p) => {
      const cidr = String((p.spec as {cidr?: unknown}).cidr)
      released.push(cidr)
      await ipam.releasePoolAffinities(cidr)
    },
  })
})

afterEach(async () => {
  await client.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('ResourceClient.unsafeCreatePool', () => {
  it('creates a pool inside another one, which create() refuses', async () => {
    await client.create(pool('outer', '10.0.0.0/24'))
    await expect(client.create(pool('inner', '10.0.0.0/26'))).rejects.toThrow('IPPool(inner) CIDR overlaps with IPPool(outer) CIDR 10.0.0.0/24')
    const out = await client.unsafeCreatePool(pool('inner', '10.0.0.0/26'))
    expect(out.spec).toMatchObject({cidr: '10.0.0.0/26', blockSize: 26, nodeSelector: 'all()', ipipMode: 'Never', vxlanMode: 'Never'})
    expect(out.metadata.uid).toMatch(/^[0-9a-f-]{36}$/)
    expect(out.metadata.creationTimestamp).toBe('2026-01-02T03:04:05Z')
    expect((await client.get('IPPool', 'inner')).metadata.resourceVersion).toBe(out.metadata.resourceVersion)
  })

  it('skips the check against existing blocks of another size', async () => {
    await client.create(pool('old', '10.0.0.0/25', {blockSize: 26}))
    await ipam.claimAffinity('10.0.0.64/26', 'node-a')
    await client.unsafeDeletePool('old')
    const finer = pool('finer', '10.0.0.0/24', {blockSize: 28})
    await expect(client.create(finer)).rejects.toThrow('IPPool blocksSize conflicts with existing allocations that use a different blockSize')
    expect((await client.unsafeCreatePool(finer)).spec).toMatchObject({blockSize: 28})
  })

  it('keeps create()\'s validation, metadata rules and kind', async () => {
    await expect(client.unsafeCreatePool(pool('bad', '10.0.0.1/24'))).rejects.toThrow(ValidationError)
    await expect(client.unsafeCreatePool({...pool('rv', '10.1.0.0/24'), metadata: {name: 'rv', resourceVersion: '7'}})).rejects.toThrow(
      'field must not be set for a Create request',
    )
    await client.unsafeCreatePool(pool('twice', '10.2.0.0/24'))
    await expect(client.unsafeCreatePool(pool('twice', '10.3.0.0/24'))).rejects.toThrow(ResourceAlreadyExistsError)
    const notPool: Resource = {apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: {name: 'x'}, spec: {}}
    await expect(client.unsafeCreatePool(notPool)).rejects.toThrow(new ClientError('unsafe create is only for IPPools, not GlobalNetworkSet'))
  })
})

describe('ResourceClient.unsafeDeletePool', () => {
  it('disables and deletes the pool without releasing its affinities; delete() releases them', async () => {
    await client.create(pool('kept', '10.0.0.0/24'))
    await ipam.claimAffinity('10.0.0.0/26', 'node-a')
    const gone = await client.unsafeDeletePool('kept')
    expect(gone.spec).toMatchObject({cidr: '10.0.0.0/24', disabled: true})
    await expect(client.get('IPPool', 'kept')).rejects.toThrow(ResourceDoesNotExistError)
    expect(released).toEqual([])
    expect(await ipam.hostBlocks('node-a')).toEqual(['10.0.0.0/26'])

    await client.create(pool('freed', '10.0.0.0/24'))
    await client.delete('IPPool', 'freed')
    expect(released).toEqual(['10.0.0.0/24'])
    expect(await ipam.hostBlocks('node-a')).toEqual([])
  })

  it('honours a resourceVersion and reports a missing pool', async () => {
    const p = await client.create(pool('p', '10.0.0.0/24', {disabled: true}))
    await expect(client.unsafeDeletePool('p', {resourceVersion: '1'})).rejects.toThrow(ResourceUpdateConflictError)
    await client.unsafeDeletePool('p', {resourceVersion: p.metadata.resourceVersion})
    await expect(client.unsafeDeletePool('p')).rejects.toThrow('resource does not exist: IPPool(p)')
  })
})

describe('splitPool', () => {
  async function lock(): Promise<void> {
    await client.ensureInitialized()
    const info = await client.get('ClusterInformation', 'default')
    await client.update({...info, spec: {...(info.spec as object), datastoreReady: false}})
  }

  it('replaces the pool by its parts, which keep its blocks and their affinities', async () => {
    await client.create(pool('p', '10.0.1.0/24', {natOutgoing: true}))
    await ipam.claimAffinity('10.0.1.64/26', 'node-a')
    await lock()
    const out = await splitPool(client, {name: 'p', cidr: '', parts: 2})
    expect(out).toBe(
      'IP Pool p was successfully split into 2 smaller pools.Created split-p-0 with CIDR 10.0.1.0/25.\n' +
        'Created split-p-1 with CIDR 10.0.1.128/25.\nPlease refer to the documentation for final steps.',
    )
    const pools = (await client.list('IPPool')).items.map((x) => {
      const spec = x.spec as {cidr: string; disabled?: boolean; natOutgoing?: boolean}
      return [x.metadata.name, spec.cidr, spec.disabled === true, spec.natOutgoing]
    })
    expect(pools).toEqual([
      ['split-p-0', '10.0.1.0/25', false, true],
      ['split-p-1', '10.0.1.128/25', false, true],
    ])
    expect(released).toEqual([])
    expect(await ipam.hostBlocks('node-a')).toEqual(['10.0.1.64/26'])
  })

  it('refuses on an unlocked datastore and changes nothing', async () => {
    await client.ensureInitialized()
    await client.create(pool('p', '10.0.1.0/24'))
    await expect(splitPool(client, {name: 'p', cidr: '', parts: 2})).rejects.toThrow('datastore is not locked')
    expect((await client.list('IPPool')).items.map((x) => x.metadata.name)).toEqual(['p'])
  })
})
