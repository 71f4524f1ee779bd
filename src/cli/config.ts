// Where calicoctl finds its datastore: libcalico-go's apiconfig rules (calicoctl-surface.md §3).
//
// - `--config` (default /etc/calico/calicoctl.cfg) exists → the file alone (env not merged);
//   missing default path → the environment alone; missing other path → `Error reading config file: <path>`.
// - The file is a strict CalicoAPIConfig document (unknown keys rejected, Go JSON's case-insensitive
//   key match, apiVersion/kind checked), with libcalico-go's error texts.
// - The environment is read like kelseyhightower/envconfig with prefix "calico": `CALICO_<VAR>`, then `<VAR>`;
//   a variable that is set but does not parse (e.g. an empty bool) is an error.
// - datastoreType defaults: `etcdv3` with etcdEndpoints, `kubernetes` with a kubeconfig or API endpoint,
//   otherwise our zero-setup `embedded` store (where Calico would assume kubernetes).

import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import yaml from 'js-yaml'
import type {DatastoreType} from '../datastore/backend.js'
import type {DatastoreConfig} from '../datastore/config.js'
import {parseBool, parseIntBase0} from './strconv.js'

export const DEFAULT_CONFIG_PATH = '/etc/calico/calicoctl.cfg'
const API_VERSION = 'projectcalico.org/v3'
const CONFIG_KIND = 'CalicoAPIConfig'
const DATASTORE_TYPES: readonly DatastoreType[] = ['embedded', 'etcdv3', 'kubernetes']

export class ConfigError extends Error {}

/** A non-default `--config` path that does not exist; calicoctl prints this on stdout and exits 1. */
export class ConfigFileMissingError extends ConfigError {
  constructor(readonly path: string) {
    super(`Error reading config file: ${path}`)
  }
}

type Env = Record<string, string | undefined>
type FieldType = 'string' | 'bool' | 'float32' | 'int'

interface Field {
  json: keyof DatastoreConfig
  /** Go field name, used in envconfig's error text. */
  go: string
  type: FieldType
  /** envconfig tag; absent for file-only fields. `null` marks the untagged K8sAPIToken. */
  env?: string | null
}

// CalicoAPIConfigSpec (with the embedded EtcdConfig and KubeConfig), in Go declaration order.
const FIELDS: readonly Field[] = [
  {json: 'datastoreType', go: 'DatastoreType', type: 'string', env: 'DATASTORE_TYPE'},
  {json: 'datastorePath', go: 'DatastorePath', type: 'string', env: 'DATASTORE_PATH'},
  {json: 'etcdEndpoints', go: 'EtcdEndpoints', type: 'string', env: 'ETCD_ENDPOINTS'},
  {json: 'etcdDiscoverySrv', go: 'EtcdDiscoverySrv', type: 'string', env: 'ETCD_DISCOVERY_SRV'},
  {json: 'etcdUsername', go: 'EtcdUsername', type: 'string', env: 'ETCD_USERNAME'},
  {json: 'etcdPassword', go: 'EtcdPassword', type: 'string', env: 'ETCD_PASSWORD'},
  {json: 'etcdKeyFile', go: 'EtcdKeyFile', type: 'string', env: 'ETCD_KEY_FILE'},
  {json: 'etcdCertFile', go: 'EtcdCertFile', type: 'string', env: 'ETCD_CERT_FILE'},
  {json: 'etcdCACertFile', go: 'EtcdCACertFile', type: 'string', env: 'ETCD_CA_CERT_FILE'},
  // Inline keys have no environment variables, to avoid accidental exposure.
  {json: 'etcdKey', go: 'EtcdKey', type: 'string'},
  {json: 'etcdCert', go: 'EtcdCert', type: 'string'},
  {json: 'etcdCACert', go: 'EtcdCACert', type: 'string'},
  {json: 'kubeconfig', go: 'Kubeconfig', type: 'string', env: 'KUBECONFIG'},
  {json: 'k8sAPIEndpoint', go: 'K8sAPIEndpoint', type: 'string', env: 'K8S_API_ENDPOINT'},
  {json: 'k8sKeyFile', go: 'K8sKeyFile', type: 'string', env: 'K8S_KEY_FILE'},
  {json: 'k8sCertFile', go: 'K8sCertFile', type: 'string', env: 'K8S_CERT_FILE'},
  {json: 'k8sCAFile', go: 'K8sCAFile', type: 'string', env: 'K8S_CA_FILE'},
  // Calico tags this `ignore:"true"` (sic), so envconfig still reads CALICO_K8SAPITOKEN.
  {json: 'k8sAPIToken', go: 'K8sAPIToken', type: 'string', env: null},
  {json: 'k8sInsecureSkipTLSVerify', go: 'K8sInsecureSkipTLSVerify', type: 'bool', env: 'K8S_INSECURE_SKIP_TLS_VERIFY'},
  {json: 'k8sDisableNodePoll', go: 'K8sDisableNodePoll', type: 'bool', env: 'K8S_DISABLE_NODE_POLL'},
  {json: 'usePodCIDR', go: 'K8sUsePodCIDR', type: 'bool', env: 'USE_POD_CIDR'},
  {json: 'kubeconfigInline', go: 'KubeconfigInline', type: 'string'},
  {json: 'k8sClientQPS', go: 'K8sClientQPS', type: 'float32', env: 'K8S_CLIENT_QPS'},
  {json: 'k8sClientBurst', go: 'K8sClientBurst', type: 'int', env: 'K8S_CLIENT_BURST'},
  {json: 'k8sCurrentContext', go: 'K8sCurrentContext', type: 'string', env: 'K8S_CURRENT_CONTEXT'},
  {json: 'calicoAPIGroup', go: 'CalicoAPIGroup', type: 'string', env: 'CALICO_API_GROUP'},
]

