// The one place that talks HTTP to a Kubernetes API server. The connection is resolved like calicoctl's
// CreateKubernetesClientset (kubeconfig.ts reads and applies kubeconfig as @kubernetes/client-node does, and loads
// that package only to run exec/auth-provider token plugins): kubeconfig file(s) or inline kubeconfig, context
// override, then k8sAPIEndpoint/CA/cert/key/token/insecure overrides, and in-cluster service-account config when
// nothing is given. Requests themselves go through node:http(s) on one keep-alive agent: the Calico mapping
// needs one generic REST path for ~30 resources plus a watch stream whose lifetime we own
// (client-node's Watch gives up on errors other than 410).

import {readFileSync} from 'node:fs'
import {Agent as HttpAgent, request as httpRequest, type IncomingMessage} from 'node:http'
import {Agent as HttpsAgent, request as httpsRequest, type RequestOptions} from 'node:https'
import {delimiter} from 'node:path'
import type {Cluster} from '@kubernetes/client-node'
import {DatastoreError} from '../../api/errors.js'
import type {DatastoreConfig} from '../config.js'
import {
  applyCredentials, currentCluster, currentUser, findContext, inClusterConfig, mergeKubeconfig, parseKubeconfig, singleContext, type Kubeconfig,
} from './kubeconfig.js'

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: KubeMeta
  spec?: unknown
  status?: unknown
  [field: string]: unknown
}

export interface KubeMeta {
  name?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  creationTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  [field: string]: unknown
}

export interface KubeList {
  metadata: {resourceVersion?: string; continue?: string}
  items: KubeObject[]
}

/** A failed request, classified once from the API server's Status (the raw body is never shown). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    /** Status.details.name: set when the error is about one named object. */
    readonly objectName?: string,
  ) {
    super(message)
  }

  override get name(): string {
    return 'KubeApiError'
  }
}

export interface WatchLine {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: KubeObject & {code?: number; reason?: string; message?: string}
}

export interface WatchStream {
  /** Ends the stream; the iterator then finishes. */
  close(): void
  lines: AsyncIterable<WatchLine>
}

export interface RequestOptionsExtra {
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  contentType?: string
}

/** The resolved target: base URL and TLS/auth material for requests. */
export interface KubeConnection {
  server: string
  /** For messages: where the settings came from. */
  source: string
}

function describeError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'file does not exist'
  return err instanceof Error ? err.message.split('\n')[0] : String(err)
}

export class KubeClient {
  /** Accept plus the credentials' headers, built once per credential refresh rather than per request. */
  private baseHeaders: Record<string, string> = {Accept: 'application/json'}
  private authAt = 0

  private constructor(
    /** The configuration credentials are read from (again on refresh). */
    private readonly kc: Kubeconfig,
    readonly connection: KubeConnection,
    private readonly agent: HttpAgent | HttpsAgent,
    private readonly tls: Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>,
  ) {}

