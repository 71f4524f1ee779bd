import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import yaml from 'js-yaml'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {Resource} from '../../src/api/resource.js'
import {reportCreateApplyValidate, reportDelete} from '../../src/cli/messages.js'
import {executeConfigCommand, type Session} from '../../src/cli/resourcemgr/execute.js'
import {labelResource} from '../../src/cli/resourcemgr/label.js'
import {DatastoreSession} from '../../src/cli/resourcemgr/session.js'
import {CLIENT_VERSION} from '../../src/cli/version.js'
import {ResourceClient} from '../../src/datastore/client.js'
import {EmbeddedBackend} from '../../src/datastore/embedded/backend.js'

let dir: string
let client: ResourceClient
let session: Session & {versionChecks: number}

function file(name: string, docs: unknown[]): string {
  const path = join(dir, name)
  writeFileSync(path, docs.map((d) => yaml.dump(d)).join('---\n'))
  return path
}

const hep = (labels: Record<string, string>, extra: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'HostEndpoint',
  metadata: {name: 'hep1', labels, ...extra},
  spec: {node: 'n1', interfaceName: 'eth0'},
})

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'resmgr-'))
  client = new ResourceClient(EmbeddedBackend.open({dir: join(dir, 'store')}).backend)
  session = {
    versionChecks: 0,
    async checkVersion() {
      this.versionChecks++
    },
    client: async () => client,
  }
})

