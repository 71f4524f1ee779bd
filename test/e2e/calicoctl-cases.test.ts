// Runs Calico's calicoctl cases (test/fixtures/calicoctl/calicoctl-cases.yaml, copied from the reference) end to
// end through the built binary, against the embedded store, a real etcd and the Kubernetes datastore (the
// in-process test API server with Calico's CRDs, a fresh one per case). CALICOCTL_E2E_DATASTORES=embedded,etcd
// (comma-separated) runs only those.
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'

import yaml from 'js-yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Resource} from '../../src/api/resource.js'
import type {Backend as DatastoreBackend} from '../../src/datastore/backend.js'
import {IPAMClient} from '../../src/ipam/index.js'
import {CLIENT_VERSION} from '../../src/cli/version.js'
import {ResourceClient} from '../../src/datastore/client.js'
import type {DatastoreConfig} from '../../src/datastore/config.js'
import {openBackend} from '../../src/datastore/factory.js'
import {etcdSkipReason, startEtcd, type EtcdInstance} from '../helpers/etcd.js'
import {startServer} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import {
  addTierLabel,
  builtOrExplain,
  clean,
  decode,
  deletePath,
  getPath,
  ROOT,
  runCalicoctlAsync,
  setPath,
  shellWords,
  type RunResult,
} from './harness.js'

type Obj = Record<string, unknown>

interface Expect extends Obj {
  exit?: number | 'nonzero'
  format?: 'yaml' | 'json'
}

interface Step {
  args?: string
  input?: unknown
  input_format?: 'yaml' | 'json'
  input_via?: 'stdin'
  expect?: Expect
  capture?: string
  assert?: string
  harness?: string
  datastore?: string
}

interface Case {
  id: string
  datastore: string
  source?: string
  steps?: Step[]
  subcases?: Array<{id: string; input?: unknown; file_text?: string; steps: Step[]}>
}

interface CasesFile {
  meta: {generators: Record<string, string>}
  fixtures: Record<string, unknown>
  derived_fixtures: Record<string, {object: unknown}>
  cases: Case[]
}

const FILE = join(ROOT, 'test', 'fixtures', 'calicoctl', 'calicoctl-cases.yaml')
const data = yaml.load(readFileSync(FILE, 'utf8')) as CasesFile

// tests/st/utils/data.py many_nets: 10000 /28 networks.
const MANY_NETS = Array.from({length: 10000}, (_, i) => `10.${i >> 8}.${i % 256}.0/28`)

function expandGenerators(v: unknown): unknown {
  if (v === '$MANY_NETS') return MANY_NETS
  if (Array.isArray(v)) return v.map(expandGenerators)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, expandGenerators(e)]))
  return v
}

const fixtures: Record<string, unknown> = expandGenerators({
  ...data.fixtures,
  ...Object.fromEntries(Object.entries(data.derived_fixtures).map(([k, v]) => [k, v.object])),
}) as Record<string, unknown>

/** Cases run elsewhere on some stores, by backend. */
const SKIPPED_CASES: Partial<Record<BackendName, Record<string, string>>> = {
  // The etcd run needs a kubeconfig for the Services check: test/e2e/ipam-commands.test.ts covers both stores.
  embedded: {'ipam-check-and-release-report': 'TestIPAMCleanup on this store runs in test/e2e/ipam-commands.test.ts'},
  etcd: {'ipam-check-and-release-report': 'TestIPAMCleanup on this store runs in test/e2e/ipam-commands.test.ts'},
}

/**
 * Cases of Calico's etcd suite (datastore: etcdv3) that Calico itself runs differently on the Kubernetes
 * datastore (calicoctl-surface.md §4): they are not run there.
 */
