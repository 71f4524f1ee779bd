// Lists for output written as they are read: ResourceClient.listPages over backends with and without pages, and
// what `get` hands the output (PagedList) for lists, Tier lists and named gets.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {Resource, ResourceList} from '../../src/api/resource.js'
import {executeConfigCommand, type Session} from '../../src/cli/resourcemgr/execute.js'
import {isPagedList, type PagedList} from '../../src/cli/output/index.js'
import type {Backend, ListOptions, ListResult} from '../../src/datastore/backend.js'
import {ResourceClient} from '../../src/datastore/client.js'
import {EmbeddedBackend} from '../../src/datastore/embedded/backend.js'

let dir: string
let embedded: Backend

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'paged-'))
  embedded = EmbeddedBackend.open({dir: join(dir, 'store')}).backend
})
afterEach(async () => {
  await embedded.close()
  rmSync(dir, {recursive: true, force: true})
})

/** The embedded backend read in pages of two, failing at page `failAt` (if given). */
function paged(backend: Backend, failAt?: number): Backend {
  return Object.assign(Object.create(backend) as Backend, {
    async *listPages<V>(options: ListOptions): AsyncGenerator<ListResult<V>> {
      const {items, revision} = await backend.list<V>(options)
      for (let i = 0, page = 0; i === 0 || i < items.length; i += 2, page++) {
        if (page === failAt) throw new Error('etcd at http://127.0.0.1:2379: etcdserver: mvcc: required revision has been compacted')
        yield {items: items.slice(i, i + 2), revision}
      }
    },
  })
}

const profile = (name: string): Resource => ({apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: {name}, spec: {}})
const names = (items: Resource[]) => items.map((r) => r.metadata.name)

async function seedProfiles(client: ResourceClient): Promise<void> {
  for (const name of ['p1', 'p2', 'p3']) await client.create(profile(name))
}

function session(client: ResourceClient): Session {
  return {checkVersion: async () => undefined, client: async () => client}
}

async function collect(list: PagedList): Promise<Array<Array<string | undefined>>> {
  const pages = [names(list.items)]
  for await (const page of list.more) pages.push(names(page))
  return pages
}

describe('ResourceClient.listPages', () => {
  it('a backend without pages gives one page: what list() returns', async () => {
    const client = new ResourceClient(embedded)
    await seedProfiles(client)
    const pages: ResourceList[] = []
    for await (const page of client.listPages('Profile')) pages.push(page)
    expect(pages).toEqual([await client.list('Profile')])
  })

  it('with pages: each as a list at the same resourceVersion, the served default-allow profile only first', async () => {
    const client = new ResourceClient(paged(embedded))
    await seedProfiles(client)
    const pages: ResourceList[] = []
    for await (const page of client.listPages('Profile')) pages.push(page)
    expect(pages.map((p) => names(p.items))).toEqual([['projectcalico-default-allow', 'p1', 'p2'], ['p3']])
    const whole = await client.list('Profile')
    expect(pages.map((p) => p.metadata)).toEqual([whole.metadata, whole.metadata])
    expect(pages.flatMap((p) => p.items)).toEqual(whole.items)
  })
})

describe('get with pagedLists', () => {
  it('a list comes back after its first page; the rest is read from `more`', async () => {
    const client = new ResourceClient(paged(embedded))
    await seedProfiles(client)
    const {results} = await executeConfigCommand('get', {kind: 'profiles', pagedLists: true}, session(client))
    expect(results).toHaveLength(1)
    const list = results[0]
    if (!isPagedList(list)) throw new Error('expected a PagedList')
    expect(await collect(list)).toEqual([['projectcalico-default-allow', 'p1', 'p2'], ['p3']])
  })

  it('a page after the first that cannot be read fails there; a first page that cannot be read is the get\'s failure', async () => {
    const later = new ResourceClient(paged(embedded, 1))
    await seedProfiles(later)
    const {results, resErrs} = await executeConfigCommand('get', {kind: 'profiles', pagedLists: true}, session(later))
    expect(resErrs).toEqual([])
    await expect(collect(results[0] as PagedList)).rejects.toThrow('required revision has been compacted')
    const first = await executeConfigCommand('get', {kind: 'profiles', pagedLists: true}, session(new ResourceClient(paged(embedded, 0))))
    expect(first.results).toEqual([])
    expect(first.resErrs.map((f) => f.error.message)).toEqual(['etcd at http://127.0.0.1:2379: etcdserver: mvcc: required revision has been compacted'])
  })

  it('Tier lists (printed in spec.order) and named gets are read whole', async () => {
    const client = new ResourceClient(paged(embedded))
    await seedProfiles(client)
    await client.ensureInitialized()
    const tiers = await executeConfigCommand('get', {kind: 'tiers', pagedLists: true}, session(client))
    expect(tiers.results.map(isPagedList)).toEqual([false])
    expect(names((tiers.results[0] as ResourceList).items)).toEqual(['kube-admin', 'default', 'kube-baseline'])
    const named = await executeConfigCommand('get', {kind: 'profiles', names: ['p2'], pagedLists: true}, session(client))
    expect(named.results.map(isPagedList)).toEqual([false])
  })
})
