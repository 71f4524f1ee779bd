// The plugins' commands end to end in-process, over a real embedded datastore and a recording dataplane (no
// root needed): what ADD writes, how failures are rolled back, DEL's idempotence and ownership rule, CHECK,
// calico-ipam, delegation to another IPAM plugin, and the host IPAM lock.
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {Resource} from '../../src/api/resource.js'
import {acquireIPAMLock} from '../../src/cni/ipam-lock.js'
import {silentLogger} from '../../src/cni/log.js'
import {runPlugin, type PluginKind} from '../../src/cni/main.js'
import type {Backend} from '../../src/datastore/backend.js'
import {ResourceClient} from '../../src/datastore/client.js'
import {openBackend} from '../../src/datastore/factory.js'
import {checkIPAM, IPAMClient} from '../../src/ipam/index.js'
import {cniEnv, RecordingDataplane} from './cni-recording-dataplane.js'

let dir: string
let backend: Backend
let dataplane: RecordingDataplane

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cni-plugin-test-'))
  backend = (await openBackend({datastoreType: 'embedded', datastorePath: join(dir, 'ds')})).backend
  const client = new ResourceClient(backend)
  await client.create({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'pool1'}, spec: {cidr: '10.60.0.0/24', blockSize: 28, ipipMode: 'Never', vxlanMode: 'Never'}})
  await client.create({apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name: 'node1'}, spec: {}})
  dataplane = new RecordingDataplane()
})

afterEach(async () => {
  await backend.close()
  rmSync(dir, {recursive: true, force: true})
})

function conf(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', datastore_type: 'embedded', datastore_path: join(dir, 'ds'), nodename: 'node1', mtu: 1400, ipam: {type: 'calico-ipam'}, ...extra}
}

async function run(kind: PluginKind, command: string, opts: {containerID?: string; pod?: string; conf?: Record<string, unknown> | string; env?: Record<string, string>} = {}) {
  let out = ''
  const containerID = opts.containerID ?? 'cid1'
  const code = await runPlugin(kind, {
    env: {
      ...cniEnv(command, {containerID, namespace: 'web', name: opts.pod ?? 'pod-1', cniPath: join(dir, 'bin')}),
      ...opts.env,
    },
    stdin: typeof opts.conf === 'string' ? opts.conf : JSON.stringify(opts.conf ?? conf()),
    write: (t) => (out += t),
    deps: {log: silentLogger, dataplane},
  })
  return {code, out, json: out === '' ? undefined : (JSON.parse(out) as Record<string, unknown>)}
}

async function ipamReport() {
  return checkIPAM(await new IPAMClient(backend).loadCheckInput())
}

async function weps(): Promise<Resource[]> {
  return (await new ResourceClient(backend).list('WorkloadEndpoint')).items
}

