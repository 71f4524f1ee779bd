// calicoctl datastore migrate export/import through the built binary: progress shows on a terminal
// (a pseudo-terminal from util-linux `script`) and nowhere else, and never inside the exported YAML.

import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {setDatastoreReady} from '../../src/cli/migrate/migrate.js'
import {ResourceClient} from '../../src/datastore/client.js'
import {EtcdBackend} from '../../src/datastore/etcd/backend.js'
import {BIN, builtOrExplain, runCalicoctlAsync} from '../e2e/harness.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {useEtcd} from '../helpers/etcd-vitest.js'
import {execArgv} from '../helpers/exec.js'
import {startServer} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'

const hasScript = spawnSync('script', ['--version'], {encoding: 'utf8'}).status === 0
const skip = etcdSkipReason() ?? builtOrExplain() ?? (hasScript ? undefined : 'util-linux `script` is not installed')
const ESC = '\u001b'
const POLICIES = 120

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`

/** Runs a shell command line with stdin, stdout and stderr on a fresh pseudo-terminal; returns what the terminal showed. */
async function onTerminal(commandLine: string, env: NodeJS.ProcessEnv): Promise<{shown: string; exit: number}> {
  // -e: script exits with the command's status; -q: no "Script started" banner; the log file is /dev/null.
  const r = await execArgv(['script', '-qec', commandLine, '/dev/null'], {env})
  // The terminal turns \n into \r\n.
  return {shown: (r.stdout + r.stderr).replaceAll('\r\n', '\n'), exit: r.code}
}

/** What a terminal finally shows on each line: the text after the line's last carriage return. */
function screen(shown: string): string[] {
  return shown.split('\n').map((line) => line.slice(line.lastIndexOf('\r') + 1).trimEnd())
}

describe.skipIf(skip !== undefined)('datastore migrate progress on a terminal', () => {
  // The tests share the exported data: no wipe between them.
  const etcd = useEtcd({wipe: false})
  let server: TestApiServer
  let dir: string
  let etcdCfg: string
  let k8sCfg: string
  let env: NodeJS.ProcessEnv
  let piped = ''

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'calico-migrate-progress-'))
    const source = new ResourceClient(await EtcdBackend.connect({datastoreType: 'etcdv3', etcdEndpoints: etcd.endpoints}))
    try {
      await source.ensureInitialized()
      await source.create({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'pool1'}, spec: {cidr: '10.0.0.0/16'}})
      for (let i = 0; i < POLICIES; i++) {
        await source.create({apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: {name: `gnp-${i}`}, spec: {selector: `app == "a${i}"`}})
      }
      await source.backend.create({kind: 'IPAMHandle', name: 'h1'}, {block: {}, deleted: false})
      await setDatastoreReady(source, false)
    } finally {
      await source.close()
    }
    server = await startServer({crds: 'none'})
    // Config files in the temp dir: nothing here may touch /etc/calico or a default embedded store.
    etcdCfg = join(dir, 'etcd.cfg')
    writeFileSync(etcdCfg, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: ${etcd.endpoints}\n`)
    k8sCfg = join(dir, 'k8s.cfg')
    writeFileSync(k8sCfg, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: kubernetes\n  k8sAPIEndpoint: ${server.url}\n`)
    env = {...process.env, DATASTORE_PATH: join(dir, 'store')}
    delete env.NO_COLOR
  })
  afterAll(async () => {
    await server?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('export through a pipe: the YAML on stdout and nothing on stderr', async () => {
    const r = await runCalicoctlAsync(['datastore', 'migrate', 'export', '--config', etcdCfg], env)
    expect(r.stderr).toBe('')
    expect(r.exit).toBe(0)
    expect(r.stdout).toContain('kind: GlobalNetworkPolicyList')
    piped = r.stdout
  })

  it('export with stderr on a terminal: progress and summary there, the same YAML in the file', async () => {
    const out = join(dir, 'export.yaml')
    const {shown, exit} = await onTerminal(`${quote(process.execPath)} ${quote(BIN)} datastore migrate export --config ${quote(etcdCfg)} > ${quote(out)}`, {...env, NO_COLOR: '1'})
    expect(exit).toBe(0)
    expect(readFileSync(out, 'utf8')).toBe(piped)
    expect(shown).toContain('\rExporting resources: ')
    expect(shown).not.toContain(ESC)
    expect(screen(shown).filter((l) => l !== '')).toEqual([
      `Exported ${POLICIES + 4} resources (1 IPPool, 3 Tier, ${POLICIES} GlobalNetworkPolicy) and 1 IPAM entry in ${/\d+\.\d s/.exec(shown)?.[0]}`,
    ])
  })

  it('export with stderr redirected to a file from a terminal: no progress anywhere', async () => {
    const err = join(dir, 'export.err')
    const out = join(dir, 'export2.yaml')
    const {shown, exit} = await onTerminal(`${quote(process.execPath)} ${quote(BIN)} datastore migrate export --config ${quote(etcdCfg)} > ${quote(out)} 2> ${quote(err)}`, env)
    expect(exit).toBe(0)
    expect(shown).toBe('')
    expect(readFileSync(err, 'utf8')).toBe('')
    expect(readFileSync(out, 'utf8')).toBe(piped)
  })

  it('import on a terminal: calicoctl\'s messages on lines of their own, progress in colour, then the summary', async () => {
    const file = join(dir, 'import.yaml')
    writeFileSync(file, piped)
    const {shown, exit} = await onTerminal(`${quote(process.execPath)} ${quote(BIN)} datastore migrate import -f ${quote(file)} --config ${quote(k8sCfg)}`, env)
    expect(exit).toBe(0)
    expect(shown).toContain('Importing resources: ')
    expect(shown).toContain(`${ESC}[1mImported${ESC}[0m`)
    const lines = screen(shown.replaceAll(/\u001b\[[0-9;]*m/g, '')).filter((l) => l !== '')
    expect(lines).toEqual([
      `Successfully applied ${POLICIES + 4} resource(s)`,
      'Importing IPAM resources',
      'Successfully applied 1 IPAM resource(s)',
      'Datastore information successfully imported. Please refer to the datastore migration documentation for next steps.',
      expect.stringMatching(new RegExp(`^Imported ${POLICIES + 4} resources \\(1 IPPool, 3 Tier, ${POLICIES} GlobalNetworkPolicy\\) and 1 IPAM resource in \\d+\\.\\d s$`)),
    ])
    expect(server.objects('crd.projectcalico.org', 'globalnetworkpolicies')).toHaveLength(POLICIES)
  })

  it('import through a pipe: exactly calicoctl\'s messages', async () => {
    const fresh = await startServer({crds: 'none'})
    try {
      const cfg = join(dir, 'fresh.cfg')
      writeFileSync(cfg, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: kubernetes\n  k8sAPIEndpoint: ${fresh.url}\n`)
      const r = await runCalicoctlAsync(['datastore', 'migrate', 'import', '-f', '-', '--config', cfg], env, piped)
      expect(r.stderr).toBe('')
      expect(r.stdout).toBe(`Successfully applied ${POLICIES + 4} resource(s)\nImporting IPAM resources\nSuccessfully applied 1 IPAM resource(s)\n`
        + 'Datastore information successfully imported. Please refer to the datastore migration documentation for next steps.\n')
    } finally {
      await fresh.stop()
    }
  })
})
