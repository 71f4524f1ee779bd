// The zero-setup datastore: one SQLite database (WAL) under a data directory, shared safely by every
// process on the host. It mirrors etcd's model so both backends behave alike: rows are addressed by
// Calico's etcd key path and hold the same JSON, one global revision counter stamps every write, and
// a change log (compacted like etcd's history) serves watches, also across processes.

import {existsSync, mkdirSync, watch as watchFs, type FSWatcher} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {
  CalicoError,
  DatastoreError,
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
  ResourceUpdateConflictError,
} from '../../api/errors.js'
import {
  WatchExpiredError,
  type Backend,
  type Key,
  type KVPair,
  type ListOptions,
  type ListResult,
  type WatchEvent,
  type WatchOptions,
  type Watcher,
} from '../backend.js'
import {decodeValue, encodeValue, parseRevision} from '../codec.js'
import {keyId, keyMatches, keyToPath, listRanges, pathToKey} from '../keys.js'
import {WatchQueue} from '../watch-queue.js'
import {DATABASE_FILE} from './location.js'

const SCHEMA_VERSION = 1

export interface EmbeddedOptions {
  /** Directory that holds the database; created (mode 0700) when missing. */
  dir: string
  /** How long a write waits for another process's transaction before failing. */
  busyTimeoutMs?: number
  /**
   * Change-log rows kept for watches (default 10,000); a watch further behind gets WatchExpiredError and
   * re-lists. Each row holds the new and previous value, so this bounds the log's disk use.
   */
  changeRetention?: number
  /** How often open watches look for new revisions (file-change notifications usually wake them sooner). */
  pollIntervalMs?: number
}

interface Row {
  path: string
  value: string
  modRev: number
}

interface ChangeRow {
  rev: number
  path: string
  kind: string
  type: 'added' | 'modified' | 'deleted'
  value: string | null
  prev: string | null
  prevRev: number | null
}

