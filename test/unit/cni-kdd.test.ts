// The plugins on the Kubernetes datastore, in-process against the test API server (real HTTP, Calico's CRDs) with a
// recording dataplane: ADD reads the Pod and its Namespace, takes addresses as their annotations say and annotates
// the Pod instead of writing an endpoint object; DEL releases by handle and clears the address annotations. Also
// the same Pod reads on another datastore when the configuration says policy type k8s.
import {existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {Resource} from '../../src/api/resource.js'
import {silentLogger} from '../../src/cni/log.js'
import {runPlugin, type PluginKind} from '../../src/cni/main.js'
import {ResourceUpdateConflictError} from '../../src/api/errors.js'
import type {Backend, Key, KVPair} from '../../src/datastore/backend.js'
import {ResourceClient} from '../../src/datastore/client.js'
import {openBackend} from '../../src/datastore/factory.js'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {checkIPAM, IPAMClient} from '../../src/ipam/index.js'
import {startServer, writeKubeconfig} from '../k8s-apiserver/helpers.js'
import type {KubeObject, TestApiServer} from '../k8s-apiserver/server.js'
import {cniEnv, RecordingDataplane} from './cni-recording-dataplane.js'

const POD_IP = 'cni.projectcalico.org/podIP'
const POD_IPS = 'cni.projectcalico.org/podIPs'
const CONTAINER_ID = 'cni.projectcalico.org/containerID'

let server: TestApiServer
let backend: Backend
let dataplane: RecordingDataplane

beforeEach(async () => {
  server = await startServer({crds: 'v1'})
  backend = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url})
  const client = new ResourceClient(backend)
  for (const [name, cidr] of [['pool-a', '10.60.0.0/24'], ['pool-b', '10.61.0.0/24']]) {
    await client.create({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name}, spec: {cidr, blockSize: 28, ipipMode: 'Never', vxlanMode: 'Never'}})
  }
  server.seed('', 'nodes', {metadata: {name: 'node1'}})
  namespace('web')
  dataplane = new RecordingDataplane()
})

afterEach(async () => {
  await backend.close()
  await server.stop()
})

function namespace(name: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): void {
  server.seed('', 'namespaces', {metadata: {name, annotations, labels}})
}

function pod(name: string, extra: {labels?: Record<string, string>; annotations?: Record<string, string>; serviceAccountName?: string; namespace?: string} = {}): void {
  server.seed('', 'pods', {
    metadata: {name, namespace: extra.namespace ?? 'web', labels: extra.labels ?? {}, annotations: extra.annotations ?? {}},
    spec: {nodeName: 'node1', serviceAccountName: extra.serviceAccountName, containers: [{name: 'c', image: 'busybox'}]},
  }, extra.namespace ?? 'web')
}

function storedPod(name: string, ns = 'web'): KubeObject {
  const p = server.object('', 'pods', name, ns)
  if (!p) throw new Error(`pod ${ns}/${name} is gone`)
  return p
}

function conf(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', datastore_type: 'kubernetes', kubernetes: {k8s_api_root: server.url},
    policy: {type: 'k8s'}, nodename: 'node1', mtu: 1400, ipam: {type: 'calico-ipam'}, ...extra,
  }
}

async function run(
  kind: PluginKind,
  command: string,
  opts: {containerID?: string; pod?: string; namespace?: string; conf?: Record<string, unknown>; cniPath?: string; openBackend?: () => Promise<Backend>} = {},
) {
  let out = ''
  const containerID = opts.containerID ?? 'cid1'
  const code = await runPlugin(kind, {
    env: cniEnv(command, {containerID, namespace: opts.namespace ?? 'web', name: opts.pod ?? 'pod-1', cniPath: opts.cniPath ?? '/nonexistent'}),
    stdin: JSON.stringify(opts.conf ?? conf()),
    write: (t) => (out += t),
    deps: {log: silentLogger, dataplane, ...(opts.openBackend ? {openBackend: opts.openBackend} : {})},
  })
  return {code, out, json: out === '' ? undefined : (JSON.parse(out) as Record<string, unknown>)}
}

const addressOf = (r: {json?: Record<string, unknown>}): string => ((r.json?.ips as {address: string}[] | undefined)?.[0]?.address ?? '')

async function ipamReport() {
  return checkIPAM(await new IPAMClient(backend).loadCheckInput())
}

/** A change to the Pod by someone else (kubelet, a controller): a new resourceVersion. */
async function touchPod(name: string): Promise<void> {
  const res = await fetch(`${server.url}/api/v1/namespaces/web/pods/${name}`, {
    method: 'PATCH',
    headers: {'content-type': 'application/merge-patch+json'},
    body: JSON.stringify({metadata: {labels: {touched: String(Date.now())}}}),
  })
  expect(res.ok).toBe(true)
  await res.body?.cancel()
}

async function endpoint(name = 'node1-k8s-pod--1-eth0'): Promise<Resource> {
  return new ResourceClient(backend).get('WorkloadEndpoint', name, 'web')
}

