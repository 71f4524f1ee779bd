import type {DatastoreType} from './backend.js'

/**
 * CalicoAPIConfig's spec: how to reach a datastore. Field names are calicoctl.cfg's JSON keys;
 * src/cli/config.ts fills this from the file or the environment.
 */
export interface DatastoreConfig {
  datastoreType: DatastoreType
  /** Embedded store directory (ours; env DATASTORE_PATH). */
  datastorePath?: string
  etcdEndpoints?: string
  etcdDiscoverySrv?: string
  etcdUsername?: string
  etcdPassword?: string
  etcdKeyFile?: string
  etcdCertFile?: string
  etcdCACertFile?: string
  /** Inline PEM (file only). */
  etcdKey?: string
  etcdCert?: string
  etcdCACert?: string
  kubeconfig?: string
  kubeconfigInline?: string
  k8sAPIEndpoint?: string
  k8sKeyFile?: string
  k8sCertFile?: string
  k8sCAFile?: string
  k8sAPIToken?: string
  k8sInsecureSkipTLSVerify?: boolean
  k8sDisableNodePoll?: boolean
  k8sCurrentContext?: string
  k8sClientQPS?: number
  k8sClientBurst?: number
  usePodCIDR?: boolean
  calicoAPIGroup?: string
}