const OBJECT_META_KEYS = [
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers',
  'managedFields',
]

export interface LoadConfigOptions {
  /** `-c/--config`; defaults to /etc/calico/calicoctl.cfg. */
  configPath?: string
  env?: Env
  /** `--context`: overrides K8S_CURRENT_CONTEXT (so it only matters for environment config, as in calicoctl). */
  context?: string
  /** The path whose absence means "use the environment"; DEFAULT_CONFIG_PATH unless testing. */
  defaultConfigPath?: string
}

/** Loads the datastore configuration from the config file or the environment (see the header). */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<DatastoreConfig> {
  const defaultPath = opts.defaultConfigPath ?? DEFAULT_CONFIG_PATH
  const configPath = opts.configPath || defaultPath
  const env: Env = {...(opts.env ?? process.env)}
  if (opts.context) env.K8S_CURRENT_CONTEXT = opts.context
  let exists: boolean
  try {
    statSync(configPath)
    exists = true
  } catch {
    exists = false
  }
  if (!exists) {
    if (configPath !== defaultPath) throw new ConfigFileMissingError(configPath)
    return configFromEnv(env)
  }
  let text: string
  try {
    text = readFileSync(configPath, 'utf8')
  } catch (err) {
    // Go's os.ReadFile wording.
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EISDIR') throw new ConfigError(`read ${configPath}: is a directory`)
    if (code === 'EACCES') throw new ConfigError(`open ${configPath}: permission denied`)
    throw new ConfigError((err as Error).message)
  }
  return parseConfigFile(text, configPath, env)
}

// ---------- the environment ----------

/** Parses a value as Go's strconv would for the field's type, or returns the strconv error text. */
function parseEnvValue(type: FieldType, value: string): {ok: true; v: string | boolean | number} | {ok: false; err: string} {
  switch (type) {
    case 'string':
      return {ok: true, v: value}
    case 'bool': {
      const v = parseBool(value)
      if (v === undefined) return {ok: false, err: `strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`}
      return {ok: true, v}
    }
    case 'float32': {
      const ok = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) || /^[+-]?(inf|infinity|nan)$/i.test(value)
      if (!ok) return {ok: false, err: `strconv.ParseFloat: parsing ${JSON.stringify(value)}: invalid syntax`}
      return {ok: true, v: Math.fround(Number(value.replace(/inf(inity)?/i, 'Infinity')))}
    }
    case 'int': {
      // Base 0 (envconfig's ParseInt(s, 0, ...)) also takes underscores between the digits; strconv reads the rest.
      const syntax = /^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.test(value)
      const n = syntax ? parseIntBase0(value.replace(/_/g, '')) : undefined
      if (n === undefined) return {ok: false, err: `strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`}
      return {ok: true, v: Number(n)}
    }
  }
}