const KDD_DIFFERENCES: Record<string, string> = {
  'version-mismatch': 'creates a Node: Node create is not supported on the Kubernetes datastore',
  'json-input-output': 'creates a Profile: Profiles are read-only on the Kubernetes datastore (namespaces, service accounts)',
  'file-multi-kinds': 'creates WorkloadEndpoints: only CNI patches of existing pods are supported on the Kubernetes datastore',
  'file-single-list': 'creates WorkloadEndpoints: only CNI patches of existing pods are supported on the Kubernetes datastore',
  'clusterinformation-readonly': 'creates a Node: Node create is not supported on the Kubernetes datastore',
  'label-command': 'creates a WorkloadEndpoint: only CNI patches of existing pods are supported on the Kubernetes datastore',
  'ipam-split-by-name': 'creates a Node: Node create is not supported on the Kubernetes datastore',
}

function datastoreSkip(c: Case, backend: BackendName): string | undefined {
  const elsewhere = SKIPPED_CASES[backend]?.[c.id]
  if (elsewhere) return elsewhere
  switch (c.datastore) {
    case 'kdd-only':
      return backend === 'kubernetes' ? undefined : 'Kubernetes datastore only (contexts come from kubeconfig files)'
    case 'etcdv3 -> kdd':
      return backend === 'etcd' ? undefined : 'migrates from etcd into the Kubernetes datastore: runs with the etcd backend'
    case 'etcdv3':
      return backend === 'kubernetes' ? KDD_DIFFERENCES[c.id] : undefined
    default:
      return undefined
  }
}

/** Kinds whose read-back test_migrate.py only checks for success (defaults make the output differ from the input). */
const MIGRATE_EXIT_ONLY = new Set(['FelixConfiguration', 'NetworkSet', 'IPReservation', 'BGPFilter'])

/**
 * Single steps where Calico on etcd differs from the Kubernetes datastore, keyed by case id and arguments:
 * skipped on the etcd-like stores.
 */
const ETCD_STEP_DIFFERENCES: Record<string, Record<string, string>> = {
  // On etcd, `ipam configure` writes the IPAM config key (/calico/ipam/v2/config) while `get ipamconfig` reads the
  // v3 IPAMConfiguration resource, a different key; only the Kubernetes datastore stores both in one CR.
  'ipam-configure': {'get ipamconfig default -o yaml': 'on etcd the IPAMConfiguration resource is not what ipam configure writes'},
}

function pool(name: string, spec: Obj): Resource {
  return {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name}, spec}
}

const NIL = 'with error: <nil>'

/**
 * An expected etcd error text as a pattern of what Calico prints on the Kubernetes datastore: its
 * K8sErrorToCalico wraps the API server's error (`ippools.crd.projectcalico.org "blah" not found`) where etcd
 * has none.
 */
function kddErrorPattern(text: string): string {
  return text
    .split(NIL)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('with error: [a-z0-9.]+ "[^"]+" (?:already exists|not found)')
}

/** A kubeconfig file with one context (`name`) for the test API server at `url`. */
function writeKubeconfigFile(file: string, url: string, name = 'test'): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{name, cluster: {server: url}}],
    users: [{name, user: {}}],
    contexts: [{name, context: {cluster: name, user: name}}],
    'current-context': name,
  }
  writeFileSync(file, JSON.stringify(config, null, 2))
  return file
}

/** A fresh test API server with Calico's CRDs and the Kubernetes objects a cluster always has. */
async function kubernetesTarget(dir: string, name = 'test'): Promise<{server: TestApiServer; target: Target}> {
  const server = await startServer({crds: 'v1'})
  const kubeconfig = writeKubeconfigFile(join(dir, `kubeconfig-${name}`), server.url, name)
  const env = {...baseEnv(dir), DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kubeconfig}
  return {server, target: {env, config: {datastoreType: 'kubernetes', kubeconfig}, server}}
}

/** Test API servers of the running case, stopped when it ends. */
const caseServers: TestApiServer[] = []

async function stopCaseServers(): Promise<void> {
  for (const s of caseServers.splice(0)) await s.stop()
}

type BackendName = 'embedded' | 'etcd' | 'kubernetes'

interface Target {
  env: NodeJS.ProcessEnv
  config: DatastoreConfig
  /** The test API server behind a Kubernetes datastore. */
  server?: TestApiServer
}

interface Backend {
  name: BackendName
  /** Fresh, empty datastore for one (sub)case. */
  reset(dir: string): Promise<Target>
}

