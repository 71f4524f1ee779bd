// Kubeconfig credentials read without @kubernetes/client-node (src/datastore/kubernetes/kubeconfig.ts) reach the test
// API server as client-node sends them: a token file, basic auth and impersonation, merged files; and credentials
// from an exec plugin, which client-node runs. A wrong credential is refused, so each case shows what was sent. The
// in-cluster entries and parsed kubeconfig text equal client-node's KubeConfig ones.

import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {inClusterConfig, parseKubeconfig} from '../../src/datastore/kubernetes/kubeconfig.js'
import {startServer} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'

describe('kubeconfig credentials', () => {
  let server: TestApiServer
  let dir: string
  let files = 0

  beforeAll(async () => {
    server = await startServer({token: 's3cret'})
    dir = mkdtempSync(join(tmpdir(), 'calico-ts-kubeconfig-'))
  })
  afterAll(async () => {
    await server?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  /** Writes a kubeconfig with one context `test` for this user (and maybe more entries); returns its path. */
  function kubeconfig(user: Record<string, unknown>, extra: {clusters?: unknown[]; users?: unknown[]; contexts?: unknown[]; current?: string} = {}): string {
    const file = join(dir, `config-${files++}`)
    writeFileSync(file, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'test', cluster: {server: server.url}}, ...(extra.clusters ?? [])],
      users: [{name: 'test', user}, ...(extra.users ?? [])],
      contexts: [{name: 'test', context: {cluster: 'test', user: 'test'}}, ...(extra.contexts ?? [])],
      'current-context': extra.current ?? 'test',
    }))
    return file
  }

  /** Lists IPPools through a backend opened with this kubeconfig (list of files); resolves with the request it sent. */
  async function listWith(file: string): Promise<{authorization?: string; impersonateUser?: string}> {
    const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', kubeconfig: file})
    try {
      const before = server.requests.length
      await b.list({kind: 'IPPool'})
      const sent = server.requests.slice(before).find((r) => r.url.startsWith('/apis/crd.projectcalico.org/v1/ippools'))
      return {authorization: sent?.authorization, impersonateUser: sent?.impersonateUser}
    } finally {
      await b.close()
    }
  }

  const refused = 'the Kubernetes API server rejected the credentials (401 Unauthorized); check the token or client certificate in the kubeconfig'

  it('a token file (auth-provider config tokenFile, as in-cluster) is sent as it is; a wrong one is refused', async () => {
    const tokenFile = join(dir, 'token')
    writeFileSync(tokenFile, 's3cret')
    expect(await listWith(kubeconfig({'auth-provider': {name: 'file', config: {tokenFile}}}))).toEqual({authorization: 'Bearer s3cret', impersonateUser: undefined})
    writeFileSync(tokenFile, 'wrong')
    await expect(listWith(kubeconfig({'auth-provider': {name: 'file', config: {tokenFile}}}))).rejects.toThrow(refused)
  })

  it('`as` impersonates; basic auth is sent as Basic', async () => {
    expect(await listWith(kubeconfig({token: 's3cret', as: 'jane'}))).toEqual({authorization: 'Bearer s3cret', impersonateUser: 'jane'})
    const basic = kubeconfig({username: 'u', password: 'p'})
    await expect(listWith(basic)).rejects.toThrow(refused)
    expect(server.requests[server.requests.length - 1].authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`)
  })

  it('an exec plugin\'s token: client-node runs the plugin', async () => {
    const credential = (token: string) => JSON.stringify({apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: {token}})
    const plugin = (token: string) => ({exec: {apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', `console.log(${JSON.stringify(credential(token))})`], interactiveMode: 'Never'}})
    expect(await listWith(kubeconfig(plugin('s3cret')))).toEqual({authorization: 'Bearer s3cret', impersonateUser: undefined})
    await expect(listWith(kubeconfig(plugin('wrong')))).rejects.toThrow(refused)
  })

  it('several files: the first one\'s current context, entries from all; a name defined twice is malformed, as in client-node', async () => {
    const first = kubeconfig({token: 'wrong'}, {current: 'other'})
    const second = join(dir, 'second')
    writeFileSync(second, JSON.stringify({
      clusters: [{name: 'other-cluster', cluster: {server: server.url}}],
      users: [{name: 'other-user', user: {token: 's3cret'}}],
      contexts: [{name: 'other', context: {cluster: 'other-cluster', user: 'other-user'}}],
      'current-context': 'test',
    }))
    expect(await listWith(`${first}:${second}`)).toEqual({authorization: 'Bearer s3cret', impersonateUser: undefined})
    const clash = kubeconfig({token: 's3cret'})
    await expect(listWith(`${first}:${clash}`)).rejects.toThrow(`cannot load kubeconfig "${first}:${clash}": malformed: Duplicate cluster: test`)
  })

  it('in a pod, and for kubeconfig text, the same entries as client-node\'s KubeConfig', async () => {
    const {KubeConfig} = await import('@kubernetes/client-node')
    const saved = {host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT}
    try {
      for (const [host, port] of [['10.96.0.1', '443'], ['fd00::1', '8080']]) {
        process.env.KUBERNETES_SERVICE_HOST = host
        process.env.KUBERNETES_SERVICE_PORT = port
        const theirs = new KubeConfig()
        theirs.loadFromCluster()
        const ours = inClusterConfig(process.env)
        // client-node reads the pod's namespace file into the context when there is one (not here, nor used by us).
        expect(ours).toEqual({clusters: theirs.getClusters(), users: theirs.getUsers(), contexts: theirs.getContexts().map(({namespace: _, ...c}) => c), currentContext: theirs.getCurrentContext()})
      }
    } finally {
      for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    }
    const text = JSON.stringify({
      clusters: [{name: 'c', cluster: {server: 'https://k:6443', 'certificate-authority-data': 'Q0E=', 'insecure-skip-tls-verify': true, 'tls-server-name': 'k'}}],
      users: [{name: 'u', user: {'client-certificate': '/c.pem', 'client-key-data': 'S0VZ', as: 'jane'}}],
      contexts: [{name: 'x', context: {cluster: 'c', user: 'u', namespace: 'ns'}}],
      'current-context': 'x',
    })
    const theirs = new KubeConfig()
    theirs.loadFromString(text)
    expect(await parseKubeconfig(text)).toEqual({clusters: theirs.getClusters(), users: theirs.getUsers(), contexts: theirs.getContexts(), currentContext: theirs.getCurrentContext()})
  })
})
