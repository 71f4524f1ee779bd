// One behavioural contract for every Backend: the same cases run against the embedded store and a
// real etcd, so the CLI, IPAM and agent can rely on identical semantics whichever is configured.

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
  ResourceUpdateConflictError,
  ValidationError,
} from '../../src/api/errors.js'
import type {Resource} from '../../src/api/resource.js'
import {WatchExpiredError, type Backend, type Key, type WatchEvent, type Watcher} from '../../src/datastore/backend.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {embeddedHarness, etcdHarness, type Harness} from './harness.js'
import {kubernetesHarness} from './k8s-harness.js'

const etcdSkip = etcdSkipReason()

function pool(name: string, cidr = '10.0.0.0/16', extra: Record<string, unknown> = {}): Resource {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: {name, uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z'},
    spec: {cidr, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Always', natOutgoing: true, ...extra},
  }
}

function policy(namespace: string, name: string, order = 100): Resource {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: {name, namespace, labels: {'projectcalico.org/tier': 'default'}, annotations: {owner: 'team-a'}},
    spec: {tier: 'default', order, selector: 'all()', types: ['Ingress']},
  }
}

const poolKey = (name: string): Key => ({kind: 'IPPool', name})
const npKey = (namespace: string, name: string): Key => ({kind: 'NetworkPolicy', namespace, name})

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Collects `n` events (then closes the watcher) or fails after `ms`. */
async function take(watcher: Watcher, n: number, ms = 30_000): Promise<WatchEvent[]> {
  const events: WatchEvent[] = []
  if (n === 0) return events
  const collect = async () => {
    for await (const ev of watcher) {
      events.push(ev)
      if (events.length >= n) break
    }
    return events
  }
  return within(ms, collect()).catch((err: unknown) => {
    if (err instanceof Error && err.message.startsWith('timed out')) {
      throw new Error(`${err.message} with ${events.length}/${n} events: ${JSON.stringify(events.map((e) => [e.type, e.key.name]))}`)
    }
    throw err
  })
}

const cases: [string, () => Promise<Harness>, boolean][] = [
  ['embedded', embeddedHarness, false],
  ['etcd', etcdHarness, etcdSkip !== undefined],
  ['kubernetes', () => kubernetesHarness('v1'), false],
  ['kubernetes (projectcalico.org/v3 CRDs)', () => kubernetesHarness('v3'), false],
]

