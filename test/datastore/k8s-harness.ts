// The Kubernetes backend under the shared contract: an in-process test API server with Calico's v1
// (or v3) CRDs, a fresh server per test (so revisions restart, like the embedded harness).

import type {Backend} from '../../src/datastore/backend.js'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {startServer} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import type {Harness} from './harness.js'

export async function kubernetesHarness(crds: 'v1' | 'v3' = 'v1'): Promise<Harness & {server(): TestApiServer}> {
  let server = await startServer({crds})
  const open: Backend[] = []
  const closeAll = async () => {
    for (const b of open.splice(0)) await b.close()
  }
  return {
    name: 'kubernetes',
    // v1 CRs carry the v3 metadata in Calico's annotation, so only the uid is the server's; v3 CRs are plain objects.
    serverAssigned: crds === 'v1' ? ['uid'] : ['uid', 'creationTimestamp', 'generation'],
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
      server = await startServer({crds})
    },
    async teardown() {
      await closeAll()
      await server.stop()
    },
  }
}
