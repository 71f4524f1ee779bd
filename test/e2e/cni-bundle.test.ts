// The built CNI plugins (bin/calico, bin/calico-ipam over dist/cni.cjs, scripts/bundle.mjs): they start from the
// code cache the build wrote, and an IPAM ADD and DEL load no client library (etcd3, grpc-js, protobufjs, the etcd
// client bundle, the Kubernetes client) and no file of dist/ but the launcher and the bundle, on the embedded store
// and on etcd.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {etcdSkipReason} from '../helpers/etcd.js'
import {useEtcd} from '../helpers/etcd-vitest.js'
import {ROOT, builtOrExplain, moduleTrace, runCalicoctl} from './harness.js'

const BUNDLE = join(ROOT, 'dist', 'cni.cjs')
const skip = builtOrExplain() ?? (existsSync(BUNDLE) ? undefined : 'dist/cni.cjs is missing: run `npm run build` first (npm test does)')
const dir = mkdtempSync(join(tmpdir(), 'calico-cni-bundle-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const POOL_AND_NODE = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p}
spec: {cidr: 10.77.0.0/24, blockSize: 26}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n1}
spec: {}
`

/** A client library, or a file of the build other than the launcher and the plugin bundle. */
const unexpected = (f: string): boolean =>
  /node_modules\/(etcd3|@grpc|protobufjs|@kubernetes)\//.test(f) || (f.startsWith(join(ROOT, 'dist')) && ![join(ROOT, 'dist', 'launch.cjs'), BUNDLE].includes(f))

interface PluginRun {
  status: number | null
  stdout: string
  /** Every file Node's CommonJS loader resolved or held in its cache, at exit. */
  loaded: string[]
}

/** Runs bin/<plugin> as a runtime would (no vitest environment), with a hook listing what it loaded. */
function runPlugin(plugin: 'calico-ipam' | 'calico', command: string, netConf: Record<string, unknown>): PluginRun {
  const trace = moduleTrace(dir)
  const r = spawnSync(process.execPath, [...trace.args, join(ROOT, 'bin', plugin)], {
    env: {
      PATH: process.env.PATH,
      ...trace.env,
      CNI_COMMAND: command,
      CNI_CONTAINERID: 'bundle-test',
      CNI_NETNS: '/var/run/netns/bundle-test',
      CNI_IFNAME: 'eth0',
      CNI_PATH: join(ROOT, 'bin'),
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod',
    },
    input: JSON.stringify({cniVersion: '1.0.0', name: 'net', type: 'calico', nodename: 'n1', ipam: {type: 'calico-ipam'}, ...netConf}),
    encoding: 'utf8',
    timeout: 60_000,
  })
  if (r.error) throw r.error
  return {status: r.status, stdout: r.stdout, loaded: trace.read()}
}

/** ADD then DEL of one pod's address through bin/calico-ipam: both succeed and load nothing unexpected. */
function expectLeanAddDel(netConf: Record<string, unknown>): void {
  const add = runPlugin('calico-ipam', 'ADD', netConf)
  expect(add.status, add.stdout).toBe(0)
  expect((JSON.parse(add.stdout) as {ips: {address: string}[]}).ips[0]?.address).toMatch(/^10\.77\.0\.\d+\/26$/)
  expect(add.loaded).toContain(BUNDLE)
  expect(add.loaded.filter(unexpected)).toEqual([])
  const del = runPlugin('calico-ipam', 'DEL', netConf)
  expect(del.status, del.stdout).toBe(0)
  expect(del.loaded.filter(unexpected)).toEqual([])
}

describe.skipIf(skip !== undefined)('the CNI plugin bundle', () => {
  it('starts from the code cache the build wrote', () => {
    const script = `
      import {loadBundle} from './dist/cli/launch.js'
      console.log(JSON.stringify(loadBundle(${JSON.stringify(BUNDLE)}).cacheUsed))
    `
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {cwd: ROOT, encoding: 'utf8', timeout: 60_000})
    expect(r.stdout.trim(), r.stderr).toBe('true')
  })

  it('answers VERSION from both binaries', () => {
    for (const plugin of ['calico', 'calico-ipam'] as const) {
      const r = runPlugin(plugin, 'VERSION', {})
      expect(r.status).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({cniVersion: '1.0.0', supportedVersions: expect.arrayContaining(['1.0.0']) as unknown})
    }
  })

  it('IPAM ADD and DEL on the embedded store load no client library', () => {
    const store = join(dir, 'store')
    const pool = runCalicoctl(['apply', '-f', '-'], {PATH: process.env.PATH, DATASTORE_PATH: store}, POOL_AND_NODE)
    expect(pool.exit, pool.output).toBe(0)
    expectLeanAddDel({datastore_type: 'embedded', datastore_path: store})
  })

  describe.skipIf(etcdSkipReason() !== undefined)('on etcd', () => {
    const etcd = useEtcd()

    it('IPAM ADD and DEL load no client library: the etcd backend writes through its own small gRPC client', () => {
      const pool = runCalicoctl(['apply', '-f', '-'], {PATH: process.env.PATH, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoints}, POOL_AND_NODE)
      expect(pool.exit, pool.output).toBe(0)
      expectLeanAddDel({datastore_type: 'etcdv3', etcd_endpoints: etcd.endpoints})
    })
  })
})