/** CalicoAPIConfigSpec from environment variables (envconfig.Process("calico", ...)). */
export function configFromEnv(env: Env): DatastoreConfig {
  const out: Partial<Record<keyof DatastoreConfig, unknown>> = {}
  for (const f of FIELDS) {
    if (f.env === undefined) continue
    const key = f.env === null ? `CALICO_${f.go.toUpperCase()}` : `CALICO_${f.env}`
    let value = env[key]
    if (value === undefined && f.env) value = env[f.env]
    if (value === undefined) continue
    const parsed = parseEnvValue(f.type, value)
    if (!parsed.ok) {
      throw new ConfigError(
        `failed to load config from env vars: envconfig.Process: assigning ${key} to ${f.go}: ` +
          `converting '${value}' to type ${f.type}. details: ${parsed.err}`,
      )
    }
    if (parsed.v !== '') out[f.json] = parsed.v
  }
  return applyDefaults(out, env)
}

// ---------- the file ----------

// sigs.k8s.io/yaml converts the file with go-yaml v2, which reads YAML 1.1 booleans (`yes`, `on`, `n`...)
// when unquoted; js-yaml's default schema only knows true/false.
const YAML11_TRUE = ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']
const YAML11_FALSE = ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']
const YAML11_BOOL = new yaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (d: string) => YAML11_TRUE.includes(d) || YAML11_FALSE.includes(d),
  construct: (d: string) => YAML11_TRUE.includes(d),
  predicate: (v: unknown) => typeof v === 'boolean',
  represent: (v: object) => String(v),
})
const CONFIG_SCHEMA = yaml.DEFAULT_SCHEMA.extend({implicit: [YAML11_BOOL]})

function jsonType(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v === 'object' ? 'object' : typeof v
}

/** Go's encoding/json field lookup: an exact match first, then a case-insensitive one. */
function matchKey(key: string, known: readonly string[]): string | undefined {
  return known.find((k) => k === key) ?? known.find((k) => k.toLowerCase() === key.toLowerCase())
}

const GO_TYPE: Record<FieldType, string> = {string: 'string', bool: 'bool', float32: 'float32', int: 'int'}

function decodeSpec(spec: unknown, fail: (msg: string) => never): Partial<Record<keyof DatastoreConfig, unknown>> {
  const out: Partial<Record<keyof DatastoreConfig, unknown>> = {}
  if (spec === null || spec === undefined) return out
  if (jsonType(spec) !== 'object') fail(`json: cannot unmarshal ${jsonType(spec)} into Go struct field CalicoAPIConfig.spec of type apiconfig.CalicoAPIConfigSpec`)
  const names = FIELDS.map((f) => f.json as string)
  for (const [k, v] of Object.entries(spec as Record<string, unknown>)) {
    const name = matchKey(k, names)
    if (!name) fail(`json: unknown field ${JSON.stringify(k)}`)
    const f = FIELDS.find((x) => x.json === name) as Field
    if (v === null) continue // JSON null leaves a Go value unchanged
    const t = jsonType(v)
    const want = f.type === 'string' ? 'string' : f.type === 'bool' ? 'boolean' : 'number'
    if (t !== want || (f.type === 'int' && !Number.isInteger(v))) {
      const what = t === 'boolean' ? 'bool' : t === 'number' && f.type === 'int' ? `number ${String(v)}` : t
      fail(`json: cannot unmarshal ${what} into Go struct field CalicoAPIConfigSpec.spec.${name} of type ${GO_TYPE[f.type]}`)
    }
    if (v !== '') out[f.json] = f.type === 'float32' ? Math.fround(v as number) : v
  }
  return out
}

