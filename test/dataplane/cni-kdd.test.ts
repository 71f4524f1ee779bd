// The real CNI plugin on the Kubernetes datastore, as a kubelet runs it: the network configuration names
// datastore_type kubernetes and a kubeconfig, Pods exist as API objects before ADD, and ADD reads them (labels,
// service account, the namespace's and pod's IPAM annotations), wires the pod and annotates it rather than writing
// an endpoint object. The endpoints calicoctl shows are the Pods' view; DEL releases by handle, clears the
// address annotations and leaves IPAM clean. The API server is the in-process test server, relayed into the node.
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {k8sHostVethName} from '../../src/cni/names.js'
import {checkIPAM} from '../../src/ipam/index.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'
import {inCIDR} from '../helpers/cidr.js'
import {Lab, labSkipReason, type LabNode, type LabPod} from '../lab/lab.js'
import {ROOT} from '../lab/plugin.js'
import {meshFailures} from '../lab/reach.js'

const skip = labSkipReason()
const PORT = 7100
const REFERENCE_PLUGINS = '/usr/lib/cni'
const POD_IP = 'cni.projectcalico.org/podIP'
const POD_IPS = 'cni.projectcalico.org/podIPs'
const CONTAINER_ID = 'cni.projectcalico.org/containerID'

interface PodObject {
  namespace: string
  name: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  serviceAccountName?: string
}

const PODS: PodObject[] = [
  ...[0, 1, 2, 3].map((i) => ({namespace: 'web', name: `web-${i}`, labels: {app: 'web', shard: `s${i % 2}`}, serviceAccountName: 'web-sa'})),
  // The namespace's ipv4pools annotation picks pool-b for every pod in it.
  {namespace: 'pinned', name: 'db-0', labels: {app: 'db'}},
  // A fixed address through Calico IPAM.
  {namespace: 'web', name: 'fixed', annotations: {'cni.projectcalico.org/ipAddrs': '["10.71.200.9"]', 'cni.projectcalico.org/hwAddr': '0a:58:0a:47:c8:09'}},
]

