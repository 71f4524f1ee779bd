// `calicoctl ipam ...` end to end through the built binary, against the embedded store and a real etcd.
// Allocations are made in-process through src/ipam beforehand; the expectations are calicoctl's ipam cases
// (test/fixtures/ipam-cli/ipam-cases.yaml, copied from the reference).
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import yaml from 'js-yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Resource} from '../../src/api/resource.js'
import {CLIENT_VERSION} from '../../src/cli/version.js'
import {ResourceClient} from '../../src/datastore/client.js'
import type {DatastoreConfig} from '../../src/datastore/config.js'
import {openBackend} from '../../src/datastore/factory.js'
import {IPAMClient} from '../../src/ipam/index.js'
import {etcdSkipReason, startEtcd, type EtcdInstance} from '../helpers/etcd.js'
import {BIN, builtOrExplain, clean, decode, ROOT, runCalicoctl, type RunResult} from './harness.js'

interface Expect {
  exit?: number
  output_contains?: string[]
  output_not_contains?: string[]
  output_equals?: string
  output_contains_code?: string[]
}
interface Step {
  args?: string
  harness?: string
  expect?: Expect
}
interface Case {
  id: string
  steps: Step[]
}
interface CasesFile {
  fixtures: Record<string, Resource>
  cases: Case[]
}

const CASES = yaml.load(readFileSync(join(ROOT, 'test', 'fixtures', 'ipam-cli', 'ipam-cases.yaml'), 'utf8')) as CasesFile
const caseById = (id: string): Case => {
  const c = CASES.cases.find((x) => x.id === id)
  if (!c) throw new Error(`no case ${id}`)
  return c
}
/** The expectation of the step that runs `args` in a case. */
const expectOf = (id: string, args: string): Expect => {
  const step = caseById(id).steps.find((s) => s.args === args)
  if (!step?.expect) throw new Error(`${id}: no step ${args}`)
  return step.expect
}

const API = 'projectcalico.org/v3'
const HOST = 'ipam-e2e-node'

function check(r: RunResult, e: Expect, label: string): void {
  const where = `${label}\n--- output ---\n${r.output}`
  if (e.exit !== undefined) expect(r.exit, where).toBe(e.exit)
  for (const s of e.output_contains ?? []) expect(r.output, where).toContain(s)
  for (const s of e.output_not_contains ?? []) expect(r.output, where).not.toContain(s)
  // calicoctl's ST compares the merged output with trailing whitespace stripped.
  if (e.output_equals !== undefined) expect(r.output.trimEnd(), where).toBe(e.output_equals)
  // output_contains_code is matched on the output with line breaks removed.
  for (const s of e.output_contains_code ?? []) expect(r.output.replaceAll('\n', ''), where).toContain(s.replaceAll('\n', ''))
}

interface Store {
  name: 'embedded' | 'etcd'
  fresh(dir: string): Promise<{env: NodeJS.ProcessEnv; config: DatastoreConfig}>
}

const tempRoot = mkdtempSync(join(tmpdir(), 'ipam-e2e-'))
let etcd: EtcdInstance | undefined
const stores: Store[] = [
  {
    name: 'embedded',
    async fresh(dir) {
      const store = join(dir, 'store')
      const config: DatastoreConfig = {datastoreType: 'embedded', datastorePath: store}
      await (await openBackend(config)).backend.close()
      return {env: {PATH: process.env.PATH, HOME: dir, NO_COLOR: '1', DATASTORE_PATH: store}, config}
    },
  },
]
const etcdSkip = etcdSkipReason()
if (!etcdSkip) {
  stores.push({
    name: 'etcd',
    async fresh(dir) {
      if (!etcd) throw new Error('etcd not started')
      await etcd.etcdctl(['del', '--prefix', '/calico'])
      return {
        env: {PATH: process.env.PATH, HOME: dir, NO_COLOR: '1', DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoints},
        config: {datastoreType: 'etcdv3', etcdEndpoints: etcd.endpoints},
      }
    },
  })
}

beforeAll(async () => {
  if (!etcdSkip) etcd = await startEtcd()
})
afterAll(async () => {
  await etcd?.stop()
  rmSync(tempRoot, {recursive: true, force: true})
})

