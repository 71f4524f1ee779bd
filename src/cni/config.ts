// The CNI invocation, parsed and checked without I/O: the environment (CNI_COMMAND, CNI_CONTAINERID, ...),
// CNI_ARGS (`K=V;K=V`), and the network configuration on stdin with Calico's keys (cni-plugin/pkg/types).
// Every problem is a CniError carrying the code a runtime expects.
import {CNI_CODES, CniError} from './errors.js'
import {isObject, type JsonObject} from '../api/json.js'

/** Versions whose result format this plugin can write (libcni's PluginSupports list of Calico). */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number]

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION'

export interface CniEnv {
  command: CniCommand
  containerID: string
  /** Path of the container's network namespace; may be empty on DEL. */
  netns: string
  ifName: string
  /** CNI_ARGS, parsed. */
  args: Record<string, string>
  /** Directories searched for delegated plugins (CNI_PATH). */
  path: string[]
}

export type DatastoreKind = 'etcdv3' | 'kubernetes' | 'embedded'

export interface IpamConf {
  type: string
  ipv4Pools: string[]
  ipv6Pools: string[]
  assignIPv4: boolean
  assignIPv6: boolean
}

/** `feature_control`: annotation-driven features Calico keeps off unless the network configuration enables them. */
export interface FeatureControl {
  /** `cni.projectcalico.org/ipAddrsNoIpam`: addresses taken from the pod annotation without IPAM. */
  ipAddrsNoIpam: boolean
  /** `cni.projectcalico.org/floatingIPs`: DNAT addresses for the pod. */
  floatingIPs: boolean
}

export interface CniLabel {
  key: string
  value: string
}

export interface NetConf {
  cniVersion: CniVersion
  name: string
  type: string
  datastoreType: DatastoreKind
  datastorePath?: string
  etcdEndpoints?: string
  etcdCACertFile?: string
  etcdCertFile?: string
  etcdKeyFile?: string
  kubeconfig?: string
  /** `kubernetes.k8s_api_root` (else `policy.k8s_api_root`), with any legacy `/api/...` suffix cut off. */
  k8sAPIRoot?: string
  /** `policy.k8s_auth_token`, `k8s_client_certificate`, `k8s_client_key`, `k8s_certificate_authority`. */
  k8sAuthToken?: string
  k8sClientCertificate?: string
  k8sClientKey?: string
  k8sCertificateAuthority?: string
  /** `kubernetes.node_name`: the Node whose pod CIDRs host-local's `usePodCidr` stands for (default: the node name). */
  k8sNodeName?: string
  /** `calico_api_group`: which Calico CRD group the Kubernetes datastore uses (default: discovered). */
  calicoAPIGroup?: string
  /** `policy.type`; `k8s` makes Kubernetes pods' labels, profiles and annotations come from the API server. */
  policyType?: string
  featureControl: FeatureControl
  /** `include_default_routes`: the default routes as well as host-local's own `routes` inside the pod. */
  includeDefaultRoutes: boolean
  nodename?: string
  nodenameFile?: string
  /** `hostname`: Calico's deprecated spelling of nodename, used after the node name file. */
  hostname?: string
  /** 0 means: read the MTU file Calico's node agent writes, else 1500. */
  mtu: number
  ipam: IpamConf
  logLevel: LogLevel
  /** CNI conventions `args.cni.labels`: pod labels when no Kubernetes datastore supplies them. */
  labels: CniLabel[]
  /** The previous plugin's result (chained ADD, CHECK, DEL), as given. */
  prevResult?: unknown
  /** The whole configuration as received, for delegating to another IPAM plugin unchanged. */
  raw: Record<string, unknown>
}

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'fatal' | 'panic'
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error', 'fatal', 'panic']

const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION']

// libcni utils.ValidateContainerID / ValidateInterfaceName / ValidateNetworkName.
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/