interface OpenWatch {
  queue: WatchQueue
  kinds: Set<string> | undefined
  /** Last revision examined; events after it are still to deliver. */
  lastRev: number
  startRev: string
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  path TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
  rev INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  kind TEXT NOT NULL,
  type TEXT NOT NULL,
  value TEXT,
  prev TEXT,
  prev_rev INTEGER
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', ${SCHEMA_VERSION}), ('revision', 1), ('compacted', 0);
`

/** GLOB is case-sensitive and index-assisted; its wildcard characters in a literal are bracketed. */
function globPrefix(prefix: string): string {
  return `${prefix.replace(/[*?[]/g, (c) => `[${c}]`)}*`
}

export class EmbeddedBackend implements Backend {
  readonly type = 'embedded' as const
  /** The database file. */
  readonly file: string

  private readonly db: Database.Database
  private readonly retention: number
  private readonly pollIntervalMs: number
  private readonly watches = new Set<OpenWatch>()
  private timer: NodeJS.Timeout | undefined
  private fsWatcher: FSWatcher | undefined
  private pollScheduled = false
  private closed = false

  private readonly q: {
    get: Database.Statement<[string], Row>
    insert: Database.Statement<[string, string, number, number]>
    replace: Database.Statement<[string, number, string]>
    remove: Database.Statement<[string]>
    bump: Database.Statement<[], {value: number}>
    meta: Database.Statement<[string], {value: number}>
    setCompacted: Database.Statement<[number]>
    log: Database.Statement<[number, string, string, string, string | null, string | null, number | null]>
    list: Database.Statement<[string], Row>
    changes: Database.Statement<[number, number], ChangeRow>
    compact: Database.Statement<[number]>
  }

  /** Opens (creating if needed) the store in `opts.dir`; `created` tells whether the database is new. */
  static open(opts: EmbeddedOptions): {backend: EmbeddedBackend; created: boolean} {
    const file = join(opts.dir, DATABASE_FILE)
    try {
      mkdirSync(opts.dir, {recursive: true, mode: 0o700})
    } catch (err) {
      throw new DatastoreError(`cannot create embedded datastore directory ${opts.dir}: ${(err as Error).message}`)
    }
    const created = !existsSync(file)
    return {backend: new EmbeddedBackend(file, opts), created}
  }

  private constructor(file: string, opts: EmbeddedOptions) {
    this.file = file
    this.retention = opts.changeRetention ?? 10_000
    this.pollIntervalMs = opts.pollIntervalMs ?? 100
    try {
      this.db = new Database(file, {timeout: opts.busyTimeoutMs ?? 10_000})
    } catch (err) {
      throw new DatastoreError(`cannot open embedded datastore ${file}: ${(err as Error).message}`)
    }
    try {
      this.db.pragma('journal_mode = WAL')
      // WAL + NORMAL never corrupts and never loses a commit on a process crash; only an OS crash or
      // power loss can drop the last commits. It keeps bulk imports fast.
      this.db.pragma('synchronous = NORMAL')
      this.db.transaction(() => this.db.exec(SCHEMA)).immediate()
      const schema = (this.db.prepare("SELECT value FROM meta WHERE name = 'schema'").get() as {value: number}).value
      if (schema > SCHEMA_VERSION) {
        throw new DatastoreError(`embedded datastore ${file} has schema version ${schema}; this binary supports ${SCHEMA_VERSION}`)
      }
      this.q = {
        get: this.db.prepare('SELECT path, value, mod_rev AS modRev FROM kv WHERE path = ?'),
        insert: this.db.prepare('INSERT INTO kv (path, value, create_rev, mod_rev) VALUES (?, ?, ?, ?)'),
        replace: this.db.prepare('UPDATE kv SET value = ?, mod_rev = ? WHERE path = ?'),
        remove: this.db.prepare('DELETE FROM kv WHERE path = ?'),
        bump: this.db.prepare("UPDATE meta SET value = value + 1 WHERE name = 'revision' RETURNING value"),
        meta: this.db.prepare('SELECT value FROM meta WHERE name = ?'),
        setCompacted: this.db.prepare("UPDATE meta SET value = ? WHERE name = 'compacted'"),
        log: this.db.prepare('INSERT INTO changes (rev, path, kind, type, value, prev, prev_rev) VALUES (?, ?, ?, ?, ?, ?, ?)'),
        list: this.db.prepare('SELECT path, value, mod_rev AS modRev FROM kv WHERE path GLOB ? ORDER BY path'),
        changes: this.db.prepare(
          'SELECT rev, path, kind, type, value, prev, prev_rev AS prevRev FROM changes WHERE rev > ? ORDER BY rev LIMIT ?',
        ),
        compact: this.db.prepare('DELETE FROM changes WHERE rev <= ?'),
      }
    } catch (err) {
      this.db.close()
      if (err instanceof CalicoError) throw err
      throw new DatastoreError(`cannot initialise embedded datastore ${file}: ${(err as Error).message}`)
    }
  }

  async create<V>(key: Key, value: V): Promise<KVPair<V>> {
    const path = keyToPath(key)
    const text = encodeValue(key, value)
    return this.guard(() =>
      this.db.transaction(() => {
        if (this.q.get.get(path)) throw new ResourceAlreadyExistsError(keyId(key))
        const rev = this.nextRevision()
        this.q.insert.run(path, text, rev, rev)
        this.q.log.run(rev, path, key.kind, 'added', text, null, null)
        return this.written<V>(key, path, text, rev)
      }).immediate(),
    )
  }

  async update<V>(key: Key, value: V, revision: string): Promise<KVPair<V>> {
    const path = keyToPath(key)
    const expected = parseRevision(revision)
    const text = encodeValue(key, value)
    return this.guard(() =>
      this.db.transaction(() => {
        const row = this.q.get.get(path)
        if (!row) throw new ResourceDoesNotExistError(keyId(key))
        if (row.modRev !== expected) throw new ResourceUpdateConflictError(keyId(key))
        const rev = this.nextRevision()
        this.q.replace.run(text, rev, path)
        this.q.log.run(rev, path, key.kind, 'modified', text, row.value, row.modRev)
        return this.written<V>(key, path, text, rev)
      }).immediate(),
    )
  }

  async apply<V>(key: Key, value: V): Promise<KVPair<V>> {
    const path = keyToPath(key)
    const text = encodeValue(key, value)
    return this.guard(() =>
      this.db.transaction(() => {
        const row = this.q.get.get(path)
        const rev = this.nextRevision()
        if (row) {
          this.q.replace.run(text, rev, path)
          this.q.log.run(rev, path, key.kind, 'modified', text, row.value, row.modRev)
        } else {
          this.q.insert.run(path, text, rev, rev)
          this.q.log.run(rev, path, key.kind, 'added', text, null, null)
        }
        return this.written<V>(key, path, text, rev)
      }).immediate(),
    )
  }

  async delete<V>(key: Key, revision?: string): Promise<KVPair<V>> {
    const path = keyToPath(key)
    const expected = revision === undefined ? undefined : parseRevision(revision)
    return this.guard(() =>
      this.db.transaction(() => {
        const row = this.q.get.get(path)
        if (!row) throw new ResourceDoesNotExistError(keyId(key))
        if (expected !== undefined && row.modRev !== expected) throw new ResourceUpdateConflictError(keyId(key))
        const rev = this.nextRevision()
        this.q.remove.run(path)
        this.q.log.run(rev, path, key.kind, 'deleted', null, row.value, row.modRev)
        this.afterWrite()
        return this.pair<V>(row)
      }).immediate(),
    )
  }

  async get<V>(key: Key): Promise<KVPair<V>> {
    const path = keyToPath(key)
    return this.guard(() => {
      const row = this.q.get.get(path)
      if (!row) throw new ResourceDoesNotExistError(keyId(key))
      return this.pair<V>(row)
    })
  }

  async list<V>(options: ListOptions): Promise<ListResult<V>> {
    const ranges = listRanges(options)
    return this.guard(() =>
      this.db.transaction(() => {
        const items: KVPair<V>[] = []
        for (const range of ranges) {
          for (const row of this.q.list.all(globPrefix(range.prefix))) {
            const key = pathToKey(row.path)
            if (!key || !keyMatches(key, options)) continue
            const pair = this.tryPair<V>(row)
            if (pair) items.push(pair)
          }
        }
        return {items, revision: String(this.metaValue('revision'))}
      }).deferred(),
    )
  }

  watch(options: WatchOptions): Watcher {
    const w: OpenWatch = {
      queue: new WatchQueue(() => this.stopWatch(w)),
      kinds: options.kinds ? new Set(options.kinds) : undefined,
      lastRev: 0,
      startRev: '',
    }
    try {
      w.lastRev = options.fromRevision === undefined ? this.guard(() => this.metaValue('revision')) : parseRevision(options.fromRevision)
      w.startRev = String(w.lastRev)
    } catch (err) {
      w.queue.fail(err as Error)
      return w.queue
    }
    this.watches.add(w)
    this.startPolling()
    this.schedulePoll()
    return w.queue
  }

  /**
   * Forgets the change history before `revision`, as etcd's compact does (the revision itself stays
   * watchable); watches from earlier revisions then fail with WatchExpiredError.
   */
  async compact(revision: string): Promise<void> {
    const upTo = parseRevision(revision) - 1
    this.guard(() =>
      this.db.transaction(() => {
        this.q.compact.run(upTo)
        if (upTo > this.metaValue('compacted')) this.q.setCompacted.run(upTo)
      }).immediate(),
    )
  }

  /** Deletes every object (tests); like etcd's Clean, the revision keeps counting and watchers see the deletes. */
  async clean(): Promise<void> {
    this.guard(() =>
      this.db.transaction(() => {
        for (const row of this.q.list.all(globPrefix('/'))) {
          const key = pathToKey(row.path)
          const rev = this.nextRevision()
          this.q.remove.run(row.path)
          this.q.log.run(rev, row.path, key?.kind ?? '', 'deleted', null, row.value, row.modRev)
        }
      }).immediate(),
    )
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const w of [...this.watches]) w.queue.close()
    this.stopPolling()
    this.db.close()
  }

  // --- internals ---

  private guard<T>(fn: () => T): T {
    if (this.closed) throw new DatastoreError(`embedded datastore ${this.file} is closed`)
    try {
      return fn()
    } catch (err) {
      if (err instanceof CalicoError || err instanceof WatchExpiredError) throw err
      if (err instanceof Database.SqliteError) {
        const busy = err.code === 'SQLITE_BUSY' ? ' (another process holds the write lock)' : ''
        throw new DatastoreError(`embedded datastore ${this.file}: ${err.message}${busy}`)
      }
      throw err
    }
  }

  private metaValue(name: 'revision' | 'compacted'): number {
    const row = this.q.meta.get(name)
    if (!row) throw new DatastoreError(`embedded datastore ${this.file} is missing its ${name} counter`)
    return row.value
  }

  /** Inside a write transaction: the revision this write gets; compacts the change log now and then. */
  private nextRevision(): number {
    const row = this.q.bump.get()
    if (!row) throw new DatastoreError(`embedded datastore ${this.file} is missing its revision counter`)
    const rev = row.value
    if (rev % 1000 === 0 && rev > this.retention) {
      const upTo = rev - this.retention
      this.q.compact.run(upTo)
      if (upTo > this.metaValue('compacted')) this.q.setCompacted.run(upTo)
    }
    return rev
  }

  private written<V>(key: Key, path: string, text: string, rev: number): KVPair<V> {
    this.afterWrite()
    const revision = String(rev)
    return {key: pathToKey(path) ?? key, value: decodeValue(key, text, revision, path) as V, revision}
  }

  private pair<V>(row: Row): KVPair<V> {
    const key = pathToKey(row.path)
    if (!key) throw new DatastoreError(`embedded datastore ${this.file}: unexpected key ${row.path}`)
    const revision = String(row.modRev)
    return {key, value: decodeValue(key, row.value, revision, row.path) as V, revision}
  }

  /** Lists skip rows that do not decode (written by another tool), as libcalico-go does. */
  private tryPair<V>(row: Row): KVPair<V> | undefined {
    try {
      return this.pair<V>(row)
    } catch (err) {
      if (err instanceof CalicoError) return undefined
      throw err
    }
  }

  /** Called inside the write transaction; the poll runs after it commits. */
  private afterWrite(): void {
    if (this.watches.size > 0) this.schedulePoll()
  }

  private startPolling(): void {
    if (this.timer) return
    this.timer = setInterval(() => this.poll(), this.pollIntervalMs)
    try {
      // Writers in other processes touch the WAL file; waking on that beats the poll interval.
      this.fsWatcher = watchFs(join(this.file, '..'), (_event, name) => {
        if (name && name.startsWith(DATABASE_FILE)) this.schedulePoll()
      })
      this.fsWatcher.on('error', () => this.fsWatcher?.close())
      this.fsWatcher.unref()
    } catch {
      // Some filesystems cannot be watched; polling alone is enough.
      this.fsWatcher = undefined
    }
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.fsWatcher?.close()
    this.fsWatcher = undefined
  }

  private stopWatch(w: OpenWatch): void {
    this.watches.delete(w)
    if (this.watches.size === 0) this.stopPolling()
  }

  private schedulePoll(): void {
    if (this.pollScheduled) return
    this.pollScheduled = true
    setImmediate(() => {
      this.pollScheduled = false
      this.poll()
    })
  }

  private poll(): void {
    if (this.closed || this.watches.size === 0) return
    try {
      this.db.transaction(() => {
        const current = this.metaValue('revision')
        const compacted = this.metaValue('compacted')
        for (const w of this.watches) {
          if (w.lastRev >= current) continue
          if (w.lastRev < compacted) {
            w.queue.fail(new WatchExpiredError(w.startRev))
            continue
          }
          this.deliver(w, current)
        }
      }).deferred()
    } catch (err) {
      // A transient lock or I/O problem: the next tick retries. Anything else ends the watches.
      if (err instanceof Database.SqliteError && err.code.startsWith('SQLITE_BUSY')) return
      const failure = new DatastoreError(`embedded datastore ${this.file}: ${(err as Error).message}`)
      for (const w of [...this.watches]) w.queue.fail(failure)
    }
  }

  private deliver(w: OpenWatch, current: number): void {
    while (w.lastRev < current && !w.queue.isClosed) {
      const rows = this.q.changes.all(w.lastRev, 1000)
      if (rows.length === 0) break
      for (const row of rows) {
        w.lastRev = row.rev
        if (w.kinds && !w.kinds.has(row.kind)) continue
        const event = this.toEvent(row)
        if (event) w.queue.push(event)
      }
    }
  }

  private toEvent(row: ChangeRow): WatchEvent | undefined {
    const key = pathToKey(row.path)
    if (!key) return undefined
    const revision = String(row.rev)
    try {
      const event: WatchEvent = {type: row.type, key, revision}
      if (row.value !== null) event.value = decodeValue(key, row.value, revision, row.path)
      if (row.prev !== null) event.previous = decodeValue(key, row.prev, String(row.prevRev ?? ''), row.path)
      return event
    } catch (err) {
      if (err instanceof CalicoError) return undefined
      throw err
    }
  }
}