function baseEnv(dir: string): NodeJS.ProcessEnv {
  // Nothing from the developer's environment may pick another datastore or config.
  const env: NodeJS.ProcessEnv = {PATH: process.env.PATH, HOME: dir, NO_COLOR: '1', LANG: 'C'}
  return env
}

class CaseRun {
  private readonly captured = new Map<string, {raw: string; decoded: unknown}>()
  private allowMismatch: boolean
  private inputs = 0
  private migrateFixtures: string[] = []

  private env: NodeJS.ProcessEnv
  private readonly config: DatastoreConfig
  private readonly server?: TestApiServer
  /** Address substituted for `<block base + 2>` and `<ip>` (ipam_test.go). */
  private blockIP?: string
  /** The Kubernetes datastore that `datastore: kdd` steps of a migration case run against. */
  private kdd?: Target

  constructor(
    private readonly caseId: string,
    private readonly backend: BackendName,
    private readonly dir: string,
    target: Target,
    fv: boolean,
    private readonly subInput?: unknown,
  ) {
    this.env = target.env
    this.config = target.config
    this.server = target.server
    // The ST harness always passes --allow-version-mismatch; the FV tests never do.
    this.allowMismatch = !fv
    writeFileSync(join(dir, 'empty.yaml'), '')
  }

  /** `/tmp/x` in the reference means a file of this case. */
  private local(text: string): string {
    return text.replaceAll('/tmp/', `${this.dir}/`)
  }

  private async withBackend<T>(fn: (b: DatastoreBackend) => Promise<T>): Promise<T> {
    const {backend} = await openBackend(this.config)
    try {
      return await fn(backend)
    } finally {
      await backend.close()
    }
  }

  private async withClient<T>(fn: (c: ResourceClient) => Promise<T>, config = this.config): Promise<T> {
    const {backend} = await openBackend(config)
    const client = new ResourceClient(backend)
    try {
      return await fn(client)
    } finally {
      await client.close()
    }
  }

  private async setCalicoVersion(version: string, config = this.config): Promise<void> {
    await this.withClient(async (c) => {
      await c.ensureInitialized()
      const info = await c.get('ClusterInformation', 'default')
      await c.update({...info, spec: {...info.spec, calicoVersion: version}})
    }, config)
  }

  /** Runs calicoctl in this case's directory; `> file` at the end of the arguments saves stdout there. */
  private async calicoctl(args: string[], stdin?: string, env = this.env): Promise<RunResult & {argv: string[]}> {
    const redirect = args.indexOf('>')
    const outFile = redirect >= 0 ? args[redirect + 1] : undefined
    if (redirect >= 0) args = args.slice(0, redirect)
    const argv = this.allowMismatch ? ['--allow-version-mismatch', ...args] : args
    const r = await runCalicoctlAsync(argv, env, stdin, this.dir)
    if (outFile) {
      writeFileSync(outFile, r.stdout)
      return {...r, stdout: '', output: r.stderr, argv: [...argv, '>', outFile]}
    }
    return {...r, argv}
  }

  /** Creates fixtures through calicoctl, checking each reads back as written (test_migrate.py's setup). */
  private async createFixtures(names: string[]): Promise<void> {
    for (const name of names) {
      const obj = fixtures[name] as Resource
      const file = join(this.dir, `fixture-${name}.yaml`)
      writeFileSync(file, yaml.dump(obj, {lineWidth: -1}))
      const created = await this.calicoctl(['create', '-f', file])
      expect(created.exit, `create ${name}\n${created.output}`).toBe(0)
      const ns = obj.metadata.namespace ? ['-n', obj.metadata.namespace] : []
      const got = await this.calicoctl(['get', obj.kind, obj.metadata.name ?? '', ...ns, '-o', 'yaml'])
      expect(got.exit, `get ${name}\n${got.output}`).toBe(0)
      if (!MIGRATE_EXIT_ONLY.has(obj.kind)) expect(clean(decode(got.stdout)), `get ${name}`).toEqual(clean(addTierLabel(obj)))
    }
  }