/** `IgnoreUnknown=1;K8S_POD_NAME=web` → record; a pair without `=` is invalid (libcni LoadArgs). */
export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (text === '') return out
  for (const pair of text.split(';')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new CniError(CNI_CODES.invalidEnvironment, `ARGS: invalid pair "${pair}"`)
    out[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return out
}

function validateInterfaceName(name: string): void {
  if (name === '') throw new CniError(CNI_CODES.invalidEnvironment, 'interface name is empty')
  if (name.length > 15) throw new CniError(CNI_CODES.invalidEnvironment, 'interface name is too long', `interface name should be less than 16 characters`)
  if (name === '.' || name === '..') throw new CniError(CNI_CODES.invalidEnvironment, 'interface name is . or ..')
  if (/[\s/:]/.test(name)) throw new CniError(CNI_CODES.invalidEnvironment, 'interface name contains / or : or whitespace characters')
}

/** Reads and checks the CNI_* variables the spec requires for the command (libcni skel getCmdArgsFromEnv). */
export function parseCniEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = env.CNI_COMMAND ?? ''
  if (command === '') throw new CniError(CNI_CODES.invalidEnvironment, 'required env variables [CNI_COMMAND] missing')
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new CniError(CNI_CODES.invalidEnvironment, `unknown CNI_COMMAND: ${command}`)
  }
  const cmd = command as CniCommand
  const get = (k: string) => env[k] ?? ''
  if (cmd !== 'VERSION') {
    // CNI_NETNS may be absent on DEL: the runtime may have lost the namespace already.
    const required = ['CNI_CONTAINERID', ...(cmd === 'DEL' ? [] : ['CNI_NETNS']), 'CNI_IFNAME', 'CNI_PATH']
    const missing = required.filter((k) => get(k) === '')
    if (missing.length > 0) throw new CniError(CNI_CODES.invalidEnvironment, `required env variables [${missing.join(' ')}] missing`)
    if (!CONTAINER_ID.test(get('CNI_CONTAINERID'))) throw new CniError(CNI_CODES.invalidEnvironment, 'invalid characters in containerID', get('CNI_CONTAINERID'))
    validateInterfaceName(get('CNI_IFNAME'))
  }
  return {
    command: cmd,
    containerID: get('CNI_CONTAINERID'),
    netns: get('CNI_NETNS'),
    ifName: get('CNI_IFNAME'),
    args: parseCniArgs(get('CNI_ARGS')),
    path: get('CNI_PATH').split(':').filter((p) => p !== ''),
  }
}

function invalid(msg: string): CniError {
  return new CniError(CNI_CODES.invalidNetworkConfig, msg)
}

function optString(o: JsonObject, key: string, where = ''): string | undefined {
  const v = o[key]
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw invalid(`${where}${key} must be a string`)
  return v
}

function stringList(o: JsonObject, key: string, where: string): string[] {
  const v = o[key]
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(`${where}${key} must be a list of strings`)
  return v as string[]
}

/** Calico reads assign_ipv4/assign_ipv6 as the strings "true"/"false"; JSON booleans are accepted too. */
function optFlag(o: JsonObject, key: string, fallback: boolean): boolean {
  const v = o[key]
  if (v === undefined || v === null) return fallback
  if (v === true || v === 'true') return true
  if (v === false || v === 'false') return false
  throw invalid(`ipam.${key} must be "true" or "false"`)
}

/** A JSON boolean flag (Go bool fields: absent is false). */
function optBool(o: JsonObject, key: string, where: string): boolean {
  const v = o[key]
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean') throw invalid(`${where}${key} must be true or false`)
  return v
}

/** The cniVersion a configuration asks for, for error replies before the whole config is known to be valid. */
export function peekCniVersion(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as JsonObject).cniVersion
    return typeof v === 'string' && v !== '' ? v : '0.1.0'
  } catch {
    return '1.0.0'
  }
}

