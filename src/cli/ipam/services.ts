// Where `ipam check` finds Kubernetes Services (for addresses Calico assigned to LoadBalancers). As calicoctl:
// the Kubernetes datastore's own API connection, else a kubeconfig from --kubeconfig or $KUBECONFIG. The
// embedded store has no cluster, hence no Services.
import type {Backend} from '../../datastore/backend.js'
import type {KubeList, KubeObject, RequestOptionsExtra} from '../../datastore/kubernetes/client.js'
import type {KubeService, ServiceLister} from './check.js'

/** The one call of the Kubernetes API client used here. */
export interface KubeRequester {
  request<T>(method: string, path: string, extra?: RequestOptionsExtra): Promise<T>
}

export const KUBECONFIG_MISSING = 'KUBECONFIG environment variable or --kubeconfig parameter not set'

const PAGE_SIZE = 500

/** The fields of a core/v1 Service that the LoadBalancer check reads. */
export function serviceFromKube(o: KubeObject): KubeService {
  const spec = (o.spec ?? {}) as {type?: unknown; loadBalancerClass?: unknown; loadBalancerIP?: unknown}
  const ingress = ((o.status ?? {}) as {loadBalancer?: {ingress?: unknown}}).loadBalancer?.ingress
  const svc: KubeService = {
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name ?? '',
    type: typeof spec.type === 'string' ? spec.type : '',
    annotations: {...o.metadata.annotations},
    ingressIPs: Array.isArray(ingress)
      ? ingress.map((i) => (i as {ip?: unknown}).ip).filter((ip): ip is string => typeof ip === 'string')
      : [],
  }
  if (typeof spec.loadBalancerClass === 'string') svc.loadBalancerClass = spec.loadBalancerClass
  if (typeof spec.loadBalancerIP === 'string') svc.loadBalancerIP = spec.loadBalancerIP
  return svc
}

/** Every Service of the cluster, page by page. */
export async function listKubeServices(kube: KubeRequester): Promise<KubeService[]> {
  const out: KubeService[] = []
  let next: string | undefined
  do {
    const page = await kube.request<KubeList>('GET', '/api/v1/services', {query: {limit: PAGE_SIZE, continue: next}})
    out.push(...page.items.map(serviceFromKube))
    next = page.metadata.continue || undefined
  } while (next)
  return out
}

function kubeRequester(backend: Backend): KubeRequester | undefined {
  const client = (backend as {client?: Partial<KubeRequester>}).client
  return backend.type === 'kubernetes' && typeof client?.request === 'function' ? (client as KubeRequester) : undefined
}

/**
 * The lister for a check against `backend`. Throws calicoctl's error up front when an etcd datastore is used
 * without a kubeconfig; the Kubernetes API is only contacted if the lister is called.
 */
export function serviceLister(backend: Backend, kubeconfigFlag: string, env: NodeJS.ProcessEnv): ServiceLister {
  const own = kubeRequester(backend)
  if (own) return () => listKubeServices(own)
  if (backend.type === 'embedded') return async () => []
  const kubeconfig = kubeconfigFlag || env.KUBECONFIG || ''
  if (!kubeconfig) throw new Error(KUBECONFIG_MISSING)
  return async () => {
    const {KubeClient} = await import('../../datastore/kubernetes/client.js')
    const kube = await KubeClient.connect({datastoreType: 'kubernetes', kubeconfig}, env)
    try {
      return await listKubeServices(kube)
    } finally {
      kube.close()
    }
  }
}
