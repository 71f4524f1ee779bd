// The Kubernetes datastore (KDD): Calico's kinds as custom resources (crd.projectcalico.org/v1, or
// projectcalico.org/v3 CRDs when the cluster serves those instead) and views of native objects.
// resourceVersion is the revision: updates are PUTs carrying it (409 → update conflict), deletes send
// it as a precondition, and IPAM objects are soft-deleted first as Calico does.

import {
  DatastoreError, OperationNotSupportedError, ResourceAlreadyExistsError, ResourceDoesNotExistError, ResourceUpdateConflictError,
} from '../../api/errors.js'
import type {Resource} from '../../api/resource.js'
import type {Backend, Key, KVPair, ListOptions, ListResult, Watcher, WatchOptions} from '../backend.js'
import {parseRevision} from '../codec.js'
import type {DatastoreConfig} from '../config.js'
import {keyToPath} from '../keys.js'
import {KubeClient, type KubeObject} from './client.js'
import {mergeNodeIntoK8s, parseProfileName, PodConversionError, V1_GROUP, V3_GROUP, workloadEndpointPodPatch, type CalicoGroup} from './convert.js'
import {idOf, isNotFound, toCalicoError} from './errors.js'
import {hostnameHash, LABEL_AFFINITY_TYPE, LABEL_HOSTNAME_HASH} from './names.js'
import {
  fromObject, KDD_KINDS, mappingFor, PODS, splitEscapedName, objectName, parseWorkloadEndpointName, resourcePath, toObject,
  type ConvertContext, type Mapping, type Source,
} from './resources.js'
import {KubeWatcher, type WatchTuning} from './watch.js'

export interface KubernetesBackendOptions {
  /** Items per list page (limit/continue). */
  pageSize?: number
  watch?: Partial<WatchTuning>
  env?: NodeJS.ProcessEnv
}

type Writable = Mapping & {type: 'crd' | 'ipam'}

/** Lists come back in the etcd key order (the other backends' order), e.g. `host:node1:` before `host:node10:`. */
function sortKey(k: Key): string {
  try {
    return keyToPath(k)
  } catch {
    return `${k.kind}/${k.namespace ?? ''}/${k.name}`
  }
}

function sortPairs(pairs: KVPair[]): KVPair[] {
  const keys = pairs.map((p) => sortKey(p.key))
  // The API server answers in its own key order, which is already ours for most lists: then nothing moves.
  let sorted = true
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1] <= keys[i]
  if (sorted) return pairs
  return keys.map((_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0)).map((i) => pairs[i])
}

/**
 * Whether the API server's order (namespace, then object name) is already the etcd key order, so a list streams
 * page by page unsorted: where an item's key is its object's own namespace and name, namely Calico's custom
 * resources, Nodes and Kubernetes NetworkPolicies. The rest are read whole and sorted (listPages gives one page):
 * Profiles (Namespaces and ServiceAccounts merged), WorkloadEndpoints (named `<node>-k8s-<pod>-<interface>`), and
 * the IPAM kinds, whose object names encode their keys (`10-0-0-0-26` for block `10.0.0.0/26`, lower-cased handles,
 * hashed affinities). One exception, on purpose: a v1 CR whose v3 name is not its object name (a policy stored as
 * `default.<name>` before Calico 3.30) keeps the API server's place, as Calico's KDD list (pagedList, unsorted)
 * and the etcd backend (which keeps such a row's key) order it.
 */
function inServerOrder(m: Mapping): m is Mapping & {type: 'crd' | 'node' | 'knp'} {
  return m.type === 'crd' || m.type === 'node' || m.type === 'knp'
}

export class KubernetesBackend implements Backend {
  readonly type = 'kubernetes' as const
  private readonly pageSize: number
  private readonly tuning: WatchTuning
  private readonly ctx: ConvertContext

  private constructor(
    readonly client: KubeClient,
    /** The CRD group in use (chosen like libcalico-go's UsingV3CRDs). */
    readonly group: CalicoGroup,
    opts: KubernetesBackendOptions,
    ctx: Omit<ConvertContext, 'group'>,
  ) {
    this.ctx = {group, ...ctx}
    this.pageSize = opts.pageSize ?? 500
    this.tuning = {idleTimeoutMs: 90_000, retryDelayMs: 100, maxRetryDelayMs: 5_000, ...opts.watch}
  }