describe.each(cases)('%s backend contract', (_name, makeHarness, skip) => {
  let h: Harness
  let b: Backend

  beforeAll(async () => {
    if (skip) return
    h = await makeHarness()
  })
  afterAll(async () => {
    await h?.teardown()
  })
  afterEach(async () => {
    await h?.reset()
  })
  const test = it.skipIf(skip)
  const backend = async () => (b = await h.open())
  /**
   * The text after "with error: ": etcd stores have no underlying error (Go prints <nil>); Calico's
   * Kubernetes backend wraps the API server's error (`ippools.crd.projectcalico.org "p1" already exists`).
   */
  const detail = (k8sEnding: string): RegExp | string =>
    h.name === 'kubernetes' ? new RegExp(`with error: \\S+ "[^"]+" ${k8sEnding}$`) : 'with error: <nil>'
  const expectMessage = (err: unknown, prefix: string, k8sEnding: string): void => {
    const message = (err as Error).message
    expect(message.startsWith(prefix), message).toBe(true)
    const want = detail(k8sEnding)
    if (typeof want === 'string') expect(message).toBe(`${prefix}${want}`)
    else expect(message).toMatch(want)
  }

  test('create then get returns the object with its revision as resourceVersion', async () => {
    await backend()
    const created = await b.create(poolKey('p1'), pool('p1'))
    expect(created.revision).toMatch(/^\d+$/)
    expect(created.key).toEqual({kind: 'IPPool', name: 'p1'})
    expect((created.value as Resource).metadata.resourceVersion).toBe(created.revision)

    const got = await b.get<Resource>(poolKey('p1'))
    expect(got.revision).toBe(created.revision)
    const assigned = Object.fromEntries((h.serverAssigned ?? []).map((f) => [f, got.value.metadata[f]]))
    if (assigned.uid !== undefined) expect(assigned.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(got.value).toEqual({...pool('p1'), metadata: {...pool('p1').metadata, ...assigned, resourceVersion: created.revision}})
  })

  test('create fails with AlreadyExists when the key exists, leaving the stored value alone', async () => {
    await backend()
    const first = await b.create(poolKey('p1'), pool('p1'))
    const err = await b.create(poolKey('p1'), pool('p1', '10.1.0.0/16')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ResourceAlreadyExistsError)
    expectMessage(err, 'resource already exists: IPPool(p1) ', 'already exists')
    const got = await b.get<Resource>(poolKey('p1'))
    expect(got.revision).toBe(first.revision)
    expect(got.value.spec?.cidr).toBe('10.0.0.0/16')
  })

  test('get of a missing key fails with DoesNotExist naming the resource', async () => {
    await backend()
    const err = await b.get(npKey('ns1', 'nope')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ResourceDoesNotExistError)
    expect((err as ResourceDoesNotExistError).identifier).toBe('NetworkPolicy(ns1/nope)')
    expectMessage(err, 'resource does not exist: NetworkPolicy(ns1/nope) ', 'not found')
  })

  test('update is compare-and-swap on the revision', async () => {
    await backend()
    const v1 = await b.create(poolKey('p1'), pool('p1'))
    const v2 = await b.update(poolKey('p1'), pool('p1', '10.0.0.0/16', {natOutgoing: false}), v1.revision)
    expect(Number(v2.revision)).toBeGreaterThan(Number(v1.revision))
    expect((v2.value as Resource).spec?.natOutgoing).toBe(false)

    const stale = await b.update(poolKey('p1'), pool('p1'), v1.revision).catch((e: unknown) => e)
    expect(stale).toBeInstanceOf(ResourceUpdateConflictError)
    expect((stale as Error).message).toBe('update conflict: IPPool(p1)')
    expect((await b.get<Resource>(poolKey('p1'))).value.spec?.natOutgoing).toBe(false)

    await expect(b.update(poolKey('missing'), pool('missing'), v1.revision)).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    await expect(b.update(poolKey('p1'), pool('p1'), 'not-a-number')).rejects.toBeInstanceOf(ValidationError)
    // Revision 0 never matches: not an existing key, and not a way to create a missing one.
    await expect(b.update(poolKey('p1'), pool('p1'), '0')).rejects.toBeInstanceOf(ResourceUpdateConflictError)
    await expect(b.update(poolKey('missing'), pool('missing'), '0')).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    await expect(b.delete(poolKey('missing'), '0')).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    await expect(b.get(poolKey('missing'))).rejects.toBeInstanceOf(ResourceDoesNotExistError)
  })

  test('a resourceVersion inside the value is never stored: the revision is authoritative', async () => {
    await backend()
    const p = pool('p1')
    p.metadata.resourceVersion = '999999'
    const created = await b.create(poolKey('p1'), p)
    expect((created.value as Resource).metadata.resourceVersion).toBe(created.revision)
    expect(p.metadata.resourceVersion).toBe('999999') // the caller's object is not mutated
  })

  test('apply creates, then replaces unconditionally', async () => {
    await backend()
    const a1 = await b.apply(poolKey('p1'), pool('p1'))
    const a2 = await b.apply(poolKey('p1'), pool('p1', '10.9.0.0/16'))
    expect(Number(a2.revision)).toBeGreaterThan(Number(a1.revision))
    const got = await b.get<Resource>(poolKey('p1'))
    expect(got.revision).toBe(a2.revision)
    expect(got.value.spec?.cidr).toBe('10.9.0.0/16')
  })

  test('delete returns the previous pair; with a revision it only deletes that version', async () => {
    await backend()
    const v1 = await b.create(poolKey('p1'), pool('p1'))
    const v2 = await b.update(poolKey('p1'), pool('p1', '10.2.0.0/16'), v1.revision)

    await expect(b.delete(poolKey('p1'), v1.revision)).rejects.toBeInstanceOf(ResourceUpdateConflictError)
    const gone = await b.delete<Resource>(poolKey('p1'), v2.revision)
    expect(gone.revision).toBe(v2.revision)
    expect(gone.value.spec?.cidr).toBe('10.2.0.0/16')
    await expect(b.get(poolKey('p1'))).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    await expect(b.delete(poolKey('p1'))).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    await expect(b.delete(poolKey('p1'), v2.revision)).rejects.toBeInstanceOf(ResourceDoesNotExistError)

    await b.create(poolKey('p2'), pool('p2'))
    const unconditional = await b.delete<Resource>(poolKey('p2'))
    expect(unconditional.value.metadata.name).toBe('p2')
  })

  test('list by kind, namespace and name prefix, sorted, with a list revision', async () => {
    await backend()
    await b.create(poolKey('pool-b'), pool('pool-b'))
    await b.create(poolKey('pool-a'), pool('pool-a'))
    await b.create(poolKey('other'), pool('other'))
    await b.create(npKey('ns1', 'np2'), policy('ns1', 'np2'))
    await b.create(npKey('ns1', 'np1'), policy('ns1', 'np1'))
    await b.create(npKey('ns2', 'np1'), policy('ns2', 'np1'))
    const last = await b.create(npKey('ns10', 'x'), policy('ns10', 'x'))
    await b.create({kind: 'GlobalNetworkSet', name: 'pool-z'}, {apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: {name: 'pool-z'}})

    const pools = await b.list<Resource>({kind: 'IPPool'})
    expect(pools.items.map((i) => i.key.name)).toEqual(['other', 'pool-a', 'pool-b'])
    expect(pools.items.every((i) => i.value.metadata.resourceVersion === i.revision)).toBe(true)
    expect(Number(pools.revision)).toBeGreaterThanOrEqual(Number(last.revision))

    const prefixed = await b.list({kind: 'IPPool', namePrefix: 'pool-'})
    expect(prefixed.items.map((i) => i.key.name)).toEqual(['pool-a', 'pool-b'])

    const ns1 = await b.list({kind: 'NetworkPolicy', namespace: 'ns1'})
    expect(ns1.items.map((i) => i.key)).toEqual([npKey('ns1', 'np1'), npKey('ns1', 'np2')])

    const all = await b.list({kind: 'NetworkPolicy'})
    expect(all.items.map((i) => `${i.key.namespace}/${i.key.name}`).sort()).toEqual(['ns1/np1', 'ns1/np2', 'ns10/x', 'ns2/np1'])

    const acrossByPrefix = await b.list({kind: 'NetworkPolicy', namePrefix: 'np1'})
    expect(acrossByPrefix.items.map((i) => `${i.key.namespace}/${i.key.name}`).sort()).toEqual(['ns1/np1', 'ns2/np1'])

    expect((await b.list({kind: 'NetworkPolicy', namespace: 'ns'})).items).toEqual([])
    expect((await b.list({kind: 'Profile'})).items).toEqual([])
  })

  test('policy names round-trip and the stored name annotation is not shown to readers', async () => {
    await backend()
    const created = await b.create<Resource>(npKey('ns1', 'allow-dns'), policy('ns1', 'allow-dns'))
    expect(created.value.metadata.annotations).toEqual({owner: 'team-a'})
    const got = await b.get<Resource>(npKey('ns1', 'allow-dns'))
    expect(got.value.metadata.name).toBe('allow-dns')
    expect(got.value.metadata.annotations).toEqual({owner: 'team-a'})

    const bare = policy('ns1', 'bare')
    delete bare.metadata.annotations
    await b.create(npKey('ns1', 'bare'), bare)
    expect((await b.get<Resource>(npKey('ns1', 'bare'))).value.metadata.annotations).toBeUndefined()
  })

  test('watch from a list revision delivers added, modified (with previous) and deleted (with previous)', async () => {
    await backend()
    await b.create(poolKey('before'), pool('before'))
    const listed = await b.list({kind: 'IPPool'})
    const w = b.watch({kinds: ['IPPool'], fromRevision: listed.revision})
    try {
      const c = await b.create(poolKey('p1'), pool('p1'))
      await b.create(npKey('ns1', 'ignored'), policy('ns1', 'ignored'))
      const u = await b.update(poolKey('p1'), pool('p1', '10.3.0.0/16'), c.revision)
      const d = await b.delete(poolKey('p1'))
      const events = await take(w, 3)
      expect(events.map((e) => [e.type, e.key.name])).toEqual([
        ['added', 'p1'],
        ['modified', 'p1'],
        ['deleted', 'p1'],
      ])
      expect(events[0].revision).toBe(c.revision)
      expect(events[1].revision).toBe(u.revision)
      expect(Number(events[2].revision)).toBeGreaterThan(Number(u.revision))
      expect((events[0].value as Resource).spec?.cidr).toBe('10.0.0.0/16')
      expect(events[0].previous).toBeUndefined()
      expect((events[1].value as Resource).spec?.cidr).toBe('10.3.0.0/16')
      expect((events[1].previous as Resource).spec?.cidr).toBe('10.0.0.0/16')
      expect(events[2].value).toBeUndefined()
      expect((events[2].previous as Resource).spec?.cidr).toBe('10.3.0.0/16')
      expect(d.revision).toBe(u.revision)
    } finally {
      w.close()
    }
  })

  test('watch from an older revision replays history; without one it starts now', async () => {
    await backend()
    const first = await b.create(poolKey('a'), pool('a'))
    await b.create(poolKey('b'), pool('b'))
    const replay = b.watch({fromRevision: String(Number(first.revision) - 1)})
    const now = b.watch({kinds: ['IPPool']})
    try {
      const replayed = await take(replay, 2)
      expect(replayed.map((e) => [e.type, e.key.name])).toEqual([
        ['added', 'a'],
        ['added', 'b'],
      ])
      // A watch "from now" has no handshake to await: probe until it delivers, then it must be live.
      const probing = setInterval(() => void b.apply(poolKey('probe'), pool('probe')), 100)
      const names: string[] = []
      try {
        await within(30_000, (async () => {
          for await (const ev of now) {
            names.push(ev.key.name)
            if (names.length === 1) {
              clearInterval(probing)
              await b.create(poolKey('c'), pool('c'))
            }
            if (ev.key.name === 'c') break
          }
        })())
      } finally {
        clearInterval(probing)
      }
      expect(names[0]).toBe('probe') // nothing from before the watch was replayed
      expect(names.filter((n) => n !== 'probe')).toEqual(['c'])
    } finally {
      replay.close()
      now.close()
    }
  })

  test('a watcher sees writes made through another backend instance', async () => {
    const watcherSide = await h.open()
    const writerSide = await h.open()
    const start = await watcherSide.list({kind: 'IPPool'})
    const w = watcherSide.watch({kinds: ['IPPool'], fromRevision: start.revision})
    try {
      await writerSide.create(poolKey('remote'), pool('remote'))
      await writerSide.delete(poolKey('remote'))
      const events = await take(w, 2)
      expect(events.map((e) => [e.type, e.key.name])).toEqual([
        ['added', 'remote'],
        ['deleted', 'remote'],
      ])
    } finally {
      w.close()
    }
  })

  test('watch from a compacted revision fails with WatchExpiredError', async () => {
    await backend()
    const first = await b.create(poolKey('a'), pool('a'))
    const second = await b.update(poolKey('a'), pool('a', '10.4.0.0/16'), first.revision)
    const third = await b.update(poolKey('a'), pool('a', '10.5.0.0/16'), second.revision)
    // As in etcd, compacting at a revision keeps that revision itself watchable.
    await h.compact(third.revision)
    const expired = b.watch({fromRevision: first.revision})
    const err = await take(expired, 1).catch((e: unknown) => e)
    expect(err, String(err)).toBeInstanceOf(WatchExpiredError)
    expired.close()
    const fromSecond = b.watch({fromRevision: second.revision})
    const events = await take(fromSecond, 1)
    expect(events.map((e) => [e.type, e.revision])).toEqual([['modified', third.revision]])
    fromSecond.close()
  })

  test('closing a watcher ends iteration', async () => {
    await backend()
    const w = b.watch({kinds: ['IPPool']})
    setTimeout(() => w.close(), 200)
    const events = await take(w, 1, 5000).catch((e: unknown) => e)
    expect(events).toEqual([])
  })

  test('concurrent CAS writers from two instances lose no update', async () => {
    const b1 = await h.open()
    const b2 = await h.open()
    const key: Key = {kind: 'IPAMHandle', name: 'counter'}
    await b1.create(key, {block: {}, count: 0, deleted: false})
    const increment = async (be: Backend) => {
      for (;;) {
        const cur = await be.get<{count: number}>(key)
        try {
          await be.update(key, {...cur.value, count: cur.value.count + 1}, cur.revision)
          return
        } catch (err) {
          if (!(err instanceof ResourceUpdateConflictError)) throw err
        }
      }
    }
    const workers = Array.from({length: 8}, (_, i) => (async () => {
      for (let n = 0; n < 10; n++) await increment(i % 2 === 0 ? b1 : b2)
    })())
    await Promise.all(workers)
    expect((await b1.get<{count: number}>(key)).value.count).toBe(80)
  })

  test('IPAM objects use their own keys and are stored verbatim', async () => {
    await backend()
    const block = {cidr: '10.0.0.0/26', affinity: 'host:node1', allocations: [0, null], unallocated: [1], attributes: [{handle_id: 'h1', secondary: null}], sequenceNumber: 3, deleted: false}
    const v6 = {cidr: 'fd80::/122', affinity: null, allocations: [], unallocated: [], attributes: [], deleted: false}
    await b.create({kind: 'IPAMBlock', name: '10.0.0.0/26'}, block)
    await b.create({kind: 'IPAMBlock', name: 'fd80::/122'}, v6)
    await b.create({kind: 'BlockAffinity', name: 'host:node1:10.0.0.0/26'}, {state: 'confirmed', deleted: false})
    await b.create({kind: 'BlockAffinity', name: 'host:node1:fd80::/122'}, {state: 'pending', deleted: false})
    await b.create({kind: 'BlockAffinity', name: 'host:node10:10.0.0.64/26'}, {state: 'confirmed', deleted: false})
    await b.create({kind: 'BlockAffinity', name: 'virtual:load-balancer:10.0.1.0/26'}, {state: 'confirmed', deleted: false})
    await b.create({kind: 'IPAMHandle', name: 'k8s-pod-network.abc'}, {block: {'10.0.0.0/26': 1}, deleted: false})
    await b.create({kind: 'IPAMConfig', name: 'default'}, {strict_affinity: true})

    expect((await b.get({kind: 'IPAMBlock', name: '10.0.0.0/26'})).value).toEqual(block)
    expect((await b.get({kind: 'IPAMBlock', name: 'fd80::/122'})).value).toEqual(v6)
    expect((await b.get({kind: 'IPAMConfig', name: 'default'})).value).toEqual({strict_affinity: true})

    const blocks = await b.list({kind: 'IPAMBlock'})
    expect(blocks.items.map((i) => i.key.name)).toEqual(['10.0.0.0/26', 'fd80::/122'])
    const node1 = await b.list({kind: 'BlockAffinity', namePrefix: 'host:node1:'})
    expect(node1.items.map((i) => i.key.name)).toEqual(['host:node1:10.0.0.0/26', 'host:node1:fd80::/122'])
    const affinities = await b.list({kind: 'BlockAffinity'})
    expect(affinities.items.map((i) => i.key.name)).toEqual([
      'host:node1:10.0.0.0/26',
      'host:node1:fd80::/122',
      'host:node10:10.0.0.64/26',
      'virtual:load-balancer:10.0.1.0/26',
    ])
    const handles = await b.list({kind: 'IPAMHandle', namePrefix: 'k8s-pod-network.'})
    expect(handles.items).toHaveLength(1)
    expect(handles.items[0].value).toEqual({block: {'10.0.0.0/26': 1}, deleted: false})

    const err = await b.create({kind: 'IPAMHandle', name: 'k8s-pod-network.abc'}, {}).catch((e: unknown) => e)
    expectMessage(err, 'resource already exists: IPAMHandleKey(id=k8s-pod-network.abc) ', 'already exists')
  })

  test('clean deletes every object; watchers see the deletions', async () => {
    await backend()
    await b.create(poolKey('p1'), pool('p1'))
    await b.create(npKey('ns1', 'np1'), policy('ns1', 'np1'))
    await b.create({kind: 'IPAMHandle', name: 'h1'}, {block: {}})
    const {revision} = await b.list({kind: 'IPPool'})
    const w = b.watch({fromRevision: revision})
    expect(b.clean).toBeTypeOf('function')
    await b.clean?.()
    for (const kind of ['IPPool', 'NetworkPolicy', 'IPAMHandle']) expect((await b.list({kind})).items).toEqual([])
    const events = await take(w, 3)
    expect(events.map((e) => `${e.type}:${e.key.kind}`).sort()).toEqual(['deleted:IPAMHandle', 'deleted:IPPool', 'deleted:NetworkPolicy'])
  })

  test('large lists return every item (paged on etcd)', async () => {
    await backend()
    const n = 5000
    for (let i = 0; i < n; i += 250) {
      await Promise.all(
        Array.from({length: Math.min(250, n - i)}, (_, j) => {
          const name = `h-${String(i + j).padStart(5, '0')}`
          return b.create({kind: 'IPAMHandle', name}, {block: {'10.0.0.0/26': 1}, padding: 'x'.repeat(1000), deleted: false})
        }),
      )
    }
    const listed = await b.list({kind: 'IPAMHandle'})
    expect(listed.items).toHaveLength(n)
    expect(listed.items[0].key.name).toBe('h-00000')
    expect(listed.items[n - 1].key.name).toBe('h-04999')
    expect(new Set(listed.items.map((i) => i.key.name)).size).toBe(n)
  })
})
