// The Kubernetes backend under the shared contract: an in-process test API server with Calico's v1
// CRDs, a fresh server per test (so revisions restart, like the embedded harness).

import type {Backend} from '../../src/datastore/backend.js'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {startServer} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import type {Harness} from './harness.js'

export async function kubernetesHarness(): Promise<Harness & {server(): TestApiServer}> {
  let server = await startServer()
  const open: Backend[] = []
  const closeAll = async () => {
    for (const b of open.splice(0)) await b.close()
  }
  return {
    name: 'kubernetes',
    serverAssignsUid: true,
    server: () => server,
    async open() {
      const backend = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url}, {pageSize: 500})
      open.push(backend)
      return backend
    },
    async compact(revision) {
      server.compact(revision)
    },
    async reset() {
      await closeAll()
      await server.stop()
      server = await startServer()
    },
    async teardown() {
      await closeAll()
      await server.stop()
    },
  }
}