/** Parses the network configuration (a single plugin's config, as a runtime passes it on stdin). */
export function parseNetConf(stdin: string): NetConf {
  let doc: unknown
  try {
    doc = JSON.parse(stdin)
  } catch (err) {
    throw new CniError(CNI_CODES.decodingFailure, `decoding version from network config: ${(err as Error).message}`)
  }
  if (!isObject(doc)) throw new CniError(CNI_CODES.decodingFailure, 'decoding version from network config: not a JSON object')
  const version = typeof doc.cniVersion === 'string' && doc.cniVersion !== '' ? doc.cniVersion : '0.1.0'
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new CniError(
      CNI_CODES.incompatibleVersion,
      'incompatible CNI versions',
      `config is "${version}", plugin supports [${SUPPORTED_VERSIONS.map((v) => `"${v}"`).join(' ')}]`,
    )
  }
  const name = optString(doc, 'name')
  if (name === undefined) throw invalid('missing network name')
  if (!NETWORK_NAME.test(name)) throw invalid('invalid characters found in network name')
  const type = optString(doc, 'type')
  if (type === undefined) throw invalid('missing plugin type')

  const datastore = optString(doc, 'datastore_type') ?? 'etcdv3'
  if (datastore !== 'etcdv3' && datastore !== 'kubernetes' && datastore !== 'embedded') {
    throw invalid(`unsupported datastore_type "${datastore}" (use etcdv3, kubernetes or embedded)`)
  }
  const mtu = doc.mtu ?? 0
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 0 || (mtu > 0 && mtu < 68) || mtu > 65535) {
    throw invalid(`invalid mtu ${JSON.stringify(mtu)}: must be an integer between 68 and 65535`)
  }
  const ipamDoc = doc.ipam ?? {}
  if (!isObject(ipamDoc)) throw invalid('ipam must be an object')
  const ipamType = optString(ipamDoc, 'type', 'ipam.')
  if (ipamType === undefined) throw invalid('missing ipam.type')
  const ipam: IpamConf = {
    type: ipamType,
    ipv4Pools: stringList(ipamDoc, 'ipv4_pools', 'ipam.'),
    ipv6Pools: stringList(ipamDoc, 'ipv6_pools', 'ipam.'),
    assignIPv4: optFlag(ipamDoc, 'assign_ipv4', true),
    assignIPv6: optFlag(ipamDoc, 'assign_ipv6', false),
  }
  if (!ipam.assignIPv4 && !ipam.assignIPv6) throw invalid('ipam: assign_ipv4 and assign_ipv6 are both false; nothing to assign')

  const level = (optString(doc, 'log_level') ?? 'info').toLowerCase()
  const logLevel = (level === 'warn' ? 'warning' : level) as LogLevel
  if (!LOG_LEVELS.includes(logLevel)) throw invalid(`invalid log_level "${level}"`)

  const k8s = doc.kubernetes ?? {}
  if (!isObject(k8s)) throw invalid('kubernetes must be an object')
  const policy = doc.policy ?? {}
  if (!isObject(policy)) throw invalid('policy must be an object')
  const features = doc.feature_control ?? {}
  if (!isObject(features)) throw invalid('feature_control must be an object')

  const conf: NetConf = {
    cniVersion: version as CniVersion,
    name,
    type,
    datastoreType: datastore,
    mtu,
    ipam,
    logLevel,
    labels: parseLabels(doc.args),
    featureControl: {ipAddrsNoIpam: optBool(features, 'ip_addrs_no_ipam', 'feature_control.'), floatingIPs: optBool(features, 'floating_ips', 'feature_control.')},
    includeDefaultRoutes: optBool(doc, 'include_default_routes', ''),
    raw: doc,
  }
  const set = <K extends keyof NetConf>(k: K, v: NetConf[K] | undefined) => {
    if (v !== undefined) conf[k] = v
  }
  set('datastorePath', optString(doc, 'datastore_path'))
  set('etcdEndpoints', optString(doc, 'etcd_endpoints'))
  set('etcdCACertFile', optString(doc, 'etcd_ca_cert_file'))
  set('etcdCertFile', optString(doc, 'etcd_cert_file'))
  set('etcdKeyFile', optString(doc, 'etcd_key_file'))
  set('kubeconfig', optString(k8s, 'kubeconfig', 'kubernetes.'))
  set('k8sNodeName', optString(k8s, 'node_name', 'kubernetes.'))
  // Early configurations gave the API root as a full `https://host:6443/api/v1/` URL (getK8sRestConfig).
  set('k8sAPIRoot', (optString(k8s, 'k8s_api_root', 'kubernetes.') ?? optString(policy, 'k8s_api_root', 'policy.'))?.split('/api/')[0])
  set('k8sAuthToken', optString(policy, 'k8s_auth_token', 'policy.'))
  set('k8sClientCertificate', optString(policy, 'k8s_client_certificate', 'policy.'))
  set('k8sClientKey', optString(policy, 'k8s_client_key', 'policy.'))
  set('k8sCertificateAuthority', optString(policy, 'k8s_certificate_authority', 'policy.'))
  set('policyType', optString(policy, 'type', 'policy.'))
  set('calicoAPIGroup', optString(doc, 'calico_api_group'))
  set('nodename', optString(doc, 'nodename'))
  set('nodenameFile', optString(doc, 'nodename_file'))
  set('hostname', optString(doc, 'hostname'))
  if (doc.prevResult !== undefined) conf.prevResult = doc.prevResult
  if (datastore === 'etcdv3' && conf.etcdEndpoints === undefined) throw invalid('etcd_endpoints is required for datastore_type etcdv3')
  if (datastore === 'embedded' && conf.datastorePath === undefined) throw invalid('datastore_path is required for datastore_type embedded')
  return conf
}

/** `args: {cni: {labels: [{key, value}]}}` (CNI conventions). */
function parseLabels(args: unknown): CniLabel[] {
  if (args === undefined || args === null) return []
  if (!isObject(args)) throw invalid('args must be an object')
  const cni = args.cni
  if (cni === undefined || cni === null) return []
  if (!isObject(cni)) throw invalid('args.cni must be an object')
  const labels = cni.labels
  if (labels === undefined || labels === null) return []
  if (!Array.isArray(labels)) throw invalid('args.cni.labels must be a list')
  return labels.map((l, i) => {
    if (!isObject(l) || typeof l.key !== 'string' || l.key === '' || typeof l.value !== 'string') {
      throw invalid(`args.cni.labels[${i}] must be {"key": string, "value": string}`)
    }
    return {key: l.key, value: l.value}
  })
}