  private async deleteFixtures(names: string[]): Promise<void> {
    for (const name of names) {
      const obj = fixtures[name] as Resource
      const ns = obj.metadata.namespace ? ['-n', obj.metadata.namespace] : []
      const r = await this.calicoctl(['delete', obj.kind, obj.metadata.name ?? '', ...ns])
      expect(r.exit, `delete ${name}\n${r.output}`).toBe(0)
    }
  }

  private async harness(text: string): Promise<void> {
    if (text.startsWith('run WITHOUT --allow-version-mismatch')) {
      this.allowMismatch = false
    } else if (text.startsWith('set ClusterInformation default spec.calicoVersion to the client version')) {
      await this.setCalicoVersion(CLIENT_VERSION)
    } else if (text.startsWith('set ClusterInformation default spec.calicoVersion = ')) {
      await this.setCalicoVersion(text.slice('set ClusterInformation default spec.calicoVersion = '.length).trim())
    } else if (text.startsWith('etcd: create ') && text.includes('(each with calicoctl create, checking get output)')) {
      this.migrateFixtures = [...text.matchAll(/\b([a-z0-9]+(?:_[a-z0-9]+)+)\b/g)].map((m) => m[1])
      await this.createFixtures(this.migrateFixtures)
      // The import target: a Kubernetes datastore with the Kubernetes Node that node4 (and node5) map to.
      const {server, target} = await kubernetesTarget(this.dir, 'kdd')
      caseServers.push(server)
      server.seed('', 'nodes', {metadata: {name: 'node4', labels: {'kubernetes.io/hostname': 'node4'}}})
      this.kdd = target
    } else if (text === 'delete every resource above from etcd') {
      await this.deleteFixtures(this.migrateFixtures)
    } else if (text.startsWith('KUBECONFIG=<kubectl-config.yaml>:<kubectl-config-second.yaml>')) {
      await this.multiContext()
    } else if (text.startsWith('create IPPool ipam-test-v4 cidr 10.65.0.0/16 and ipam-test-v6 cidr fd5f:abcd:64::0/48')) {
      await this.withClient(async (c) => {
        await c.ensureInitialized()
        await c.create(pool('ipam-test-v4', {cidr: '10.65.0.0/16'}))
        await c.create(pool('ipam-test-v6', {cidr: 'fd5f:abcd:64::0/48'}))
        if (this.server) this.server.seed('', 'nodes', {metadata: {name: hostname(), labels: {'kubernetes.io/hostname': hostname()}}})
        else await c.create({apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name: hostname()}, spec: {}})
      })
      await this.setCalicoVersion(CLIENT_VERSION)
    } else if (text.startsWith('IPAM AutoAssign Num4=5 Num6=7 attrs {note:')) {
      await this.withBackend((b) =>
        new IPAMClient(b).autoAssign({num4: 5, num6: 7, attrs: {note: 'reserved by ipam_test.go'}, intendedUse: 'Workload', hostname: hostname()}),
      )
    } else if (text === 'create IPPool ipam-test-v4-b29 10.66.0.0/16 blockSize 29; AutoAssign Num4=11 from it') {
      await this.withClient((c) => c.create(pool('ipam-test-v4-b29', {cidr: '10.66.0.0/16', blockSize: 29})))
      await this.withBackend((b) =>
        new IPAMClient(b).autoAssign({num4: 11, num6: 0, ipv4Pools: ['10.66.0.0/16'], intendedUse: 'Workload', hostname: hostname()}),
      )
    } else if (text.startsWith('set calicoVersion; create KubeControllersConfiguration default with controllers.loadBalancer.assignIPs AllServices')) {
      await this.setCalicoVersion(CLIENT_VERSION)
      await this.withClient(async (c) => {
        const kcc = {apiVersion: 'projectcalico.org/v3', kind: 'KubeControllersConfiguration', metadata: {name: 'default'}}
        await c.create({...kcc, spec: {controllers: {loadBalancer: {assignIPs: 'AllServices'}}}})
        await c.create(pool('ipam-cleanup', {cidr: '10.66.0.0/16'}))
        if (this.server) this.server.seed('', 'nodes', {metadata: {name: hostname(), labels: {'kubernetes.io/hostname': hostname()}}})
        else await c.create({apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name: hostname()}, spec: {}})
      })
      await this.withBackend(async (b) => {
        const ipam = new IPAMClient(b)
        await ipam.autoAssign({num4: 1, num6: 0, handleID: 'TestIPAMCleanup', intendedUse: 'Workload', hostname: hostname()})
        await ipam.store.createHandle('leaked-handle', {block: {'10.65.79.0/26': 1}, deleted: false})
      })
    } else if (text === "recreate 'leaked-handle'") {
      await this.withBackend((b) => new IPAMClient(b).store.createHandle('leaked-handle', {block: {'10.65.79.0/26': 1}, deleted: false}))
    } else if (text.startsWith('create empty file /tmp/')) {
      writeFileSync(this.local(text.slice('create empty file '.length).trim()), '')
    } else if (text.startsWith('create IPPool ipam-test-v4 (10.65.0.0/16); NetworkPolicy policy1 in firstns')) {
      await this.withClient(async (c) => {
        const mk = (kind: string, name: string, spec: Obj, namespace?: string): Resource => ({
          apiVersion: 'projectcalico.org/v3',
          kind,
          metadata: namespace ? {name, namespace} : {name},
          spec,
        })
        await c.ensureInitialized()
        await c.create(mk('IPPool', 'ipam-test-v4', {cidr: '10.65.0.0/16'}))
        await c.create(mk('NetworkPolicy', 'policy1', {}, 'firstns'))
        await c.create(mk('NetworkPolicy', 'policy2', {}, 'secondns'))
      })
      await this.setCalicoVersion(CLIENT_VERSION)
    } else {
      throw new Error(`harness step not understood: ${text}`)
    }
  }

  /**
   * multi_context_test.go: two clusters behind one KUBECONFIG list (contexts main and second, with
   * Kubernetes Nodes node4 and node8), calicoVersion set in both, and calicoctl/test-data's bgppeer-global.yaml.
   */
  private async multiContext(): Promise<void> {
    const files: string[] = []
    for (const [context, node] of [['main', 'node4'], ['second', 'node8']]) {
      const {server, target} = await kubernetesTarget(this.dir, context)
      caseServers.push(server)
      server.seed('', 'nodes', {metadata: {name: node, labels: {'kubernetes.io/hostname': node}}})
      await this.setCalicoVersion(CLIENT_VERSION, target.config)
      files.push(String(target.env.KUBECONFIG))
    }
    this.env = {...baseEnv(this.dir), DATASTORE_TYPE: 'kubernetes', KUBECONFIG: files.join(':')}
    const peer = {apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: {name: 'globalpeer.name5'}, spec: {peerIP: '1.1.1.1', asNumber: 63444}}
    writeFileSync(join(this.dir, 'bgppeer-global.yaml'), yaml.dump(peer))
  }

  private resolveInput(input: unknown): unknown {
    if (input === '$INPUT' || input === '$DATA') return this.subInput
    if (typeof input === 'string') {
      if (!(input in fixtures)) throw new Error(`unknown fixture ${input}`)
      return fixtures[input]
    }
    if (Array.isArray(input)) return input.map((i) => this.resolveInput(i))
    const spec = input as Obj
    if ('inline' in spec) return spec.inline
    if ('captured' in spec) {
      const obj = structuredClone(this.captureValue(String(spec.captured)))
      for (const [path, value] of Object.entries((spec.set as Obj | undefined) ?? {})) {
        setPath(obj, path, typeof value === 'string' ? this.interpolate(value) : value)
      }
      return obj
    }
    if ('captured_list' in spec) return (spec.captured_list as string[]).map((n) => this.captureValue(n))
    throw new Error(`input not understood: ${JSON.stringify(input)}`)
  }

  private captureValue(name: string): unknown {
    const c = this.captured.get(name)
    if (!c) throw new Error(`nothing captured as ${name}`)
    return c.decoded
  }

  private capturedPath(ref: string): unknown {
    const dot = ref.indexOf('.')
    return getPath(this.captureValue(ref.slice(0, dot)), ref.slice(dot + 1))
  }

  private interpolate(text: string): string {
    return text.replace(/\$\{([^}]+)\}/g, (_, ref: string) => String(this.capturedPath(ref)))
  }

  async step(step: Step): Promise<void> {
    if (step.harness) return this.harness(step.harness)
    if (step.assert) {
      const m = /^(\S+)\s*(!=|==)\s*(\S+)$/.exec(step.assert)
      if (!m) throw new Error(`assert not understood: ${step.assert}`)
      const [a, b] = [this.capturedPath(m[1]), this.capturedPath(m[3])]
      if (m[2] === '!=') expect(a, step.assert).not.toEqual(b)
      else expect(a, step.assert).toEqual(b)
      return
    }
    if (step.args?.includes('<block base + 2>')) step = {...step, args: step.args.replace('<block base + 2>', this.blockBasePlus2())}
    if (this.backend !== 'kubernetes' && step.args !== undefined && ETCD_STEP_DIFFERENCES[this.caseId]?.[step.args]) return
    const args = shellWords(this.local(step.args ?? '')).map((w) => (w === '<kubeconfig>' ? String(this.env.KUBECONFIG) : w))
    const exp = step.expect ?? {}
    let stdin: string | undefined = exp.stdin_text as string | undefined
    if (step.input !== undefined) {
      const value = this.resolveInput(step.input)
      const text = step.input_format === 'json' ? JSON.stringify(value, null, 2) : yaml.dump(value, {lineWidth: -1})
      if (step.input_via === 'stdin') {
        stdin = text
        args.push('-f', '-')
      } else {
        const file = join(this.dir, `input-${++this.inputs}.${step.input_format === 'json' ? 'json' : 'yaml'}`)
        writeFileSync(file, text)
        args.push('-f', file)
      }
    }
    let env = this.env
    if (step.datastore === 'kdd') {
      if (!this.kdd) throw new Error('a kdd step needs the Kubernetes datastore of a migration case')
      env = this.kdd.env
    }
    const r = await this.calicoctl(args, stdin, env)
    const label = `calicoctl ${r.argv.join(' ')}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`
    this.check(exp, r, label, args)
    if (step.capture) this.captured.set(step.capture, {raw: r.output, decoded: r.exit === 0 ? decodeOrText(r.stdout) : undefined})
  }

  private expected(ref: unknown): unknown {
    if (typeof ref === 'string') return fixtures[ref]
    if (Array.isArray(ref)) return ref.map((r) => this.expected(r))
    if (ref !== null && typeof ref === 'object' && 'inline' in ref) return (ref as Obj).inline
    throw new Error(`expectation not understood: ${JSON.stringify(ref)}`)
  }

  /** toContain; on the Kubernetes datastore an etcd `with error: <nil>` is the API server's message instead. */
  private expectContains(output: string, want: string, label: string): void {
    if (this.backend === 'kubernetes' && want.includes(NIL)) expect(output, label).toMatch(new RegExp(kddErrorPattern(want)))
    else expect(output, label).toContain(want)
  }

  /** ipam_test.go: the third address of the 10.65 block listed by the captured `ipam show --show-blocks`. */
  private blockBasePlus2(): string {
    const table = this.captured.get('blocks')?.raw ?? ''
    const m = /\|\s*Block\s*\|\s*(10\.65\.\d+\.\d+)\/\d+/.exec(table)
    if (!m) throw new Error(`no 10.65 block in the captured ipam show --show-blocks:\n${table}`)
    const octets = m[1].split('.').map(Number)
    octets[3] += 2
    this.blockIP = octets.join('.')
    return this.blockIP
  }

  private check(exp: Expect, r: RunResult, label: string, args: string[]): void {
    const str = (v: unknown): string => this.local(String(v)).replace('<ip>', this.blockIP ?? '<ip>')
    const list = (k: string): string[] => ((exp[k] as unknown[] | undefined) ?? []).map(str)
    if (exp.exit !== undefined) {
      if (exp.exit === 'nonzero') expect(r.exit, label).not.toBe(0)
      else expect(r.exit, label).toBe(exp.exit)
    }
    for (const s of [...list('output_contains'), ...list('output_contains_code')]) this.expectContains(r.output, s, label)
    for (const s of list('output_not_contains')) expect(r.output, label).not.toContain(s)
    for (const s of list('stdout_contains')) this.expectContains(r.stdout, s, label)
    for (const s of list('stderr_contains')) this.expectContains(r.stderr, s, label)
    if (exp.stdout_equals !== undefined) expect(r.stdout, label).toBe(str(exp.stdout_equals))
    if (exp.output_equals !== undefined) {
      const got = r.exit === 0 ? r.output.trimEnd() : r.output
      const want = str(exp.output_equals)
      if (this.backend === 'kubernetes' && want.includes(NIL)) expect(got, label).toMatch(new RegExp(`^${kddErrorPattern(want)}$`))
      else expect(got, label).toBe(want)
    }
    if (exp.output_equals_exact !== undefined) expect(r.output, label).toBe(str(exp.output_equals_exact))
    if (exp.output_equals_stderr !== undefined) expect(r.stderr, label).toBe(str(exp.output_equals_stderr))
    const reportFields = (exp.report_fields as Obj[] | undefined) ?? []
    if (reportFields.length > 0) {
      const file = args[args.indexOf('-o') + 1]
      const report = JSON.parse(readFileSync(file, 'utf8')) as unknown
      for (const f of reportFields) {
        const value = getPath(report, String(f.path))
        if ('equals' in f) expect(value, `${file} ${String(f.path)}`).toEqual(f.equals)
        if (f.present === true) expect(value, `${file} ${String(f.path)}`).toBeDefined()
      }
    }
    for (const words of (exp.line_contains_all as string[][] | undefined) ?? []) {
      const found = r.output.split('\n').some((line) => words.every((w) => line.includes(w)))
      expect(found, `${label}\nno line contains all of ${JSON.stringify(words)}`).toBe(true)
    }
    if (exp.stdout_ends_without_newline) expect(r.stdout.endsWith('\n'), label).toBe(false)
    for (const re of list('output_line_regex')) {
      expect(r.output.split('\n').some((line) => new RegExp(re).test(line)), `${label}\nno line matches ${re}`).toBe(true)
    }
    if (exp.output_equals_captured !== undefined) {
      expect(r.output, label).toBe(this.captured.get(String(exp.output_equals_captured))?.raw)
    }
    const decoded = (): unknown => decode(r.stdout)
    if (exp.output_equals_captured_ignoring_resource_version !== undefined) {
      const before = this.captureValue(String(exp.output_equals_captured_ignoring_resource_version))
      const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, val: unknown) => (k === 'resourceVersion' ? undefined : val)))
      expect(strip(decoded()), label).toEqual(strip(before))
    }
    if (exp.output_equals_captured_decoded !== undefined) {
      expect(decoded(), label).toEqual(this.captureValue(String(exp.output_equals_captured_decoded)))
    }
    if (exp.decoded_equals !== undefined) {
      let want = this.expected(exp.decoded_equals)
      if (exp.transform === 'add_tier_label') want = addTierLabel(want)
      let got = decoded()
      const except = (exp.decoded_equals_except as string[] | undefined) ?? []
      got = clean(got)
      want = clean(want)
      for (const p of except) {
        deletePath(got, p)
        deletePath(want, p)
      }
      expect(got, label).toEqual(want)
    }
    if (exp.decoded_list !== undefined) {
      const spec = exp.decoded_list as {kind: string; items: unknown[]}
      const want = clean({apiVersion: 'projectcalico.org/v3', kind: `${spec.kind}List`, items: this.expected(spec.items)})
      expect(clean(decoded()), label).toEqual(want)
    }
    for (const f of (exp.fields as Obj[] | undefined) ?? []) {
      const value = getPath(decoded(), String(f.path))
      const what = `${label}\nfield ${String(f.path)}`
      if ('equals' in f) expect(value, what).toEqual(f.equals)
      if (f.present === true) expect(value, what).toBeDefined()
      if (f.absent === true) expect(value, what).toBeUndefined()
      if ('matches' in f) expect(String(value), what).toMatch(new RegExp(String(f.matches)))
      if ('equals_captured' in f) expect(value, what).toEqual(this.capturedPath(String(f.equals_captured)))
      if ('not_equals_captured' in f) expect(value, what).not.toEqual(this.capturedPath(String(f.not_equals_captured)))
    }
    void args
  }
}

