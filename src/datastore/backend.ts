// The one storage interface that the embedded, etcd and Kubernetes backends implement.
// Shaped after libcalico-go's backend api.Client: opaque string revisions, CAS updates, watch from a revision.

/**
 * Identifies one stored object. v3 kinds use metadata.name/namespace. The IPAM library's kinds
 * (values in the etcd JSON shape of libcalico-go's model, see ipam-model.md):
 * - IPAMBlock: name = the block CIDR, canonical (`10.0.0.0/26`, `fd80::/122`)
 * - BlockAffinity: name = `<affinity>:<cidr>` where affinity is `host:<hostname>` or `virtual:load-balancer`
 *   (e.g. `host:node1:10.0.0.0/26`); list one host's with namePrefix `host:node1:`
 * - IPAMHandle: name = the handle id
 * - IPAMConfig: name = `default`
 */
export interface Key {
  kind: string
  name: string
  namespace?: string
}

export interface KVPair<V = unknown> {
  /**
   * Where the object is stored. Usually the value's own name; legacy etcd policies stored as
   * `default.<name>` keep that key while the value reads back as `<name>` (libcalico-go does the same).
   */
  key: Key
  value: V
  /** Opaque; for v3 resources it becomes metadata.resourceVersion. */
  revision: string
}

export interface ListOptions {
  kind: string
  /** Undefined lists every namespace of a namespaced kind. */
  namespace?: string
  /** Only names that start with this string. */
  namePrefix?: string
}

export interface ListResult<V = unknown> {
  items: KVPair<V>[]
  /** The datastore revision at which the list was read; a watch from here misses nothing. */
  revision: string
}

export type WatchEventType = 'added' | 'modified' | 'deleted'

export interface WatchEvent<V = unknown> {
  type: WatchEventType
  key: Key
  /** The new value (absent for deleted). */
  value?: V
  /** The value before a modification or deletion, where the backend knows it. */
  previous?: V
  revision: string
}

export interface WatchOptions {
  /** Kinds to watch; all kinds when absent. */
  kinds?: string[]
  /** Deliver only events after this revision (as returned by list). Absent: from now. */
  fromRevision?: string
}

/**
 * A stream of events. Iteration ends when close() is called; it throws WatchExpiredError when the
 * start revision is no longer available (compacted), after which the owner re-lists.
 */
export interface Watcher extends AsyncIterable<WatchEvent> {
  close(): void
}

export type DatastoreType = 'embedded' | 'etcdv3' | 'kubernetes'

export interface Backend {
  readonly type: DatastoreType
  /** Fails with ResourceAlreadyExistsError if the key exists. */
  create<V>(key: Key, value: V): Promise<KVPair<V>>
  /** Compare-and-swap: ResourceUpdateConflictError if the stored revision differs, ResourceDoesNotExistError if absent. */
  update<V>(key: Key, value: V, revision: string): Promise<KVPair<V>>
  /** Unconditional create-or-replace. */
  apply<V>(key: Key, value: V): Promise<KVPair<V>>
  /** Deletes and returns the previous pair; with a revision, only if it still matches (else conflict). */
  delete<V>(key: Key, revision?: string): Promise<KVPair<V>>
  /** ResourceDoesNotExistError if absent. */
  get<V>(key: Key): Promise<KVPair<V>>
  list<V>(options: ListOptions): Promise<ListResult<V>>
  /**
   * list() page by page, each page as soon as it is read: at least one page, all at the list's revision, so output
   * can be written while the rest is fetched. Optional: backends that read a list in one piece leave it out.
   */
  listPages?<V>(options: ListOptions): AsyncIterable<ListResult<V>>
  watch(options: WatchOptions): Watcher
  /**
   * Loads now the code that writes and watches need, where it is loaded on first use. For a process about to change
   * V8's flags (the agent), which would make V8 reject that code's cache afterwards. Optional.
   */
  preload?(): Promise<void>
  /** Deletes every stored object (Calico's Clean): tests and migration start points. Optional. */
  clean?(): Promise<void>
  close(): Promise<void>
}

export class WatchExpiredError extends Error {
  constructor(readonly revision: string) {
    super(`watch start revision ${revision} is no longer available`)
  }
}
