// Where the plugin's node name, MTU and datastore come from. The datastore modules are imported only when a
// command needs them, so VERSION and configuration errors never load etcd or SQLite.
import {existsSync, readFileSync} from 'node:fs'
import {hostname} from 'node:os'

import type {Backend} from '../datastore/backend.js'
import type {DatastoreConfig} from '../datastore/config.js'
import type {NetConf} from './config.js'

/** Written by calico-node; Calico's default for `nodename_file`. */
export const DEFAULT_NODENAME_FILE = '/var/lib/calico/nodename'
/** Written by calico-node with the pod MTU it computed for the enabled encapsulations. */
export const MTU_FILE = '/var/lib/calico/mtu'
export const DEFAULT_MTU = 1500

function readTrimmed(file: string): string | undefined {
  if (!existsSync(file)) return undefined
  const text = readFileSync(file, 'utf8').trim()
  return text === '' ? undefined : text
}

/**
 * `nodename`, else the node name file, else the deprecated `hostname`, else the host name in lower case
 * (utils.DetermineNodename, names.Hostname).
 */
export function determineNodename(conf: NetConf): string {
  return conf.nodename ?? readTrimmed(conf.nodenameFile ?? DEFAULT_NODENAME_FILE) ?? conf.hostname ?? hostname().trim().toLowerCase()
}

/** `mtu` when set, else calico-node's MTU file, else 1500 (utils.MTUFromFile). */
export function determineMTU(conf: NetConf, mtuFile = MTU_FILE): number {
  if (conf.mtu > 0) return conf.mtu
  const text = readTrimmed(mtuFile)
  const n = text === undefined ? NaN : Number(text)
  return Number.isInteger(n) && n >= 68 ? n : DEFAULT_MTU
}

/** The network configuration's datastore keys as the datastore layer's config (calicoctl.cfg field names). */
export function datastoreConfig(conf: NetConf): DatastoreConfig {
  const out: DatastoreConfig = {datastoreType: conf.datastoreType}
  if (conf.datastorePath !== undefined) out.datastorePath = conf.datastorePath
  if (conf.etcdEndpoints !== undefined) out.etcdEndpoints = conf.etcdEndpoints
  if (conf.etcdCACertFile !== undefined) out.etcdCACertFile = conf.etcdCACertFile
  if (conf.etcdCertFile !== undefined) out.etcdCertFile = conf.etcdCertFile
  if (conf.etcdKeyFile !== undefined) out.etcdKeyFile = conf.etcdKeyFile
  if (conf.kubeconfig !== undefined) out.kubeconfig = conf.kubeconfig
  // utils.CreateClient hands these to the Calico client as K8S_API_ENDPOINT, K8S_API_TOKEN and CALICO_API_GROUP;
  // the client certificate settings reach only its pod reads, which here share the datastore's connection.
  if (conf.k8sAPIRoot !== undefined) out.k8sAPIEndpoint = conf.k8sAPIRoot
  if (conf.k8sAuthToken !== undefined) out.k8sAPIToken = conf.k8sAuthToken
  if (conf.k8sClientCertificate !== undefined) out.k8sCertFile = conf.k8sClientCertificate
  if (conf.k8sClientKey !== undefined) out.k8sKeyFile = conf.k8sClientKey
  if (conf.k8sCertificateAuthority !== undefined) out.k8sCAFile = conf.k8sCertificateAuthority
  if (conf.calicoAPIGroup !== undefined) out.calicoAPIGroup = conf.calicoAPIGroup
  return out
}

/**
 * Connection deadline for etcd: kubelet may start many plugins at once on a busy node, and a slow first answer
 * is not a reason to fail a pod (Calico's plugin allows its IPAM calls 90 s).
 */
export const ETCD_DIAL_TIMEOUT_MS = 30_000

export async function openDatastore(conf: NetConf): Promise<Backend> {
  const {openBackend} = await import('../datastore/factory.js')
  return (await openBackend(datastoreConfig(conf), {etcdDialTimeoutMs: ETCD_DIAL_TIMEOUT_MS})).backend
}
