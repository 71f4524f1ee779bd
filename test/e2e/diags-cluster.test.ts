// `calicoctl cluster diags` through the built binary with the real kubectl against the test Kubernetes API server:
// the bundle holds the Calico CRDs and resources, what the server cannot serve (apps, secrets, pod logs) is recorded
// as failures in the bundle, and without kubectl the command says so and exits 1.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {KUBECTL, kubectlSkipReason, startServer, writeKubeconfig} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import {builtOrExplain, runCalicoctlAsync} from './harness.js'

const skip = builtOrExplain() ?? kubectlSkipReason()
if (skip) console.warn(skip)

describe.skipIf(skip !== undefined)('calicoctl cluster diags', () => {
  let server: TestApiServer
  let dir: string
  let cfg: string
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'calico-cluster-diags-'))
    server = await startServer({crds: 'v1'})
    const kubeconfig = writeKubeconfig(server.url, {file: join(dir, 'kubeconfig')})
    cfg = join(dir, 'calicoctl.cfg')
    writeFileSync(cfg, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: kubernetes\n  kubeconfig: ${kubeconfig}\n`)
    server.seed('', 'namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'calico-system'}})
    server.seed('', 'nodes', {apiVersion: 'v1', kind: 'Node', metadata: {name: 'diags-node-1'}})
    server.seed('crd.projectcalico.org', 'ippools', {
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'IPPool',
      metadata: {name: 'diags-pool'},
      spec: {cidr: '10.99.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, blockSize: 26, nodeSelector: 'all()'},
    })
    // A calico-node DaemonSet with a pod on each of two nodes. The server has no apps/v1 of its own: DaemonSets are
    // served here through a CRD of that group, which kubectl cannot tell apart. Logs and exec it cannot serve.
    server.seed('', 'nodes', {apiVersion: 'v1', kind: 'Node', metadata: {name: 'diags-node-2'}})
    server.seed('apiextensions.k8s.io', 'customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: {name: 'daemonsets.apps'},
      spec: {
        group: 'apps',
        scope: 'Namespaced',
        names: {plural: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', listKind: 'DaemonSetList'},
        versions: [{name: 'v1', served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}}],
      },
    })
    server.seed('apps', 'daemonsets', {apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: {name: 'calico-node', namespace: 'calico-system'}, spec: {selector: {matchLabels: {'k8s-app': 'calico-node'}}}}, 'calico-system')
    for (const [pod, node] of [['calico-node-aaaaa', 'diags-node-1'], ['calico-node-bbbbb', 'diags-node-2']] as const) {
      server.seed('', 'pods', {apiVersion: 'v1', kind: 'Pod', metadata: {name: pod, namespace: 'calico-system', labels: {'k8s-app': 'calico-node'}}, spec: {nodeName: node, containers: [{name: 'calico-node', image: 'calico-ts'}]}}, 'calico-system')
    }
    server.seed('', 'pods', {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'unrelated', namespace: 'calico-system', labels: {app: 'other'}}, spec: {nodeName: 'diags-node-2', containers: [{name: 'c', image: 'x'}]}}, 'calico-system')
    // kubectl's discovery cache in the test's own directory, shared by the command's kubectl calls; no NODE_ENV
    // from vitest, as a user runs calicoctl (oclif warns about a command that failed its parse only under test).
    const {NODE_ENV: _, ...inherited} = process.env
    env = {...inherited, KUBECACHEDIR: join(dir, 'kube-cache'), PATH: `${join(KUBECTL, '..')}:${process.env.PATH ?? ''}`}
  })
  afterAll(async () => {
    await server?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('bundles the CRDs and Calico resources, records what the server cannot serve, and removes its temp dir', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'))
    const r = await runCalicoctlAsync(['cluster', 'diags', '-c', cfg, '--max-parallelism', '4', '--max-logs', '1', '--focus-nodes', 'diags-node-2'], env, undefined, cwd)
    expect(r.exit, r.output).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toBe('==== Begin collecting diagnostics. ====')
    const temp = /^Created temporary directory: (.+)$/.exec(lines[1] ?? '')?.[1]
    expect(temp).toBeDefined()
    expect(r.stdout).toContain('\n==== Producing a diagnostics bundle. ====\n')
    const created = /Diagnostic bundle created at \.\/(calico-diagnostics-\d{8}_\d{6}\.tar\.gz)\n$/.exec(r.stdout)
    expect(created).not.toBeNull()
    const archive = created![1]!
    expect(readdirSync(cwd)).toEqual([archive])
    expect(() => readdirSync(temp!)).toThrow(/ENOENT/)

    const top = archive.replace(/\.tar\.gz$/, '')
    const path = join(cwd, archive)
    const listing = execFileSync('tar', ['-tzf', path], {encoding: 'utf8'}).split('\n').filter((l) => l !== '')
    expect(listing.every((p) => p.startsWith(`${top}/`))).toBe(true)
    const read = (file: string): string => execFileSync('tar', ['-xzOf', path, `${top}/${file}`], {encoding: 'utf8'})
    // Every Calico CRD kind, by its fully qualified name, in YAML and as a table.
    const crdFiles = listing.filter((p) => p.startsWith(`${top}/cluster/crd/`) && p.endsWith('.crd.projectcalico.org.yaml'))
    expect(crdFiles).toHaveLength(readdirSync(join(import.meta.dirname, '..', '..', 'manifests', 'crds')).filter((f) => f.endsWith('.yaml')).length)
    expect(r.stdout).toContain('Collect Calico ippools.v1.crd.projectcalico.org (yaml)')
    expect(read('cluster/crd/ippools.crd.projectcalico.org.yaml')).toMatch(/name: diags-pool[\s\S]*cidr: 10\.99\.0\.0\/16/)
    expect(read('cluster/crd/ippools.crd.projectcalico.org.txt')).toMatch(/^NAME\s+AGE\ndiags-pool\s/)
    expect(read('cluster/kubernetes/nodes.txt')).toMatch(/diags-node-1/)
    expect(read('cluster/kubernetes/namespaces.yaml')).toMatch(/name: calico-system/)
    expect(read('cluster/version.yaml')).toMatch(/clientVersion:/)

    // With --max-logs 1 only the focus node's calico-node pod: its logs, description and dataplane.
    expect(r.stdout).toContain('Collecting detailed diags for pod calico-node-bbbbb in namespace calico-system on node diags-node-2...\n')
    expect(r.stdout).not.toContain('calico-node-aaaaa')
    expect(listing.filter((p) => p.includes('/nodes/diags-node-1'))).toEqual([])
    expect(read('nodes/diags-node-2/calico-system/calico-node-bbbbb.txt')).toMatch(/^Name: +calico-node-bbbbb\nNamespace: +calico-system\n/)
    expect(listing).toContain(`${top}/links/calico-system/calico-node-bbbbb.txt`)
    // What the server cannot serve (pod logs, exec, Deployments, Secrets) is in the bundle as failures, and in the summary.
    expect(listing).toContain(`${top}/nodes/diags-node-2/calico-system/calico-node-bbbbb.log.error`)
    expect(listing).toContain(`${top}/nodes/diags-node-2/nft-ruleset.txt.error`)
    expect(listing).toContain(`${top}/cluster/kubernetes/deployments.yaml.error`)
    expect(read('cluster/kubernetes/deployments.yaml.error')).toMatch(/^command: kubectl get deployments --all-namespaces -o yaml\nerror: exit status 1\n\n.*deployments/)
    expect(listing).toContain(`${top}/nodes/calico-system.deployments.error`)
    expect(listing).toContain(`${top}/tls/calico-system_node-certs.yaml.error`)
    const summary = read('summary.txt')
    expect(summary).toMatch(/^OK {6}cluster\/crd\/ippools\.crd\.projectcalico\.org\.yaml +kubectl get ippools\.v1\.crd\.projectcalico\.org -A -o yaml$/m)
    expect(summary).toMatch(/^FAILED {2}cluster\/kubernetes\/deployments\.yaml +kubectl get deployments --all-namespaces -o yaml: exit status 1 \(see cluster\/kubernetes\/deployments\.yaml\.error\)$/m)
    expect(summary).toMatch(/^FAILED {2}nodes\/diags-node-2\/calico-system\/calico-node-bbbbb\.log +kubectl logs --since=0s -n calico-system calico-node-bbbbb --all-containers: exit status 1 /m)
    // The connection flags never reach the bundle.
    expect(summary).not.toContain('kubeconfig')
  })

  it('with the cluster unreachable (an inline kubeconfig), records every failure, still writes the archive, and keeps the temp dir if asked', async () => {
    // Given inline, so kubectl is handed a file the command writes (and removes) itself.
    const kubeconfig = readFileSync(writeKubeconfig('http://127.0.0.1:1', {file: join(dir, 'kubeconfig-closed')}), 'utf8')
    const closed = join(dir, 'closed.cfg')
    writeFileSync(closed, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: kubernetes\n  kubeconfigInline: '${JSON.stringify(JSON.parse(kubeconfig))}'\n`)
    const cwd = mkdtempSync(join(dir, 'cwd-'))
    const r = await runCalicoctlAsync(['cluster', 'diags', '-c', closed, '--skip-temp-dir-cleanup'], env, undefined, cwd)
    expect(r.exit, r.output).toBe(0)
    expect(r.stdout).toMatch(/^\[1\] Failed to run command: kubectl get namespaces -o jsonpath=\{\.items\[\*\]\.metadata\.name\}\nError: The connection to the server 127\.0\.0\.1:1 was refused/m)
    const temp = /^Created temporary directory: (.+)$/m.exec(r.stdout)![1]!
    try {
      const [bundle] = readdirSync(temp)
      expect(bundle).toMatch(/^calico-diagnostics-\d{8}_\d{6}$/)
      expect(readdirSync(cwd)).toEqual([`${bundle!}.tar.gz`])
      const summary = readFileSync(join(temp, bundle!, 'summary.txt'), 'utf8').trimEnd().split('\n')
      expect(summary.length).toBeGreaterThan(50)
      expect(summary.filter((l) => !l.startsWith('FAILED '))).toEqual([])
      expect(readFileSync(join(temp, bundle!, 'cluster', 'version.yaml.error'), 'utf8')).toMatch(/^command: kubectl version -o yaml\nerror: exit status 1\n/)
    } finally {
      rmSync(temp, {recursive: true, force: true})
    }
  })

  it('refuses a bad --since or a missing config on stdout, a non-integer --max-logs on stderr, and without kubectl in PATH says so', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'))
    const bad = await runCalicoctlAsync(['cluster', 'diags', '-c', cfg, '--since', '5d'], env, undefined, cwd)
    expect(bad).toMatchObject({exit: 1, stdout: 'Error executing command: invalid duration for since flag (try 10s, 5m, or 1h): 5d\n', stderr: ''})
    const notInt = await runCalicoctlAsync(['cluster', 'diags', '-c', cfg, '--max-logs', 'x'], env, undefined, cwd)
    expect(notInt).toMatchObject({exit: 1, stdout: '', stderr: 'invalid argument "x" for "--max-logs" flag: strconv.ParseInt: parsing "x": invalid syntax\n'})
    const noConfig = await runCalicoctlAsync(['cluster', 'diags', '-c', join(dir, 'no-such.cfg')], env, undefined, cwd)
    expect(noConfig).toMatchObject({exit: 1, stdout: `Error reading config file: ${join(dir, 'no-such.cfg')}\n`, stderr: ''})
    const none = await runCalicoctlAsync(['cluster', 'diags', '-c', cfg], {...env, PATH: join(dir, 'no-such-dir')}, undefined, cwd)
    expect(none).toMatchObject({exit: 1, stdout: '', stderr: 'missing dependency: unable to locate kubectl in PATH\n'})
    expect(readdirSync(cwd)).toEqual([])
  })
})