/** Parses calicoctl.cfg contents (YAML or JSON) strictly; errors carry libcalico-go's texts. */
export function parseConfigFile(text: string, file: string, env: Env = {}): DatastoreConfig {
  const fail = (msg: string): never => {
    throw new ConfigError(`syntax error in ${file}: failed to parse config as YAML/JSON: ${msg}`)
  }
  let doc: unknown
  try {
    doc = yaml.load(text, {schema: CONFIG_SCHEMA})
  } catch (err) {
    const e = err as yaml.YAMLException
    fail(`error converting YAML to JSON: yaml: line ${(e.mark?.line ?? 0) + 1}: ${e.reason ?? e.message}`)
  }
  const decodeFail = (msg: string): never => fail(`error unmarshaling JSON: while decoding JSON: ${msg}`)
  let apiVersion = ''
  let kind = ''
  let spec: Partial<Record<keyof DatastoreConfig, unknown>> = {}
  if (doc !== null && doc !== undefined) {
    if (jsonType(doc) !== 'object') decodeFail(`json: cannot unmarshal ${jsonType(doc)} into Go value of type apiconfig.CalicoAPIConfig`)
    for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
      const name = matchKey(k, ['kind', 'apiVersion', 'metadata', 'spec'])
      if (!name) decodeFail(`json: unknown field ${JSON.stringify(k)}`)
      if (name === 'kind' || name === 'apiVersion') {
        if (v !== null && typeof v !== 'string') {
          decodeFail(`json: cannot unmarshal ${jsonType(v)} into Go struct field CalicoAPIConfig.${name} of type string`)
        }
        if (name === 'kind') kind = (v as string | null) ?? ''
        else apiVersion = (v as string | null) ?? ''
      } else if (name === 'metadata') {
        // Ignored by calicoctl, but still strictly decoded as an ObjectMeta.
        if (v !== null && jsonType(v) !== 'object') {
          decodeFail(`json: cannot unmarshal ${jsonType(v)} into Go struct field CalicoAPIConfig.metadata of type v1.ObjectMeta`)
        }
        for (const mk of Object.keys((v ?? {}) as object)) {
          if (!matchKey(mk, OBJECT_META_KEYS)) decodeFail(`json: unknown field ${JSON.stringify(mk)}`)
        }
      } else {
        spec = decodeSpec(v, decodeFail)
      }
    }
  }
  if (apiVersion !== API_VERSION) throw new ConfigError(`syntax error in ${file}: invalid config file: unknown APIVersion '${apiVersion}'`)
  if (kind !== CONFIG_KIND) throw new ConfigError(`syntax error in ${file}: invalid config file: expected kind '${CONFIG_KIND}', got '${kind}'`)
  return applyDefaults(spec, env)
}

// ---------- defaults ----------

/** libcalico-go's applyConfigDefaults, with `embedded` when nothing points at etcd or Kubernetes. */
function applyDefaults(spec: Partial<Record<keyof DatastoreConfig, unknown>>, env: Env): DatastoreConfig {
  const cfg = {...spec} as DatastoreConfig
  const given = spec.datastoreType as string | undefined
  if (given === undefined || given === '') {
    if (cfg.etcdEndpoints) cfg.datastoreType = 'etcdv3'
    else if (cfg.kubeconfig || cfg.k8sAPIEndpoint || cfg.kubeconfigInline) cfg.datastoreType = 'kubernetes'
    else cfg.datastoreType = 'embedded'
  } else if (!DATASTORE_TYPES.includes(given as DatastoreType)) {
    throw new ConfigError(`unknown datastore type: ${given} (expected one of: ${DATASTORE_TYPES.join(', ')})`)
  }
  if (cfg.datastoreType === 'kubernetes' && !cfg.kubeconfig && !cfg.k8sAPIEndpoint && env.HOME) {
    // Like client-go's default loading rules: use ~/.kube/config when it exists.
    const kubeconfig = path.join(env.HOME, '.kube', 'config')
    if (existsSync(kubeconfig)) cfg.kubeconfig = kubeconfig
  }
  return cfg
}
