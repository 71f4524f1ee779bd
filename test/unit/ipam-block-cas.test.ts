// The block read-change-write that releases and owner changes share (IPAMClient's editBlock): another writer that
// changes or removes the block between the client's read and its compare-and-swap is met the way libcalico-go meets
// it in each call. The racing writer is a second client on the same embedded store, run from a hook in front of
// the block writes.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ResourceDoesNotExistError} from '../../src/api/errors.js'
import type {Backend, Key} from '../../src/datastore/backend.js'
import {openBackend} from '../../src/datastore/factory.js'
import {MaxRetriesError} from '../../src/ipam/errors.js'
import {IPAMClient} from '../../src/ipam/ipam.js'
import {KIND_BLOCK, type AllocationBlock, type IPAMHandleValue} from '../../src/ipam/model.js'

const HOST = 'h'
const BLOCK = '10.0.0.0/26'

let dir: string
let backend: Backend
/** The racing writer, called before each block update or delete the client under test makes. */
let beforeBlockWrite: ((key: Key) => Promise<void>) | undefined
let blockWrites = 0

/** The store as the client under test sees it: block writes first run the racing writer. */
function racedBackend(): Backend {
  const hook = async (key: Key): Promise<void> => {
    if (key.kind !== KIND_BLOCK) return
    blockWrites++
    await beforeBlockWrite?.(key)
  }
  return new Proxy(backend, {
    get(target, prop, receiver) {
      if (prop === 'update') return async <V>(key: Key, value: V, revision: string) => (await hook(key), target.update(key, value, revision))
      if (prop === 'delete') return async <V>(key: Key, revision?: string) => (await hook(key), target.delete<V>(key, revision))
      return Reflect.get(target, prop, receiver) as unknown
    },
  })
}

/** Another writer rewrites the block unchanged: only its revision moves, so the client's swap loses. */
const bumpBlock = async (key: Key): Promise<void> => {
  const kv = await backend.get<AllocationBlock>(key)
  await backend.update(key, kv.value, kv.revision)
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ipam-block-cas-'))
  backend = (await openBackend({datastoreType: 'embedded', datastorePath: join(dir, 'ds')})).backend
  await backend.apply({kind: 'Node', name: HOST}, {apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name: HOST}, spec: {}})
  await backend.apply({kind: 'IPPool', name: 'p'}, {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'p'}, spec: {cidr: '10.0.0.0/24', blockSize: 26}})
  beforeBlockWrite = undefined
  blockWrites = 0
})

afterEach(async () => {
  await backend.close()
  rmSync(dir, {recursive: true, force: true})
})

async function assign(client: IPAMClient, ip: string, handleID: string): Promise<void> {
  await client.assignIP({ip, handleID, hostname: HOST, intendedUse: 'Workload'})
}

const allocated = async (): Promise<number> => (await backend.get<AllocationBlock>({kind: KIND_BLOCK, name: BLOCK})).value.allocations.filter((a) => a !== null).length

describe('releases and owner changes against a racing writer', () => {
  it('releaseIPs rereads a block another writer changed and keeps that writer\'s allocation', async () => {
    const other = new IPAMClient(backend)
    await assign(other, '10.0.0.1', 'a')
    const ipam = new IPAMClient(racedBackend())
    beforeBlockWrite = async () => {
      beforeBlockWrite = undefined
      await assign(other, '10.0.0.2', 'b')
    }
    expect(await ipam.releaseIPs([{address: '10.0.0.1', handle: 'a'}])).toEqual({unallocated: [], released: [{address: '10.0.0.1', handle: 'a'}]})
    expect(blockWrites).toBe(2)
    expect(await other.ipsByHandle('b')).toEqual(['10.0.0.2'])
    // Its last address released, the handle is gone.
    await expect(other.ipsByHandle('a')).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    expect(await allocated()).toBe(1)
  })

  it('releaseByHandle takes a block removed under it as released; releaseIPs reports it', async () => {
    const other = new IPAMClient(backend)
    await assign(other, '10.0.0.1', 'a')
    await assign(other, '10.0.0.2', 'b')
    const ipam = new IPAMClient(racedBackend())
    const removeBlock = async (key: Key): Promise<void> => {
      beforeBlockWrite = undefined
      await backend.delete(key)
    }
    beforeBlockWrite = removeBlock
    await ipam.releaseByHandle('a')
    // Done as if its write had landed: the handle no longer counts the block.
    await expect(backend.get<IPAMHandleValue>({kind: 'IPAMHandle', name: 'a'})).rejects.toBeInstanceOf(ResourceDoesNotExistError)

    await assign(other, '10.0.0.3', 'c')
    beforeBlockWrite = removeBlock
    await expect(ipam.releaseIPs([{address: '10.0.0.3', handle: 'c'}])).rejects.toBeInstanceOf(ResourceDoesNotExistError)
  })

  it('setOwnerAttributes fails on an address whose block does not exist', async () => {
    const ipam = new IPAMClient(racedBackend())
    await expect(ipam.setOwnerAttributes('10.0.0.9', 'vm', {alternateOwnerAttrs: {pod: 'b'}})).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    expect(blockWrites).toBe(0)
  })

  it('gives up after its retries when every swap loses, with each call\'s own message', async () => {
    const other = new IPAMClient(backend)
    await assign(other, '10.0.0.1', 'vm')
    await assign(other, '10.0.0.2', 'a')
    await assign(other, '10.0.0.3', 'b')
    const ipam = new IPAMClient(racedBackend(), {retries: 3})
    beforeBlockWrite = bumpBlock
    const calls: [string, () => Promise<unknown>, string][] = [
      ['setOwnerAttributes', () => ipam.setOwnerAttributes('10.0.0.1', 'vm', {alternateOwnerAttrs: {pod: 'b'}}), 'max retries hit - excessive concurrent IPAM requests'],
      ['releaseByHandle', () => ipam.releaseByHandle('a'), 'Hit max retries'],
      ['releaseIPs', () => ipam.releaseIPs([{address: '10.0.0.3', handle: 'b'}]), 'Max retries hit - excessive concurrent IPAM requests'],
    ]
    for (const [name, call, message] of calls) {
      blockWrites = 0
      const err = await call().then(() => undefined, (e: unknown) => e)
      expect(err, name).toBeInstanceOf(MaxRetriesError)
      expect((err as Error).message, name).toBe(message)
      expect(blockWrites, name).toBe(3)
    }
    // Nothing was changed by the calls that gave up.
    expect(await allocated()).toBe(3)
  })
})