/** Captured output: decoded YAML/JSON, or the text itself (tables). */
function decodeOrText(text: string): unknown {
  try {
    return decode(text)
  } catch {
    return text
  }
}

function isFV(c: Case): boolean {
  return (c.source ?? '').includes('tests/fv/')
}

const backends: Backend[] = []
const tempRoot = mkdtempSync(join(tmpdir(), 'calicoctl-e2e-'))
let etcd: EtcdInstance | undefined

backends.push({
  name: 'embedded',
  async reset(dir) {
    const store = join(dir, 'store')
    const env = {...baseEnv(dir), DATASTORE_PATH: store}
    const config: DatastoreConfig = {datastoreType: 'embedded', datastorePath: store}
    // Created here, so the CLI's one-time "created a new store" note does not show up in compared output.
    await (await openBackend(config)).backend.close()
    return {env, config}
  },
})

const etcdSkip = etcdSkipReason()
if (!etcdSkip) {
  backends.push({
    name: 'etcd',
    async reset(dir) {
      if (!etcd) throw new Error('etcd not started')
      await etcd.etcdctl(['del', '--prefix', '/calico'])
      const env = {...baseEnv(dir), DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoints}
      return {env, config: {datastoreType: 'etcdv3', etcdEndpoints: etcd.endpoints}}
    },
  })
}

