// CNI invocation parsing: environment, CNI_ARGS and the network configuration, with the spec's error codes.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {parseCniArgs, parseCniEnv, parseNetConf, peekCniVersion} from '../../src/cni/config.js'
import {datastoreConfig, determineNodename} from '../../src/cni/datastore.js'
import {CniError} from '../../src/cni/errors.js'

function codeOf(fn: () => unknown): {code: number; msg: string; details: string} {
  try {
    fn()
  } catch (err) {
    if (err instanceof CniError) return {code: err.code, msg: err.message, details: err.details}
    throw err
  }
  throw new Error('expected a CniError')
}

const ENV = {CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc123', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/usr/lib/cni'}
const BASE = {cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', datastore_type: 'etcdv3', etcd_endpoints: 'http://127.0.0.1:2379', ipam: {type: 'calico-ipam'}}

describe('CNI_ARGS', () => {
  it('parses kubelet’s pairs', () => {
    expect(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=a-1;K8S_POD_INFRA_CONTAINER_ID=abc')).toEqual({
      IgnoreUnknown: '1',
      K8S_POD_NAMESPACE: 'web',
      K8S_POD_NAME: 'a-1',
      K8S_POD_INFRA_CONTAINER_ID: 'abc',
    })
    expect(parseCniArgs('')).toEqual({})
    expect(parseCniArgs('A=b=c')).toEqual({A: 'b=c'})
  })

  it('rejects a pair without a key', () => {
    expect(codeOf(() => parseCniArgs('A=1;junk'))).toMatchObject({code: 4, msg: 'ARGS: invalid pair "junk"'})
  })
})

describe('CNI environment', () => {
  it('reads every variable', () => {
    expect(parseCniEnv({...ENV, CNI_ARGS: 'K8S_POD_NAME=p'})).toEqual({
      command: 'ADD',
      containerID: 'abc123',
      netns: '/var/run/netns/x',
      ifName: 'eth0',
      args: {K8S_POD_NAME: 'p'},
      path: ['/opt/cni/bin', '/usr/lib/cni'],
    })
  })

  it('needs only CNI_COMMAND for VERSION and no netns for DEL', () => {
    expect(parseCniEnv({CNI_COMMAND: 'VERSION'}).command).toBe('VERSION')
    expect(parseCniEnv({...ENV, CNI_COMMAND: 'DEL', CNI_NETNS: ''}).netns).toBe('')
  })

  it('reports missing and invalid variables with code 4', () => {
    expect(codeOf(() => parseCniEnv({}))).toMatchObject({code: 4, msg: 'required env variables [CNI_COMMAND] missing'})
    expect(codeOf(() => parseCniEnv({CNI_COMMAND: 'ADD'}))).toMatchObject({
      code: 4,
      msg: 'required env variables [CNI_CONTAINERID CNI_NETNS CNI_IFNAME CNI_PATH] missing',
    })
    expect(codeOf(() => parseCniEnv({...ENV, CNI_COMMAND: 'GC'}))).toMatchObject({code: 4, msg: 'unknown CNI_COMMAND: GC'})
    expect(codeOf(() => parseCniEnv({...ENV, CNI_CONTAINERID: '../x'}))).toMatchObject({code: 4, msg: 'invalid characters in containerID'})
    expect(codeOf(() => parseCniEnv({...ENV, CNI_IFNAME: 'a-very-long-ifname'}))).toMatchObject({code: 4, msg: 'interface name is too long'})
    expect(codeOf(() => parseCniEnv({...ENV, CNI_IFNAME: 'et/h0'}))).toMatchObject({code: 4})
  })
})