  static async connect(config: DatastoreConfig, opts: KubernetesBackendOptions = {}): Promise<KubernetesBackend> {
    const client = await KubeClient.connect(config, opts.env)
    const group = await chooseGroup(client, config.calicoAPIGroup)
    // Like Calico's converter, workload interface names use the first FELIX_INTERFACEPREFIX entry.
    const interfacePrefix = (opts.env ?? process.env).FELIX_INTERFACEPREFIX?.split(',')[0] || 'cali'
    return new KubernetesBackend(client, group, opts, {usePodCIDR: config.usePodCIDR === true, interfacePrefix})
  }

  private mapping(kind: string): Mapping {
    const m = mappingFor(kind, this.group)
    if (!m) throw new DatastoreError(`the Kubernetes datastore does not store kind ${kind}`)
    return m
  }

  private writable(key: Key, operation: string): Writable {
    const m = this.mapping(key.kind)
    if (m.type === 'crd' || m.type === 'ipam') return m
    throw new OperationNotSupportedError(operation, idOf(key))
  }

  private path(m: Writable, key: Key, withName = true, sub?: string): string {
    return resourcePath(m.source, m.source.namespaced ? key.namespace : undefined, withName ? objectName(m, key) : undefined, sub)
  }

  private pair<V>(m: Mapping, source: Source, obj: KubeObject): KVPair<V> {
    const c = fromObject(m, this.ctx, source, obj)
    if (!c.pair) throw new ResourceDoesNotExistError(c.key ? idOf(c.key) : `${source.plural}/${obj.metadata.name ?? ''}`)
    return c.pair as KVPair<V>
  }

  private async call<T>(source: Source, key: Key | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (err) {
      throw toCalicoError(err, source, key)
    }
  }

  async create<V>(key: Key, value: V): Promise<KVPair<V>> {
    const m = this.mapping(key.kind)
    if (m.type === 'wep') return this.patchWorkloadEndpoint<V>(key, value as Resource)
    const w = this.writable(key, 'Create')
    const body = toObject(w, this.group, key, value)
    delete body.metadata.resourceVersion
    const created = await this.call(w.source, key, () => this.client.request<KubeObject>('POST', this.path(w, key, false), {body}))
    return this.pair<V>(w, w.source, await this.writeStatus(w, key, created, value))
  }

  async update<V>(key: Key, value: V, revision: string): Promise<KVPair<V>> {
    const m = this.mapping(key.kind)
    if (m.type === 'node') return this.updateNode<V>(key, value as Resource, revision)
    if (m.type === 'wep') return this.patchWorkloadEndpoint<V>(key, value as Resource)
    const w = this.writable(key, 'Update')
    parseRevision(revision)
    const body = toObject(w, this.group, key, value)
    body.metadata.resourceVersion = revision
    const updated = await this.call(w.source, key, () => this.client.request<KubeObject>('PUT', this.path(w, key), {body}))
    return this.pair<V>(w, w.source, await this.writeStatus(w, key, updated, value))
  }

  /** Kinds with a status subresource ignore status on the main PUT; write it separately when given. */
  private async writeStatus(m: Writable, key: Key, written: KubeObject, value: unknown): Promise<KubeObject> {
    if (m.type !== 'crd' || !m.statusSubresource) return written
    const status = (value as Resource).status
    if (status === undefined || JSON.stringify(status) === JSON.stringify(written.status)) return written
    const body = {...written, status}
    return this.call(m.source, key, () => this.client.request<KubeObject>('PUT', this.path(m, key, true, 'status'), {body}))
  }

  async apply<V>(key: Key, value: V): Promise<KVPair<V>> {
    const m = this.mapping(key.kind)
    if (m.type === 'node' || m.type === 'wep') {
      const current = await this.get(key)
      return this.update(key, value, current.revision)
    }
    // Create-or-replace with the current revision; a concurrent writer just means another round.
    for (;;) {
      const w = this.writable(key, 'Apply')
      const current = await this.call(w.source, key, () => this.client.request<KubeObject>('GET', this.path(w, key))).catch((err: unknown) => {
        if (err instanceof ResourceDoesNotExistError) return undefined
        throw err
      })
      try {
        if (!current) return await this.create(key, value)
        return await this.update(key, value, current.metadata.resourceVersion ?? '')
      } catch (err) {
        // Lost a race with another writer (created, changed or deleted meanwhile): read again.
        if (err instanceof ResourceUpdateConflictError || err instanceof ResourceAlreadyExistsError || err instanceof ResourceDoesNotExistError) continue
        throw err
      }
    }
  }