/** Pool `red-only` (10.62.0.0/24) serves namespaces labelled team=red; pool-a and pool-b serve the others. */
async function redOnlyPool(): Promise<void> {
  const client = new ResourceClient(backend)
  await client.create({
    apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'red-only'},
    spec: {cidr: '10.62.0.0/24', blockSize: 28, ipipMode: 'Never', vxlanMode: 'Never', allowedUses: ['Workload'], namespaceSelector: "team == 'red'"},
  })
  for (const name of ['pool-a', 'pool-b']) {
    const current = await client.get('IPPool', name)
    await client.update({...current, spec: {...(current.spec as object), allowedUses: ['Workload'], namespaceSelector: "team != 'red'"}})
  }
}

describe('calico ADD on the Kubernetes datastore', () => {
  it('annotates the Pod with its addresses and container; the endpoint is the Pod\'s view', async () => {
    pod('pod-1', {labels: {app: 'web'}, serviceAccountName: 'web-sa'})
    const before = new Set(server.objects('crd.projectcalico.org', 'ipamhandles').map((o) => o.metadata.name))
    const r = await run('calico', 'ADD')
    expect(r.code, r.out).toBe(0)
    const address = addressOf(r)
    expect(address).toMatch(/^10\.6[01]\.0\.\d+\/32$/)
    expect(storedPod('pod-1').metadata.annotations).toEqual({[POD_IP]: address, [POD_IPS]: address, [CONTAINER_ID]: 'cid1'})

    const wep = await endpoint()
    expect(wep.metadata.labels).toEqual({app: 'web', 'projectcalico.org/namespace': 'web', 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/serviceaccount': 'web-sa'})
    expect(wep.spec).toMatchObject({ipNetworks: [address], interfaceName: 'calie530c3868a5', containerID: 'cid1', profiles: ['kns.web', 'ksa.web.web-sa']})
    expect(dataplane.live.get('calie530c3868a5')?.addresses).toEqual([address])

    // Only IPAM objects were created: no endpoint resource exists apart from the Pod.
    const handles = server.objects('crd.projectcalico.org', 'ipamhandles').map((o) => o.metadata.name).filter((n) => !before.has(n))
    expect(handles).toEqual(['k8s-pod-network.cid1'])
    const ipam = new IPAMClient(backend)
    expect(await ipam.getAssignmentAttributes(address.split('/')[0] ?? '')).toMatchObject({handleID: 'k8s-pod-network.cid1', attrs: {node: 'node1', pod: 'pod-1', namespace: 'web'}})
    expect((await ipamReport()).problems).toBe(0)
    expect((await run('calico', 'CHECK', {conf: conf({prevResult: r.json})})).code).toBe(0)
  })

  it('takes the pools the namespace names, unless the pod names its own', async () => {
    namespace('team', {'cni.projectcalico.org/ipv4pools': '["pool-b"]'})
    pod('from-ns', {namespace: 'team'})
    pod('from-pod', {namespace: 'team', annotations: {'cni.projectcalico.org/ipv4pools': '["10.60.0.0/24"]'}})
    expect(addressOf(await run('calico', 'ADD', {namespace: 'team', pod: 'from-ns', containerID: 'c-ns'}))).toMatch(/^10\.61\.0\./)
    expect(addressOf(await run('calico', 'ADD', {namespace: 'team', pod: 'from-pod', containerID: 'c-pod'}))).toMatch(/^10\.60\.0\./)
  })

  // Pools with a namespaceSelector serve workloads only (Calico's validation).
  it('picks IP pools by their namespaceSelector against the Namespace\'s labels, in both plugins', async () => {
    await redOnlyPool()
    namespace('red', {}, {team: 'red'})
    pod('r1', {namespace: 'red'})
    pod('w1')
    expect(addressOf(await run('calico', 'ADD', {namespace: 'red', pod: 'r1', containerID: 'c-red'}))).toMatch(/^10\.62\.0\./)
    expect(addressOf(await run('calico', 'ADD', {pod: 'w1', containerID: 'c-web'}))).toMatch(/^10\.6[01]\.0\./)
    const ipamOnly = await run('calico-ipam', 'ADD', {namespace: 'red', pod: 'r1', containerID: 'c-red-2'})
    expect(ipamOnly.code, ipamOnly.out).toBe(0)
    expect(addressOf(ipamOnly)).toMatch(/^10\.62\.0\.\d+\/28$/)
  })

  it('assigns the ipAddrs address through IPAM, under the container\'s handle', async () => {
    pod('pod-1', {annotations: {'cni.projectcalico.org/ipAddrs': '["10.61.0.77"]'}})
    const r = await run('calico', 'ADD')
    expect(r.code, r.out).toBe(0)
    expect(addressOf(r)).toBe('10.61.0.77/32')
    expect(await new IPAMClient(backend).ipsByHandle('k8s-pod-network.cid1')).toEqual(['10.61.0.77'])
    expect(storedPod('pod-1').metadata.annotations?.[POD_IP]).toBe('10.61.0.77/32')
  })

  it('uses ipAddrsNoIpam addresses as given, only when the feature is on', async () => {
    pod('pod-1', {annotations: {'cni.projectcalico.org/ipAddrsNoIpam': '["192.0.2.10"]'}})
    const refused = await run('calico', 'ADD')
    expect(refused).toMatchObject({code: 1, json: {code: 999, msg: 'requested feature is not enabled: ip_addrs_no_ipam'}})
    expect(dataplane.live.size).toBe(0)
    const r = await run('calico', 'ADD', {conf: conf({feature_control: {ip_addrs_no_ipam: true}})})
    expect(r.code, r.out).toBe(0)
    expect(addressOf(r)).toBe('192.0.2.10/32')
    expect((await ipamReport()).allocations.size).toBe(0)
    expect(storedPod('pod-1').metadata.annotations?.[POD_IPS]).toBe('192.0.2.10/32')
  })

  it('gives the pod\'s interface the MAC address hwAddr asks for, and refuses a malformed one before taking an address', async () => {
    pod('pod-1', {annotations: {'cni.projectcalico.org/hwAddr': '0A-58-0A-3C-00-07'}})
    pod('pod-2', {annotations: {'cni.projectcalico.org/hwAddr': 'nope'}})
    const r = await run('calico', 'ADD')
    expect(r.code, r.out).toBe(0)
    expect(dataplane.live.get('calie530c3868a5')?.containerMac).toBe('0a:58:0a:3c:00:07')
    expect(await run('calico', 'ADD', {pod: 'pod-2', containerID: 'c2'})).toMatchObject({code: 1, json: {msg: 'failed to parse MAC address nope provided via cni.projectcalico.org/hwAddr: address nope: invalid MAC address'}})
    expect((await ipamReport()).allocations.size).toBe(1)
  })

  it('fails on a missing pod or namespace before taking an address', async () => {
    expect(await run('calico', 'ADD', {pod: 'ghost'})).toMatchObject({code: 1, json: {code: 999, msg: 'pods "ghost" not found'}})
    expect(await run('calico', 'ADD', {namespace: 'gone', pod: 'x'})).toMatchObject({code: 1, json: {code: 999, msg: 'namespaces "gone" not found'}})
    const report = await ipamReport()
    expect(report.allocations.size).toBe(0)
    expect(report.handlesWithoutIPs).toEqual([])
  })

  it('rolls back when annotating the Pod fails', async () => {
    pod('pod-1')
    const lift = server.deny((info) => info.resource === 'pods' && info.verb === 'patch')
    const r = await run('calico', 'ADD')
    lift()
    expect(r.code).toBe(1)
    expect(dataplane.teardowns).toEqual([{hostVeth: 'calie530c3868a5', hostSideToo: true}])
    expect((await ipamReport()).allocations.size).toBe(0)
    expect(storedPod('pod-1').metadata.annotations ?? {}).toEqual({})
  })
})

describe('what ADD asks the API server on the Kubernetes datastore', () => {
  const getsOf = (resource: string) => (info: {resource: string; verb: string}) => info.resource === resource && info.verb === 'get'

  it('reads neither the Pod nor its Namespace without policy type k8s, so their annotations do not apply', async () => {
    namespace('team', {'cni.projectcalico.org/ipv4pools': '["pool-b"]'})
    // (A malformed allowedSourcePrefixes would still fail the ADD here: the endpoint write reads the patched Pod back
    // as its endpoint, and that conversion refuses it, as Calico's does.)
    pod('pod-1', {namespace: 'team', annotations: {'cni.projectcalico.org/ipAddrs': '["10.61.0.77"]'}})
    const lift = [server.deny(getsOf('pods')), server.deny(getsOf('namespaces'))]
    const r = await run('calico', 'ADD', {namespace: 'team', conf: conf({policy: {}, ipam: {type: 'calico-ipam', ipv4_pools: ['pool-a']}})})
    for (const l of lift) l()
    expect(r.code, r.out).toBe(0)
    expect(addressOf(r)).toMatch(/^10\.60\.0\.\d+\/32$/)
    // The endpoint write is still the patch of the Pod's annotations.
    expect(storedPod('pod-1', 'team').metadata.annotations?.[POD_IP]).toBe(addressOf(r))
  })

  it('reads the Namespace for IP pools\' namespaceSelector with a kubeconfig even without policy type k8s, as calico-ipam does', async () => {
    await redOnlyPool()
    namespace('red', {}, {team: 'red'})
    pod('r1', {namespace: 'red'})
    pod('r2', {namespace: 'red'})
    // Without Kubernetes access calico-ipam knows no namespace labels: the selectors see none.
    const blind = await run('calico', 'ADD', {namespace: 'red', pod: 'r1', containerID: 'c1', conf: conf({policy: {}})})
    expect(blind.code, blind.out).toBe(0)
    expect(addressOf(blind)).toMatch(/^10\.6[01]\.0\./)
    const kubeconfig = writeKubeconfig(server.url)
    try {
      const lift = server.deny(getsOf('pods'))
      const seen = await run('calico', 'ADD', {namespace: 'red', pod: 'r2', containerID: 'c2', conf: conf({policy: {}, kubernetes: {kubeconfig}})})
      lift()
      expect(seen.code, seen.out).toBe(0)
      expect(addressOf(seen)).toMatch(/^10\.62\.0\./)
      const gone = await run('calico', 'ADD', {namespace: 'gone', pod: 'x', containerID: 'c3', conf: conf({policy: {}, kubernetes: {kubeconfig}})})
      expect(gone.json).toMatchObject({code: 999, msg: 'failed to get namespace gone: namespaces "gone" not found'})
    } finally {
      rmSync(dirname(kubeconfig), {recursive: true, force: true})
    }
  })

  it('annotates the Pod whatever node the configuration names; DEL then releases the addresses and, as Calico, leaves the annotations', async () => {
    // kubelet's node is node1 (the Pod's spec.nodeName); this plugin's configuration says node2.
    server.seed('', 'nodes', {metadata: {name: 'node2'}})
    pod('pod-1')
    const node2 = conf({nodename: 'node2'})
    const r = await run('calico', 'ADD', {conf: node2})
    expect(r.code, r.out).toBe(0)
    expect(storedPod('pod-1').metadata.annotations).toEqual({[POD_IP]: addressOf(r), [POD_IPS]: addressOf(r), [CONTAINER_ID]: 'cid1'})
    expect(await new IPAMClient(backend).getAssignmentAttributes(addressOf(r).split('/')[0] ?? '')).toMatchObject({attrs: {node: 'node2'}})
    // DEL looks for endpoint node2-k8s-pod--1-eth0, which the Pod (on node1) is not: nothing to patch out.
    expect((await run('calico', 'DEL', {conf: node2})).code).toBe(0)
    expect(storedPod('pod-1').metadata.annotations?.[POD_IP]).toBe(addressOf(r))
    expect((await ipamReport()).allocations.size).toBe(0)
  })
})

/** Debian's containernetworking-plugins installs the reference plugins here. */
const REFERENCE_PLUGINS = '/usr/lib/cni'

describe.skipIf(!existsSync(join(REFERENCE_PLUGINS, 'host-local')))('host-local IPAM with usePodCidr (the real host-local plugin)', () => {
  let dataDir: string
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cni-host-local-'))
  })
  afterEach(() => {
    rmSync(dataDir, {recursive: true, force: true})
  })

  const hostLocal = (ranges: string[][], extra: Record<string, unknown> = {}) =>
    conf({ipam: {type: 'host-local', dataDir, ranges: ranges.map((set) => set.map((subnet) => ({subnet})))}, ...extra})
  /** The addresses host-local holds (one file per address in the network's directory). */
  const held = () => (existsSync(join(dataDir, 'k8s-pod-network')) ? readdirSync(join(dataDir, 'k8s-pod-network')).filter((f) => /^[0-9a-f.:]+$/.test(f)).sort() : [])
  /** What the node IPAM controller sets on a Node. */
  async function setPodCIDRs(node: string, podCIDRs: string[]): Promise<void> {
    if (!server.object('', 'nodes', node)) server.seed('', 'nodes', {metadata: {name: node}})
    const res = await fetch(`${server.url}/api/v1/nodes/${node}`, {
      method: 'PATCH',
      headers: {'content-type': 'application/merge-patch+json'},
      body: JSON.stringify({spec: {podCIDRs}}),
    })
    expect(res.ok).toBe(true)
    await res.body?.cancel()
  }

  it('allocates from the Node\'s pod CIDRs in both families, and releases without reading the Node again', async () => {
    await setPodCIDRs('node1', ['10.90.1.0/24', 'fd00:90:1::/64'])
    pod('pod-1')
    const c = hostLocal([['usePodCidr'], ['usePodCidrIPv6']])
    const r = await run('calico', 'ADD', {conf: c, cniPath: REFERENCE_PLUGINS})
    expect(r.code, r.out).toBe(0)
    const ips = (r.json?.ips as {address: string}[]).map((ip) => ip.address)
    expect(ips).toEqual([expect.stringMatching(/^10\.90\.1\.\d+\/32$/), expect.stringMatching(/^fd00:90:1::[0-9a-f]+\/128$/)])
    expect(held()).toEqual(ips.map((ip) => ip.split('/')[0]).sort())
    expect(storedPod('pod-1').metadata.annotations?.[POD_IPS]).toBe(ips.join(','))
    expect((await run('calico', 'CHECK', {conf: {...c, prevResult: r.json}, cniPath: REFERENCE_PLUGINS})).code).toBe(0)
    const lift = server.deny((info) => info.resource === 'nodes')
    const del = await run('calico', 'DEL', {conf: c, cniPath: REFERENCE_PLUGINS})
    lift()
    expect(del.code, del.out).toBe(0)
    expect(held()).toEqual([])
  })

  it('routes only host-local\'s routes into the pod, with the defaults too under include_default_routes', async () => {
    await setPodCIDRs('node1', ['10.90.1.0/24'])
    pod('pod-1')
    pod('pod-2')
    const routes = [{dst: '10.80.0.0/16'}, {dst: 'fd00:80::/32'}]
    const ipam = {type: 'host-local', dataDir, ranges: [[{subnet: 'usePodCidr'}]], routes}
    const only = await run('calico', 'ADD', {conf: conf({ipam}), cniPath: REFERENCE_PLUGINS})
    expect(only.code, only.out).toBe(0)
    expect(dataplane.live.get('calie530c3868a5')?.routes).toEqual(['10.80.0.0/16', 'fd00:80::/32'])
    const both = await run('calico', 'ADD', {pod: 'pod-2', containerID: 'c2', conf: conf({ipam, include_default_routes: true}), cniPath: REFERENCE_PLUGINS})
    expect(both.code, both.out).toBe(0)
    expect([...dataplane.live.values()].find((n) => n.hostVeth !== 'calie530c3868a5')?.routes).toEqual(['0.0.0.0/0', '::/0', '10.80.0.0/16', 'fd00:80::/32'])
    expect((await run('calico', 'ADD', {pod: 'pod-2', containerID: 'c3', conf: conf({ipam: {...ipam, routes: [{dst: 'nowhere'}]}}), cniPath: REFERENCE_PLUGINS})).json).toMatchObject({msg: 'invalid CIDR address: nowhere'})
  })

  it('reads the Node kubernetes.node_name names, and fails as Calico when it has no pod CIDR of a family asked for', async () => {
    await setPodCIDRs('kubelet-node', ['10.91.0.0/24'])
    pod('pod-1')
    const named = await run('calico', 'ADD', {conf: hostLocal([['usePodCidr']], {kubernetes: {k8s_api_root: server.url, node_name: 'kubelet-node'}}), cniPath: REFERENCE_PLUGINS})
    expect(named.code, named.out).toBe(0)
    expect(addressOf(named)).toMatch(/^10\.91\.0\.\d+\/32$/)
    expect(await run('calico', 'ADD', {containerID: 'c2', conf: hostLocal([['usePodCidr']]), cniPath: REFERENCE_PLUGINS})).toMatchObject({code: 1, json: {msg: 'no podCidr for node node1'}})
    const v6 = await run('calico', 'ADD', {containerID: 'c3', conf: hostLocal([['usePodCidrIPv6']], {kubernetes: {k8s_api_root: server.url, node_name: 'kubelet-node'}}), cniPath: REFERENCE_PLUGINS})
    expect(v6).toMatchObject({code: 1, json: {msg: 'usePodCidrIPv6 found but there is no IPv6 CIDR configured'}})
    expect(dataplane.live.size).toBe(1)
    expect(held()).toHaveLength(1)
  })
})

