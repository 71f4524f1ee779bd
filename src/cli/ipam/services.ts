// Where `ipam check` finds Kubernetes Services (for addresses Calico assigned to LoadBalancers). calicoctl uses
// the Kubernetes datastore's own client, else a kubeconfig from --kubeconfig or $KUBECONFIG. The Kubernetes
// backend offers Services through the ServiceSource capability below; the embedded store has no cluster.
import type {Backend} from '../../datastore/backend.js'
import type {KubeService, ServiceLister} from './check.js'

/** Implemented by a Backend that can list the Kubernetes Services of its cluster. */
export interface ServiceSource {
  listServices(): Promise<KubeService[]>
}

function isServiceSource(b: object): b is ServiceSource {
  return typeof (b as Partial<ServiceSource>).listServices === 'function'
}

export const KUBECONFIG_MISSING = 'KUBECONFIG environment variable or --kubeconfig parameter not set'

/**
 * The lister for a check against `backend`. Throws calicoctl's error up front when an etcd datastore is used
 * without a kubeconfig; the Kubernetes connection itself is only made if the lister is called.
 */
export function serviceLister(backend: Backend, kubeconfigFlag: string, env: NodeJS.ProcessEnv): ServiceLister {
  if (isServiceSource(backend)) return () => backend.listServices()
  if (backend.type === 'embedded') return async () => []
  const kubeconfig = kubeconfigFlag || env.KUBECONFIG || ''
  if (!kubeconfig) throw new Error(KUBECONFIG_MISSING)
  return async () => {
    const {openBackend} = await import('../../datastore/factory.js')
    const {backend: kube} = await openBackend({datastoreType: 'kubernetes', kubeconfig})
    try {
      if (!isServiceSource(kube)) throw new Error('the Kubernetes datastore of this build cannot list Services')
      return await kube.listServices()
    } finally {
      await kube.close()
    }
  }
}