  async delete<V>(key: Key, revision?: string): Promise<KVPair<V>> {
    const m = this.mapping(key.kind)
    if (m.type === 'wep') return this.deleteWorkloadEndpoint<V>(key, revision)
    const w = this.writable(key, 'Delete')
    if (revision !== undefined) parseRevision(revision)
    const current = await this.call(w.source, key, () => this.client.request<KubeObject>('GET', this.path(w, key)))
    const previous = fromObject(w, this.ctx, w.source, current)
    if (!previous.pair || previous.softDeleted) throw new ResourceDoesNotExistError(idOf(key))
    if (revision !== undefined && revision !== current.metadata.resourceVersion) throw new ResourceUpdateConflictError(idOf(key))
    let target = current
    if (w.type === 'ipam' && w.kind !== 'IPAMConfig') {
      // Soft delete: mark the row deleted under CAS, so a concurrent update is a conflict, not a lost write.
      const marked = {...current, spec: {...(current.spec as object), deleted: w.kind === 'BlockAffinity' && this.group === V1_GROUP ? 'true' : true}}
      target = await this.call(w.source, key, () => this.client.request<KubeObject>('PUT', this.path(w, key), {body: marked}))
    }
    await this.hardDelete(w, key, target)
    return previous.pair as KVPair<V>
  }

  private async hardDelete(m: Writable, key: Key, obj: KubeObject): Promise<void> {
    const preconditions = {uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion}
    await this.call(m.source, key, () => this.client.request('DELETE', this.path(m, key), {body: {kind: 'DeleteOptions', apiVersion: 'v1', preconditions}}))
  }

  async get<V>(key: Key): Promise<KVPair<V>> {
    const m = this.mapping(key.kind)
    switch (m.type) {
      case 'crd':
      case 'ipam': {
        const obj = await this.call(m.source, key, () => this.client.request<KubeObject>('GET', this.path(m, key)))
        const c = fromObject(m, this.ctx, m.source, obj)
        if (!c.pair || c.softDeleted) {
          // A soft-deleted row: finish the deletion its writer started, then report it gone.
          await this.hardDelete(m, key, obj).catch(() => undefined)
          throw new ResourceDoesNotExistError(idOf(key))
        }
        return c.pair as KVPair<V>
      }
      case 'node':
      case 'knp': {
        const path = resourcePath(m.source, key.namespace, key.name)
        const obj = await this.call(m.source, key, () => this.client.request<KubeObject>('GET', path))
        return this.pair<V>(m, m.source, obj)
      }
      case 'profile':
        return this.getProfile<V>(m, key)
      case 'wep': {
        const pod = await this.podFor(key)
        const pair = this.pair<V>(m, m.source, pod)
        if (pair.key.name !== key.name) throw new ResourceDoesNotExistError(idOf(key))
        return pair
      }
    }
  }

  private async getProfile<V>(m: Mapping & {type: 'profile'}, key: Key): Promise<KVPair<V>> {
    const [namespaces, serviceAccounts] = m.sources
    const parsed = parseProfileName(key.name)
    if (!parsed) throw new ResourceDoesNotExistError(idOf(key))
    const [source, path] = parsed.serviceAccount === undefined
      ? [namespaces, resourcePath(namespaces, undefined, parsed.namespace)]
      : [serviceAccounts, resourcePath(serviceAccounts, parsed.namespace, parsed.serviceAccount)]
    return this.pair<V>(m, source, await this.call(source, key, () => this.client.request<KubeObject>('GET', path)))
  }

  private async podFor(key: Key): Promise<KubeObject> {
    const parts = parseWorkloadEndpointName(key.name)
    if (!parts || key.namespace === undefined) throw new ResourceDoesNotExistError(idOf(key))
    const path = resourcePath(PODS, key.namespace, parts.pod)
    return this.call(PODS, key, () => this.client.request<KubeObject>('GET', path))
  }

  /**
   * CNI's patch mode (workloadendpoint.go): the endpoint's IPs and container ID as pod annotations. A
   * resourceVersion or uid in the patch is a precondition: a Pod changed or recreated since is a conflict.
   */
  private async patchWorkloadEndpoint<V>(key: Key, value: Resource | undefined, preconditions: {resourceVersion?: string; uid?: string} = {}): Promise<KVPair<V>> {
    const spec = (value?.spec ?? {}) as {pod?: string}
    const podName = spec.pod ?? parseWorkloadEndpointName(key.name)?.pod
    if (!podName || key.namespace === undefined) throw new ResourceDoesNotExistError(idOf(key))
    const path = resourcePath(PODS, key.namespace, podName, 'status')
    const patch = workloadEndpointPodPatch(value)
    const body = {metadata: {...patch.metadata, ...preconditions}}
    const pod = await this.call(PODS, key, () => this.client.request<KubeObject>('PATCH', path, {body, contentType: 'application/strategic-merge-patch+json'}))
    return this.pair<V>(this.mapping('WorkloadEndpoint'), PODS, pod)
  }

