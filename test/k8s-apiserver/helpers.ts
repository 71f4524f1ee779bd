// Test helpers around the in-process API server: start one with Calico's CRDs installed (from the
// committed manifests, as `kubectl apply -f manifests/crds` would), write kubeconfigs for it, find
// kubectl, and make REST calls to it as kubectl or kubelet would.

import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {load} from 'js-yaml'
import {TestApiServer, type KubeObject, type TestApiServerOptions} from './server.js'

export const MANIFESTS = join(import.meta.dirname, '..', '..', 'manifests', 'crds')
export const KUBECTL = process.env.KUBECTL_BIN ?? '/usr/bin/kubectl'

/** Why kubectl tests cannot run here, or undefined when they can. */
export function kubectlSkipReason(): string | undefined {
  return existsSync(KUBECTL) ? undefined : `kubectl not found at ${KUBECTL} (set KUBECTL_BIN); skipping tests that drive the test API server with kubectl`
}

/** Installs every CRD manifest in `dir` (the v1 set by default, `v3` for the projectcalico.org/v3 set). */
export function installCrds(server: TestApiServer, set: 'v1' | 'v3' = 'v1'): void {
  const dir = set === 'v1' ? MANIFESTS : join(MANIFESTS, 'v3')
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    server.seed('apiextensions.k8s.io', 'customresourcedefinitions', load(readFileSync(join(dir, file), 'utf8')))
  }
}

export async function startServer(opts: TestApiServerOptions & {crds?: 'v1' | 'v3' | 'none'} = {}): Promise<TestApiServer> {
  const server = await new TestApiServer({bookmarkIntervalMs: 500, ...opts}).start()
  if (opts.crds !== 'none') installCrds(server, opts.crds ?? 'v1')
  return server
}

export interface KubeconfigOptions {
  token?: string
  caFile?: string
  certFile?: string
  keyFile?: string
  /** Extra contexts pointing elsewhere, to test context selection. */
  extraContexts?: {name: string; server: string}[]
  currentContext?: string
  /** Where to write it (its owner removes it); by default `config` in a fresh temp directory. */
  file?: string
}

/** Writes a kubeconfig for `server` and returns its path. */
export function writeKubeconfig(server: string, opts: KubeconfigOptions = {}): string {
  const clusters = [{name: 'test', cluster: {server, ...(opts.caFile ? {'certificate-authority': opts.caFile} : {})}}]
  const users = [{name: 'test', user: {
    ...(opts.token ? {token: opts.token} : {}),
    ...(opts.certFile ? {'client-certificate': opts.certFile} : {}),
    ...(opts.keyFile ? {'client-key': opts.keyFile} : {}),
  }}]
  const contexts = [{name: 'test', context: {cluster: 'test', user: 'test'}}]
  for (const extra of opts.extraContexts ?? []) {
    clusters.push({name: extra.name, cluster: {server: extra.server}})
    contexts.push({name: extra.name, context: {cluster: extra.name, user: 'test'}})
  }
  const config = {apiVersion: 'v1', kind: 'Config', clusters, users, contexts, 'current-context': opts.currentContext ?? 'test'}
  const file = opts.file ?? join(mkdtempSync(join(tmpdir(), 'calico-ts-kubeconfig-')), 'config')
  writeFileSync(file, JSON.stringify(config, null, 2))
  return file
}

/** One REST call to the server as kubectl or kubelet makes it; rejects on an error status, naming the call. */
export async function kubeRequest<T = KubeObject>(server: TestApiServer, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.url}${path}`, {method, headers: {'Content-Type': 'application/json'}, body: body === undefined ? undefined : JSON.stringify(body)})
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return JSON.parse(text) as T
}

/**
 * Creates the object in `collection` (e.g. `/api/v1/namespaces/ns/pods`), or replaces the one of that name at its
 * current resourceVersion: `kubectl apply` of a whole manifest. A replace keeps what the server keeps (a Pod's status).
 */
export async function kubeApply(server: TestApiServer, collection: string, body: KubeObject): Promise<KubeObject> {
  const path = `${collection}/${encodeURIComponent(body.metadata.name ?? '')}`
  const found = await fetch(`${server.url}${path}`)
  if (found.status === 404) {
    await found.body?.cancel()
    return kubeRequest(server, 'POST', collection, body)
  }
  if (!found.ok) throw new Error(`GET ${path}: ${found.status} ${await found.text()}`)
  const current = (await found.json()) as KubeObject
  return kubeRequest(server, 'PUT', path, {...body, metadata: {...body.metadata, resourceVersion: current.metadata.resourceVersion}})
}