describe('network configuration', () => {
  it('applies Calico’s defaults', () => {
    const conf = parseNetConf(JSON.stringify(BASE))
    expect(conf).toMatchObject({
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'calico',
      datastoreType: 'etcdv3',
      etcdEndpoints: 'http://127.0.0.1:2379',
      mtu: 0,
      logLevel: 'info',
      labels: [],
      ipam: {type: 'calico-ipam', ipv4Pools: [], ipv6Pools: [], assignIPv4: true, assignIPv6: false},
    })
    expect(conf.prevResult).toBeUndefined()
  })

  it('reads every Calico key', () => {
    const conf = parseNetConf(
      JSON.stringify({
        ...BASE,
        etcd_ca_cert_file: '/ca',
        etcd_cert_file: '/cert',
        etcd_key_file: '/key',
        nodename: 'n1',
        hostname: 'deprecated-n1',
        mtu: 1440,
        log_level: 'WARN',
        include_default_routes: true,
        kubernetes: {kubeconfig: '/kc', node_name: 'kubelet-n1'},
        ipam: {type: 'calico-ipam', ipv4_pools: ['default-ipv4-ippool', '10.0.0.0/16'], assign_ipv6: 'true'},
        args: {cni: {labels: [{key: 'app', value: 'web'}]}},
        prevResult: {ips: []},
      }),
    )
    expect(conf).toMatchObject({
      etcdCACertFile: '/ca',
      etcdCertFile: '/cert',
      etcdKeyFile: '/key',
      nodename: 'n1',
      hostname: 'deprecated-n1',
      mtu: 1440,
      logLevel: 'warning',
      includeDefaultRoutes: true,
      kubeconfig: '/kc',
      k8sNodeName: 'kubelet-n1',
      ipam: {ipv4Pools: ['default-ipv4-ippool', '10.0.0.0/16'], assignIPv4: true, assignIPv6: true},
      labels: [{key: 'app', value: 'web'}],
      prevResult: {ips: []},
    })
  })

  it('reads the Kubernetes connection, policy type and feature switches, and hands the connection to the datastore', () => {
    const conf = parseNetConf(
      JSON.stringify({
        ...BASE,
        datastore_type: 'kubernetes',
        kubernetes: {kubeconfig: '/etc/cni/net.d/calico-kubeconfig', k8s_api_root: 'https://10.96.0.1:443/api/v1/'},
        policy: {type: 'k8s', k8s_auth_token: 't0k', k8s_client_certificate: '/c', k8s_client_key: '/k', k8s_certificate_authority: '/ca'},
        feature_control: {ip_addrs_no_ipam: true},
        calico_api_group: 'projectcalico.org/v3',
      }),
    )
    expect(conf).toMatchObject({k8sAPIRoot: 'https://10.96.0.1:443', policyType: 'k8s', featureControl: {ipAddrsNoIpam: true, floatingIPs: false}})
    expect(datastoreConfig(conf)).toEqual({
      datastoreType: 'kubernetes',
      etcdEndpoints: 'http://127.0.0.1:2379',
      kubeconfig: '/etc/cni/net.d/calico-kubeconfig',
      k8sAPIEndpoint: 'https://10.96.0.1:443',
      k8sAPIToken: 't0k',
      k8sCertFile: '/c',
      k8sKeyFile: '/k',
      k8sCAFile: '/ca',
      calicoAPIGroup: 'projectcalico.org/v3',
    })
    // policy.k8s_api_root is the older spelling; kubernetes.k8s_api_root wins when both are given.
    expect(parseNetConf(JSON.stringify({...BASE, policy: {k8s_api_root: 'https://old:6443'}})).k8sAPIRoot).toBe('https://old:6443')
    expect(parseNetConf(JSON.stringify(BASE)).featureControl).toEqual({ipAddrsNoIpam: false, floatingIPs: false})
  })

  it('reports undecodable input with code 6 and bad versions with code 1', () => {
    expect(codeOf(() => parseNetConf('{'))).toMatchObject({code: 6})
    expect(codeOf(() => parseNetConf('[]'))).toMatchObject({code: 6})
    expect(codeOf(() => parseNetConf(JSON.stringify({...BASE, cniVersion: '0.2.0'})))).toEqual({
      code: 1,
      msg: 'incompatible CNI versions',
      details: 'config is "0.2.0", plugin supports ["0.3.0" "0.3.1" "0.4.0" "1.0.0"]',
    })
  })

  it('reports invalid configuration with code 7', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{name: ''}, 'missing network name'],
      [{name: 'bad name'}, 'invalid characters found in network name'],
      [{type: 7}, 'type must be a string'],
      [{datastore_type: 'zk'}, 'unsupported datastore_type "zk" (use etcdv3, kubernetes or embedded)'],
      [{etcd_endpoints: undefined}, 'etcd_endpoints is required for datastore_type etcdv3'],
      [{datastore_type: 'embedded'}, 'datastore_path is required for datastore_type embedded'],
      [{mtu: 20}, 'invalid mtu 20: must be an integer between 68 and 65535'],
      [{ipam: {type: 'calico-ipam', assign_ipv4: 'false'}}, 'ipam: assign_ipv4 and assign_ipv6 are both false; nothing to assign'],
      [{ipam: {type: 'calico-ipam', ipv4_pools: 'p'}}, 'ipam.ipv4_pools must be a list of strings'],
      [{log_level: 'loud'}, 'invalid log_level "loud"'],
      [{args: {cni: {labels: {app: 'x'}}}}, 'args.cni.labels must be a list'],
      [{policy: 'k8s'}, 'policy must be an object'],
      [{feature_control: {floating_ips: 'yes'}}, 'feature_control.floating_ips must be true or false'],
    ]
    for (const [patch, msg] of bad) expect(codeOf(() => parseNetConf(JSON.stringify({...BASE, ...patch})))).toMatchObject({code: 7, msg})
  })

  it('peeks the version for error replies', () => {
    expect(peekCniVersion('{"cniVersion":"0.4.0"}')).toBe('0.4.0')
    expect(peekCniVersion('{}')).toBe('0.1.0')
    expect(peekCniVersion('nope')).toBe('1.0.0')
  })

  it('accepts the calico entry of each shipped conflist', () => {
    for (const file of ['10-calico.conflist', '10-calico-etcd.conflist']) {
      const list = JSON.parse(readFileSync(new URL(`../../manifests/cni/${file}`, import.meta.url), 'utf8')) as {
        name: string
        cniVersion: string
        plugins: Record<string, unknown>[]
      }
      const entry = list.plugins.find((p) => p.type === 'calico')!
      // A runtime hands each plugin its entry plus the list's name and version.
      const conf = parseNetConf(JSON.stringify({...entry, name: list.name, cniVersion: list.cniVersion}))
      expect(conf.ipam.type).toBe('calico-ipam')
      expect(conf.name).toBe('k8s-pod-network')
    }
  })
})

describe('node name', () => {
  it('is nodename, else the node name file, else the deprecated hostname key, else the host name in lower case', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cni-nodename-'))
    try {
      const file = join(dir, 'nodename')
      const missing = join(dir, 'absent')
      writeFileSync(file, 'node-from-file\n')
      const conf = (extra: Record<string, unknown>) => parseNetConf(JSON.stringify({...BASE, ...extra}))
      expect(determineNodename(conf({nodename: 'n1', nodename_file: file, hostname: 'h1'}))).toBe('n1')
      expect(determineNodename(conf({nodename_file: file, hostname: 'h1'}))).toBe('node-from-file')
      expect(determineNodename(conf({nodename_file: missing, hostname: 'h1'}))).toBe('h1')
      expect(determineNodename(conf({nodename_file: missing}))).toBe(hostname().trim().toLowerCase())
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