  /** CNI DEL's delete: the address annotations emptied, on the Pod instance (uid) and revision it read. */
  private async deleteWorkloadEndpoint<V>(key: Key, revision: string | undefined): Promise<KVPair<V>> {
    const previous = await this.get<V>(key)
    const uid = (previous.value as Resource).metadata.uid
    await this.patchWorkloadEndpoint(key, undefined, {...(revision ? {resourceVersion: revision} : {}), ...(uid ? {uid} : {})})
    return previous
  }

  private async updateNode<V>(key: Key, value: Resource, revision: string): Promise<KVPair<V>> {
    const m = this.mapping('Node') as Mapping & {type: 'node'}
    parseRevision(revision)
    const path = resourcePath(m.source, undefined, key.name)
    const current = await this.call(m.source, key, () => this.client.request<KubeObject>('GET', path))
    const merged = mergeNodeIntoK8s(value, current)
    merged.metadata.resourceVersion = revision
    const updated = await this.call(m.source, key, () => this.client.request<KubeObject>('PUT', `${path}/status`, {body: merged}))
    return this.pair<V>(m, m.source, updated)
  }

  async list<V>(opts: ListOptions): Promise<ListResult<V>> {
    const m = this.mapping(opts.kind)
    const sources = m.type === 'profile' ? m.sources : [m.source]
    const items: KVPair[] = []
    // Profiles come from two resources listed one after the other: the list is only complete up to the older of
    // the two revisions (a watch from the newer one would miss a namespace written between the two lists).
    let revision = Infinity
    for (const source of sources) {
      const ns = source.namespaced ? opts.namespace : undefined
      const selectors = {
        labelSelector: m.type === 'ipam' && m.kind === 'BlockAffinity' ? affinitySelector(opts.namePrefix) : undefined,
        fieldSelector: m.type === 'wep' ? nodeSelector(opts.namePrefix) : undefined,
      }
      const listed = await this.listAll(source, ns, selectors, this.listed(m, source, opts))
      revision = Math.min(revision, Number(listed.resourceVersion) || 0)
      for (const pair of listed.items) items.push(pair)
    }
    return {items: (inServerOrder(m) ? items : sortPairs(items)) as KVPair<V>[], revision: String(revision)}
  }

  /**
   * list() page by page as the API server returns them (500 a page by default, kubectl's chunk size), for the kinds
   * listed in their final order (inServerOrder); the others are read whole and sorted first: one page. All pages
   * are one consistent list at the first page's resourceVersion. A continue token that expired meanwhile (410 Gone)
   * fails here, after the pages before it, where list() would start over unpaged.
   */
  async *listPages<V>(opts: ListOptions): AsyncGenerator<ListResult<V>> {
    const m = this.mapping(opts.kind)
    if (!inServerOrder(m)) {
      yield await this.list<V>(opts)
      return
    }
    const source = m.source
    const pages = this.client.pages(resourcePath(source, source.namespaced ? opts.namespace : undefined), {}, this.pageSize, this.listed(m, source, opts))
    try {
      for await (const page of pages) yield {items: page.items as KVPair<V>[], revision: page.resourceVersion}
    } catch (err) {
      throw toCalicoError(err, source)
    }
  }

  /** How one object of a listed source becomes an item of the list, or undefined when the list leaves it out. */
  private listed(m: Mapping, source: Source, opts: ListOptions): (obj: KubeObject) => KVPair | undefined {
    return (obj) => {
      let c
      try {
        c = fromObject(m, this.ctx, source, obj)
      } catch (err) {
        // A pod with a malformed Calico annotation is left out of the list (Calico's pagedList skips it).
        if (err instanceof PodConversionError) return undefined
        throw err
      }
      // Soft-deleted affinities are hidden; blocks and handles are listed as-is (readers filter), as Calico does.
      if (!c.pair || (c.softDeleted && m.kind === 'BlockAffinity')) return undefined
      const k = c.pair.key
      if (opts.namespace !== undefined && k.namespace !== undefined && k.namespace !== opts.namespace) return undefined
      return opts.namePrefix === undefined || k.name.startsWith(opts.namePrefix) ? c.pair : undefined
    }
  }

