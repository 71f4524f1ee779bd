// Embedded-store specifics: location, creation reporting, on-disk encoding, locking, compaction and
// several processes sharing one store.

import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import Database from 'better-sqlite3'
import {afterEach, describe, expect, it} from 'vitest'
import {DatastoreError, ParsingDatastoreEntryError} from '../../src/api/errors.js'
import type {Resource} from '../../src/api/resource.js'
import {WatchExpiredError, type WatchEvent} from '../../src/datastore/backend.js'
import {encodeValue} from '../../src/datastore/codec.js'
import {EmbeddedBackend} from '../../src/datastore/embedded/backend.js'
import {DATABASE_FILE, defaultDatastoreDir} from '../../src/datastore/embedded/location.js'
import {openBackend} from '../../src/datastore/factory.js'

const run = promisify(execFile)
const dirs: string[] = []
const opened: {close(): Promise<void>}[] = []

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'calico-ts-embedded-'))
  dirs.push(d)
  return d
}

function open(dir: string, opts: {busyTimeoutMs?: number; changeRetention?: number} = {}): EmbeddedBackend {
  const {backend} = EmbeddedBackend.open({dir, pollIntervalMs: 50, ...opts})
  opened.push(backend)
  return backend
}

afterEach(async () => {
  for (const b of opened.splice(0)) await b.close()
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

/** Runs test/datastore/helpers/embedded-worker.ts in a separate Node process. */
async function worker(...args: string[]): Promise<string> {
  const {stdout} = await run(process.execPath, ['--import', './test/datastore/helpers/register.mjs', 'test/datastore/helpers/embedded-worker.ts', ...args], {
    cwd: join(import.meta.dirname, '..', '..'),
    timeout: 60_000,
  })
  return stdout
}

const np: Resource = {
  apiVersion: 'projectcalico.org/v3',
  kind: 'NetworkPolicy',
  metadata: {name: 'allow-dns', namespace: 'ns1', resourceVersion: '7'},
  spec: {tier: 'default', selector: 'all()'},
}

describe('embedded store location', () => {
  it('is /var/lib/calico/datastore for root and the XDG data directory otherwise', () => {
    expect(defaultDatastoreDir({}, 0, '/root')).toBe('/var/lib/calico/datastore')
    expect(defaultDatastoreDir({XDG_DATA_HOME: '/data'}, 1000, '/home/u')).toBe('/data/calico')
    expect(defaultDatastoreDir({}, 1000, '/home/u')).toBe('/home/u/.local/share/calico')
    // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    expect(defaultDatastoreDir({XDG_DATA_HOME: 'rel'}, 1000, '/home/u')).toBe('/home/u/.local/share/calico')
  })

  it('openBackend reports the database file only when it creates it', async () => {
    const dir = join(tempDir(), 'nested', 'store')
    const first = await openBackend({datastoreType: 'embedded', datastorePath: dir})
    opened.push(first.backend)
    expect(first.created).toBe(join(dir, DATABASE_FILE))
    expect(existsSync(join(dir, DATABASE_FILE))).toBe(true)
    const second = await openBackend({datastoreType: 'embedded', datastorePath: dir})
    opened.push(second.backend)
    expect(second.created).toBeUndefined()
    expect(second.backend.type).toBe('embedded')
  })

  it('openBackend falls back to the default directory option when the config names none', async () => {
    const dir = tempDir()
    const {backend, created} = await openBackend({datastoreType: 'embedded'}, {defaultDatastorePath: dir})
    opened.push(backend)
    expect(created).toBe(join(dir, DATABASE_FILE))
  })

  it('a directory that cannot be created is a DatastoreError naming it', async () => {
    const file = join(tempDir(), 'not-a-dir')
    writeFileSync(file, 'x')
    const err = await openBackend({datastoreType: 'embedded', datastorePath: join(file, 'sub')}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatastoreError)
    expect((err as Error).message).toContain(`cannot create embedded datastore directory ${join(file, 'sub')}`)
  })
})

describe('embedded store encoding', () => {
  it('rows hold Calico etcd paths and exactly the JSON the etcd backend writes', async () => {
    const dir = tempDir()
    const b = open(dir)
    const key = {kind: 'NetworkPolicy', namespace: 'ns1', name: 'allow-dns'}
    await b.create(key, np)
    await b.create({kind: 'IPAMBlock', name: 'fd80::/122'}, {cidr: 'fd80::/122', deleted: false})
    const raw = new Database(join(dir, DATABASE_FILE), {readonly: true})
    try {
      const rows = raw.prepare('SELECT path, value FROM kv ORDER BY path').all() as {path: string; value: string}[]
      expect(rows).toEqual([
        {path: '/calico/ipam/v2/assignment/ipv6/block/fd80::-122', value: '{"cidr":"fd80::/122","deleted":false}'},
        {path: '/calico/resources/v3/projectcalico.org/networkpolicies/ns1/allow-dns', value: encodeValue(key, np)},
      ])
      const stored = JSON.parse(rows[1].value) as Resource
      expect(stored.metadata.resourceVersion).toBeUndefined()
      expect(stored.metadata.annotations).toEqual({'projectcalico.org/metadata': '{"name":"allow-dns"}'})
    } finally {
      raw.close()
    }
  })

  it('an undecodable row written by another tool is skipped by list and reported by get', async () => {
    const dir = tempDir()
    const b = open(dir)
    await b.create({kind: 'IPPool', name: 'good'}, {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'good'}})
    const raw = new Database(join(dir, DATABASE_FILE))
    raw.prepare('INSERT INTO kv (path, value, create_rev, mod_rev) VALUES (?, ?, 1, 1)').run('/calico/resources/v3/projectcalico.org/ippools/bad', '{not json')
    raw.close()
    expect((await b.list({kind: 'IPPool'})).items.map((i) => i.key.name)).toEqual(['good'])
    const err = await b.get({kind: 'IPPool', name: 'bad'}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ParsingDatastoreEntryError)
    expect((err as Error).message).toContain('/calico/resources/v3/projectcalico.org/ippools/bad')
  })
})

describe('embedded store concurrency and history', () => {
  it('a write blocked by another connection past the busy timeout is a DatastoreError', async () => {
    const dir = tempDir()
    const b = open(dir, {busyTimeoutMs: 100})
    const other = new Database(join(dir, DATABASE_FILE))
    other.exec('BEGIN IMMEDIATE')
    try {
      const err = await b.apply({kind: 'IPAMHandle', name: 'h'}, {}).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(DatastoreError)
      expect((err as Error).message).toMatch(/database is locked.*another process holds the write lock/)
    } finally {
      other.exec('ROLLBACK')
      other.close()
    }
    await expect(b.apply({kind: 'IPAMHandle', name: 'h'}, {})).resolves.toBeDefined()
  })

  it('old change-log rows are compacted automatically; watches from before them expire', async () => {
    const b = open(tempDir(), {changeRetention: 100})
    const key = {kind: 'IPAMHandle', name: 'h'}
    let last = await b.create(key, {n: 0})
    for (let n = 1; n < 1000; n++) last = await b.update(key, {n}, last.revision)
    expect(Number(last.revision)).toBeGreaterThanOrEqual(1000)

    const expired = b.watch({fromRevision: '1'})
    const iter = expired[Symbol.asyncIterator]()
    await expect(iter.next()).rejects.toBeInstanceOf(WatchExpiredError)

    const recent = b.watch({fromRevision: String(Number(last.revision) - 50)})
    const events: WatchEvent[] = []
    for await (const ev of recent) {
      events.push(ev)
      if (events.length === 50) break
    }
    expect(events.at(-1)?.revision).toBe(last.revision)
  })

  it('several processes CAS-increment one key without losing updates, and a watcher sees their writes', async () => {
    const dir = tempDir()
    const b = open(dir)
    const key = {kind: 'IPAMHandle', name: 'counter'}
    const start = await b.create(key, {count: 0})
    const w = b.watch({kinds: ['IPPool'], fromRevision: start.revision})
    try {
      const results = await Promise.all([
        worker('increment', dir, 'counter', '40'),
        worker('increment', dir, 'counter', '40'),
        worker('increment', dir, 'counter', '40'),
        worker('create-pool', dir, 'from-child'),
      ])
      expect((await b.get<{count: number}>(key)).value.count).toBe(120)
      // Not asserted > 0: the interleaving is up to the OS, the final count is what matters.
      expect(results.slice(0, 3).every((r) => typeof (JSON.parse(r) as {conflicts: number}).conflicts === 'number')).toBe(true)
      for await (const ev of w) {
        expect([ev.type, ev.key.name]).toEqual(['added', 'from-child'])
        break
      }
    } finally {
      w.close()
    }
  })

  it('opening the embedded store (or etcd) never loads etcd3 or grpc (positive control: importing etcd3 is seen)', async () => {
    const dir = tempDir()
    expect(JSON.parse(await worker('loaded-modules', dir, 'embedded'))).toEqual({etcd3: false, grpc: false})
    // The etcd backend loads etcd3 only for its first write or watch (etcd-read-path.test.ts).
    expect(JSON.parse(await worker('loaded-modules', dir, 'etcdv3'))).toEqual({etcd3: false, grpc: false})
    expect(JSON.parse(await worker('loaded-modules', dir, 'etcdv3', 'import-etcd3'))).toEqual({etcd3: true, grpc: true})
  })
})

describe('openBackend', () => {
  it('opens the Kubernetes datastore lazily and reports a missing kubeconfig as one DatastoreError line', async () => {
    const err = await openBackend({datastoreType: 'kubernetes', kubeconfig: '/nonexistent/kubeconfig'}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatastoreError)
    expect((err as Error).message).toBe(
      'cannot load kubeconfig "/nonexistent/kubeconfig": file does not exist; set "kubeconfig" in the calicoctl config or KUBECONFIG to a readable file',
    )
  })
})
