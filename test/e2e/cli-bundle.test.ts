// The built calicoctl bundle (dist/calicoctl.cjs, scripts/bundle.mjs): every command file is registered, the
// build's code cache matches the bundle, the embedded path never loads the etcd or Kubernetes clients, and etcd
// reads and writes never load etcd3.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, relative} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {etcdSkipReason} from '../helpers/etcd.js'
import {useEtcd} from '../helpers/etcd-vitest.js'
import {BIN, ROOT, builtOrExplain, moduleTrace} from './harness.js'

const BUNDLE = join(ROOT, 'dist', 'calicoctl.cjs')
const skip = builtOrExplain()
const dir = mkdtempSync(join(tmpdir(), 'calico-bundle-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** Runs a module script in a plain node (no vitest flags or hooks) from the repository root. */
function node(args: string[], env: NodeJS.ProcessEnv = process.env): {stdout: string; stderr: string; status: number | null} {
  const r = spawnSync(process.execPath, args, {cwd: ROOT, env, encoding: 'utf8', timeout: 60_000})
  if (r.error) throw r.error
  return {stdout: r.stdout, stderr: r.stderr, status: r.status}
}

/** oclif's pattern rule, which the bundle's generated registry follows: the path is the id, `index` its topic. */
function sourceCommandIds(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    if (e.isDirectory()) return sourceCommandIds(join(dir, e.name))
    const parts = relative(join(ROOT, 'src', 'commands'), join(dir, e.name)).replace(/\.ts$/, '').split(/[\\/]/)
    if (parts.at(-1) === 'index') parts.pop()
    return [parts.join(':')]
  })
}

/** A CalicoAPIConfig file, so neither /etc/calico/calicoctl.cfg nor the environment can choose another store. */
function config(spec: string): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.cfg`)
  writeFileSync(path, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n${spec}`)
  return path
}

/** A client library: the etcd or Kubernetes clients, or the etcd client bundle. */
const isClient = (f: string): boolean => /node_modules\/(etcd3|@grpc|@kubernetes)\/|dist\/etcd-client\.cjs$/.test(f)

/** node_modules files a calicoctl run required, from a preload hook on Node's CommonJS loader. */
function modulesLoaded(args: string[]): string[] {
  const trace = moduleTrace(dir)
  node([...trace.args, BIN, ...args], {...process.env, ...trace.env})
  // The launcher registers the bundles it loads (dist/calicoctl.cjs, dist/etcd-client.cjs) in require.cache.
  return trace.read().filter((f) => f.includes('node_modules') || f.endsWith('.cjs'))
}

describe.skipIf(skip !== undefined)('calicoctl bundle', () => {
  it('registers exactly the command files, as the manifest lists them', () => {
    const script = `
      const {COMMANDS} = require(${JSON.stringify(BUNDLE)})
      console.log(JSON.stringify(Object.entries(COMMANDS).map(([id, c]) => [id, typeof c.prototype.run])))
    `
    const r = node(['-e', script])
    expect(r.stderr).toBe('')
    const registered = JSON.parse(r.stdout) as [string, string][]
    expect(registered.every(([, run]) => run === 'function')).toBe(true)
    const ids = registered.map(([id]) => id).sort()
    expect(ids).toEqual(sourceCommandIds(join(ROOT, 'src', 'commands')).sort())
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    expect(Object.keys(manifest.commands).sort()).toEqual(ids)
    // The bundled oclif sorts command ids by code unit instead of localeCompare (scripts/bundle.mjs): the same
    // order for these ids.
    expect([...ids].sort((a, b) => a.localeCompare(b))).toEqual(ids)
  })

  it('starts from the code cache the build wrote', () => {
    const script = `
      import {loadBundle} from './dist/cli/launch.js'
      console.log(JSON.stringify(loadBundle(${JSON.stringify(BUNDLE)}).cacheUsed))
      console.log(JSON.stringify(loadBundle(${JSON.stringify(join(dirname(BUNDLE), 'etcd-client.cjs'))}).cacheUsed))
    `
    expect(node(['--input-type=module', '-e', script]).stdout.trim()).toBe('true\ntrue')
  })

  it('never loads etcd3, grpc or the Kubernetes client on the embedded store', () => {
    const embedded = modulesLoaded(['get', 'ippools', '--config', config(`  datastoreType: embedded\n  datastorePath: ${join(dir, 'store')}\n`)])
    expect(embedded.some((f) => f.includes('node_modules/better-sqlite3/'))).toBe(true)
    expect(embedded.filter(isClient)).toEqual([])
  })

  describe.skipIf(etcdSkipReason() !== undefined)('on etcd', () => {
    const etcd = useEtcd()
    const etcdConfig = (): string => config(`  datastoreType: etcdv3\n  etcdEndpoints: ${etcd.endpoints}\n`)

    it('reads and writes without etcd3 (the backend has its own small gRPC client)', () => {
      const reads = modulesLoaded(['get', 'ippools', '--allow-version-mismatch', '--config', etcdConfig()])
      expect(reads.filter(isClient)).toEqual([])
      const set = join(dir, 'set.yaml')
      writeFileSync(set, 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: s}\nspec: {nets: [10.9.0.0/16]}\n')
      const write = modulesLoaded(['create', '-f', set, '--allow-version-mismatch', '--config', etcdConfig()])
      expect(write.filter(isClient)).toEqual([])
    })
  })
})