describe('calico ADD', () => {
  it('assigns an address, plumbs the interface and writes the endpoint', async () => {
    const r = await run('calico', 'ADD', {conf: conf({args: {cni: {labels: [{key: 'app', value: 'web'}]}}})})
    expect(r.code).toBe(0)
    const address = ((r.json?.ips as {address: string}[])[0]!).address
    expect(address).toMatch(/^10\.60\.0\.\d+\/32$/)
    expect(r.json).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        {name: 'calie530c3868a5', mac: 'ee:ee:ee:ee:ee:ee'},
        {name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/test'},
      ],
      ips: [{address, interface: 1}],
      dns: {},
    })
    expect(dataplane.live.get('calie530c3868a5')).toEqual({hostVeth: 'calie530c3868a5', containerNetns: '/var/run/netns/test', containerIface: 'eth0', mtu: 1400, addresses: [address]})
    const [wep] = await weps()
    expect(wep?.metadata).toMatchObject({name: 'node1-k8s-pod--1-eth0', namespace: 'web', labels: {app: 'web', 'projectcalico.org/orchestrator': 'k8s'}})
    expect(wep?.spec).toMatchObject({ipNetworks: [address], interfaceName: 'calie530c3868a5', containerID: 'cid1', profiles: ['kns.web', 'ksa.web.default']})
    const ipam = new IPAMClient(backend)
    expect(await ipam.ipsByHandle('k8s-pod-network.cid1')).toEqual([address.split('/')[0]])
    const attrs = await ipam.getAssignmentAttributes(address.split('/')[0]!)
    expect(attrs).toMatchObject({handleID: 'k8s-pod-network.cid1', attrs: {node: 'node1', pod: 'pod-1', namespace: 'web'}})
    expect((await ipamReport()).problems).toBe(0)
  })

  it('honours CNI_ARGS IP= and writes results in older versions', async () => {
    const r = await run('calico', 'ADD', {conf: conf({cniVersion: '0.3.1'}), env: {CNI_ARGS: 'K8S_POD_NAMESPACE=web;K8S_POD_NAME=fixed;IP=10.60.0.77'}})
    expect(r.code, r.out).toBe(0)
    expect(r.json?.ips).toEqual([{version: '4', address: '10.60.0.77/32', interface: 1}])
  })

  it('rolls back the address and interfaces when plumbing fails', async () => {
    dataplane.failSetup = new Error('RTNETLINK answers: File exists')
    const r = await run('calico', 'ADD')
    expect(r).toMatchObject({code: 1, json: {cniVersion: '1.0.0', code: 999, msg: 'RTNETLINK answers: File exists'}})
    expect(dataplane.teardowns).toEqual([{hostVeth: 'calie530c3868a5', hostSideToo: true}])
    expect(await weps()).toEqual([])
    const report = await ipamReport()
    expect(report.allocations.size).toBe(0)
    expect(report.handlesWithoutIPs).toEqual([])
  })

  it('refuses a missing namespace before taking an address', async () => {
    const r = await run('calico', 'ADD', {env: {CNI_NETNS: '/var/run/netns/gone'}})
    expect(r.json).toEqual({cniVersion: '1.0.0', code: 3, msg: 'failed to open netns "/var/run/netns/gone"'})
    expect((await ipamReport()).allocations.size).toBe(0)
    expect(dataplane.teardowns).toEqual([])
  })

  it('reports an IPv4 pool that is not there as an IPAM failure', async () => {
    const r = await run('calico', 'ADD', {conf: conf({ipam: {type: 'calico-ipam', ipv4_pools: ['10.99.0.0/24']}})})
    expect(r.json).toEqual({cniVersion: '1.0.0', code: 999, msg: 'the given pool (10.99.0.0/24) does not exist, or is not enabled'})
  })
})

describe('calico DEL', () => {
  it('removes endpoint, addresses and interfaces, and is idempotent', async () => {
    await run('calico', 'ADD')
    for (let i = 0; i < 2; i++) {
      const r = await run('calico', 'DEL')
      expect(r).toEqual({code: 0, out: '', json: undefined})
    }
    expect(await weps()).toEqual([])
    expect(dataplane.live.size).toBe(0)
    expect((await ipamReport()).allocations.size).toBe(0)
  })

  it('leaves the endpoint and host veth of a newer container of the same pod alone', async () => {
    await run('calico', 'ADD', {containerID: 'old'})
    await run('calico', 'ADD', {containerID: 'new'})
    // The old sandbox's DEL arrives late.
    const r = await run('calico', 'DEL', {containerID: 'old'})
    expect(r.code).toBe(0)
    const [wep] = await weps()
    expect(wep?.spec).toMatchObject({containerID: 'new'})
    expect(dataplane.teardowns.at(-1)).toEqual({hostVeth: 'calie530c3868a5', hostSideToo: false})
    const ipam = new IPAMClient(backend)
    await expect(ipam.ipsByHandle('k8s-pod-network.old')).rejects.toThrow()
    expect(await ipam.ipsByHandle('k8s-pod-network.new')).toHaveLength(1)
  })

  it('also releases what Calico v2 held under the workload\'s own handle (<namespace>.<pod>)', async () => {
    const ipam = new IPAMClient(backend)
    await ipam.autoAssign({num4: 1, num6: 0, handleID: 'web.pod-1', hostname: 'node1', intendedUse: 'Workload'})
    await ipam.autoAssign({num4: 1, num6: 0, handleID: 'web.other-pod', hostname: 'node1', intendedUse: 'Workload'})
    expect((await run('calico', 'DEL')).code).toBe(0)
    await expect(ipam.ipsByHandle('web.pod-1')).rejects.toThrow()
    expect(await ipam.ipsByHandle('web.other-pod')).toHaveLength(1)
  })
})

