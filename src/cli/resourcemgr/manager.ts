// Per-resource operations with calicoctl's semantics (resourcemgr.go): what apply, replace, delete, get and
// patch do with the input's metadata and resourceVersion, over the typed client.
import {decodeResource} from '../../api/decode.js'
import {
  OperationNotSupportedError,
  ResourceAlreadyExistsError,
  ResourceUpdateConflictError,
} from '../../api/errors.js'
import {kindInfo} from '../../api/kinds.js'
import {resourceId, type Resource, type ResourceList} from '../../api/resource.js'
import type {ResourceClient} from '../../datastore/client.js'
import {mergeMetadataForUpdate, prepareMetadataForCreate} from './metadata.js'
import {strategicMergePatch, type Json} from './patch.js'
import {sleep} from '../../lib/sleep.js'
import {sortTiers} from '../tiers.js'
import type {PagedList} from '../output/index.js'

/** How often replace re-reads and retries after a concurrent update, and how long it waits between tries. */
export interface RetryPolicy {
  attempts: number
  delayMs: number
}

const DEFAULT_RETRY: RetryPolicy = {attempts: 5, delayMs: 1000}
const CLUSTER_INFO = 'ClusterInformation'

function nameOf(res: Resource): string {
  return res.metadata.name ?? ''
}

function isNamespaced(kind: string): boolean {
  return kindInfo(kind)?.namespaced ?? false
}

/** The items of the pages after the first. */
async function* laterPages(pages: AsyncIterator<ResourceList>): AsyncGenerator<Resource[]> {
  for (let page = await pages.next(); !page.done; page = await pages.next()) yield page.value.items
}

export class ResourceManager {
  constructor(
    private readonly client: ResourceClient,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  async create(res: Resource): Promise<Resource> {
    if (res.kind === CLUSTER_INFO) throw new OperationNotSupportedError('create or apply', CLUSTER_INFO)
    return this.client.create(prepareMetadataForCreate(res))
  }

  /** Create, or replace when it exists; a resourceVersion in the input still guards the replace. */
  async apply(res: Resource): Promise<Resource> {
    if (res.kind === CLUSTER_INFO) throw new OperationNotSupportedError('apply', CLUSTER_INFO, 'resource is readonly')
    const originalRV = res.metadata.resourceVersion
    try {
      return await this.create({...res, metadata: {...res.metadata, resourceVersion: undefined}})
    } catch (err) {
      if (!(err instanceof ResourceAlreadyExistsError || err instanceof OperationNotSupportedError)) throw err
    }
    return this.update({...res, metadata: {...res.metadata, resourceVersion: originalRV}})
  }

  /**
   * Replace. With a resourceVersion the stored object must still have it; without one the stored metadata is
   * taken (input labels and annotations win) and the update retried on conflict.
   */
  async update(res: Resource): Promise<Resource> {
    if (res.kind === CLUSTER_INFO) throw new OperationNotSupportedError('apply or replace', CLUSTER_INFO)
    const rv = res.metadata.resourceVersion
    if (rv) {
      const stored = await this.get(res)
      if (stored.metadata.resourceVersion !== rv) {
        throw new ResourceUpdateConflictError(resourceId(stored.kind, nameOf(stored), stored.metadata.namespace))
      }
      return this.client.update(mergeMetadataForUpdate(stored, res))
    }
    for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
      const stored = await this.get(res)
      try {
        return await this.client.update(mergeMetadataForUpdate(stored, res))
      } catch (err) {
        if (!(err instanceof ResourceUpdateConflictError)) throw err
        await sleep(this.retry.delayMs)
      }
    }
    // calicoctl formats a shadowed nil error here; its output is kept byte for byte.
    throw new Error('failed to update the resource: %!s(<nil>)')
  }

  async delete(res: Resource): Promise<Resource> {
    if (res.kind === CLUSTER_INFO) throw new OperationNotSupportedError('delete', CLUSTER_INFO)
    return this.client.delete(res.kind, nameOf(res), res.metadata.namespace || undefined, {
      resourceVersion: res.metadata.resourceVersion || undefined,
    })
  }

  async get(res: Resource): Promise<Resource> {
    return this.client.get(res.kind, nameOf(res), res.metadata.namespace || undefined)
  }

  /** A named get, or a list (across namespaces when the namespace is empty). */
  async getOrList(res: Resource): Promise<Resource | ResourceList> {
    if (nameOf(res) !== '') {
      if (!res.metadata.namespace && isNamespaced(res.kind)) {
        throw new Error('cannot use --all-namespace flag for getting a single resource')
      }
      return this.get(res)
    }
    const list = await this.client.list(res.kind, {namespace: res.metadata.namespace || undefined})
    if (res.kind === 'Tier') list.items = sortTiers(list.items)
    return list
  }

  /**
   * getOrList for output written as it is read: a list (except of Tiers, printed in spec.order) comes back as a
   * PagedList once its first page is read, so a failure to list at all is still this call's.
   */
  async getOrListPaged(res: Resource): Promise<Resource | ResourceList | PagedList> {
    if (nameOf(res) !== '' || res.kind === 'Tier') return this.getOrList(res)
    const pages = this.client.listPages(res.kind, {namespace: res.metadata.namespace || undefined})
    const first = await pages.next()
    if (first.done) throw new Error(`internal error: no page listing ${res.kind}`)
    return {...first.value, more: laterPages(pages)}
  }

  /** Strategic merge patch of the stored object, then a resourceVersion-checked update. */
  async patch(res: Resource, patchText: string): Promise<Resource> {
    const stored = await this.get(res)
    let patched: {[key: string]: Json}
    try {
      patched = strategicMergePatch(stored as unknown as {[key: string]: Json}, patchText)
    } catch (err) {
      throw new Error(`performing strategic merge patch: ${(err as Error).message}`)
    }
    let updated: Resource
    try {
      updated = decodeResource(patched)
    } catch (err) {
      throw new Error(`creating resource from patched data: ${(err as Error).message}`)
    }
    try {
      return await this.client.update(updated)
    } catch (err) {
      throw new Error(`updating existing resource: ${(err as Error).message}`)
    }
  }
}
