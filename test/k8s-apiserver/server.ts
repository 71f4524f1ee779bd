// An in-process Kubernetes API server for tests: enough of kube-apiserver's REST surface for our
// Kubernetes backend and for the real kubectl (discovery, CRD registration, CRUD with
// resourceVersion/409/404/410 semantics, label and field selectors, paged lists, watch with
// bookmarks, status subresources, merge/strategic/JSON patch and server-side apply). A paged list is one
// snapshot: its continue token pins the first page's resourceVersion, and later pages come from the objects as
// they were then (until a compaction passes it: 410 Expired, as etcd's compaction makes it on a real server).
// Built-in kinds: Namespaces (terminating briefly, then taking their contents with them), Nodes,
// Pods, ServiceAccounts, ConfigMaps, NetworkPolicies, ClusterRoles/Bindings and CRDs.
// Deliberate gaps, documented so no test relies on them: no schema validation, pruning or defaulting
// of custom resources, no finalizers or graceful pod deletion, no RBAC evaluation (tests inject
// denials with deny()), namespaces need not exist before objects are created in them, and
// server-side apply merges like a merge patch (no field ownership).

import {randomUUID} from 'node:crypto'
import {createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo, Socket} from 'node:net'
import {load as loadYaml} from 'js-yaml'
import {jsonPatch, mergePatch, PatchError, strategicMerge, type Json} from './patch.js'
import {fieldValue, parseFieldSelector, parseLabelSelector, SelectorError, type Matcher} from './selectors.js'
import {isObject} from '../../src/api/json.js'

type Obj = {[k: string]: Json}
interface Meta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  creationTimestamp?: string
  generation?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  [k: string]: unknown
}
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: Meta
  spec?: unknown
  status?: unknown
  [k: string]: unknown
}

export interface ResourceType {
  group: string
  /** Served versions; the first is preferred. */
  versions: string[]
  plural: string
  singular: string
  kind: string
  namespaced: boolean
  shortNames?: string[]
  statusSubresource: boolean
  /** Custom resources reject strategic merge patch, as the real server does. */
  custom: boolean
}

interface WatchEventRecord {
  rv: number
  typeKey: string
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  object: KubeObject
}

interface Watcher {
  typeKey: string
  namespace?: string
  labels: Matcher
  fields: Matcher
  send(type: string, object: unknown): void
  end(): void
}

export interface TestApiServerOptions {
  /** Serve HTTPS with this certificate; with `ca`, client certificates signed by it are requested. */
  tls?: {cert: string; key: string; ca?: string}
  /** Require `Authorization: Bearer <token>` (or a client certificate when tls.ca is set). */
  token?: string
  /** How often watches with allowWatchBookmarks get a BOOKMARK (ms). */
  bookmarkIntervalMs?: number
  /** Fixed port (restart() reuses the port it got). */
  port?: number
}

export interface RequestInfo {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete'
  group: string
  resource: string
  namespace?: string
  name?: string
  subresource?: string
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message)
  }
}

const CORE_TYPES: ResourceType[] = [
  {group: '', versions: ['v1'], plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], statusSubresource: true, custom: false},
  {group: '', versions: ['v1'], plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], statusSubresource: true, custom: false},
  {group: '', versions: ['v1'], plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], statusSubresource: true, custom: false},
  {group: '', versions: ['v1'], plural: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], statusSubresource: true, custom: false},
  {group: '', versions: ['v1'], plural: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'], statusSubresource: false, custom: false},
  {group: '', versions: ['v1'], plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'], statusSubresource: false, custom: false},
  {group: 'networking.k8s.io', versions: ['v1'], plural: 'networkpolicies', singular: 'networkpolicy', kind: 'NetworkPolicy', namespaced: true, shortNames: ['netpol'], statusSubresource: false, custom: false},
  {group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', namespaced: false, statusSubresource: false, custom: false},
  {group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding', namespaced: false, statusSubresource: false, custom: false},
  {group: 'apiextensions.k8s.io', versions: ['v1'], plural: 'customresourcedefinitions', singular: 'customresourcedefinition', kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], statusSubresource: true, custom: false},
]

const typeKeyOf = (t: {group: string; plural: string}) => `${t.group}/${t.plural}`
const objKey = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`
const gvOf = (group: string, version: string) => (group === '' ? version : `${group}/${version}`)
const qualified = (t: ResourceType) => (t.group === '' ? t.plural : `${t.plural}.${t.group}`)

function status(code: number, reason: string, message: string, details?: Record<string, unknown>): Obj {
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason,
    ...(details ? {details: details as Obj} : {}), code,
  }
}

function notFound(t: ResourceType, name: string): HttpError {
  return new HttpError(404, 'NotFound', `${qualified(t)} "${name}" not found`, {name, group: t.group, kind: t.plural})
}

function conflict(t: ResourceType, name: string, why: string): HttpError {
  return new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(t)} "${name}": ${why}`, {name, group: t.group, kind: t.plural})
}