backends.push({
  name: 'kubernetes',
  async reset(dir) {
    const {server, target} = await kubernetesTarget(dir)
    caseServers.push(server)
    return target
  },
})

const only = process.env.CALICOCTL_E2E_DATASTORES?.split(',').filter(Boolean)
const selected = only ? backends.filter((b) => only.includes(b.name)) : backends

beforeAll(async () => {
  if (!etcdSkip && selected.some((b) => b.name === 'etcd')) etcd = await startEtcd()
})

afterAll(async () => {
  await stopCaseServers()
  await etcd?.stop()
  rmSync(tempRoot, {recursive: true, force: true})
})

const buildProblem = builtOrExplain()

describe.each(selected)('calicoctl cases ($name)', (backend) => {
  let counter = 0
  const runCase = async (c: Case, steps: Step[], sub?: {id: string; input?: unknown; file_text?: string}): Promise<void> => {
    const dir = join(tempRoot, `${backend.name}-${++counter}`)
    mkdirSync(dir, {recursive: true})
    try {
      const run = new CaseRun(c.id, backend.name, dir, await backend.reset(dir), isFV(c), sub?.input)
      if (sub?.file_text !== undefined) {
        const target = shellWords(steps[0].args ?? '').find((_, i, all) => all[i - 1] === '-f')
        if (target) writeFileSync(target.replace('/tmp/', `${dir}/`), sub.file_text)
      }
      for (const step of steps) await run.step(step)
    } finally {
      await stopCaseServers()
    }
  }

  for (const c of data.cases) {
    // Cases without a datastore are the same everywhere: run them once.
    if (c.datastore === 'none' && backend.name !== 'embedded') continue
    const skip = buildProblem ?? datastoreSkip(c, backend.name)
    if (c.subcases) {
      describe(c.id, () => {
        for (const sub of c.subcases ?? []) {
          it.skipIf(skip !== undefined)(skip ? `${sub.id} (skipped: ${skip})` : sub.id, {timeout: 300_000}, () =>
            runCase(c, sub.steps, sub),
          )
        }
      })
    } else {
      it.skipIf(skip !== undefined)(skip ? `${c.id} (skipped: ${skip})` : c.id, {timeout: 300_000}, () => runCase(c, c.steps ?? []))
    }
  }
})
