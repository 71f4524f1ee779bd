import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {
  ConfigError, ConfigFileMissingError, DEFAULT_CONFIG_PATH, configFromEnv, loadConfig, parseConfigFile,
} from '../../src/cli/config.js'

const dir = mkdtempSync(path.join(tmpdir(), 'calicoctl-config-test-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function file(name: string, text: string): string {
  const p = path.join(dir, name)
  writeFileSync(p, text)
  return p
}

const HEADER = 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n'

describe('config source selection (§3.1)', () => {
  it('uses the file alone when it exists, ignoring the environment', async () => {
    const p = file('etcd.cfg', `${HEADER}metadata:\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: http://etcd1:2379,http://etcd2:2379\n`)
    const cfg = await loadConfig({configPath: p, env: {DATASTORE_TYPE: 'kubernetes', ETCD_USERNAME: 'u'}})
    expect(cfg).toEqual({datastoreType: 'etcdv3', etcdEndpoints: 'http://etcd1:2379,http://etcd2:2379'})
  })

  it('reports a missing non-default path with calicoctl text', async () => {
    const p = path.join(dir, 'nope.cfg')
    await expect(loadConfig({configPath: p, env: {}})).rejects.toThrow(new ConfigFileMissingError(p))
    await expect(loadConfig({configPath: p, env: {}})).rejects.toThrow(`Error reading config file: ${p}`)
  })

  it('falls back to the environment when the default path is missing', async () => {
    const defaultConfigPath = path.join(dir, 'absent-default.cfg')
    expect(await loadConfig({defaultConfigPath, env: {ETCD_ENDPOINTS: 'http://127.0.0.1:2379'}})).toEqual({
      datastoreType: 'etcdv3', etcdEndpoints: 'http://127.0.0.1:2379',
    })
    expect(await loadConfig({configPath: defaultConfigPath, defaultConfigPath, env: {}})).toEqual({datastoreType: 'embedded'})
    expect(await loadConfig({defaultConfigPath, env: {DATASTORE_TYPE: 'kubernetes', KUBECONFIG: '/k'}, context: 'main'})).toEqual({
      datastoreType: 'kubernetes', kubeconfig: '/k', k8sCurrentContext: 'main',
    })
    expect(DEFAULT_CONFIG_PATH).toBe('/etc/calico/calicoctl.cfg')
  })

  it('ignores --context when the config comes from a file', async () => {
    const p = file('ctx.cfg', `${HEADER}spec:\n  datastoreType: kubernetes\n  kubeconfig: /k\n`)
    expect((await loadConfig({configPath: p, env: {}, context: 'main'})).k8sCurrentContext).toBeUndefined()
  })
})

describe('environment (envconfig with prefix calico)', () => {
  it('prefers CALICO_<VAR> over <VAR>', () => {
    expect(configFromEnv({CALICO_ETCD_ENDPOINTS: 'http://a:2379', ETCD_ENDPOINTS: 'http://b:2379'}).etcdEndpoints).toBe('http://a:2379')
    expect(configFromEnv({CALICO_DATASTORE_TYPE: 'etcdv3', DATASTORE_TYPE: 'kubernetes', KUBECONFIG: '/k'}).datastoreType).toBe('etcdv3')
  })

  it('reads every variable of the reference table with its type', () => {
    const cfg = configFromEnv({
      DATASTORE_TYPE: 'kubernetes', DATASTORE_PATH: '/var/lib/x', ETCD_DISCOVERY_SRV: 'example.com', ETCD_USERNAME: 'u',
      ETCD_PASSWORD: 'p', ETCD_KEY_FILE: '/k', ETCD_CERT_FILE: '/c', ETCD_CA_CERT_FILE: '/ca', KUBECONFIG: '/kc:/kc2',
      K8S_API_ENDPOINT: 'https://1.2.3.4:6443', K8S_KEY_FILE: '/kk', K8S_CERT_FILE: '/kcert', K8S_CA_FILE: '/kca',
      CALICO_K8SAPITOKEN: 'tok', K8S_INSECURE_SKIP_TLS_VERIFY: 'true', K8S_DISABLE_NODE_POLL: '0', USE_POD_CIDR: 'T',
      K8S_CLIENT_QPS: '50.5', K8S_CLIENT_BURST: '0x10', K8S_CURRENT_CONTEXT: 'ctx', CALICO_API_GROUP: 'crd.projectcalico.org',
    })
    expect(cfg).toEqual({
      datastoreType: 'kubernetes', datastorePath: '/var/lib/x', etcdDiscoverySrv: 'example.com', etcdUsername: 'u',
      etcdPassword: 'p', etcdKeyFile: '/k', etcdCertFile: '/c', etcdCACertFile: '/ca', kubeconfig: '/kc:/kc2',
      k8sAPIEndpoint: 'https://1.2.3.4:6443', k8sKeyFile: '/kk', k8sCertFile: '/kcert', k8sCAFile: '/kca', k8sAPIToken: 'tok',
      k8sInsecureSkipTLSVerify: true, k8sDisableNodePoll: false, usePodCIDR: true, k8sClientQPS: 50.5, k8sClientBurst: 16,
      k8sCurrentContext: 'ctx', calicoAPIGroup: 'crd.projectcalico.org',
    })
  })

  it('does not read file-only fields or the documented-but-unread K8S_TOKEN', () => {
    expect(configFromEnv({ETCD_KEY: 'pem', KUBECONFIGINLINE: 'x', K8S_TOKEN: 't', K8SAPITOKEN: 't'})).toEqual({datastoreType: 'embedded'})
  })

  it('defaults the datastore type from what is configured', () => {
    expect(configFromEnv({}).datastoreType).toBe('embedded')
    expect(configFromEnv({ETCD_ENDPOINTS: 'http://e:2379'}).datastoreType).toBe('etcdv3')
    expect(configFromEnv({KUBECONFIG: '/k'}).datastoreType).toBe('kubernetes')
    expect(configFromEnv({K8S_API_ENDPOINT: 'https://k'}).datastoreType).toBe('kubernetes')
    expect(configFromEnv({DATASTORE_TYPE: 'kubernetes', ETCD_ENDPOINTS: 'http://e:2379'}).datastoreType).toBe('kubernetes')
    expect(configFromEnv({DATASTORE_TYPE: ''}).datastoreType).toBe('embedded')
  })

  it('defaults kubeconfig to $HOME/.kube/config only when it exists', () => {
    const home = path.join(dir, 'home')
    expect(configFromEnv({DATASTORE_TYPE: 'kubernetes', HOME: home}).kubeconfig).toBeUndefined()
    mkdirSync(path.join(home, '.kube'), {recursive: true})
    writeFileSync(path.join(home, '.kube', 'config'), 'apiVersion: v1\n')
    expect(configFromEnv({DATASTORE_TYPE: 'kubernetes', HOME: home}).kubeconfig).toBe(path.join(home, '.kube', 'config'))
    expect(configFromEnv({DATASTORE_TYPE: 'kubernetes', HOME: home, K8S_API_ENDPOINT: 'https://k'}).kubeconfig).toBeUndefined()
  })

  it.each([
    [{K8S_INSECURE_SKIP_TLS_VERIFY: ''}, "failed to load config from env vars: envconfig.Process: assigning CALICO_K8S_INSECURE_SKIP_TLS_VERIFY to K8sInsecureSkipTLSVerify: converting '' to type bool. details: strconv.ParseBool: parsing \"\": invalid syntax"],
    [{CALICO_USE_POD_CIDR: 'yes'}, "failed to load config from env vars: envconfig.Process: assigning CALICO_USE_POD_CIDR to K8sUsePodCIDR: converting 'yes' to type bool. details: strconv.ParseBool: parsing \"yes\": invalid syntax"],
    [{K8S_CLIENT_QPS: 'fast'}, "failed to load config from env vars: envconfig.Process: assigning CALICO_K8S_CLIENT_QPS to K8sClientQPS: converting 'fast' to type float32. details: strconv.ParseFloat: parsing \"fast\": invalid syntax"],
    [{K8S_CLIENT_BURST: '1.5'}, "failed to load config from env vars: envconfig.Process: assigning CALICO_K8S_CLIENT_BURST to K8sClientBurst: converting '1.5' to type int. details: strconv.ParseInt: parsing \"1.5\": invalid syntax"],
    [{DATASTORE_TYPE: 'etcdv2'}, 'unknown datastore type: etcdv2 (expected one of: embedded, etcdv3, kubernetes)'],
  ])('rejects bad values with one line: %j', (env, msg) => {
    expect(() => configFromEnv(env)).toThrow(new ConfigError(msg))
  })
})

describe('config file (strict CalicoAPIConfig)', () => {
  it('accepts JSON and Go-style case-insensitive keys', () => {
    const json = '{"apiVersion":"projectcalico.org/v3","kind":"CalicoAPIConfig","spec":{"DatastoreType":"etcdv3","etcdendpoints":"http://e:2379","k8sClientQPS":10}}'
    expect(parseConfigFile(json, '/c.json')).toEqual({datastoreType: 'etcdv3', etcdEndpoints: 'http://e:2379', k8sClientQPS: 10})
    expect(parseConfigFile(`${HEADER}spec:\n  datastorePath: /var/lib/calico/store\n`, '/c')).toEqual({
      datastoreType: 'embedded', datastorePath: '/var/lib/calico/store',
    })
  })

  it('reads unquoted YAML 1.1 booleans as go-yaml v2 does', () => {
    const cfg = parseConfigFile(`${HEADER}spec:\n  k8sInsecureSkipTLSVerify: yes\n  k8sDisableNodePoll: Off\n  usePodCIDR: true\n  kubeconfig: "on"\n`, '/c')
    expect(cfg).toEqual({datastoreType: 'kubernetes', k8sInsecureSkipTLSVerify: true, k8sDisableNodePoll: false, usePodCIDR: true, kubeconfig: 'on'})
    expect(() => parseConfigFile(`${HEADER}spec:\n  etcdUsername: yes\n`, '/c')).toThrow(
      'json: cannot unmarshal bool into Go struct field CalicoAPIConfigSpec.spec.etcdUsername of type string',
    )
  })

  it('keeps file-only fields', () => {
    const cfg = parseConfigFile(`${HEADER}spec:\n  etcdEndpoints: https://e:2379\n  etcdCACert: |\n    -----BEGIN CERTIFICATE-----\n`, '/c')
    expect(cfg.etcdCACert).toBe('-----BEGIN CERTIFICATE-----\n')
  })

  it.each([
    [`${HEADER}spec:\n  datastoreType: etcdv3\n  unknown: x\n`, 'syntax error in /c: failed to parse config as YAML/JSON: error unmarshaling JSON: while decoding JSON: json: unknown field "unknown"'],
    [`${HEADER}metadata:\n  colour: red\n`, 'syntax error in /c: failed to parse config as YAML/JSON: error unmarshaling JSON: while decoding JSON: json: unknown field "colour"'],
    [`${HEADER}extra: 1\n`, 'syntax error in /c: failed to parse config as YAML/JSON: error unmarshaling JSON: while decoding JSON: json: unknown field "extra"'],
    [`${HEADER}spec:\n  k8sClientBurst: "10"\n`, 'syntax error in /c: failed to parse config as YAML/JSON: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field CalicoAPIConfigSpec.spec.k8sClientBurst of type int'],
    [`${HEADER}spec:\n  k8sInsecureSkipTLSVerify: "true"\n`, 'syntax error in /c: failed to parse config as YAML/JSON: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field CalicoAPIConfigSpec.spec.k8sInsecureSkipTLSVerify of type bool'],
    ['apiVersion: v1\nkind: CalicoAPIConfig\n', "syntax error in /c: invalid config file: unknown APIVersion 'v1'"],
    ['apiVersion: projectcalico.org/v3\nkind: Config\n', "syntax error in /c: invalid config file: expected kind 'CalicoAPIConfig', got 'Config'"],
    ['', "syntax error in /c: invalid config file: unknown APIVersion ''"],
    ['- a\n', 'syntax error in /c: failed to parse config as YAML/JSON: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type apiconfig.CalicoAPIConfig'],
    [`${HEADER}spec:\n  datastoreType: zookeeper\n`, 'unknown datastore type: zookeeper (expected one of: embedded, etcdv3, kubernetes)'],
  ])('rejects %j', (text, msg) => {
    expect(() => parseConfigFile(text, '/c')).toThrow(new ConfigError(msg))
  })

  it('reports YAML syntax errors with the line', () => {
    expect(() => parseConfigFile(`${HEADER}spec:\n  a: [\n`, '/c')).toThrow(/^syntax error in \/c: failed to parse config as YAML\/JSON: error converting YAML to JSON: yaml: line \d+: /)
    expect(() => parseConfigFile(`${HEADER}kind: CalicoAPIConfig\n`, '/c')).toThrow(/duplicated mapping key/)
  })

  it('loads through loadConfig and surfaces read errors', async () => {
    const p = file('k8s.cfg', `${HEADER}spec:\n  datastoreType: kubernetes\n  kubeconfig: /root/.kube/config\n`)
    expect(await loadConfig({configPath: p, env: {}})).toEqual({datastoreType: 'kubernetes', kubeconfig: '/root/.kube/config'})
    await expect(loadConfig({configPath: dir, env: {}})).rejects.toThrow(`read ${dir}: is a directory`)
  })
})
