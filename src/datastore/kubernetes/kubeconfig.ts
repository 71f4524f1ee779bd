// Kubeconfig as @kubernetes/client-node's KubeConfig reads and applies it, without loading that package for the
// common credentials. Importing client-node evaluates its ~2,500 generated API modules: ~0.6 s of CPU and ~70 MiB,
// most of a `calicoctl get` on Kubernetes. So kubeconfig text is validated by client-node's own config_types
// module (one small file), and the cluster's CA, client certificate and key, bearer token, token file, basic auth
// and impersonation are applied here as KubeConfig.applyToHTTPSOptions applies them. Only users whose credentials
// come from a plugin (exec, or the azure/gcp/oidc auth providers) load client-node, which runs those plugins.

import {readFileSync} from 'node:fs'
import type {RequestOptions} from 'node:https'
import {isIPv6} from 'node:net'
import type {Cluster, Context, KubeConfig, User} from '@kubernetes/client-node'
import {load} from 'js-yaml'

/** What a KubeConfig holds (client-node's loadFromOptions shape). */
export interface Kubeconfig {
  clusters: Cluster[]
  contexts: Context[]
  users: User[]
  currentContext: string
}

type ConfigTypes = typeof import('@kubernetes/client-node/dist/config_types.js')

/** KubeConfig.loadFromString: YAML (or JSON), each entry checked as client-node checks it (a bad one throws). */
export async function parseKubeconfig(text: string): Promise<Kubeconfig> {
  const types: ConfigTypes = await import('@kubernetes/client-node/dist/config_types.js')
  // As in client-node, an empty document fails here (reading `clusters` of undefined): the caller calls it malformed.
  const obj = load(text) as {clusters?: unknown; contexts?: unknown; users?: unknown; 'current-context'?: unknown}
  return {
    clusters: types.newClusters(obj.clusters),
    contexts: types.newContexts(obj.contexts),
    users: types.newUsers(obj.users),
    currentContext: obj['current-context'] as string,
  }
}

/** KubeConfig.mergeConfig(from, true): the current context stays; a name defined twice is an error. */
export function mergeKubeconfig(into: Kubeconfig, from: Kubeconfig): void {
  const add = <T extends {name: string}>(list: T[], items: T[], what: string) => {
    for (const item of items) {
      if (list.some((x) => x.name === item.name)) throw new Error(`Duplicate ${what}: ${item.name}`)
      list.push(item)
    }
  }
  add(into.clusters, from.clusters, 'cluster')
  add(into.users, from.users, 'user')
  add(into.contexts, from.contexts, 'context')
}

/** KubeConfig.loadFromClusterAndUser. */
export function singleContext(cluster: Cluster, user: User): Kubeconfig {
  return {clusters: [cluster], users: [user], contexts: [{cluster: cluster.name, user: user.name, name: 'loaded-context'}], currentContext: 'loaded-context'}
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount'

/** KubeConfig.loadFromCluster: the pod's service account (its token file is re-read on refresh). */
export function inClusterConfig(env: NodeJS.ProcessEnv): Kubeconfig {
  const host = env.KUBERNETES_SERVICE_HOST ?? ''
  const port = env.KUBERNETES_SERVICE_PORT
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https'
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`
  return {
    clusters: [{name: 'inCluster', caFile: `${SERVICE_ACCOUNT}/ca.crt`, server, skipTLSVerify: false}],
    users: [{name: 'inClusterUser', authProvider: {name: 'tokenFile', config: {tokenFile: `${SERVICE_ACCOUNT}/token`}}}],
    contexts: [{cluster: 'inCluster', name: 'inClusterContext', user: 'inClusterUser'}],
    currentContext: 'inClusterContext',
  }
}

export function findContext(kc: Kubeconfig, name: string | undefined): Context | undefined {
  return kc.contexts.find((c) => c.name === name)
}

export function currentCluster(kc: Kubeconfig): Cluster | undefined {
  const ctx = findContext(kc, kc.currentContext)
  return ctx && kc.clusters.find((c) => c.name === ctx.cluster)
}

export function currentUser(kc: Kubeconfig): User | undefined {
  const ctx = findContext(kc, kc.currentContext)
  return ctx && kc.users.find((u) => u.name === ctx.user)
}

/** Credentials only a plugin can produce (client-node's exec, azure, gcp and oidc authenticators). */
function needsPlugin(user: User): boolean {
  const provider = user.authProvider as {name?: string; config?: {tokenFile?: string; exec?: unknown}} | undefined
  if (user.exec) return true
  if (!provider) return false
  return !provider.config?.tokenFile || provider.config.exec !== undefined || ['azure', 'gcp', 'oidc', 'exec'].includes(provider.name ?? '')
}

/** One client-node KubeConfig per configuration: its authenticators cache a plugin's token until it expires. */
const pluginConfigs = new WeakMap<Kubeconfig, KubeConfig>()

async function pluginConfig(kc: Kubeconfig): Promise<KubeConfig> {
  let full = pluginConfigs.get(kc)
  if (!full) {
    const k8s = await import('@kubernetes/client-node')
    full = new k8s.KubeConfig()
    full.loadFromOptions(kc)
    pluginConfigs.set(kc, full)
  }
  return full
}

function fileOrData(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(file)
  return data ? Buffer.from(data, 'base64') : undefined
}

/**
 * KubeConfig.applyToHTTPSOptions for the current context: TLS material, and the Authorization and impersonation
 * headers (or `auth` for basic auth). The http-versus-skipTLSVerify rule of client-node's agent is the caller's.
 */
export async function applyCredentials(kc: Kubeconfig, opts: RequestOptions): Promise<void> {
  const user = currentUser(kc)
  if (!user) return
  if (needsPlugin(user)) {
    await (await pluginConfig(kc)).applyToHTTPSOptions(opts)
    return
  }
  const cluster = currentCluster(kc)
  if (cluster?.skipTLSVerify) opts.rejectUnauthorized = false
  if (cluster?.tlsServerName) opts.servername = cluster.tlsServerName
  const ca = cluster && fileOrData(cluster.caFile, cluster.caData)
  if (ca) opts.ca = ca
  const cert = fileOrData(user.certFile, user.certData)
  if (cert) opts.cert = cert
  const key = fileOrData(user.keyFile, user.keyData)
  if (key) opts.key = key
  const headers: Record<string, string> = {}
  if (user.impersonateUser != null) headers['Impersonate-User'] = user.impersonateUser
  // client-node's FileAuth sends the token file's bytes as they are (re-read when a minute old: our refresh).
  const tokenFile = (user.authProvider as {config?: {tokenFile?: string}} | undefined)?.config?.tokenFile
  if (tokenFile) headers.Authorization = `Bearer ${readFileSync(tokenFile, 'utf8')}`
  if (user.token) headers.Authorization = `Bearer ${user.token}`
  opts.headers = headers
  if (user.username) opts.auth = `${user.username}:${user.password}`
}