function nowSeconds(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z')
}

export class TestApiServer {
  private server?: Server
  private readonly sockets = new Set<Socket>()
  private readonly types = new Map<string, ResourceType>()
  private readonly store = new Map<string, Map<string, KubeObject>>()
  private log: WatchEventRecord[] = []
  private compactedRev = 0
  private rev = 0
  private readonly watchers = new Set<Watcher>()
  private port: number
  private denials: ((info: RequestInfo) => boolean)[] = []
  private hooks: ((info: RequestInfo, query: URLSearchParams) => void)[] = []
  /** Each type's objects (by key, sorted) at the resourceVersion a paged list began at, by `<type>@<rv>`, oldest first. */
  private readonly listSnapshots = new Map<string, {rv: number; entries: [string, KubeObject][]}>()
  private watchesPaused = false
  /** Every request line handled, with the credentials' headers, for tests that check what a client sent. */
  readonly requests: {method: string; url: string; authorization?: string; impersonateUser?: string}[] = []

  constructor(private readonly options: TestApiServerOptions = {}) {
    this.port = options.port ?? 0
    for (const t of CORE_TYPES) this.registerType(t)
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`
  }

  /** The current resourceVersion (the last write's). */
  get resourceVersion(): string {
    return String(this.rev)
  }

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res)
    const tls = this.options.tls
    const server = tls
      ? createHttpsServer({cert: tls.cert, key: tls.key, ...(tls.ca ? {ca: tls.ca, requestCert: true, rejectUnauthorized: false} : {})}, handler)
      : createHttpServer(handler)
    server.keepAliveTimeout = 30_000
    server.on(tls ? 'secureConnection' : 'connection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as AddressInfo).port
    this.server = server
    return this
  }

  /** Stops serving and cuts every open connection (watches included), keeping the stored objects. */
  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = undefined
    for (const w of this.watchers) this.watchers.delete(w)
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Simulates an API server restart: connections drop, state and port survive. */
  async restart(downMs = 0): Promise<void> {
    await this.stop()
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs))
    await this.start()
  }

  /** Forgets watch history before `rev`: watches from an older resourceVersion get 410 Gone. */
  compact(rev: string | number): void {
    this.compactedRev = Number(rev)
    this.log = this.log.filter((e) => e.rv >= this.compactedRev)
    for (const [key, snapshot] of this.listSnapshots) if (snapshot.rv < this.compactedRev) this.listSnapshots.delete(key)
  }

  /**
   * Runs `fn` before each API request is served, so a test can act at a chosen moment (write and compact between
   * two pages of a list, say); returns a function that removes it.
   */
  beforeRequest(fn: (info: RequestInfo, query: URLSearchParams) => void): () => void {
    this.hooks.push(fn)
    return () => {
      this.hooks = this.hooks.filter((h) => h !== fn)
    }
  }

  /** Makes matching requests fail with 403 Forbidden (RBAC denial); returns a function that lifts it. */
  deny(pred: (info: RequestInfo) => boolean): () => void {
    this.denials.push(pred)
    return () => {
      this.denials = this.denials.filter((p) => p !== pred)
    }
  }

  /** Creates an object without going through HTTP or authentication (test setup: CRDs, fixtures). */
  seed(group: string, plural: string, body: unknown, namespace?: string): KubeObject {
    const t = this.types.get(`${group}/${plural}`)
    if (!t) throw new Error(`unknown resource ${plural}.${group}`)
    return this.create(t, gvOf(group, t.versions[0]), namespace, structuredClone(body))
  }

  /**
   * Ends every open watch and answers new ones with 503 until resumed: lets a test write (and
   * compact) while watchers are disconnected, as during a partial API server outage.
   */
  pauseWatches(): () => void {
    this.watchesPaused = true
    for (const w of this.watchers) w.end()
    this.watchers.clear()
    return () => {
      this.watchesPaused = false
    }
  }

  /** Direct read of a stored object (tests compare it with what a client wrote). */
  object(group: string, plural: string, name: string, namespace?: string): KubeObject | undefined {
    const o = this.store.get(`${group}/${plural}`)?.get(objKey(namespace, name))
    return o && structuredClone(o)
  }

  /** Every stored object of a resource, sorted by namespace and name. */
  objects(group: string, plural: string): KubeObject[] {
    return this.sorted(`${group}/${plural}`).map((o) => structuredClone(o))
  }

  private registerType(t: ResourceType): void {
    this.types.set(typeKeyOf(t), t)
    if (!this.store.has(typeKeyOf(t))) this.store.set(typeKeyOf(t), new Map())
  }

  private sorted(typeKey: string): KubeObject[] {
    const m = this.store.get(typeKey)
    if (!m) return []
    return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o)
  }

  // ---- HTTP plumbing -------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const {authorization, 'impersonate-user': impersonateUser} = req.headers
    this.requests.push({method: req.method ?? 'GET', url: req.url ?? '/', authorization, impersonateUser: typeof impersonateUser === 'string' ? impersonateUser : undefined})
    try {
      this.authenticate(req)
      const url = new URL(req.url ?? '/', 'http://localhost')
      const body = await readBody(req)
      await this.route(req, res, url, body)
    } catch (err) {
      if (res.headersSent) {
        res.end()
        return
      }
      const e = err instanceof HttpError ? err
        : err instanceof PatchError || err instanceof SelectorError ? new HttpError(400, 'BadRequest', err.message)
        : new HttpError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`)
      send(res, e.code, status(e.code, e.reason, e.message, e.details))
    }
  }

  private authenticate(req: IncomingMessage): void {
    const token = this.options.token
    if (token === undefined) return
    const peer = (req.socket as Socket & {getPeerCertificate?: () => {subject?: unknown}; authorized?: boolean})
    if (this.options.tls?.ca && peer.authorized && peer.getPeerCertificate?.()?.subject) return
    if (req.headers.authorization !== `Bearer ${token}`) throw new HttpError(401, 'Unauthorized', 'Unauthorized')
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<void> {
    const parts = url.pathname.split('/').filter((p) => p !== '')
    const method = req.method ?? 'GET'
    if (method === 'GET' && parts.length === 1 && parts[0] === 'version') {
      return send(res, 200, {major: '1', minor: '32', gitVersion: 'v1.32.0-calico-ts-test', platform: 'linux/amd64'})
    }
    if (method === 'GET' && (parts[0] === 'healthz' || parts[0] === 'readyz' || parts[0] === 'livez')) return sendText(res, 200, 'ok')
    if (method === 'GET' && parts[0] === 'openapi' && parts[1] === 'v3') return send(res, 200, this.openapiV3(parts.slice(2).join('/')))
    if (method === 'GET' && parts[0] === 'openapi') throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    let group: string
    let version: string
    let rest: string[]
    if (parts[0] === 'api') {
      if (parts.length === 1 && method === 'GET') return send(res, 200, this.apiVersions(req))
      group = ''
      version = parts[1]
      rest = parts.slice(2)
    } else if (parts[0] === 'apis') {
      if (parts.length === 1 && method === 'GET') return send(res, 200, this.apiGroupList())
      group = parts[1]
      if (parts.length === 2 && method === 'GET') {
        const g = this.apiGroupList().groups.find((x) => x.name === group)
        if (!g) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
        return send(res, 200, {kind: 'APIGroup', apiVersion: 'v1', ...g})
      }
      version = parts[2]
      rest = parts.slice(3)
    } else {
      throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    }
    if (rest.length === 0 && method === 'GET') return send(res, 200, this.resourceList(group, version))

    // [namespaces/<ns>/]<plural>[/<name>[/<sub>]]; /api/v1/namespaces/<name> is the Namespace itself.
    let namespace: string | undefined
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1]
      rest = rest.slice(2)
    }
    const [plural, name, sub] = rest
    const t = this.types.get(`${group}/${plural}`)
    if (!t || !t.versions.includes(version) || rest.length > 3 || (sub !== undefined && sub !== 'status')) {
      throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    }
    if (namespace !== undefined && !t.namespaced) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    const q = url.searchParams
    const verb: RequestInfo['verb'] = name === undefined
      ? method === 'GET' ? (isTrue(q.get('watch')) ? 'watch' : 'list') : method === 'POST' ? 'create' : 'delete'
      : method === 'GET' ? 'get' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : 'create'
    const info: RequestInfo = {verb, group, resource: plural, namespace, name, ...(sub ? {subresource: sub} : {})}
    for (const hook of this.hooks) hook(info, q)
    if (this.denials.some((d) => d(info))) {
      const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope'
      throw new HttpError(403, 'Forbidden',
        `${qualified(t)}${name ? ` "${name}"` : ''} is forbidden: User "system:serviceaccount:test:calico" cannot ${verb} resource "${plural}" in API group "${group}" ${scope}`,
        {name: name ?? '', group, kind: plural})
    }
    const apiVersion = gvOf(group, version)

    if (name === undefined) {
      if (method === 'GET') {
        if (isTrue(q.get('watch'))) return this.watch(req, res, t, apiVersion, namespace, q)
        return send(res, 200, this.list(t, apiVersion, namespace, q))
      }
      if (method === 'POST') return send(res, 201, this.create(t, apiVersion, namespace, parseBody(body, req)))
      throw new HttpError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)
    }
    switch (method) {
      case 'GET':
        return send(res, 200, this.withVersion(this.get(t, namespace, name), apiVersion))
      case 'PUT':
        return send(res, 200, this.withVersion(this.update(t, namespace, name, parseBody(body, req), sub === 'status'), apiVersion))
      case 'PATCH':
        return this.patch(res, req, t, apiVersion, namespace, name, body, sub === 'status')
      case 'DELETE':
        return send(res, 200, this.withVersion(this.delete(t, namespace, name, body ? parseBody(body, req) : {metadata: {}}), apiVersion))
      default:
        throw new HttpError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)
    }
  }

  // ---- discovery -----------------------------------------------------------------------------

  private apiVersions(req: IncomingMessage): Obj {
    return {
      kind: 'APIVersions', versions: ['v1'],
      serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress: req.headers.host ?? `127.0.0.1:${this.port}`}],
    }
  }

  private apiGroupList(): {kind: string; apiVersion: string; groups: {name: string; versions: {groupVersion: string; version: string}[]; preferredVersion: {groupVersion: string; version: string}}[]} {
    const groups = new Map<string, Set<string>>()
    const preferred = new Map<string, string>()
    for (const t of this.types.values()) {
      if (t.group === '') continue
      const versions = groups.get(t.group) ?? new Set<string>()
      t.versions.forEach((v) => versions.add(v))
      groups.set(t.group, versions)
      if (!preferred.has(t.group)) preferred.set(t.group, t.versions[0])
    }
    return {
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: [...groups.entries()].map(([name, versions]) => ({
        name,
        versions: [...versions].map((v) => ({groupVersion: `${name}/${v}`, version: v})),
        preferredVersion: {groupVersion: `${name}/${preferred.get(name)}`, version: preferred.get(name) ?? ''},
      })),
    }
  }

  private resourceList(group: string, version: string): Obj {
    const types = [...this.types.values()].filter((t) => t.group === group && t.versions.includes(version))
    if (types.length === 0) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    const resources: Obj[] = []
    for (const t of types) {
      resources.push({
        name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        ...(t.shortNames?.length ? {shortNames: t.shortNames} : {}),
      })
      if (t.statusSubresource) {
        resources.push({name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update']})
      }
    }
    return {kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gvOf(group, version), resources}
  }

  /**
   * OpenAPI v3, only as far as kubectl reads it: the index of group-versions, and per group-version the
   * PATCH operations with their GVK and the fieldValidation parameter, which tells kubectl that the
   * server validates fields itself (so it skips client-side schema validation).
   */
  private openapiV3(gvPath: string): Obj {
    const gvs = new Map<string, ResourceType[]>()
    for (const t of this.types.values()) {
      for (const v of t.versions) {
        const key = t.group === '' ? `api/${v}` : `apis/${t.group}/${v}`
        gvs.set(key, [...(gvs.get(key) ?? []), t])
      }
    }
    if (gvPath === '') {
      return {paths: Object.fromEntries([...gvs.keys()].map((k) => [k, {serverRelativeURL: `/openapi/v3/${k}?hash=${this.rev}`}]))}
    }
    const types = gvs.get(gvPath)
    if (!types) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    const version = gvPath.split('/').pop() ?? ''
    const paths: Obj = {}
    for (const t of types) {
      const prefix = `/${gvPath}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}/{name}`
      paths[prefix] = {
        patch: {
          'x-kubernetes-group-version-kind': {group: t.group, version, kind: t.kind},
          parameters: [{name: 'fieldValidation', in: 'query', schema: {type: 'string', uniqueItems: true}}],
        },
      }
    }
    return {openapi: '3.0.0', info: {title: 'Kubernetes', version: 'v1.32.0'}, paths, components: {schemas: {}}}
  }

  // ---- storage operations --------------------------------------------------------------------

  private bucket(t: ResourceType): Map<string, KubeObject> {
    const b = this.store.get(typeKeyOf(t))
    if (!b) throw new Error(`no storage for ${typeKeyOf(t)}`)
    return b
  }

  private withVersion(o: KubeObject, apiVersion: string): KubeObject {
    return {...o, apiVersion}
  }

  private get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const o = this.bucket(t).get(objKey(namespace, name))
    if (!o) throw notFound(t, name)
    return o
  }

  private list(t: ResourceType, apiVersion: string, namespace: string | undefined, q: URLSearchParams): Obj {
    const labels = parseLabelSelector(q.get('labelSelector'))
    const fields = parseFieldSelector(q.get('fieldSelector'))
    const limit = Number(q.get('limit') ?? 0)
    let after: string | undefined
    let listRev = this.rev
    const token = q.get('continue')
    if (token) {
      try {
        const parsed = JSON.parse(Buffer.from(token, 'base64url').toString()) as {after: string; rv: number}
        after = parsed.after
        listRev = parsed.rv
      } catch {
        throw new HttpError(400, 'BadRequest', 'continue key is not valid')
      }
      if (listRev < this.compactedRev) {
        throw new HttpError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.')
      }
    }
    const snapshotKey = `${typeKeyOf(t)}@${listRev}`
    let entries: [string, KubeObject][]
    if (token) {
      const snapshot = this.listSnapshots.get(snapshotKey)
      // Forgotten (see below): as if compacted.
      if (!snapshot) throw new HttpError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.')
      entries = snapshot.entries
    } else {
      const bucket = this.store.get(typeKeyOf(t)) ?? new Map<string, KubeObject>()
      entries = [...bucket.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    }
    const items: KubeObject[] = []
    let more: string | undefined
    for (const [key, o] of entries) {
      if (after !== undefined && key <= after) continue
      if (namespace !== undefined && o.metadata.namespace !== namespace) continue
      if (!this.matches(o, labels, fields)) continue
      if (limit > 0 && items.length === limit) {
        more = Buffer.from(JSON.stringify({after: objKey(items[items.length - 1].metadata.namespace, items[items.length - 1].metadata.name ?? ''), rv: listRev})).toString('base64url')
        break
      }
      items.push(this.withVersion(o, apiVersion))
    }
    if (more && !token && !this.listSnapshots.has(snapshotKey)) {
      // Stored objects are replaced on write, never changed in place, so the snapshot can share them. Only the
      // latest few are kept: a test server should not grow with every paged list.
      this.listSnapshots.set(snapshotKey, {rv: listRev, entries})
      if (this.listSnapshots.size > 32) this.listSnapshots.delete(this.listSnapshots.keys().next().value as string)
    }
    return {
      kind: `${t.kind}List`, apiVersion,
      metadata: {resourceVersion: String(listRev), ...(more ? {continue: more} : {})},
      items: items as unknown as Json[],
    }
  }

  private matches(o: KubeObject, labels: Matcher, fields: Matcher): boolean {
    return labels((k) => o.metadata.labels?.[k]) && fields((path) => fieldValue(o, path))
  }

  private nextRev(): number {
    return ++this.rev
  }

  private record(t: ResourceType, type: WatchEventRecord['type'], object: KubeObject): void {
    const ev: WatchEventRecord = {rv: this.rev, typeKey: typeKeyOf(t), type, object: structuredClone(object)}
    this.log.push(ev)
    for (const w of this.watchers) {
      if (w.typeKey !== ev.typeKey) continue
      if (w.namespace !== undefined && ev.object.metadata.namespace !== w.namespace) continue
      if (!this.matches(ev.object, w.labels, w.fields)) continue
      w.send(type, ev.object)
    }
  }

  private checkBody(t: ResourceType, o: unknown, namespace: string | undefined): KubeObject {
    if (!isObject(o)) throw new HttpError(400, 'BadRequest', 'the request body must be a JSON object')
    const obj = o as KubeObject
    if (!isObject(obj.metadata)) obj.metadata = {}
    if (obj.kind !== undefined && obj.kind !== t.kind) {
      throw new HttpError(400, 'BadRequest', `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${t.kind})`)
    }
    if (t.namespaced) {
      if (namespace === undefined) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
      if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== namespace) {
        throw new HttpError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request')
      }
      obj.metadata.namespace = namespace
    } else {
      delete obj.metadata.namespace
    }
    return obj
  }

  create(t: ResourceType, apiVersion: string, namespace: string | undefined, body: unknown): KubeObject {
    const obj = this.checkBody(t, body, namespace)
    const meta = obj.metadata
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`
    if (!meta.name) throw new HttpError(422, 'Invalid', `${t.kind} "" is invalid: metadata.name: Required value: name or generateName is required`)
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name) || meta.name.length > 253) {
      throw new HttpError(422, 'Invalid', `${t.kind} "${meta.name}" is invalid: metadata.name: Invalid value: "${meta.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`)
    }
    const key = objKey(meta.namespace, meta.name)
    if (this.bucket(t).has(key)) {
      throw new HttpError(409, 'AlreadyExists', `${qualified(t)} "${meta.name}" already exists`, {name: meta.name, group: t.group, kind: t.plural})
    }
    if (t.plural === 'customresourcedefinitions') this.checkCrd(obj)
    const stored: KubeObject = {...obj, apiVersion, kind: t.kind}
    if (t.statusSubresource && t.custom) delete stored.status
    if (t.kind === 'Namespace') stored.status = {phase: 'Active'}
    if (t.kind === 'Pod' && stored.status === undefined) stored.status = {phase: 'Pending'}
    stored.metadata = {
      ...meta, uid: randomUUID(), creationTimestamp: nowSeconds(), resourceVersion: String(this.nextRev()),
      ...(t.custom ? {generation: 1} : {}),
    }
    delete stored.metadata.generateName
    if (t.plural === 'customresourcedefinitions') this.establishCrd(stored)
    this.bucket(t).set(key, stored)
    this.record(t, 'ADDED', stored)
    return stored
  }

  private checkRevision(t: ResourceType, name: string, current: KubeObject, rv: unknown): void {
    if (rv === undefined || rv === '' || rv === null) return
    if (typeof rv !== 'string' || !/^\d+$/.test(rv)) {
      throw new HttpError(400, 'BadRequest', `invalid resource version ${JSON.stringify(rv)}`)
    }
    if (rv !== current.metadata.resourceVersion) {
      throw conflict(t, name, 'the object has been modified; please apply your changes to the latest version and try again')
    }
  }

  update(t: ResourceType, namespace: string | undefined, name: string, body: unknown, statusOnly: boolean): KubeObject {
    const obj = this.checkBody(t, body, namespace)
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw new HttpError(400, 'BadRequest', 'the name of the object does not match the name on the URL')
    }
    const current = this.get(t, namespace, name)
    this.checkRevision(t, name, current, obj.metadata.resourceVersion)
    if (obj.metadata.uid !== undefined && obj.metadata.uid !== '' && obj.metadata.uid !== current.metadata.uid) {
      throw conflict(t, name, `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${current.metadata.uid}`)
    }
    let next: KubeObject
    if (statusOnly) {
      next = this.statusUpdate(t, current, obj)
    } else {
      next = {...obj, apiVersion: current.apiVersion, kind: t.kind, metadata: {...obj.metadata}}
      if (t.statusSubresource) next.status = current.status
    }
    return this.replace(t, current, next)
  }

  /**
   * A write to /status changes only the status; native kinds' status strategies also keep metadata
   * labels and annotations from the request (how kubelet and Calico's CNI annotate pods and nodes).
   */
  private statusUpdate(t: ResourceType, current: KubeObject, requested: KubeObject): KubeObject {
    const metadata = {...current.metadata}
    if (!t.custom) {
      metadata.labels = requested.metadata.labels
      metadata.annotations = requested.metadata.annotations
      if (metadata.labels === undefined) delete metadata.labels
      if (metadata.annotations === undefined) delete metadata.annotations
    }
    return {...current, metadata, status: requested.status}
  }

  private replace(t: ResourceType, current: KubeObject, next: KubeObject): KubeObject {
    const meta = next.metadata
    meta.name = current.metadata.name
    if (t.namespaced) meta.namespace = current.metadata.namespace
    meta.uid = current.metadata.uid
    meta.creationTimestamp = current.metadata.creationTimestamp
    if (t.custom) {
      const generation = current.metadata.generation ?? 1
      meta.generation = JSON.stringify(next.spec) === JSON.stringify(current.spec) ? generation : generation + 1
    }
    if (t.plural === 'customresourcedefinitions') {
      this.checkCrd(next)
      this.establishCrd(next)
    }
    meta.resourceVersion = String(this.nextRev())
    this.bucket(t).set(objKey(meta.namespace, meta.name ?? ''), next)
    this.record(t, 'MODIFIED', next)
    return next
  }

  private patch(res: ServerResponse, req: IncomingMessage, t: ResourceType, apiVersion: string, namespace: string | undefined, name: string, body: string, statusOnly: boolean): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim()
    const existing = this.bucket(t).get(objKey(namespace, name))
    if (type === 'application/apply-patch+yaml') {
      const applied = loadYaml(body) as Json
      if (!existing) {
        const created = this.create(t, apiVersion, namespace, applied)
        return send(res, 201, created)
      }
      return send(res, 200, this.withVersion(this.replacePatched(t, existing, mergePatch(toJson(existing), applied), statusOnly), apiVersion))
    }
    if (!existing) throw notFound(t, name)
    let patched: Json
    const patchBody = JSON.parse(body || 'null') as Json
    if (type === 'application/merge-patch+json') patched = mergePatch(toJson(existing), patchBody)
    else if (type === 'application/json-patch+json') patched = jsonPatch(toJson(existing), patchBody)
    else if (type === 'application/strategic-merge-patch+json') {
      if (t.custom) throw new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`)
      patched = strategicMerge(toJson(existing), patchBody)
    } else {
      throw new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`)
    }
    return send(res, 200, this.withVersion(this.replacePatched(t, existing, patched, statusOnly), apiVersion))
  }

  private replacePatched(t: ResourceType, current: KubeObject, patched: Json, statusOnly: boolean): KubeObject {
    if (!isObject(patched)) throw new HttpError(400, 'BadRequest', 'the patch result is not an object')
    const next = patched as unknown as KubeObject
    if (!isObject(next.metadata)) next.metadata = {}
    // A resourceVersion carried by the patch is a precondition, like on update.
    this.checkRevision(t, current.metadata.name ?? '', current, next.metadata.resourceVersion === current.metadata.resourceVersion ? undefined : next.metadata.resourceVersion)
    if (statusOnly) return this.replace(t, current, this.statusUpdate(t, current, next))
    if (t.statusSubresource && t.kind !== 'Namespace') next.status = current.status
    return this.replace(t, current, next)
  }

  delete(t: ResourceType, namespace: string | undefined, name: string, options: unknown): KubeObject {
    const current = this.get(t, namespace, name)
    const pre = isObject(options) && isObject(options.preconditions) ? options.preconditions : {}
    if (typeof pre.uid === 'string' && pre.uid !== current.metadata.uid) {
      throw conflict(t, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`)
    }
    if (typeof pre.resourceVersion === 'string' && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(t, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`)
    }
    if (t.kind === 'Namespace') return this.terminateNamespace(t, current)
    return this.remove(t, current)
  }

  private remove(t: ResourceType, current: KubeObject): KubeObject {
    this.bucket(t).delete(objKey(current.metadata.namespace, current.metadata.name ?? ''))
    const gone: KubeObject = {...current, metadata: {...current.metadata, resourceVersion: String(this.nextRev())}}
    this.record(t, 'DELETED', gone)
    if (t.plural === 'customresourcedefinitions') this.dropCrd(current)
    return gone
  }

  /** Like the namespace controller: the namespace turns Terminating, its contents go shortly after, then it does. */
  private terminateNamespace(t: ResourceType, current: KubeObject): KubeObject {
    if (current.metadata.deletionTimestamp) return current
    const terminating: KubeObject = {
      ...current, metadata: {...current.metadata, deletionTimestamp: nowSeconds(), resourceVersion: String(this.nextRev())}, status: {phase: 'Terminating'},
    }
    this.bucket(t).set(objKey(undefined, current.metadata.name ?? ''), terminating)
    this.record(t, 'MODIFIED', terminating)
    setTimeout(() => {
      const still = this.bucket(t).get(objKey(undefined, current.metadata.name ?? ''))
      if (!still) return
      this.deleteNamespaceContents(current.metadata.name ?? '')
      this.remove(t, still)
    }, 200)
    return terminating
  }

  private deleteNamespaceContents(ns: string): void {
    for (const t of this.types.values()) {
      if (!t.namespaced) continue
      for (const o of [...this.bucket(t).values()]) {
        if (o.metadata.namespace === ns) this.delete(t, ns, o.metadata.name ?? '', {})
      }
    }
  }

  // ---- CRDs ----------------------------------------------------------------------------------

  private checkCrd(o: KubeObject): void {
    const spec = o.spec
    if (!isObject(spec) || typeof spec.group !== 'string' || !isObject(spec.names) || !Array.isArray(spec.versions)) {
      throw new HttpError(422, 'Invalid', `CustomResourceDefinition "${o.metadata.name}" is invalid: spec: Required value`)
    }
    const plural = spec.names.plural
    if (o.metadata.name !== `${String(plural)}.${spec.group}`) {
      throw new HttpError(422, 'Invalid', `CustomResourceDefinition "${o.metadata.name}" is invalid: metadata.name: Invalid value: "${o.metadata.name}": must be spec.names.plural+"."+spec.group`)
    }
  }

  private crdType(o: KubeObject): ResourceType {
    const spec = o.spec as {group: string; scope: string; names: {plural: string; singular?: string; kind: string; shortNames?: string[]}; versions: {name: string; served?: boolean; storage?: boolean; subresources?: {status?: unknown}}[]}
    const served = spec.versions.filter((v) => v.served !== false)
    return {
      group: spec.group, versions: served.map((v) => v.name), plural: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(), kind: spec.names.kind,
      namespaced: spec.scope === 'Namespaced', shortNames: spec.names.shortNames,
      statusSubresource: served.some((v) => v.subresources?.status !== undefined), custom: true,
    }
  }

  private establishCrd(o: KubeObject): void {
    const t = this.crdType(o)
    const spec = o.spec as {names: Json; versions: {name: string; storage?: boolean}[]}
    const at = nowSeconds()
    o.status = {
      conditions: [
        {type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: at},
        {type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: at},
      ],
      acceptedNames: spec.names,
      storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
    }
    this.registerType(t)
  }

  private dropCrd(o: KubeObject): void {
    const t = this.crdType(o)
    for (const obj of this.sorted(typeKeyOf(t))) this.delete(t, obj.metadata.namespace, obj.metadata.name ?? '', {})
    this.types.delete(typeKeyOf(t))
    this.store.delete(typeKeyOf(t))
  }

  // ---- watch ---------------------------------------------------------------------------------

  private watch(req: IncomingMessage, res: ServerResponse, t: ResourceType, apiVersion: string, namespace: string | undefined, q: URLSearchParams): void {
    const labels = parseLabelSelector(q.get('labelSelector'))
    const fields = parseFieldSelector(q.get('fieldSelector'))
    const rvParam = q.get('resourceVersion')
    const bookmarks = isTrue(q.get('allowWatchBookmarks'))
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? 0)
    if (rvParam && !/^\d+$/.test(rvParam)) throw new HttpError(400, 'BadRequest', `invalid resource version ${JSON.stringify(rvParam)}`)
    if (this.watchesPaused) throw new HttpError(503, 'ServiceUnavailable', 'watches are paused (test fault)')
    res.writeHead(200, {'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache'})
    res.flushHeaders()
    const write = (type: string, object: unknown) => {
      if (!res.writableEnded) res.write(`${JSON.stringify({type, object: type === 'ERROR' ? object : this.withVersion(object as KubeObject, apiVersion)})}\n`)
    }
    const from = rvParam && rvParam !== '0' ? Number(rvParam) : undefined
    if (from !== undefined && from < this.compactedRev - 1) {
      write('ERROR', status(410, 'Expired', `too old resource version: ${from} (${this.compactedRev})`))
      res.end()
      return
    }
    const watcher: Watcher = {typeKey: typeKeyOf(t), namespace, labels, fields, send: write, end: () => res.destroy()}
    if (from === undefined) {
      // No resourceVersion: "get state and start at most recent", as the real server does.
      for (const o of this.sorted(typeKeyOf(t))) {
        if (namespace !== undefined && o.metadata.namespace !== namespace) continue
        if (this.matches(o, labels, fields)) write('ADDED', o)
      }
    } else {
      for (const ev of this.log) {
        if (ev.rv <= from || ev.typeKey !== watcher.typeKey) continue
        if (namespace !== undefined && ev.object.metadata.namespace !== namespace) continue
        if (this.matches(ev.object, labels, fields)) write(ev.type, ev.object)
      }
    }
    this.watchers.add(watcher)
    const timers: NodeJS.Timeout[] = []
    if (bookmarks) {
      timers.push(setInterval(() => {
        write('BOOKMARK', {kind: t.kind, apiVersion, metadata: {resourceVersion: String(this.rev)}})
      }, this.options.bookmarkIntervalMs ?? 1000))
    }
    if (timeoutSeconds > 0) timers.push(setTimeout(() => res.end(), timeoutSeconds * 1000))
    const done = () => {
      this.watchers.delete(watcher)
      timers.forEach((x) => clearTimeout(x))
    }
    res.on('close', done)
    req.on('close', done)
  }
}

function isTrue(v: string | null): boolean {
  return v === 'true' || v === '1'
}

function toJson(o: KubeObject): Json {
  return structuredClone(o) as unknown as Json
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function parseBody(body: string, req: IncomingMessage): unknown {
  const type = req.headers['content-type'] ?? 'application/json'
  try {
    return type.includes('yaml') ? loadYaml(body) : JSON.parse(body)
  } catch (err) {
    throw new HttpError(400, 'BadRequest', `the request body could not be decoded: ${(err as Error).message}`)
  }
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(code, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)})
  res.end(text)
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, {'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text)})
  res.end(text)
}