describe('calico CHECK', () => {
  it('passes for what ADD made and fails once something is missing', async () => {
    const added = await run('calico', 'ADD')
    expect((await run('calico', 'CHECK', {conf: conf({prevResult: added.json})})).code).toBe(0)
    dataplane.live.clear()
    const r = await run('calico', 'CHECK', {conf: conf({prevResult: added.json})})
    expect(r.json).toEqual({cniVersion: '1.0.0', code: 999, msg: 'host interface calie530c3868a5 does not exist'})
  })

  it('notices an endpoint or allocation that disappeared', async () => {
    const added = await run('calico', 'ADD')
    await new IPAMClient(backend).releaseByHandle('k8s-pod-network.cid1')
    const address = ((added.json?.ips as {address: string}[])[0]!).address
    const r = await run('calico', 'CHECK', {conf: conf({prevResult: added.json})})
    expect(r.json?.msg).toBe(`IPAM has no allocation of ${address.split('/')[0]} for handle k8s-pod-network.cid1`)
  })

  it('needs a prevResult and a version that has CHECK', async () => {
    expect((await run('calico', 'CHECK')).json).toMatchObject({code: 7, msg: 'Required prevResult missing'})
    expect((await run('calico', 'CHECK', {conf: conf({cniVersion: '0.3.1', prevResult: {ips: []}})})).json).toMatchObject({code: 1, msg: 'config version does not allow CHECK'})
  })
})

describe('calico-ipam', () => {
  it('ADD returns the address with its block prefix and a route; CHECK and DEL follow', async () => {
    const r = await run('calico-ipam', 'ADD')
    expect(r.code, r.out).toBe(0)
    const ips = r.json?.ips as {address: string}[]
    expect(ips[0]?.address).toMatch(/^10\.60\.0\.\d+\/28$/)
    expect(r.json?.routes).toEqual([{dst: ips[0]?.address}])
    expect(dataplane.live.size).toBe(0)
    expect((await run('calico-ipam', 'CHECK', {conf: conf({prevResult: r.json})})).code).toBe(0)
    expect((await run('calico-ipam', 'DEL')).code).toBe(0)
    expect((await run('calico-ipam', 'DEL')).code).toBe(0)
    expect((await run('calico-ipam', 'CHECK', {conf: conf({prevResult: r.json})})).json).toMatchObject({code: 999})
  })
})

describe('delegated IPAM', () => {
  it('runs the IPAM plugin named by ipam.type from CNI_PATH and passes its errors through', async () => {
    const bin = join(dir, 'bin')
    const {mkdirSync} = await import('node:fs')
    mkdirSync(bin)
    const script = join(bin, 'static-test')
    writeFileSync(
      script,
      `#!/bin/sh
case "$CNI_COMMAND" in
  ADD) echo '{"cniVersion":"1.0.0","ips":[{"address":"192.0.2.9/24"}],"dns":{}}' ;;
  DEL) exit 0 ;;
  *) echo '{"cniVersion":"1.0.0","code":107,"msg":"no check here"}'; exit 1 ;;
esac
`,
    )
    chmodSync(script, 0o755)
    const c = conf({ipam: {type: 'static-test'}})
    const r = await run('calico', 'ADD', {conf: c})
    expect(r.code, r.out).toBe(0)
    expect(r.json?.ips).toEqual([{address: '192.0.2.9/32', interface: 1}])
    const check = await run('calico', 'CHECK', {conf: {...c, prevResult: r.json}})
    expect(check.json).toEqual({cniVersion: '1.0.0', code: 107, msg: 'no check here'})
    expect((await run('calico', 'DEL', {conf: c})).code).toBe(0)
    expect(await weps()).toEqual([])
  })
})

describe('host IPAM lock', () => {
  it('admits one holder at a time and frees the lock on release', async () => {
    const name = `calico-ipam-lock-test-${process.pid}`
    const first = await acquireIPAMLock(1000, name)
    expect(first.acquired).toBe(true)
    const blocked = await acquireIPAMLock(100, name)
    expect(blocked.acquired).toBe(false)
    const waiting = acquireIPAMLock(5000, name)
    await first.unlock()
    const second = await waiting
    expect(second.acquired).toBe(true)
    await second.unlock()
  })
})
