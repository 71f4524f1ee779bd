// The failures a kubelet meets, through the real plugin in the lab: each must come back as the CNI error JSON
// (spec code, Calico's message) with exit status 1, and leave nothing behind — no interface in the pod or on
// the node, no WorkloadEndpoint, no allocation or handle in IPAM.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {checkIPAM} from '../../src/ipam/index.js'
import {Lab, labSkipReason, type LabNode} from '../lab/lab.js'

const skip = labSkipReason()

describe.skipIf(skip !== undefined)('CNI errors', () => {
  let lab: Lab
  let node: LabNode
  let seq = 0

  beforeAll(async () => {
    lab = await Lab.start({datastore: 'embedded'})
    // Four addresses in one /30 block.
    await lab.addPool('small', '10.90.0.0/30', {blockSize: 30})
    await lab.addPool('off', '10.91.0.0/24', {blockSize: 26, disabled: true})
    node = await lab.addNode('node-e')
  }, 120_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  /** Runs ADD for a fresh pod namespace; returns the reply and the namespace. */
  async function add(conf: Record<string, unknown> | string, args: Record<string, string> = {}) {
    const ns = await lab.addPodNetns()
    const containerID = `c${++seq}`.padEnd(12, '0')
    const name = `pod-${seq}`
    const run = await lab.cni(node, 'ADD', {
      containerID,
      netnsPath: ns.netnsPath,
      args: {K8S_POD_NAMESPACE: 'err', K8S_POD_NAME: name, K8S_POD_INFRA_CONTAINER_ID: containerID, ...args},
      conf,
    })
    return {run, ns, containerID, name}
  }

  async function del(x: {containerID: string; name: string; ns: {netnsPath: string}}, conf: Record<string, unknown>): Promise<void> {
    const run = await lab.cni(node, 'DEL', {containerID: x.containerID, netnsPath: x.ns.netnsPath, args: {K8S_POD_NAMESPACE: 'err', K8S_POD_NAME: x.name}, conf})
    expect(run.exit, run.stdout).toBe(0)
  }

  /** Nothing of a failed ADD is left: no eth0 in the pod, no cali on the node, no endpoint or handle. */
  async function expectNothingLeft(podNetns: string, containerID: string): Promise<void> {
    expect(await lab.inNs(podNetns, ['ip', '-o', 'link', 'show'])).not.toContain('eth0')
    const weps = (await lab.client.list('WorkloadEndpoint')).items
    expect(weps.filter((w) => (w.spec as {containerID?: string}).containerID === containerID)).toEqual([])
    const handles = (await lab.backend.list({kind: 'IPAMHandle'})).items.map((kv) => kv.key.name)
    expect(handles).not.toContain(`k8s-pod-network.${containerID}`)
    const report = checkIPAM(await lab.ipam.loadCheckInput())
    expect(report.leakedIPs).toEqual([])
    expect(report.problems).toBe(0)
  }

  it('answers VERSION with the supported versions', async () => {
    const run = await lab.cni(node, 'VERSION', {containerID: '', conf: '{"cniVersion":"1.0.0"}'})
    expect(run.exit).toBe(0)
    expect(run.json).toEqual({cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0']})
  })

  it('a full pool: code 999 with IPAM’s reason, and the four pods that fit keep working', async () => {
    const conf = lab.netConf(node, {ipam: {type: 'calico-ipam', ipv4_pools: ['small']}})
    const fitted = []
    for (let i = 0; i < 4; i++) {
      const r = await add(conf)
      expect(r.run.exit, r.run.stdout).toBe(0)
      fitted.push(r)
    }
    const full = await add(conf)
    expect(full.run.exit).toBe(1)
    expect(full.run.json).toEqual({
      cniVersion: '1.0.0',
      code: 999,
      msg: 'failed to request IPv4 addresses: Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: [10.90.0.0/30]',
    })
    await expectNothingLeft(full.ns.netns, full.containerID)
    // Free them again for the tests below.
    for (const f of fitted) await del(f, conf)
  })

  it('a disabled pool named in ipv4_pools: code 999, nothing assigned', async () => {
    const r = await add(lab.netConf(node, {ipam: {type: 'calico-ipam', ipv4_pools: ['10.91.0.0/24']}}))
    expect(r.run.exit).toBe(1)
    expect(r.run.json).toEqual({cniVersion: '1.0.0', code: 999, msg: 'the given pool (10.91.0.0/24) does not exist, or is not enabled'})
    await expectNothingLeft(r.ns.netns, r.containerID)
  })

  it('a reserved address is never handed out; when only reserved ones remain the pool counts as full', async () => {
    await lab.client.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPReservation',
      metadata: {name: 'keep'},
      spec: {reservedCIDRs: ['10.90.0.1/32', '10.90.0.2/32']},
    })
    const conf = lab.netConf(node, {ipam: {type: 'calico-ipam', ipv4_pools: ['small']}})
    const a = await add(conf)
    const b = await add(conf)
    const got = [a, b].map((x) => ((x.run.json?.ips as {address: string}[] | undefined)?.[0]?.address ?? x.run.stdout))
    expect(got.sort()).toEqual(['10.90.0.0/32', '10.90.0.3/32'])
    const c = await add(conf)
    expect(c.run.exit).toBe(1)
    expect(c.run.json).toMatchObject({code: 999, msg: expect.stringContaining('Assigned 0 out of 1 requested IPv4 addresses')})
    await expectNothingLeft(c.ns.netns, c.containerID)
    await del(a, conf)
    await del(b, conf)
  })

  it('ADD into a namespace that does not exist: code 3, before any address is taken', async () => {
    const containerID = `gone${++seq}`
    const run = await lab.cni(node, 'ADD', {
      containerID,
      netnsPath: `/var/run/netns/${lab.prefix}-missing`,
      args: {K8S_POD_NAMESPACE: 'err', K8S_POD_NAME: 'nowhere'},
      conf: lab.netConf(node),
    })
    expect(run.exit).toBe(1)
    expect(run.json).toMatchObject({cniVersion: '1.0.0', code: 3, msg: `failed to open netns "/var/run/netns/${lab.prefix}-missing"`})
    expect(await lab.inNs(node.netns, ['ip', '-o', 'link', 'show'])).not.toContain('cali')
    expect((await lab.backend.list({kind: 'IPAMHandle'})).items.map((kv) => kv.key.name)).not.toContain(`k8s-pod-network.${containerID}`)
    expect(checkIPAM(await lab.ipam.loadCheckInput()).leakedIPs).toEqual([])
  })

  it('DEL of a container nobody knows succeeds silently (with and without a netns)', async () => {
    for (const netnsPath of ['', '/var/run/netns/does-not-exist']) {
      const run = await lab.cni(node, 'DEL', {
        containerID: 'feedfacefeedface',
        netnsPath,
        args: {K8S_POD_NAMESPACE: 'err', K8S_POD_NAME: 'ghost'},
        conf: lab.netConf(node),
      })
      expect(run.exit, run.stdout + run.stderr).toBe(0)
      expect(run.stdout).toBe('')
    }
  })

  it('DEL after the runtime already removed the pod’s namespace still releases everything', async () => {
    const conf = lab.netConf(node)
    const r = await add(conf)
    expect(r.run.exit, r.run.stdout).toBe(0)
    await lab.removeNetns(r.ns.netns)
    const run = await lab.cni(node, 'DEL', {containerID: r.containerID, netnsPath: r.ns.netnsPath, args: {K8S_POD_NAMESPACE: 'err', K8S_POD_NAME: r.name}, conf})
    expect(run.exit, run.stdout + run.stderr).toBe(0)
    expect(await lab.inNs(node.netns, ['ip', '-o', 'link', 'show'])).not.toContain('cali')
    expect((await lab.client.list('WorkloadEndpoint')).items).toEqual([])
    expect(checkIPAM(await lab.ipam.loadCheckInput()).allocations.size).toBe(0)
  })

  it('malformed configurations and environments get the spec’s codes and touch nothing', async () => {
    const cases: {conf: Record<string, unknown> | string; env?: Record<string, string>; code: number; msg: string}[] = [
      {conf: '{"cniVersion": "1.0.0", "name": ', code: 6, msg: 'decoding version from network config: '},
      {conf: lab.netConf(node, {cniVersion: '0.2.0'}), code: 1, msg: 'incompatible CNI versions'},
      {conf: lab.netConf(node, {name: undefined}), code: 7, msg: 'missing network name'},
      {conf: lab.netConf(node, {datastore_type: 'consul'}), code: 7, msg: 'unsupported datastore_type "consul" (use etcdv3, kubernetes or embedded)'},
      {conf: lab.netConf(node, {mtu: 'big'}), code: 7, msg: 'invalid mtu "big": must be an integer between 68 and 65535'},
      {conf: lab.netConf(node, {ipam: {}}), code: 7, msg: 'missing ipam.type'},
      {conf: lab.netConf(node, {args: {cni: {labels: [{key: 'app'}]}}}), code: 7, msg: 'args.cni.labels[0] must be {"key": string, "value": string}'},
      {conf: lab.netConf(node), env: {CNI_IFNAME: ''}, code: 4, msg: 'required env variables [CNI_IFNAME] missing'},
      {conf: lab.netConf(node), env: {CNI_COMMAND: 'UP'}, code: 4, msg: 'unknown CNI_COMMAND: UP'},
      {conf: lab.netConf(node, {ipam: {type: 'host-local'}}), code: 7, msg: 'failed to find plugin "host-local" in path'},
    ]
    for (const c of cases) {
      const ns = await lab.addPodNetns()
      const containerID = `bad${++seq}`
      const env = c.env ? {...c.env} : undefined
      const command = env?.CNI_COMMAND ?? 'ADD'
      if (env) delete env.CNI_COMMAND
      const run = await lab.cni(node, command, {containerID, netnsPath: ns.netnsPath, args: {K8S_POD_NAMESPACE: 'err', K8S_POD_NAME: containerID}, conf: c.conf, env})
      expect(run.exit, JSON.stringify(c.conf)).toBe(1)
      expect(run.json?.code, run.stdout).toBe(c.code)
      expect(String(run.json?.msg)).toContain(c.msg)
      await expectNothingLeft(ns.netns, containerID)
    }
    expect(await lab.inNs(node.netns, ['ip', '-o', 'link', 'show'])).not.toContain('cali')
  })
})
