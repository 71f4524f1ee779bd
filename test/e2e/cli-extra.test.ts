// End-to-end checks of behaviour beyond Calico's own cases: patch, convert, completion, usage errors, and the
// file/document locations added to input errors. Embedded store only.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {builtOrExplain, decode, runCalicoctl} from './harness.js'

const dir = mkdtempSync(join(tmpdir(), 'calicoctl-extra-'))
const env: NodeJS.ProcessEnv = {PATH: process.env.PATH, HOME: dir, NO_COLOR: '1', DATASTORE_PATH: join(dir, 'store')}
const run = (args: string[], stdin?: string) => runCalicoctl(args, env, stdin)

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const PEER = `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: peer1
spec:
  peerIP: 1.1.1.1
  asNumber: 63444
`

const skip = builtOrExplain()

describe.skipIf(skip !== undefined)('calicoctl beyond the reference cases', () => {
  beforeAll(() => {
    // Create the store up front so its one-time note does not mix into compared output.
    run(['get', 'tiers'])
  })
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('patch merges into the stored object and reports like calicoctl', () => {
    expect(run(['create', '-f', file('peer.yaml', PEER)]).exit).toBe(0)
    const patched = run(['patch', 'bgppeer', 'peer1', '-p', '{"spec":{"asNumber":"63445"}}'])
    expect(patched).toMatchObject({exit: 0, stdout: "Successfully patched 1 'BGPPeer' resource\n"})
    expect(decode(run(['get', 'bgppeer', 'peer1', '-o', 'yaml']).stdout)).toMatchObject({spec: {asNumber: 63445, peerIP: '1.1.1.1'}})
    expect(run(['patch', 'bgppeer', 'peer1'])).toMatchObject({exit: 1})
    expect(run(['patch', 'bgppeer'])).toMatchObject({exit: 1, stderr: 'accepts 2 arg(s), received 1\n'})
  })

  it('input errors keep calicoctl text first and then say where', () => {
    const bad = file('bad.yaml', `${PEER}---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: p2}\nspec:\n  asNumber: [1]\n`)
    const r = run(['apply', '-f', bad])
    expect(r.exit).toBe(1)
    expect(r.stderr).toMatch(/^failed to execute command: /)
    expect(r.stderr).toContain(`(file ${bad}, document 2, field spec.asNumber)`)
  })

  it('usage errors use cobra wording on one line', () => {
    expect(run(['nosuch'])).toMatchObject({exit: 1, stderr: 'unknown command "nosuch" for "calicoctl"\n'})
    expect(run(['get', 'ippool', '--bogus'])).toMatchObject({exit: 1, stderr: 'unknown flag: --bogus\n'})
    expect(run(['create'])).toMatchObject({exit: 1, stderr: 'required flag(s) "filename" not set\n'})
    expect(run(['get', '-h']).exit).toBe(0)
  })

  it('convert prints Calico policies', () => {
    const knp = file('knp.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: prod}\nspec:\n  podSelector: {}\n')
    const r = run(['convert', '-f', knp])
    expect(r.exit).toBe(0)
    expect(decode(r.stdout)).toMatchObject({kind: 'NetworkPolicy', metadata: {name: 'np', namespace: 'prod'}, spec: {order: 1000}})
    expect(run(['convert', '-f', knp, '-o', 'xml'])).toMatchObject({exit: 1, stderr: "unrecognized output format 'xml'\n"})
  })

  it('completion scripts and candidates', () => {
    expect(run(['completion', 'zsh']).stdout).toContain('compdef')
    expect(run(['__complete', 'ge']).stdout).toBe('get\n')
    expect(run(['__complete', 'get', 'bgpp']).stdout).toContain('bgppeer\n')
    expect(run(['__complete', 'get', 'bgppeer', '']).stdout).toContain('peer1\n')
  })

  it('version --client needs no datastore', () => {
    const r = runCalicoctl(['version', '--client'], {PATH: process.env.PATH, HOME: dir, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://127.0.0.1:1'})
    expect(r.exit).toBe(0)
    expect(r.stdout).toMatch(/^Client Version: {4}v\d+\.\d+\.\d+\nGit commit: {8}.*\n$/)
  })
})