  /** A paged list, each object converted (or dropped) as its page arrives (KubeClient.listPaged). */
  private async listAll<T>(source: Source, namespace: string | undefined, selectors: {labelSelector?: string; fieldSelector?: string}, convert: (obj: KubeObject) => T | undefined): Promise<{items: T[]; resourceVersion: string}> {
    try {
      return await this.client.listPaged(resourcePath(source, namespace), selectors, this.pageSize, convert)
    } catch (err) {
      throw toCalicoError(err, source)
    }
  }

  watch(options: WatchOptions): Watcher {
    const kinds = options.kinds?.length ? options.kinds : KDD_KINDS
    const feeds = kinds.flatMap((kind): {mapping: Mapping; source: Source}[] => {
      const m = this.mapping(kind)
      return m.type === 'profile' ? m.sources.map((source) => ({mapping: m, source})) : [{mapping: m, source: m.source}]
    })
    if (options.fromRevision !== undefined) parseRevision(options.fromRevision)
    return new KubeWatcher(this.client, this.ctx, feeds, options.fromRevision, this.tuning)
  }

  /** Creates or updates Calico's CRDs for the group in use (datastore migrate import does this first). */
  async installCrds(): Promise<void> {
    const {calicoCrds} = await import('./crds.js')
    const source: Source = {group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false}
    for (const crd of calicoCrds(this.group)) {
      const path = resourcePath(source, undefined, crd.metadata.name)
      try {
        const current = await this.client.request<KubeObject>('GET', path)
        await this.client.request('PUT', path, {body: {...crd, metadata: {...crd.metadata, resourceVersion: current.metadata.resourceVersion}}})
      } catch (err) {
        if (!isNotFound(err)) throw toCalicoError(err, source)
        await this.client.request('POST', resourcePath(source), {body: crd}).catch((e: unknown) => {
          throw toCalicoError(e, source)
        })
      }
    }
  }

  /** Deletes every Calico custom resource (Calico's Clean); native objects are left alone. */
  async clean(): Promise<void> {
    for (const kind of KDD_KINDS) {
      const m = this.mapping(kind)
      if (m.type !== 'crd' && m.type !== 'ipam') continue
      let objects: KubeObject[]
      try {
        ;({items: objects} = await this.listAll(m.source, undefined, {}, (obj) => obj))
      } catch (err) {
        if (err instanceof DatastoreError && /not installed/.test(err.message)) continue
        throw err
      }
      for (const obj of objects) {
        const path = resourcePath(m.source, obj.metadata.namespace, obj.metadata.name)
        await this.client.request('DELETE', path).catch((err: unknown) => {
          if (!isNotFound(err)) throw toCalicoError(err, m.source)
        })
      }
    }
  }

  async close(): Promise<void> {
    this.client.close()
  }
}

/** `host:<node>:` prefixes select by the hostname-hash label instead of listing every affinity. */
function affinitySelector(prefix: string | undefined): string | undefined {
  if (!prefix) return undefined
  const first = prefix.indexOf(':')
  const second = first < 0 ? -1 : prefix.indexOf(':', first + 1)
  if (second < 0) return undefined
  return `${LABEL_AFFINITY_TYPE}=${prefix.slice(0, first)},${LABEL_HOSTNAME_HASH}=${hostnameHash(prefix.slice(first + 1, second))}`
}

/** `<node>-k8s-` prefixes (one node's endpoints) list only that node's pods (spec.nodeName field selector). */
function nodeSelector(prefix: string | undefined): string | undefined {
  if (!prefix) return undefined
  // Only once `-k8s-` follows is the node part complete (a trailing `-` could still be half of `--`).
  const parts = splitEscapedName(prefix)
  return parts.length >= 3 && parts[1] === 'k8s' && parts[0] !== '' ? `spec.nodeName=${parts[0]}` : undefined
}

/**
 * libcalico-go UsingV3CRDs: an explicit calicoAPIGroup wins; otherwise v3 CRDs only when the cluster
 * serves projectcalico.org but not crd.projectcalico.org (both means an aggregated API server in
 * front of v1 CRDs). Discovery failures fall back to v1, as Calico does; the first real request then
 * reports the problem.
 */
async function chooseGroup(client: KubeClient, explicit: string | undefined): Promise<CalicoGroup> {
  if (explicit) return explicit.toLowerCase() === `${V3_GROUP}/v3` ? V3_GROUP : V1_GROUP
  try {
    const list = await client.request<{groups?: {name: string}[]}>('GET', '/apis')
    const names = new Set((list.groups ?? []).map((g) => g.name))
    return names.has(V3_GROUP) && !names.has(V1_GROUP) ? V3_GROUP : V1_GROUP
  } catch {
    return V1_GROUP
  }
}