  /** Resolves the configuration; fails with one DatastoreError line that says what to fix. */
  static async connect(config: DatastoreConfig, env: NodeJS.ProcessEnv = process.env): Promise<KubeClient> {
    let kc: Kubeconfig
    let source: string
    try {
      if (config.kubeconfigInline) {
        source = 'the inline kubeconfig'
        kc = await parseKubeconfig(config.kubeconfigInline)
      } else if (config.kubeconfig) {
        const files = config.kubeconfig.split(delimiter).filter((f) => f !== '')
        source = `kubeconfig "${config.kubeconfig}"`
        let loaded: Kubeconfig | undefined
        for (const file of files) {
          let text: string
          try {
            text = readFileSync(file, 'utf8')
          } catch (err) {
            // A list of files tolerates missing members, as client-go's precedence rules do.
            if (files.length > 1 && (err as NodeJS.ErrnoException).code === 'ENOENT') continue
            throw new DatastoreError(`cannot load kubeconfig "${file}": ${describeError(err)}; set "kubeconfig" in the calicoctl config or KUBECONFIG to a readable file`)
          }
          let part: Kubeconfig
          try {
            part = await parseKubeconfig(text)
          } catch (err) {
            throw new DatastoreError(`cannot load kubeconfig "${file}": malformed: ${describeError(err)}`)
          }
          if (!loaded) loaded = part
          else mergeKubeconfig(loaded, part)
        }
        if (!loaded) throw new DatastoreError(`cannot load kubeconfig "${config.kubeconfig}": none of the files exist`)
        kc = loaded
      } else if (config.k8sAPIEndpoint) {
        source = 'k8sAPIEndpoint'
        kc = singleContext({name: 'calico', server: config.k8sAPIEndpoint, skipTLSVerify: false}, {name: 'calico'})
      } else if (env.KUBERNETES_SERVICE_HOST) {
        source = 'the in-cluster service account'
        kc = inClusterConfig(env)
      } else {
        throw new DatastoreError('no Kubernetes API server configured: set "kubeconfig" or "k8sAPIEndpoint" in the calicoctl config, or KUBECONFIG / K8S_API_ENDPOINT')
      }
    } catch (err) {
      if (err instanceof DatastoreError) throw err
      throw new DatastoreError(`cannot load ${config.kubeconfigInline ? 'the inline kubeconfig' : `kubeconfig "${config.kubeconfig ?? ''}"`}: malformed: ${describeError(err)}`)
    }

    if (config.k8sCurrentContext) {
      if (!findContext(kc, config.k8sCurrentContext)) {
        throw new DatastoreError(`context "${config.k8sCurrentContext}" does not exist in ${source}; available: ${kc.contexts.map((c) => c.name).join(', ') || 'none'}`)
      }
      kc.currentContext = config.k8sCurrentContext
    }
    const cluster = currentCluster(kc)
    const user = currentUser(kc)
    if (!cluster) throw new DatastoreError(`${source} has no cluster for context "${kc.currentContext}"; check its current-context`)

    // calicoctl's explicit settings override whatever the kubeconfig says.
    const overridden = Boolean(config.k8sAPIEndpoint || config.k8sCAFile || config.k8sCertFile || config.k8sKeyFile || config.k8sAPIToken || config.k8sInsecureSkipTLSVerify)
    if (overridden) {
      const caFile = config.k8sCAFile || cluster.caFile
      kc = singleContext(
        {
          name: cluster.name,
          server: config.k8sAPIEndpoint || cluster.server,
          skipTLSVerify: config.k8sInsecureSkipTLSVerify || cluster.skipTLSVerify,
          ...(caFile ? {caFile} : cluster.caData && !config.k8sCAFile ? {caData: cluster.caData} : {}),
          ...(cluster.tlsServerName ? {tlsServerName: cluster.tlsServerName} : {}),
        },
        {
          ...(user ?? {name: 'calico'}),
          ...(config.k8sCertFile ? {certFile: config.k8sCertFile, certData: undefined} : {}),
          ...(config.k8sKeyFile ? {keyFile: config.k8sKeyFile, keyData: undefined} : {}),
          ...(config.k8sAPIToken ? {token: config.k8sAPIToken} : {}),
        },
      )
    }
    const server = currentCluster(kc)?.server ?? ''
    let url: URL
    try {
      url = new URL(server)
    } catch {
      throw new DatastoreError(`invalid Kubernetes API server address "${server}" in ${source}`)
    }
    // client-node refuses plain-http clusters unless TLS verification is off; for http (kubectl proxy,
    // local test servers) TLS settings are moot, so credentials come from a copy marked skip-verify.
    if (url.protocol === 'http:') {
      kc = singleContext({...(currentCluster(kc) as Cluster), skipTLSVerify: true}, currentUser(kc) ?? {name: 'calico'})
    }
    const opts: RequestOptions = {}
    try {
      await applyCredentials(kc, opts)
    } catch (err) {
      throw new DatastoreError(`cannot use the credentials in ${source}: ${describeError(err)}`)
    }
    const tls = {ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername}
    const agent = url.protocol === 'https:'
      ? new HttpsAgent({keepAlive: true, maxSockets: 64, ...stripUndefined(tls)})
      : new HttpAgent({keepAlive: true, maxSockets: 64})
    const client = new KubeClient(kc, {server: server.replace(/\/$/, ''), source}, agent, stripUndefined(tls))
    client.baseHeaders = {Accept: 'application/json', ...headersOf(opts)}
    client.authAt = Date.now()
    return client
  }