afterEach(async () => {
  await client.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('executeConfigCommand', () => {
  it('apply creates, then updates keeping server metadata; a stale resourceVersion conflicts', async () => {
    const f = file('hep.yaml', [hep({a: '1'})])
    const first = await executeConfigCommand('apply', {filename: f}, session)
    expect(reportCreateApplyValidate('apply', first)).toEqual({stdout: "Successfully applied 1 'HostEndpoint' resource(s)\n"})
    const stored = await client.get('HostEndpoint', 'hep1')
    await executeConfigCommand('apply', {filename: file('hep2.yaml', [hep({b: '2'}, {uid: 'ignored'})])}, session)
    const updated = await client.get('HostEndpoint', 'hep1')
    expect(updated.metadata.uid).toBe(stored.metadata.uid)
    expect(updated.metadata.labels).toEqual({b: '2'})
    const stale = await executeConfigCommand('apply', {filename: file('stale.yaml', [stored])}, session)
    expect(reportCreateApplyValidate('apply', stale).error).toBe(
      "failed to apply 'HostEndpoint' resource: [update conflict: HostEndpoint(hep1)]",
    )
    expect(session.versionChecks).toBe(3)
  })

  it('ClusterInformation is read-only through the CLI', async () => {
    const ci = {apiVersion: 'projectcalico.org/v3', kind: 'ClusterInformation', metadata: {name: 'default'}, spec: {}}
    const f = file('ci.yaml', [ci])
    const texts = await Promise.all(
      (['create', 'apply', 'replace', 'delete'] as const).map(async (a) => {
        const r = await executeConfigCommand(a, {filename: f}, session)
        return (r.resErrs[0]?.error ?? r.err)?.message
      }),
    )
    expect(texts).toEqual([
      'operation create or apply is not supported on ClusterInformation',
      'operation apply is not supported on ClusterInformation: resource is readonly',
      'operation apply or replace is not supported on ClusterInformation',
      'operation delete is not supported on ClusterInformation',
    ])
  })

  it('--skip-exists and --skip-not-exists count the resource as handled', async () => {
    const f = file('hep.yaml', [hep({})])
    await executeConfigCommand('create', {filename: f}, session)
    const again = await executeConfigCommand('create', {filename: f, skipExists: true}, session)
    expect(again).toMatchObject({numHandled: 1, resErrs: []})
    const gone = await executeConfigCommand('delete', {kind: 'hep', names: ['nope'], skipNotExists: true}, session)
    expect(reportDelete(gone)).toEqual({stdout: "Successfully deleted 1 'HostEndpoint' resource(s)\n"})
  })

  it('every resource is attempted; failures keep their file and document', async () => {
    const gns = (name: string, nets: string[]): Resource => ({apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: {name}, spec: {nets}})
    const f = file('sets.yaml', [gns('a', ['10.0.0.0/8']), gns('b', ['not-a-net']), gns('c', ['11.0.0.0/8'])])
    const r = await executeConfigCommand('create', {filename: f}, session)
    expect(r.numHandled).toBe(2)
    expect(r.resErrs).toHaveLength(1)
    expect(r.resErrs[0]).toMatchObject({file: f, document: 2})
    expect((await client.list('GlobalNetworkSet')).items.map((i) => i.metadata.name)).toEqual(['a', 'c'])
    expect(reportCreateApplyValidate('create', r).error).toContain(`${f} document 2: GlobalNetworkSet(b): `)
  })

  it('get: named gets honour --export, lists do not; namespace rules apply', async () => {
    await client.ensureInitialized()
    await client.create({apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: {name: 'p', namespace: 'ns1'}, spec: {selector: 'all()'}})
    const named = await executeConfigCommand('get', {kind: 'policy', names: ['p'], namespace: 'ns1', export: true}, session)
    expect((named.results[0] as Resource).metadata).not.toHaveProperty('uid')
    expect((named.results[0] as Resource).metadata).not.toHaveProperty('namespace')
    const all = await executeConfigCommand('get', {kind: 'policy', allNamespaces: true, export: true}, session)
    expect(all.results[0]).toMatchObject({kind: 'NetworkPolicyList', items: [{metadata: {name: 'p', namespace: 'ns1'}}]})
    const wrong = await executeConfigCommand('get', {kind: 'ippool', allNamespaces: true}, session)
    expect(wrong.resErrs[0].error.message).toBe('IPPool is not namespaced')
    const unknown = await executeConfigCommand('get', {kind: 'somekind'}, session)
    expect(unknown.err?.message).toBe("resource type 'somekind' is not supported")
    const empty = await executeConfigCommand('get', {kind: 'ippool', names: ['a', '']}, session)
    expect(empty.err?.message).toBe('resource name may not be empty')
  })

  it('validate needs no datastore and no version check', async () => {
    const f = file('hep.yaml', [hep({})])
    const offline: Session = {
      checkVersion: () => Promise.reject(new Error('must not be called')),
      client: () => Promise.reject(new Error('must not be called')),
    }
    const r = await executeConfigCommand('validate', {filename: f}, offline)
    expect(reportCreateApplyValidate('validate', r)).toEqual({stdout: "Successfully validated 1 'HostEndpoint' resource(s)\n"})
  })

  it('patch merges into the stored object', async () => {
    await client.create(hep({a: '1'}))
    const r = await executeConfigCommand('patch', {kind: 'hostendpoint', names: ['hep1'], patch: '{"spec":{"interfaceName":"eth1"}}'}, session)
    expect(r.err).toBeUndefined()
    expect((await client.get('HostEndpoint', 'hep1')).spec).toMatchObject({interfaceName: 'eth1', node: 'n1'})
    const bad = await executeConfigCommand('patch', {kind: 'hostendpoint', names: ['hep1'], patch: '{'}, session)
    expect(bad.err?.message).toMatch(/^performing strategic merge patch: /)
  })
})

describe('labelResource', () => {
  it('sets, refuses to overwrite, overwrites, removes', async () => {
    await client.create(hep({}))
    const label = (label: string, extra: {overwrite?: boolean; remove?: boolean} = {}) =>
      labelResource({kind: 'hostendpoints', name: 'hep1', label, ...extra}, session)
    expect(await label('app=web')).toEqual({stdout: 'Successfully set label app on hostendpoints hep1\n'})
    expect((await label('app=db')).error).toBe(
      "failed to update label of hostendpoints hep1, key app is already present. please use '--overwrite' to set a new value",
    )
    expect(await label('app=web')).toEqual({stdout: 'Successfully updated label app on hostendpoints hep1\n'})
    expect(await label('app=db', {overwrite: true})).toEqual({stdout: 'Successfully updated label app on hostendpoints hep1\n'})
    expect((await client.get('HostEndpoint', 'hep1')).metadata.labels).toEqual({app: 'db'})
    expect(await label('app', {remove: true})).toEqual({stdout: 'Successfully removed label app from hostendpoints hep1\n'})
    expect((await label('app', {remove: true})).error).toBe('cannot remove label of hostendpoints hep1, key app does not exist')
    expect((await label('novalue')).error).toBe('invalid label novalue')
    expect((await labelResource({kind: 'hostendpoints', name: 'nope', label: 'a=b'}, session)).error).toBe('hostendpoints nope not found')
  })
})

describe('IP pool deletion through the CLI session', () => {
  it('releases the block affinities of the pool', async () => {
    const {IPAMClient} = await import('../../src/ipam/ipam.js')
    const store = join(dir, 'store')
    const s = new DatastoreSession({configPath: '/etc/calico/calicoctl.cfg', allowVersionMismatch: true, env: {DATASTORE_PATH: store}})
    const ipamBackend = EmbeddedBackend.open({dir: store}).backend
    try {
      const c = await s.client()
      await c.create({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'p'}, spec: {cidr: '10.20.0.0/16'}})
      const ipam = new IPAMClient(ipamBackend)
      await ipam.claimAffinity('10.20.0.0/26', 'node1')
      expect(await ipam.hostBlocks('node1')).toEqual(['10.20.0.0/26'])
      await c.delete('IPPool', 'p')
      expect(await ipam.hostBlocks('node1')).toEqual([])
    } finally {
      await ipamBackend.close()
      await s.close()
    }
  })
})

describe('version check', () => {
  it('passes without a recorded version, fails on a different one', async () => {
    const store = join(dir, 'store')
    const make = (allow = false) => new DatastoreSession({configPath: join(dir, 'absent.cfg'), allowVersionMismatch: allow, env: {DATASTORE_PATH: store}})
    const s = new DatastoreSession({configPath: '/etc/calico/calicoctl.cfg', allowVersionMismatch: false, env: {DATASTORE_PATH: store}})
    await expect(s.checkVersion()).resolves.toBeUndefined()
    await client.ensureInitialized('v9.9.9')
    await expect(s.checkVersion()).rejects.toThrow(
      `version mismatch.\nClient Version:   ${CLIENT_VERSION}\nCluster Version:  9.9.9\nUse --allow-version-mismatch to override`,
    )
    await client.ensureInitialized(`${CLIENT_VERSION}-12-gabcdef`)
    await expect(s.checkVersion()).resolves.toBeUndefined()
    await s.close()
    // A missing non-default config file: calicoctl's stdout message when the client is needed.
    const missing = make()
    await expect(missing.checkVersion()).resolves.toBeUndefined()
    await expect(missing.client()).rejects.toThrow(`Error reading config file: ${join(dir, 'absent.cfg')}`)
  })
})

describe('ResourceManager.update retries', () => {
  it('re-reads and retries on conflict, then gives up with calicoctl text', async () => {
    const {ResourceManager} = await import('../../src/cli/resourcemgr/manager.js')
    const {ResourceUpdateConflictError} = await import('../../src/api/errors.js')
    await client.create(hep({a: '1'}))
    let conflicts = 2
    const flaky = Object.create(client) as ResourceClient
    flaky.update = async (res: Resource) => {
      if (conflicts-- > 0) throw new ResourceUpdateConflictError('HostEndpoint(hep1)')
      return client.update(res)
    }
    const mgr = new ResourceManager(flaky, {attempts: 5, delayMs: 1})
    await expect(mgr.update(hep({b: '2'}))).resolves.toMatchObject({metadata: {labels: {b: '2'}}})
    conflicts = 10
    await expect(mgr.update(hep({c: '3'}))).rejects.toThrow('failed to update the resource: %!s(<nil>)')
  })
})