const buildProblem = builtOrExplain()

/** util-linux script(1) gives the command a pseudo-terminal, so the confirmation prompt appears. */
const SCRIPT = '/usr/bin/script'

/** Runs calicoctl on a terminal and types `answer` (plus Enter) once `prompt` has been printed. */
function runOnTerminal(args: string[], env: NodeJS.ProcessEnv, prompt: string, answer: string): Promise<{output: string; exit: number}> {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`
  const command = [process.execPath, BIN, ...args].map(quote).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn(SCRIPT, ['-qec', command, '/dev/null'], {env, stdio: ['pipe', 'pipe', 'pipe']})
    let output = ''
    let answered = false
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString()
      if (!answered && output.includes(prompt)) {
        answered = true
        child.stdin.write(`${answer}\r`)
      }
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      // Plain text: colours and cursor movement dropped, and the prompt's wrapping at the terminal width undone.
      resolve({output: output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r?\n/g, ''), exit: code ?? -1})
    })
  })
}

describe.skipIf(buildProblem !== undefined).each(stores)('calicoctl ipam ($name)', (store) => {
  let counter = 0
  let dir = ''
  let env: NodeJS.ProcessEnv = {}
  let config: DatastoreConfig

  const setup = async (): Promise<void> => {
    dir = join(tempRoot, `${store.name}-${++counter}`)
    mkdirSync(dir, {recursive: true})
    ;({env, config} = await store.fresh(dir))
  }
  const run = (args: string[]): RunResult => runCalicoctl(args, env)
  /** In-process clients on the same datastore (closed before the CLI runs, so SQLite is never shared). */
  /** An address assigned to HOST under handle `h` that a workload endpoint (ns/web) still uses. */
  const addressInUse = async (c: ResourceClient, ipam: IPAMClient): Promise<string> => {
    const r = await ipam.autoAssign({num4: 1, num6: 0, hostname: HOST, handleID: 'h', intendedUse: 'Workload'})
    const addr = (r.v4?.ips[0] ?? '').split('/')[0]
    await c.create({
      apiVersion: API,
      kind: 'WorkloadEndpoint',
      metadata: {namespace: 'ns'},
      spec: {node: HOST, orchestrator: 'k8s', pod: 'web', endpoint: 'eth0', interfaceName: 'cali0', ipNetworks: [`${addr}/32`]},
    })
    return addr
  }

  const withClients = async <T>(fn: (c: ResourceClient, ipam: IPAMClient) => Promise<T>): Promise<T> => {
    const {backend} = await openBackend(config)
    try {
      return await fn(new ResourceClient(backend), new IPAMClient(backend))
    } finally {
      await backend.close()
    }
  }
  const create = (c: ResourceClient, kind: string, name: string, spec: Record<string, unknown>) =>
    c.create({apiVersion: API, kind, metadata: {name}, spec})
  const setClusterInfo = (c: ResourceClient, spec: Record<string, unknown>) =>
    c.get('ClusterInformation', 'default').then((ci) => c.update({...ci, spec: {...ci.spec, ...spec}}))
  /** Runs a case's plain steps (args and expectations only). */
  const runSteps = (id: string, skip: (args: string) => boolean = () => false): void => {
    for (const step of caseById(id).steps) {
      if (step.args === undefined || skip(step.args)) continue
      const words = step.args.split(' ')
      check(run(words), step.expect ?? {}, `calicoctl ${step.args}`)
    }
  }

  it('show: pools, blocks and one address (FV TestIPAM)', {timeout: 120_000}, async () => {
    await setup()
    const id = 'ipam-show-and-ip'
    await withClients(async (c) => {
      await create(c, 'IPPool', 'ipam-test-v4', {cidr: '10.65.0.0/16'})
      await create(c, 'IPPool', 'ipam-test-v6', {cidr: 'fd5f:abcd:64::0/48'})
      await create(c, 'Node', HOST, {})
    })
    check(run(['ipam', 'show', '--ip=10.65.0.2']), expectOf(id, 'ipam show --ip=10.65.0.2'), 'not assigned')
    const empty = run(['ipam', 'show'])
    check(empty, expectOf(id, 'ipam show'), 'empty show')
    expect(empty.stdout).toMatch(/^\+-+\+-+\+/)

    const blockBase = await withClients(async (_c, ipam) => {
      const r = await ipam.autoAssign({num4: 5, num6: 7, hostname: HOST, attrs: {note: 'reserved by ipam_test.go'}, intendedUse: 'Workload'})
      expect(r.v4?.ips).toHaveLength(5)
      return (await ipam.hostBlocks(HOST)).find((b) => !b.includes(':')) ?? ''
    })
    const shown = run(['ipam', 'show'])
    const showSteps = caseById(id).steps.filter((s) => s.args === 'ipam show')
    check(shown, showSteps[1].expect ?? {}, 'show after assigning')
    const lines = shown.stdout.split('\n')
    expect(lines[1]).toBe('| GROUPING | CIDR              | IPS TOTAL  | IPS IN USE | IPS RESERVED | IPS FREE          |')
    expect(lines[3]).toBe('| IP Pool  | 10.65.0.0/16      |      65536 |     5 (0%) |       0 (0%) |      65531 (100%) |')
    expect(lines[4]).toBe('| IP Pool  | fd5f:abcd:64::/48 | 9.2234e+18 |     7 (0%) |       0 (0%) | 9.2234e+18 (100%) |')

    const blocks = run(['ipam', 'show', '--show-blocks'])
    check(blocks, expectOf(id, 'ipam show --show-blocks'), 'show blocks')
    expect(blocks.stdout).toContain(`| Block    | ${blockBase}`)

    const base = blockBase.split('/')[0].split('.').map(Number)
    const ip = [...base.slice(0, 3), base[3] + 2].join('.')
    const one = run(['ipam', 'show', `--ip=${ip}`])
    expect(one.exit, one.output).toBe(0)
    expect(one.stdout).toBe(`IP ${ip} is in use\nHandle ID: <none>\nActive Owner Attributes:\n  note: reserved by ipam_test.go\n`)

    const bad = run(['ipam', 'show', '--ip=10.240.0.300'])
    check(bad, expectOf(id, 'ipam show --ip=10.240.0.300'), 'invalid ip')
    // calicoctl prints this refusal on stdout.
    expect(bad.stdout).toBe('Error executing command: invalid IP address specified: 10.240.0.300\n')

    await withClients(async (c, ipam) => {
      await create(c, 'IPPool', 'ipam-test-v4-b29', {cidr: '10.66.0.0/16', blockSize: 29})
      await ipam.autoAssign({num4: 11, num6: 0, hostname: HOST, ipv4Pools: ['10.66.0.0/16'], intendedUse: 'Workload'})
    })
    const small = run(['ipam', 'show', '--show-blocks']).stdout.split('\n')
    const last = caseById(id).steps.filter((s) => s.args === 'ipam show --show-blocks')[1].expect as {line_contains_all: string[][]}
    for (const words of last.line_contains_all) {
      expect(small.some((l) => words.every((w) => l.includes(w))), `a line with ${words.join(', ')}\n${small.join('\n')}`).toBe(true)
    }
  })

  it('show --show-borrowed lists addresses taken from another node’s block', {timeout: 120_000}, async () => {
    await setup()
    await withClients(async (c, ipam) => {
      await create(c, 'IPPool', 'p', {cidr: '10.70.0.0/24', blockSize: 30})
      await create(c, 'Node', 'owner', {})
      await create(c, 'Node', 'borrower', {})
      const r = await ipam.autoAssign({num4: 1, num6: 0, hostname: 'owner', intendedUse: 'Workload', attrs: {node: 'owner'}})
      const ownerIP = (r.v4?.ips[0] ?? '').split('/')[0]
      const blockCIDR = (await ipam.hostBlocks('owner'))[0]
      // A pod on another node holding an address of owner's block: what borrowing leaves behind.
      const next = ownerIP.replace(/\d+$/, (d) => String(Number(d) + 1))
      await ipam.assignIP({ip: next, hostname: 'borrower', handleID: 'h-b', attrs: {node: 'borrower', namespace: 'ns', pod: 'web'}})
      expect(blockCIDR).not.toBe('')
    })
    const r = run(['ipam', 'show', '--show-borrowed'])
    expect(r.exit, r.output).toBe(0)
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('| 10.70.'))
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatch(/^\| 10\.70\.0\.\d+ +\| borrower +\| 10\.70\.0\.\d+\/30 \| owner +\| pod +\| ns\/web +\|$/)
    expect(r.stdout).not.toContain('Note:')
  })

  it('check, then release from the report (FV TestIPAMCleanup)', {timeout: 180_000}, async () => {
    await setup()
    const id = 'ipam-check-and-release-report'
    const report = join(dir, 'ipam_report.json')
    // The etcd run exercises calicoctl's kubeconfig requirement; its controller config needs no Services.
    const kcc = store.name === 'embedded' ? {controllers: {loadBalancer: {assignIPs: 'AllServices'}}} : {controllers: {}}
    await withClients(async (c, ipam) => {
      await c.ensureInitialized(CLIENT_VERSION)
      await create(c, 'KubeControllersConfiguration', 'default', kcc)
      await create(c, 'IPPool', 'p', {cidr: '10.66.0.0/16'})
      await create(c, 'Node', HOST, {})
      await ipam.autoAssign({num4: 1, num6: 0, hostname: HOST, handleID: 'TestIPAMCleanup', intendedUse: 'Workload'})
      await ipam.store.createHandle('leaked-handle', {block: {'10.65.79.0/26': 1}, deleted: false})
    })
    const checkArgs = ['ipam', 'check', '--show-all-ips', '-o', report]
    if (store.name === 'etcd') {
      const refused = run(checkArgs)
      expect(refused.exit).toBe(1)
      expect(refused.stderr).toBe('KUBECONFIG environment variable or --kubeconfig parameter not set\n')
      checkArgs.push('--kubeconfig', join(dir, 'kubeconfig'))
    }
    const checked = run(checkArgs)
    check(checked, expectOf(id, 'ipam check --show-all-ips -o /tmp/ipam_report.json --kubeconfig <kubeconfig>'), 'check')
    expect(checked.stdout).toContain(
      store.name === 'embedded' ? 'Found 0 service load balancer(s).\n' : 'No configuration for LoadBalancer kubecontroller found, skipping service check\n',
    )
    expect(checked.stdout).toMatch(/ {2}10\.66\.\d+\.\d+ leaked; attrs Main:TestIPAMCleanup Extra:\n/)
    expect(checked.stdout).toContain('Check complete; found 2 problems.\n')
    const written = JSON.parse(readFileSync(report, 'utf8')) as {version: string; leakedHandles: {ID: string; Revision?: string}[]}
    expect(written.version).toBe(CLIENT_VERSION)
    expect(written.leakedHandles[0].ID).toBe('leaked-handle')
    expect(written.leakedHandles[0].Revision).toBeTruthy()

    const steps = caseById(id).steps.filter((s) => s.args?.startsWith('ipam release'))
    const releaseArgs = ['ipam', 'release', `--from-report=${report}`]
    check(run(releaseArgs), steps[0].expect ?? {}, 'release without lock')
    const forced = run([...releaseArgs, '--force'])
    check(forced, steps[1].expect ?? {}, 'forced release')
    expect(forced.stdout).toContain('WARNING: Data store is not locked. Ignoring due to --force option\n')
    expect(forced.stdout.endsWith('You may now unlock the data store.\n')).toBe(true)
    await withClients(async (_c, ipam) => {
      await ipam.store.createHandle('leaked-handle', {block: {'10.65.79.0/26': 1}, deleted: false})
    })
    check(run([...releaseArgs, '--force']), steps[2].expect ?? {}, 'stale handle')
    check(run([...releaseArgs, '--force']), steps[3].expect ?? {}, 'again')

    // Reports of another cluster are refused even with --force.
    const foreign = JSON.parse(readFileSync(report, 'utf8')) as Record<string, unknown>
    writeFileSync(join(dir, 'foreign.json'), JSON.stringify({...foreign, clusterGUID: 'other'}))
    const refused = run(['ipam', 'release', `--from-report=${join(dir, 'foreign.json')}`, '--force'])
    expect(refused.exit).toBe(1)
    expect(refused.stderr).toContain('mismatched cluster GUID. Refusing to release')
  })

  it('release: a locked datastore and a current report need no --force', {timeout: 120_000}, async () => {
    await setup()
    const report = join(dir, 'r.json')
    await withClients(async (c, ipam) => {
      await c.ensureInitialized(CLIENT_VERSION)
      await create(c, 'KubeControllersConfiguration', 'default', {controllers: {}})
      await create(c, 'IPPool', 'p', {cidr: '10.67.0.0/16'})
      await create(c, 'Node', HOST, {})
      await ipam.autoAssign({num4: 2, num6: 0, hostname: HOST, handleID: 'leaky', intendedUse: 'Workload'})
      await setClusterInfo(c, {datastoreReady: false})
    })
    const args = ['ipam', 'check', '-o', report, '--kubeconfig', join(dir, 'kubeconfig')]
    expect(run(args).exit).toBe(0)
    const r = run(['ipam', 'release', `--from-report=${report}`])
    expect(r.exit, r.output).toBe(0)
    expect(r.stdout).toBe(
      "Releasing 2 old IPs...\nReleased 2 IPs successfully\nReport didn't contain any handles to clean up.\nYou may now unlock the data store.\n",
    )
    // Any later write to ClusterInformation makes the report stale.
    await withClients((c) => setClusterInfo(c, {calicoVersion: CLIENT_VERSION, clusterType: 'changed'}))
    const stale = run(['ipam', 'release', `--from-report=${report}`])
    expect(stale.exit).toBe(1)
    expect(stale.stderr).toContain('the provided reports are all stale')
  })

  it('configure (calicoctl configure.go messages) and show --show-configuration', {timeout: 120_000}, async () => {
    await setup()
    // `get ipamconfig` reads the IPAMConfiguration resource, which calicoctl's etcd mode keeps apart from
    // the IPAM library's configuration; only the ipam commands are checked here.
    runSteps('ipam-configure', (args) => args.startsWith('get '))
    const shown = run(['ipam', 'show', '--show-configuration'])
    expect(shown.stdout).toContain('| StrictAffinity               | true      |')
    expect(shown.stdout).toContain('| MaxBlocksPerHost             | 4         |')
    const bad = run(['ipam', 'configure', '--strictaffinity=false', '--max-blocks-per-host=4'])
    expect(bad.exit).toBe(1)
    expect(bad.stderr).toBe('error: MaxBlocksPerHost requires StrictAffinity to be enabled\n')
    const cooldown = run(['ipam', 'configure', '--ip-cooldown-seconds=30', '--kubevirt-ip-persistence=Disabled'])
    expect(cooldown.stdout).toBe('Successfully set KubeVirtVMAddressPersistence to: Disabled\nSuccessfully set IPCooldownSeconds to: 30\n')
    await withClients(async (_c, ipam) => {
      expect(await ipam.getIPAMConfig()).toMatchObject({strictAffinity: true, maxBlocksPerHost: 4, ipCooldownSeconds: 30, kubeVirtVMAddressPersistence: 'Disabled'})
    })
  })

  it('release --ip', {timeout: 120_000}, async () => {
    await setup()
    await withClients(async (c) => {
      await create(c, 'IPPool', 'p', {cidr: '10.65.0.0/16'})
      await create(c, 'Node', HOST, {})
    })
    runSteps('ipam-release-ip')
    // A workload still uses it: without a terminal the command does not ask.
    const ip = await withClients(addressInUse)
    const r = run(['ipam', 'release', `--ip=${ip}`])
    expect(r.exit, r.output).toBe(0)
    expect(r.stdout).toBe(`Successfully released IP address ${ip}\n`)
    const again = run(['ipam', 'release', `--ip=${ip}`])
    expect(again.exit).toBe(1)
    expect(again.stderr).toBe(`IP address ${ip} is not assigned\n`)
    const missing = join(dir, 'missing.json')
    expect(run(['ipam', 'release', `--from-report=${missing}`]).stderr).toBe(`open ${missing}: no such file or directory\n`)
  })

  it.skipIf(!existsSync(SCRIPT))('release --ip on a terminal asks before releasing an address in use', {timeout: 120_000}, async () => {
    await setup()
    const ip = await withClients(async (c, ipam) => {
      await create(c, 'IPPool', 'p', {cidr: '10.65.0.0/16'})
      await create(c, 'Node', HOST, {})
      return addressInUse(c, ipam)
    })
    const owner = `Workload(ns/${HOST.replaceAll('-', '--')}-k8s-web-eth0)`
    const declined = await runOnTerminal(['ipam', 'release', `--ip=${ip}`], env, '(y/N)', 'n')
    expect(declined.output).toContain(`IP address ${ip} is in use by ${owner}. Release it anyway? (y/N)`)
    expect(declined.output).toContain(`IP address ${ip} was not released`)
    expect(declined.exit).toBe(1)
    expect(run(['ipam', 'show', `--ip=${ip}`]).stdout).toContain(`IP ${ip} is in use`)
    const accepted = await runOnTerminal(['ipam', 'release', `--ip=${ip}`], env, '(y/N)', 'y')
    expect(accepted.output).toContain(`Successfully released IP address ${ip}`)
    expect(accepted.exit).toBe(0)
    expect(run(['ipam', 'show', `--ip=${ip}`]).stdout).toBe(`${ip} is not assigned\n`)
  })

  it('split (ST test_ipam_split_by_name)', {timeout: 120_000}, async () => {
    await setup()
    const id = 'ipam-split-by-name'
    await withClients(async (c) => {
      await c.ensureInitialized(CLIENT_VERSION)
      await c.create(CASES.fixtures.ippool_name1_rev1_v4)
      await c.create(CASES.fixtures.node_name4_rev1)
    })
    const splitSteps = caseById(id).steps.filter((s) => s.args?.startsWith('ipam split'))
    const splitRun = (s: Step) => check(run((s.args ?? '').split(' ')), s.expect ?? {}, s.args ?? '')
    splitRun(splitSteps[0])
    await withClients((c) => setClusterInfo(c, {datastoreReady: false}))
    for (const s of splitSteps.slice(1, 4)) splitRun(s)
    // A refused split leaves the pool untouched.
    await withClients(async (c) => expect((await c.get('IPPool', 'ippool-name1')).spec).not.toHaveProperty('disabled', true))
    const done = run(['ipam', 'split', '--name=ippool-name1', '4'])
    check(done, splitSteps[4].expect ?? {}, 'split')
    expect(done.stdout).toBe(
      'IP Pool ippool-name1 was successfully split into 4 smaller pools.' +
        'Created split-ippool-name1-0 with CIDR 10.0.1.0/26.\nCreated split-ippool-name1-1 with CIDR 10.0.1.64/26.\n' +
        'Created split-ippool-name1-2 with CIDR 10.0.1.128/26.\nCreated split-ippool-name1-3 with CIDR 10.0.1.192/26.\n' +
        'Please refer to the documentation for final steps.',
    )
    const gone = run(['get', 'ippool', 'ippool-name1', '-o', 'yaml'])
    expect(gone.exit).toBe(1)
    expect(gone.output).toContain('resource does not exist')
    for (const [i, fixture] of ['ippool_name1_rev1_split1_v4', 'ippool_name1_rev1_split2_v4', 'ippool_name1_rev1_split3_v4', 'ippool_name1_rev1_split4_v4'].entries()) {
      const got = run(['get', 'ippool', `split-ippool-name1-${i}`, '-o', 'yaml'])
      expect(got.exit, got.output).toBe(0)
      expect(clean(decode(got.stdout))).toEqual(clean(CASES.fixtures[fixture]))
    }
    const byCIDR = run(['ipam', 'split', '--cidr=10.0.1.0/26', '2'])
    expect(byCIDR.exit, byCIDR.output).toBe(0)
    expect(byCIDR.stdout).toContain('IP Pool split-ippool-name1-0 was successfully split into 2 smaller pools.Created split-split-ippool-name1-0-0 with CIDR 10.0.1.0/27.')
    const missing = run(['ipam', 'split', '--cidr=10.9.9.0/24', '2'])
    expect(missing.stderr).toBe('unable to find IP pool  covering the specified CIDR 10.9.9.0/24\n')
    const none = run(['ipam', 'split', '2'])
    expect(none.stderr).toBe('no name or CIDR provided. Provide a name or CIDR to denote the IP pool to split\n')
  })
})