describe('KubeVirt VM pods', () => {
  const VM_HANDLE = 'k8s-pod-network.vmi.web.vm1'

  /** KubeVirt's two kinds, as its CRDs serve them. */
  function installKubeVirt(): void {
    for (const [plural, kind] of [['virtualmachineinstances', 'VirtualMachineInstance'], ['virtualmachines', 'VirtualMachine']] as const) {
      server.seed('apiextensions.k8s.io', 'customresourcedefinitions', {
        metadata: {name: `${plural}.kubevirt.io`},
        spec: {
          group: 'kubevirt.io', scope: 'Namespaced', names: {plural, kind, singular: kind.toLowerCase()},
          versions: [{name: 'v1', served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}}],
        },
      })
    }
  }

  /** A VirtualMachine `vm1` and its running instance; returns the instance's UID. */
  function vm(): string {
    const machine = server.seed('kubevirt.io', 'virtualmachines', {metadata: {name: 'vm1', namespace: 'web'}}, 'web')
    const owner = {apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', name: 'vm1', uid: machine.metadata.uid, controller: true}
    return server.seed('kubevirt.io', 'virtualmachineinstances', {metadata: {name: 'vm1', namespace: 'web', ownerReferences: [owner]}}, 'web').metadata.uid ?? ''
  }

  function launcher(name: string, vmiUID: string, labels: Record<string, string> = {}): void {
    server.seed('', 'pods', {
      metadata: {name, namespace: 'web', labels, ownerReferences: [{apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', name: 'vm1', uid: vmiUID, controller: true}]},
      spec: {nodeName: 'node1', containers: [{name: 'compute', image: 'virt-launcher'}]},
    }, 'web')
  }

  const owners = async (ip: string) => new IPAMClient(backend).getAssignmentAttributes(ip.split('/')[0] ?? '')

  beforeEach(() => {
    installKubeVirt()
  })

  it('keeps the VM\'s address across its pods and a live migration, and releases it once the VM is being deleted', async () => {
    const vmiUID = vm()
    launcher('virt-launcher-vm1-aaaaa', vmiUID)
    const first = await run('calico', 'ADD', {pod: 'virt-launcher-vm1-aaaaa', containerID: 'c1'})
    expect(first.code, first.out).toBe(0)
    const address = addressOf(first)
    expect(await new IPAMClient(backend).ipsByHandle(VM_HANDLE)).toEqual([address.split('/')[0]])
    expect((await owners(address)).attrs).toMatchObject({pod: 'virt-launcher-vm1-aaaaa', namespace: 'web', 'vmi-name': 'vm1', 'vmi-uid': vmiUID, 'vm-uid': expect.any(String) as unknown as string})

    // The pod goes, the VM stays: the address is kept, owned by nobody.
    expect((await run('calico', 'DEL', {pod: 'virt-launcher-vm1-aaaaa', containerID: 'c1'})).code).toBe(0)
    expect(await owners(address)).toMatchObject({handleID: VM_HANDLE, attrs: {}})

    // Its next pod gets the same address.
    launcher('virt-launcher-vm1-bbbbb', vmiUID)
    expect(addressOf(await run('calico', 'ADD', {pod: 'virt-launcher-vm1-bbbbb', containerID: 'c2'}))).toBe(address)
    expect((await owners(address)).attrs).toMatchObject({pod: 'virt-launcher-vm1-bbbbb'})

    // A live-migration target shares it as the alternate owner, with no host route (its source keeps that).
    launcher('virt-launcher-vm1-ccccc', vmiUID, {'kubevirt.io/migrationJobUID': 'mig-1'})
    const target = await run('calico', 'ADD', {pod: 'virt-launcher-vm1-ccccc', containerID: 'c3'})
    expect(addressOf(target)).toBe(address)
    expect(await owners(address)).toMatchObject({attrs: {pod: 'virt-launcher-vm1-bbbbb'}, alternateOwnerAttrs: {pod: 'virt-launcher-vm1-ccccc', 'vmim-uid': 'mig-1'}})
    expect([...dataplane.live.values()].map((n) => n.hostRoutes)).toEqual([undefined, false])
    const ipamOnly = await run('calico-ipam', 'ADD', {pod: 'virt-launcher-vm1-ccccc', containerID: 'c3'})
    expect(ipamOnly.json).toMatchObject({ips: [{address}], routes: []})

    // Both pods go; the VM is then deleted and its last pod's DEL releases the address.
    const targetGone = await run('calico', 'DEL', {pod: 'virt-launcher-vm1-ccccc', containerID: 'c3'})
    expect(targetGone.code, targetGone.out).toBe(0)
    expect(await owners(address)).toMatchObject({attrs: {pod: 'virt-launcher-vm1-bbbbb'}})
    // The VirtualMachine is being deleted (a finalizer holds it; its instance goes with it).
    const res = await fetch(`${server.url}/apis/kubevirt.io/v1/namespaces/web/virtualmachines/vm1`, {method: 'DELETE'})
    expect(res.ok).toBe(true)
    await res.body?.cancel()
    server.seed('kubevirt.io', 'virtualmachines', {metadata: {name: 'vm1', namespace: 'web', deletionTimestamp: '2026-11-27T00:00:00Z', finalizers: ['kubevirt.io/virtualMachineControllerFinalize']}}, 'web')
    const last = await run('calico', 'DEL', {pod: 'virt-launcher-vm1-bbbbb', containerID: 'c2'})
    expect(last.code, last.out).toBe(0)
    await expect(new IPAMClient(backend).ipsByHandle(VM_HANDLE)).rejects.toThrow()
    expect((await ipamReport()).allocations.size).toBe(0)
  })

  it('gives VM pods their own addresses when IPAMConfig turns persistence off, and refuses a migration target then', async () => {
    await new IPAMClient(backend).setIPAMConfig({strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0, ipCooldownSeconds: 0, kubeVirtVMAddressPersistence: 'Disabled'})
    const vmiUID = vm()
    launcher('virt-launcher-vm1-aaaaa', vmiUID)
    launcher('virt-launcher-vm1-ccccc', vmiUID, {'kubevirt.io/migrationJobUID': 'mig-1'})
    const r = await run('calico', 'ADD', {pod: 'virt-launcher-vm1-aaaaa', containerID: 'c1'})
    expect(r.code, r.out).toBe(0)
    expect(await new IPAMClient(backend).ipsByHandle('k8s-pod-network.c1')).toEqual([addressOf(r).split('/')[0]])
    expect(await run('calico', 'ADD', {pod: 'virt-launcher-vm1-ccccc', containerID: 'c3'})).toMatchObject({
      code: 1,
      json: {msg: 'live migration target pod is not allowed when KubeVirtVMAddressPersistence is disabled'},
    })
    expect((await run('calico', 'DEL', {pod: 'virt-launcher-vm1-aaaaa', containerID: 'c1'})).code).toBe(0)
    expect((await ipamReport()).allocations.size).toBe(0)
  })

  it('checks the pod against its VMI, treats other virt-launcher- pods as pods, and does nothing on DEL for a pod that is gone', async () => {
    vm()
    launcher('virt-launcher-vm1-aaaaa', 'not-the-vmi-uid')
    expect((await run('calico', 'ADD', {pod: 'virt-launcher-vm1-aaaaa', containerID: 'c1'})).json?.msg).toMatch(/^failed to get VMI info: VMI UID mismatch: pod ownerReference has not-the-vmi-uid but VMI resource has /)
    pod('virt-launcher-lookalike')
    const plain = await run('calico', 'ADD', {pod: 'virt-launcher-lookalike', containerID: 'c2'})
    expect(plain.code, plain.out).toBe(0)
    expect(await new IPAMClient(backend).ipsByHandle('k8s-pod-network.c2')).toHaveLength(1)
    const res = await fetch(`${server.url}/api/v1/namespaces/web/pods/virt-launcher-lookalike`, {method: 'DELETE'})
    await res.body?.cancel()
    // Calico: a virt-launcher pod already deleted leaves nothing it could clean up.
    expect((await run('calico', 'DEL', {pod: 'virt-launcher-lookalike', containerID: 'c2'})).code).toBe(0)
    expect(await new IPAMClient(backend).ipsByHandle('k8s-pod-network.c2')).toHaveLength(1)
  })
})

describe('calico DEL on the Kubernetes datastore', () => {
  it('releases by handle and empties the address annotations, keeping the container ID', async () => {
    pod('pod-1')
    expect((await run('calico', 'ADD')).code).toBe(0)
    expect((await run('calico', 'DEL')).code).toBe(0)
    expect(storedPod('pod-1').metadata.annotations).toEqual({[POD_IP]: '', [POD_IPS]: '', [CONTAINER_ID]: 'cid1'})
    expect((await endpoint()).spec).toMatchObject({ipNetworks: []})
    const report = await ipamReport()
    expect(report.allocations.size).toBe(0)
    expect(report.problems).toBe(0)
    expect((await run('calico', 'DEL')).code).toBe(0)
  })

  it('leaves a newer sandbox\'s annotations alone but releases the old container\'s addresses', async () => {
    pod('pod-1')
    expect((await run('calico', 'ADD', {containerID: 'old'})).code).toBe(0)
    const current = addressOf(await run('calico', 'ADD', {containerID: 'new'}))
    expect((await run('calico', 'DEL', {containerID: 'old'})).code).toBe(0)
    expect(storedPod('pod-1').metadata.annotations).toMatchObject({[POD_IP]: current, [CONTAINER_ID]: 'new'})
    expect(await new IPAMClient(backend).ipsByHandle('k8s-pod-network.new')).toEqual([current.split('/')[0]])
    await expect(new IPAMClient(backend).ipsByHandle('k8s-pod-network.old')).rejects.toThrow()
  })

  it('empties the annotations only on the Pod revision it read, reading again after a concurrent change', async () => {
    pod('pod-1')
    expect((await run('calico', 'ADD')).code).toBe(0)
    const stale = await endpoint()
    await touchPod('pod-1')
    const key = {kind: 'WorkloadEndpoint', name: stale.metadata.name ?? '', namespace: 'web'}
    await expect(backend.delete(key, stale.metadata.resourceVersion)).rejects.toBeInstanceOf(ResourceUpdateConflictError)
    expect(storedPod('pod-1').metadata.annotations?.[POD_IP]).not.toBe('')

    // The Pod changes between DEL's read and its delete: the first delete conflicts, the second succeeds.
    let deletes = 0 // endpoint deletes (IPAM's own deletes go through the same backend)
    const racing = async (): Promise<Backend> => {
      const inner = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url})
      return Object.assign(Object.create(inner) as Backend, {
        async delete<V>(k: Key, revision?: string): Promise<KVPair<V>> {
          if (k.kind === 'WorkloadEndpoint' && ++deletes === 1) await touchPod('pod-1')
          return inner.delete<V>(k, revision)
        },
      })
    }
    expect((await run('calico', 'DEL', {openBackend: racing})).code).toBe(0)
    expect(deletes).toBe(2)
    expect(storedPod('pod-1').metadata.annotations).toMatchObject({[POD_IP]: '', [POD_IPS]: ''})
    expect((await ipamReport()).allocations.size).toBe(0)
  })

  it('still releases the addresses when the Pod is already gone', async () => {
    pod('pod-1')
    expect((await run('calico', 'ADD')).code).toBe(0)
    const res = await fetch(`${server.url}/api/v1/namespaces/web/pods/pod-1`, {method: 'DELETE'})
    expect(res.ok).toBe(true)
    expect((await run('calico', 'DEL')).code).toBe(0)
    expect((await ipamReport()).allocations.size).toBe(0)
  })
})

describe('calico ADD on another datastore with policy type k8s', () => {
  // Calico reads the Pod from the API server (kubeconfig, k8s_api_root) whatever the datastore; the endpoint it
  // writes then carries the Pod's labels, service account, ports and generateName (the test server keeps no
  // generateName, so cni-model checks that one).
  let dir: string
  let store: Backend

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cni-kdd-test-'))
    store = (await openBackend({datastoreType: 'embedded', datastorePath: join(dir, 'ds')})).backend
    const client = new ResourceClient(store)
    await client.create({apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name: 'node1'}, spec: {}})
    for (const [name, cidr] of [['pool-a', '10.60.0.0/24'], ['pool-b', '10.61.0.0/24']]) {
      await client.create({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name}, spec: {cidr, blockSize: 28, ipipMode: 'Never', vxlanMode: 'Never'}})
    }
  })
  afterEach(async () => {
    await store.close()
    rmSync(dir, {recursive: true, force: true})
  })

  const embedded = (extra: Record<string, unknown> = {}) => ({
    ...conf(),
    datastore_type: 'embedded',
    datastore_path: join(dir, 'ds'),
    ...extra,
  })

  it('writes an endpoint built from the Pod, and follows its annotations', async () => {
    server.seed('', 'pods', {
      metadata: {name: 'pod-1', namespace: 'web', labels: {app: 'web'}, annotations: {'cni.projectcalico.org/ipv4pools': '["pool-b"]'}},
      spec: {nodeName: 'node1', serviceAccountName: 'web-sa', containers: [{name: 'c', image: 'busybox', ports: [{name: 'http', containerPort: 8080}]}]},
    }, 'web')
    const r = await run('calico', 'ADD', {conf: embedded()})
    expect(r.code, r.out).toBe(0)
    expect(addressOf(r)).toMatch(/^10\.61\.0\./)
    const wep = await new ResourceClient(store).get('WorkloadEndpoint', 'node1-k8s-pod--1-eth0', 'web')
    expect(wep.metadata).toMatchObject({labels: {app: 'web', 'projectcalico.org/serviceaccount': 'web-sa'}})
    expect(wep.spec).toMatchObject({profiles: ['kns.web', 'ksa.web.web-sa'], ports: [{name: 'http', protocol: 'TCP', port: 8080}]})
    // The Pod itself is not annotated: the endpoint lives in the datastore.
    expect(storedPod('pod-1').metadata.annotations).toEqual({'cni.projectcalico.org/ipv4pools': '["pool-b"]'})
  })

  it('lets the endpoint send from the allowedSourcePrefixes networks, and refuses a malformed list before taking an address', async () => {
    server.seed('', 'pods', {metadata: {name: 'spoofer', namespace: 'web', annotations: {'cni.projectcalico.org/allowedSourcePrefixes': '["10.70.1.9/16", "fd00:70::1/48"]'}}, spec: {nodeName: 'node1', containers: [{name: 'c', image: 'busybox'}]}}, 'web')
    server.seed('', 'pods', {metadata: {name: 'broken', namespace: 'web', annotations: {'cni.projectcalico.org/allowedSourcePrefixes': '["10.70.1.9"]'}}, spec: {nodeName: 'node1', containers: [{name: 'c', image: 'busybox'}]}}, 'web')
    const r = await run('calico', 'ADD', {pod: 'spoofer', conf: embedded()})
    expect(r.code, r.out).toBe(0)
    const wep = await new ResourceClient(store).get('WorkloadEndpoint', 'node1-k8s-spoofer-eth0', 'web')
    expect((wep.spec as {allowSpoofedSourcePrefixes?: string[]}).allowSpoofedSourcePrefixes).toEqual(['10.70.0.0/16', 'fd00:70::/48'])
    const refused = await run('calico', 'ADD', {pod: 'broken', containerID: 'c2', conf: embedded()})
    expect(refused).toMatchObject({code: 1, json: {code: 999, msg: "failed to parse '10.70.1.9' as a CIDR: invalid CIDR address: 10.70.1.9"}})
    expect(await new IPAMClient(store).ipsByHandle('k8s-pod-network.c2').catch(() => [])).toEqual([])
    expect(dataplane.live.size).toBe(1)
  })

  it('keeps to args.cni.labels without policy type k8s', async () => {
    const r = await run('calico', 'ADD', {pod: 'not-in-the-api', conf: embedded({policy: {}, args: {cni: {labels: [{key: 'app', value: 'cli'}]}}})})
    expect(r.code, r.out).toBe(0)
    const wep = await new ResourceClient(store).get('WorkloadEndpoint', 'node1-k8s-not--in--the--api-eth0', 'web')
    expect(wep.metadata.labels).toMatchObject({app: 'cli'})
  })
})