describe.skipIf(skip !== undefined)('CNI on the Kubernetes datastore', () => {
  let lab: Lab
  let api: TestApiServer
  let node: LabNode
  const pods: LabPod[] = []

  const podObject = (p: {namespace: string; name: string}) => api.object('', 'pods', p.name, p.namespace)

  /** calicoctl inside the node, on the node's kubeconfig (as an operator on that host would run it). */
  async function calicoctl(...args: string[]): Promise<string> {
    const r = await lab.exec(node.netns, [process.execPath, join(ROOT, 'bin', 'calicoctl'), ...args, '--config', lab.clientConfig(node)])
    if (r.code !== 0) throw new Error(`calicoctl ${args.join(' ')} failed (${r.code}): ${r.stdout}${r.stderr}`)
    return r.stdout
  }

  beforeAll(async () => {
    lab = await Lab.start({datastore: 'kubernetes'})
    api = lab.apiServer as TestApiServer
    await lab.addPool('pool-a', '10.71.0.0/16', {blockSize: 26})
    await lab.addPool('pool-b', '10.72.0.0/24', {blockSize: 28})
    node = await lab.addNode('node-a')
    // What calico-node and kube-controllers create at startup (neither runs here); calicoctl ipam check reads both.
    await lab.client.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'ClusterInformation',
      metadata: {name: 'default'},
      spec: {clusterGUID: 'c0ffee00c0ffee00c0ffee00c0ffee00', clusterType: 'k8s,kdd', datastoreReady: true},
    })
    await lab.client.create({apiVersion: 'projectcalico.org/v3', kind: 'KubeControllersConfiguration', metadata: {name: 'default'}, spec: {controllers: {}}})
    api.seed('', 'namespaces', {metadata: {name: 'web'}})
    api.seed('', 'namespaces', {metadata: {name: 'pinned', annotations: {'cni.projectcalico.org/ipv4pools': '["pool-b"]'}}})
    for (const p of PODS) {
      api.seed('', 'pods', {
        metadata: {name: p.name, namespace: p.namespace, labels: p.labels ?? {}, annotations: p.annotations ?? {}},
        spec: {nodeName: 'node-a', serviceAccountName: p.serviceAccountName, containers: [{name: 'c', image: 'busybox', ports: [{name: 'echo', containerPort: PORT}]}]},
      }, p.namespace)
    }
    for (const p of PODS) pods.push(await lab.addPod(node, {namespace: p.namespace, name: p.name}))
    for (const p of pods) await lab.serve(p, PORT)
  }, 300_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  it('takes addresses as the pool annotations and ipAddrs say', async () => {
    const byName = new Map(pods.map((p) => [p.name, p.ips[0] ?? '']))
    for (const p of pods.filter((x) => x.namespace === 'web' && x.name !== 'fixed')) expect(inCIDR(byName.get(p.name) ?? '', '10.71.0.0/16'), p.name).toBe(true)
    expect(inCIDR(byName.get('db-0') ?? '', '10.72.0.0/24')).toBe(true)
    expect(byName.get('fixed')).toBe('10.71.200.9')
    expect(new Set(byName.values()).size).toBe(pods.length)
    const fixed = pods.find((p) => p.name === 'fixed') as LabPod
    expect(await lab.ipam.ipsByHandle(`k8s-pod-network.${fixed.containerID}`)).toEqual(['10.71.200.9'])
    // Its hwAddr annotation set the MAC address of its eth0.
    const [link] = JSON.parse(await lab.inNs(fixed.netns, ['ip', '-j', 'link', 'show', 'dev', 'eth0'])) as {address: string}[]
    expect(link?.address).toBe('0a:58:0a:47:c8:09')
    expect((fixed.result.interfaces as {name: string; mac?: string}[]).find((i) => i.name === 'eth0')?.mac).toBe('0a:58:0a:47:c8:09')
  })

  it('annotates each Pod with its addresses and container instead of writing an endpoint object', async () => {
    for (const p of pods) {
      expect(podObject(p)?.metadata.annotations, p.name).toMatchObject({[POD_IP]: `${p.ips[0]}/32`, [POD_IPS]: `${p.ips[0]}/32`, [CONTAINER_ID]: p.containerID})
    }
    // Besides the Pods, the plugin wrote IPAM objects only: one handle per container.
    expect(api.objects('crd.projectcalico.org', 'ipamhandles').map((h) => (h.spec as {handleID: string}).handleID).sort()).toEqual(
      pods.map((p) => `k8s-pod-network.${p.containerID}`).sort(),
    )
  })

  it('lets the pods reach each other over TCP and UDP', async () => {
    expect(await meshFailures(lab, pods, PORT, {timeoutMs: 3000, addresses: 'first'})).toEqual([])
  }, 120_000)

  it('shows every pod\'s endpoint through calicoctl get workloadendpoints', async () => {
    const list = JSON.parse(await calicoctl('get', 'workloadendpoints', '--all-namespaces', '-o', 'json')) as {items: {metadata: {name: string; namespace: string; labels: Record<string, string>}; spec: Record<string, unknown>}[]}
    expect(list.items.map((w) => `${w.metadata.namespace}/${w.metadata.name}`).sort()).toEqual(
      pods.map((p) => `${p.namespace}/node--a-k8s-${p.name.replaceAll('-', '--')}-eth0`).sort(),
    )
    const web1 = pods.find((p) => p.name === 'web-1') as LabPod
    const wep = list.items.find((w) => w.metadata.name === 'node--a-k8s-web--1-eth0')
    expect(wep?.metadata.labels).toEqual({
      app: 'web',
      shard: 's1',
      'projectcalico.org/namespace': 'web',
      'projectcalico.org/orchestrator': 'k8s',
      'projectcalico.org/serviceaccount': 'web-sa',
    })
    expect(wep?.spec).toMatchObject({
      orchestrator: 'k8s',
      node: 'node-a',
      pod: 'web-1',
      endpoint: 'eth0',
      containerID: web1.containerID,
      interfaceName: k8sHostVethName('web', 'web-1'),
      ipNetworks: [`${web1.ips[0]}/32`],
      profiles: ['kns.web', 'ksa.web.web-sa'],
      ports: [{name: 'echo', port: PORT, protocol: 'TCP'}],
    })
    const table = await calicoctl('get', 'workloadendpoints', '-n', 'pinned')
    expect(table).toMatch(/^NAMESPACE\s+WORKLOAD\s+NODE\s+NETWORKS\s+INTERFACE\s*\n/)
    const db = pods.find((p) => p.name === 'db-0') as LabPod
    expect(table).toMatch(new RegExp(`^pinned\\s+db-0\\s+node-a\\s+${(db.ips[0] ?? '').replaceAll('.', '\\.')}/32\\s+${k8sHostVethName('pinned', 'db-0')}\\s*$`, 'm'))
  })

  it('passes CHECK for a running pod', async () => {
    const pod = pods[0] as LabPod
    const call = {containerID: pod.containerID, netnsPath: pod.netnsPath, args: {K8S_POD_NAMESPACE: pod.namespace, K8S_POD_NAME: pod.name}}
    const run = await lab.cni(node, 'CHECK', {...call, conf: lab.netConf(node, {prevResult: pod.result})})
    expect(run.exit, run.stdout + run.stderr).toBe(0)
  })

  it('finds IPAM consistent while the pods run', async () => {
    expect(await calicoctl('ipam', 'check')).toContain('Check complete; found 0 problems.')
  })

  // Debian's containernetworking-plugins puts host-local here.
  it.skipIf(!existsSync(join(REFERENCE_PLUGINS, 'host-local')))('wires a host-local pod on its Node\'s pod CIDR, with only host-local\'s routes inside', async () => {
    api.seed('', 'nodes', {metadata: {name: 'kubelet-a'}, spec: {podCIDRs: ['10.73.4.0/24']}})
    api.seed('', 'pods', {metadata: {name: 'hl-0', namespace: 'web'}, spec: {nodeName: 'node-a', containers: [{name: 'c', image: 'busybox'}]}}, 'web')
    const ns = await lab.addPodNetns()
    const call = {containerID: 'hostlocal0', netnsPath: ns.netnsPath, args: {K8S_POD_NAMESPACE: 'web', K8S_POD_NAME: 'hl-0'}, env: {CNI_PATH: REFERENCE_PLUGINS}}
    const conf = lab.netConf(node, {
      kubernetes: {kubeconfig: node.kubeconfig, node_name: 'kubelet-a'},
      ipam: {type: 'host-local', dataDir: join(lab.dir, 'host-local'), ranges: [[{subnet: 'usePodCidr'}]], routes: [{dst: '10.71.0.0/16'}]},
    })
    try {
      const add = await lab.cni(node, 'ADD', {...call, conf})
      expect(add.exit, add.stdout + add.stderr).toBe(0)
      const address = (add.json?.ips as {address: string}[])[0]?.address ?? ''
      expect(address).toMatch(/^10\.73\.4\.\d+\/32$/)
      const routes = await lab.inNs(ns.netns, ['ip', '-4', 'route', 'show'])
      expect(routes).toContain('10.71.0.0/16 via 169.254.1.1 dev eth0')
      expect(routes).not.toContain('default')
      expect(podObject({namespace: 'web', name: 'hl-0'})?.metadata.annotations?.[POD_IP]).toBe(address)
      // The route goes where the web pods live: one of them answers.
      const web0 = pods.find((p) => p.name === 'web-0') as LabPod
      expect(await lab.probe(ns, [[web0.ips[0] ?? '', PORT, 'tcp']], 3000)).toEqual([true])
      const check = await lab.cni(node, 'CHECK', {...call, conf: {...conf, prevResult: add.json}})
      expect(check.exit, check.stdout + check.stderr).toBe(0)
    } finally {
      const del = await lab.cni(node, 'DEL', {...call, conf})
      expect(del.exit, del.stdout + del.stderr).toBe(0)
      await lab.removeNetns(ns.netns)
      await fetch(`${api.url}/api/v1/namespaces/web/pods/hl-0`, {method: 'DELETE'}).then((r) => r.body?.cancel())
    }
    expect(readdirSync(join(lab.dir, 'host-local', lab.netConf(node).name as string)).filter((f) => f.startsWith('10.'))).toEqual([])
  }, 60_000)

  it('routes a KubeVirt VM\'s persistent address to the pod running it, not to its live-migration target', async () => {
    for (const [plural, kind] of [['virtualmachineinstances', 'VirtualMachineInstance'], ['virtualmachines', 'VirtualMachine']] as const) {
      api.seed('apiextensions.k8s.io', 'customresourcedefinitions', {
        metadata: {name: `${plural}.kubevirt.io`},
        spec: {group: 'kubevirt.io', scope: 'Namespaced', names: {plural, kind}, versions: [{name: 'v1', served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}}]},
      })
    }
    const machine = api.seed('kubevirt.io', 'virtualmachines', {metadata: {name: 'vm1', namespace: 'web'}}, 'web')
    const vmi = api.seed('kubevirt.io', 'virtualmachineinstances', {metadata: {name: 'vm1', namespace: 'web', ownerReferences: [{apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', name: 'vm1', uid: machine.metadata.uid}]}}, 'web')
    const owner = {apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', name: 'vm1', uid: vmi.metadata.uid, controller: true}
    for (const [name, labels] of [['virt-launcher-vm1-src', {}], ['virt-launcher-vm1-tgt', {'kubevirt.io/migrationJobUID': 'mig-1'}]] as const) {
      api.seed('', 'pods', {metadata: {name, namespace: 'web', labels, ownerReferences: [owner]}, spec: {nodeName: 'node-a', containers: [{name: 'compute', image: 'virt-launcher'}]}}, 'web')
    }
    const source = await lab.addPod(node, {namespace: 'web', name: 'virt-launcher-vm1-src'})
    const target = await lab.addPod(node, {namespace: 'web', name: 'virt-launcher-vm1-tgt'})
    const address = source.ips[0] ?? ''
    expect(target.ips).toEqual([address])
    expect(await lab.ipam.ipsByHandle('k8s-pod-network.vmi.web.vm1')).toEqual([address])
    // The node routes the address to the source only; the agent moves it when the migration completes.
    const routes = await lab.inNs(node.netns, ['ip', '-4', 'route', 'show', `${address}/32`])
    expect(routes.trim()).toBe(`${address} dev ${k8sHostVethName('web', 'virt-launcher-vm1-src')} scope link`)
    for (const p of [target, source]) {
      if (p === source) {
        // The VM is being deleted by the time its last pod goes: that DEL releases the address.
        await fetch(`${api.url}/apis/kubevirt.io/v1/namespaces/web/virtualmachines/vm1`, {method: 'DELETE'}).then((r) => r.body?.cancel())
        api.seed('kubevirt.io', 'virtualmachines', {metadata: {name: 'vm1', namespace: 'web', deletionTimestamp: '2026-11-27T00:00:00Z'}}, 'web')
      } else {
        expect(await lab.ipam.ipsByHandle('k8s-pod-network.vmi.web.vm1')).toEqual([address])
      }
      const run = await lab.deletePod(p)
      expect(run.exit, run.stdout + run.stderr).toBe(0)
      await fetch(`${api.url}/api/v1/namespaces/web/pods/${p.name}`, {method: 'DELETE'}).then((r) => r.body?.cancel())
    }
    await expect(lab.ipam.ipsByHandle('k8s-pod-network.vmi.web.vm1')).rejects.toThrow()
  }, 120_000)

  it('DEL releases by handle and clears the address annotations; calicoctl ipam check is clean', async () => {
    for (const p of [...pods]) {
      const run = await lab.deletePod(p)
      expect(run.exit, run.stdout + run.stderr).toBe(0)
      // Calico keeps the container ID so that a repeated DEL can tell which sandbox it is about.
      expect(podObject(p)?.metadata.annotations, p.name).toMatchObject({[POD_IP]: '', [POD_IPS]: '', [CONTAINER_ID]: p.containerID})
    }
    expect((await lab.inNs(node.netns, ['ip', '-o', 'link', 'show'])).match(/cali/g)).toBeNull()
    expect(api.objects('crd.projectcalico.org', 'ipamhandles')).toEqual([])
    const report = checkIPAM(await lab.ipam.loadCheckInput())
    expect(report.allocations.size).toBe(0)
    expect(report.problems).toBe(0)
    const out = await calicoctl('ipam', 'check')
    expect(out).toContain('Found 0 workload IPs.')
    expect(out).toContain('Check complete; found 0 problems.')
    // The endpoints are still listed (the Pods exist) but hold no addresses.
    const list = JSON.parse(await calicoctl('get', 'workloadendpoints', '--all-namespaces', '-o', 'json')) as {items: {spec: {ipNetworks?: string[]}}[]}
    expect(list.items.map((w) => w.spec.ipNetworks ?? [])).toEqual(pods.map(() => []))
  }, 120_000)
})