  /** Exec and auth-provider tokens expire, token files are rotated: apply the credentials again now and then. */
  private async refreshHeaders(): Promise<void> {
    const opts: RequestOptions = {}
    await applyCredentials(this.kc, opts)
    this.baseHeaders = {Accept: 'application/json', ...headersOf(opts)}
    this.authAt = Date.now()
  }

  private async open(method: string, path: string, extra: RequestOptionsExtra): Promise<IncomingMessage> {
    // Every list page and get comes through here: the common case (fresh credentials, no body) stays
    // synchronous up to the request and shares one headers object.
    if (Date.now() - this.authAt > 60_000) await this.refreshHeaders()
    let url = this.connection.server + path
    if (extra.query) {
      const params = new URLSearchParams()
      for (const [k, v] of Object.entries(extra.query)) if (v !== undefined && v !== '') params.set(k, String(v))
      const q = params.toString()
      if (q !== '') url += `${path.includes('?') ? '&' : '?'}${q}`
    }
    const body = extra.body === undefined ? undefined : JSON.stringify(extra.body)
    let headers = this.baseHeaders
    if (body !== undefined) {
      headers = {...headers, 'Content-Type': extra.contentType ?? 'application/json', 'Content-Length': String(Buffer.byteLength(body))}
    }
    const request = url.startsWith('https:') ? httpsRequest : httpRequest
    const attempt = (retried: boolean): Promise<IncomingMessage> => new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, {method, headers, agent: this.agent, ...this.tls}, resolve)
      req.on('error', (err) => {
        // A kept-alive connection the server closed (restart) fails before the request reached it: retry once.
        const code = (err as NodeJS.ErrnoException).code
        if (!retried && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) resolve(attempt(true))
        else reject(this.connectionError(err))
      })
      req.end(body)
    })
    return attempt(false)
  }

  private connectionError(err: Error): DatastoreError {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ECONNREFUSED' ? 'connection refused'
      : code === 'ENOTFOUND' ? 'host not found'
      : code === 'ETIMEDOUT' ? 'connection timed out'
      : code === 'ECONNRESET' ? 'connection reset'
      : err.message
    return new DatastoreError(`cannot reach the Kubernetes API server at ${this.connection.server}: ${why}; check that it is running and that ${this.connection.source} points at it`)
  }

  /** One JSON request; non-2xx answers become KubeApiError. */
  async request<T>(method: string, path: string, extra: RequestOptionsExtra = {}): Promise<T> {
    const res = await this.open(method, path, extra)
    const text = await readAll(res).catch((err: Error) => {
      throw this.connectionError(err)
    })
    const code = res.statusCode ?? 0
    if (code >= 200 && code < 300) {
      try {
        return JSON.parse(text) as T
      } catch {
        throw new DatastoreError(`the Kubernetes API server at ${this.connection.server} answered ${method} ${path} with something that is not JSON`)
      }
    }
    throw statusError(code, text)
  }

  /**
   * A list in pages of `pageSize` (limit/continue), each page's objects converted (`convert` returns undefined to
   * drop one) and handed out as soon as they are, while the next page is already being fetched: the server's work
   * overlaps ours, and a page's raw objects become garbage young. The pages are one consistent list (the continue
   * token pins the first page's resourceVersion); once the server has compacted that, a later page fails with 410
   * Gone, thrown here after the pages before it were handed out.
   */
  async *pages<T>(path: string, query: Record<string, string | undefined>, pageSize: number, convert: (obj: KubeObject) => T | undefined): AsyncGenerator<{items: T[]; resourceVersion: string}> {
    const fetch = (token: string | undefined) => this.request<KubeList>('GET', path, {query: {...query, limit: pageSize, continue: token}})
    let page = await fetch(undefined)
    const resourceVersion = page.metadata.resourceVersion ?? ''
    for (;;) {
      const token = page.metadata.continue || undefined
      const next = token === undefined ? undefined : fetch(token)
      // If convert throws or the reader stops early, nobody awaits the prefetched page: its failure must not be unhandled.
      next?.catch(() => undefined)
      // Node writes a request to its socket on a later tick: let that happen before converting, or the
      // server would only see the request once this page is done and nothing would overlap.
      if (next) await new Promise<void>((resolve) => setImmediate(resolve))
      const items: T[] = []
      for (const obj of page.items) {
        const v = convert(obj)
        if (v !== undefined) items.push(v)
      }
      yield {items, resourceVersion}
      if (!next) return
      page = await next
    }
  }

  /**
   * A whole list (pages()). When a continue token expires (410 Gone on page two or later) the list falls back to
   * one unpaged request, as client-go's pager does (FullListIfExpired), so it always ends.
   */
  async listPaged<T>(path: string, query: Record<string, string | undefined>, pageSize: number, convert: (obj: KubeObject) => T | undefined): Promise<{items: T[]; resourceVersion: string}> {
    const items: T[] = []
    let resourceVersion = ''
    try {
      for await (const page of this.pages(path, query, pageSize, convert)) {
        for (const v of page.items) items.push(v)
        resourceVersion = page.resourceVersion
      }
    } catch (err) {
      if (!(err instanceof KubeApiError && err.code === 410)) throw err
      items.length = 0
      const whole = await this.request<KubeList>('GET', path, {query})
      resourceVersion = whole.metadata.resourceVersion ?? ''
      for (const obj of whole.items) {
        const v = convert(obj)
        if (v !== undefined) items.push(v)
      }
    }
    return {items, resourceVersion}
  }

  /** Opens a watch; the response is a stream of JSON lines. Non-2xx answers reject with KubeApiError. */
  async watch(path: string, query: Record<string, string | number | boolean | undefined>): Promise<WatchStream> {
    const res = await this.open('GET', path, {query: {...query, watch: 1}})
    const code = res.statusCode ?? 0
    if (code < 200 || code >= 300) throw statusError(code, await readAll(res).catch(() => ''))
    res.setEncoding('utf8')
    return {
      close: () => res.destroy(),
      lines: (async function* lines(): AsyncGenerator<WatchLine> {
        let buffered = ''
        const chunks = res[Symbol.asyncIterator]()
        for (;;) {
          let next: IteratorResult<unknown>
          try {
            next = await chunks.next()
          } catch {
            // A broken or destroyed response (close(), server restart) ends the stream; the caller resumes.
            return
          }
          if (next.done) return
          buffered += next.value as string
          let nl: number
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim()
            buffered = buffered.slice(nl + 1)
            if (line !== '') yield JSON.parse(line) as WatchLine
          }
        }
      })(),
    }
  }

  close(): void {
    this.agent.destroy()
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}

function headersOf(opts: RequestOptions): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    if (typeof v === 'string' || typeof v === 'number') out[k] = String(v)
    else if (Array.isArray(v)) out[k] = v.join(', ')
  }
  if (opts.auth) out.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`
  return out
}

/** The whole body (events rather than async iteration: cheaper per response, and every response comes here). */
function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    res.on('error', reject)
    // A connection lost mid-body gives 'error' (aborted); a response destroyed without one still closes without 'end'.
    res.on('close', () => {
      if (!res.complete) reject(new Error('the connection closed before the response was complete'))
    })
  })
}

function statusError(code: number, text: string): KubeApiError {
  let reason = ''
  let message = text.trim().split('\n')[0] || `HTTP ${code}`
  let name: string | undefined
  try {
    const s = JSON.parse(text) as {reason?: string; message?: string; details?: {name?: string}}
    reason = s.reason ?? ''
    message = s.message ?? message
    name = s.details?.name || undefined
  } catch {
    // Not a Status (a proxy in between, say): keep the first line of the body.
  }
  return new KubeApiError(code, reason, message, name)
}
