// The Kubernetes backend's storage layout and native-object views, checked against what the test API
// server holds: Calico's v1 CR layout (metadata annotation, UID conversion, label filtering), IPAM
// CRDs and soft delete, Nodes/Profiles/WorkloadEndpoints/Kubernetes NetworkPolicies, v3 CRD mode; and what the
// node agent reads: its kinds followed with watchForever (events, resume, re-list after 410) and node registration.

import {afterEach, describe, expect, it} from 'vitest'
import {registerNode} from '../../src/agent/registration.js'
import {agentKinds, checkStoredValue} from '../../src/agent/resources.js'
import {OperationNotSupportedError, ResourceDoesNotExistError, ResourceUpdateConflictError} from '../../src/api/errors.js'
import {convertK8sUID} from '../../src/api/k8s-networkpolicy.js'
import type {Resource} from '../../src/api/resource.js'
import type {Backend, KVPair} from '../../src/datastore/backend.js'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {hostnameHash} from '../../src/datastore/kubernetes/names.js'
import {watchForever, type SyncEvent} from '../../src/datastore/sync.js'
import {installCrds, kubeRequest, startServer} from '../k8s-apiserver/helpers.js'
import type {TestApiServer} from '../k8s-apiserver/server.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(crds: 'v1' | 'v3' | 'none' = 'v1', calicoAPIGroup?: string): Promise<{server: TestApiServer; b: KubernetesBackend}> {
  const server = await startServer({crds})
  const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url, calicoAPIGroup}, {pageSize: 2})
  cleanups.push(async () => {
    await b.close()
    await server.stop()
  })
  return {server, b}
}

/** Writes a native object straight to the server, as kubectl or a kubelet would. */
function put(server: TestApiServer, path: string, body: unknown, method = 'POST'): Promise<Record<string, unknown>> {
  return kubeRequest<Record<string, unknown>>(server, method, path, body)
}

const UID = '6f0b3a1c-9d2e-4c4b-8a5f-0e1d2c3b4a59'

describe('crd.projectcalico.org/v1 layout', () => {
  it('stores a v3 resource as Calico does: metadata annotation, converted UID, only Calico labels on the CR', async () => {
    const {server, b} = await setup()
    expect(b.group).toBe('crd.projectcalico.org')
    const np: Resource = {
      apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy',
      metadata: {name: 'allow-dns', namespace: 'ns1', uid: UID, creationTimestamp: '2026-01-01T00:00:00Z',
        labels: {'projectcalico.org/tier': 'default', app: 'dns'}, annotations: {owner: 'team-a', 'operator.tigera.io/x': 'y'}},
      spec: {tier: 'default', order: 10, selector: 'all()', types: ['Ingress']},
    }
    const created = await b.create<Resource>({kind: 'NetworkPolicy', namespace: 'ns1', name: 'allow-dns'}, np)
    const cr = server.object('crd.projectcalico.org', 'networkpolicies', 'allow-dns', 'ns1')
    expect(cr?.apiVersion).toBe('crd.projectcalico.org/v1')
    expect(cr?.metadata.labels).toEqual({'projectcalico.org/tier': 'default'})
    expect(cr?.metadata.annotations).toEqual({
      'operator.tigera.io/x': 'y',
      'projectcalico.org/metadata': JSON.stringify({
        name: 'allow-dns', creationTimestamp: '2026-01-01T00:00:00Z',
        labels: {'projectcalico.org/tier': 'default', app: 'dns'}, annotations: {owner: 'team-a', 'operator.tigera.io/x': 'y'},
      }),
    })
    expect(cr?.spec).toEqual(np.spec)
    // The API server assigns the CR's UID; Calico shows its bit-reversed form.
    expect(created.value.metadata.uid).toBe(convertK8sUID(cr?.metadata.uid ?? ''))
    expect(created.value.metadata.labels).toEqual(np.metadata.labels)
    expect(created.value.metadata.annotations).toEqual(np.metadata.annotations)
    expect(created.value.metadata.resourceVersion).toBe(cr?.metadata.resourceVersion)
  })

  it('reads CRs written without the metadata annotation (kubectl) and legacy default.<name> policies', async () => {
    const {server, b} = await setup()
    await put(server, '/apis/crd.projectcalico.org/v1/ippools', {apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: {name: 'pool1', labels: {team: 'a'}}, spec: {cidr: '10.1.0.0/16'}})
    await put(server, '/apis/crd.projectcalico.org/v1/globalnetworkpolicies', {apiVersion: 'crd.projectcalico.org/v1', kind: 'GlobalNetworkPolicy', metadata: {name: 'default.legacy'}, spec: {tier: 'default', selector: 'all()'}})
    const pool = await b.get<Resource>({kind: 'IPPool', name: 'pool1'})
    expect(pool.value).toMatchObject({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'pool1', labels: {team: 'a'}}, spec: {cidr: '10.1.0.0/16'}})
    const gnps = await b.list<Resource>({kind: 'GlobalNetworkPolicy'})
    expect(gnps.items.map((i) => i.value.metadata.name)).toEqual(['legacy'])
  })

  it('a status given to a kind with a status subresource is written through /status', async () => {
    const {server, b} = await setup()
    const kcc: Resource = {apiVersion: 'projectcalico.org/v3', kind: 'KubeControllersConfiguration', metadata: {name: 'default'}, spec: {healthChecks: 'Enabled'}, status: {runningConfig: {healthChecks: 'Enabled'}}}
    const created = await b.create<Resource>({kind: 'KubeControllersConfiguration', name: 'default'}, kcc)
    expect(created.value.status).toEqual(kcc.status)
    expect(server.object('crd.projectcalico.org', 'kubecontrollersconfigurations', 'default')?.status).toEqual(kcc.status)
  })

  it('names the missing CRD when Calico is not installed', async () => {
    const {b} = await setup('none')
    await expect(b.list({kind: 'IPPool'})).rejects.toThrow(
      'the CustomResourceDefinition ippools.crd.projectcalico.org is not installed in the cluster; install Calico\'s CRDs first (kubectl apply -f manifests/crds)')
    await expect(b.create({kind: 'Tier', name: 't'}, {apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: {name: 't'}, spec: {}})).rejects.toThrow(/tiers.crd.projectcalico.org is not installed/)
  })
})

describe('IPAM objects', () => {
  it('use Calico\'s CR names, spec shapes and affinity labels', async () => {
    const {server, b} = await setup()
    await b.create({kind: 'IPAMBlock', name: 'fd80:24e2::/122'}, {cidr: 'fd80:24e2::/122', affinity: 'host:node1', affinity_claim_time: '2026-01-01T00:00:00Z', allocations: [null], unallocated: [0], attributes: [], deleted: false})
    await b.create({kind: 'BlockAffinity', name: 'host:node-1:10.0.0.0/26'}, {state: 'confirmed', deleted: false})
    await b.create({kind: 'IPAMHandle', name: 'k8s-pod-network.ABC'}, {block: {'10.0.0.0/26': 1}, deleted: false})
    await b.create({kind: 'IPAMConfig', name: 'default'}, {strict_affinity: true, auto_allocate_blocks: true})

    expect(server.object('crd.projectcalico.org', 'ipamblocks', 'fd80-24e2---122')?.spec).toMatchObject({cidr: 'fd80:24e2::/122', affinityClaimTime: '2026-01-01T00:00:00Z'})
    const aff = server.object('crd.projectcalico.org', 'blockaffinities', 'node-1-10-0-0-0-26')
    expect(aff?.spec).toEqual({state: 'confirmed', node: 'node-1', type: 'host', cidr: '10.0.0.0/26', deleted: 'false'})
    expect(aff?.metadata.labels).toEqual({
      'projectcalico.org/hostname-hash': hostnameHash('node-1'), 'projectcalico.org/affinity-type': 'host', 'projectcalico.org/ip-version': '4',
    })
    expect(server.object('crd.projectcalico.org', 'ipamhandles', 'k8s-pod-network.abc')?.spec).toEqual({handleID: 'k8s-pod-network.ABC', block: {'10.0.0.0/26': 1}, deleted: false})
    expect(server.object('crd.projectcalico.org', 'ipamconfigs', 'default')?.spec).toEqual({strictAffinity: true, autoAllocateBlocks: true})

    expect((await b.get({kind: 'IPAMHandle', name: 'k8s-pod-network.ABC'})).value).toEqual({block: {'10.0.0.0/26': 1}, deleted: false})
    expect((await b.get({kind: 'IPAMConfig', name: 'default'})).value).toEqual({strict_affinity: true, auto_allocate_blocks: true})
    // One host's affinities are found by label, not by listing them all.
    const listed = await b.list({kind: 'BlockAffinity', namePrefix: 'host:node-1:'})
    expect(listed.items.map((i) => i.key.name)).toEqual(['host:node-1:10.0.0.0/26'])
    expect(server.requests.some((r) => r.url.includes('labelSelector=') && r.url.includes('hostname-hash'))).toBe(true)
  })

  it('deletes softly under CAS; a row left marked deleted reads as gone and is cleaned up by the reader', async () => {
    const {server, b} = await setup()
    const h = await b.create({kind: 'IPAMHandle', name: 'h1'}, {block: {}, deleted: false})
    await b.update({kind: 'IPAMHandle', name: 'h1'}, {block: {'10.0.0.0/26': 1}, deleted: false}, h.revision)
    await expect(b.delete({kind: 'IPAMHandle', name: 'h1'}, h.revision)).rejects.toBeInstanceOf(ResourceUpdateConflictError)
    await b.delete({kind: 'IPAMHandle', name: 'h1'})
    expect(server.object('crd.projectcalico.org', 'ipamhandles', 'h1')).toBeUndefined()
    const modified = server.requests.filter((r) => r.method === 'PUT' && r.url.includes('/ipamhandles/h1'))
    expect(modified).toHaveLength(2) // the update, then the soft-delete mark

    // A writer that died between marking and deleting leaves the row behind.
    await put(server, '/apis/crd.projectcalico.org/v1/ipamhandles', {apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMHandle', metadata: {name: 'h2'}, spec: {handleID: 'h2', block: {}, deleted: true}})
    await expect(b.get({kind: 'IPAMHandle', name: 'h2'})).rejects.toBeInstanceOf(ResourceDoesNotExistError)
    expect(server.object('crd.projectcalico.org', 'ipamhandles', 'h2')).toBeUndefined()
  })
})

describe('kinds derived from native objects', () => {
  it('shows a Node with its Calico annotations and writes updates back into them', async () => {
    const {server, b} = await setup()
    await put(server, '/api/v1/nodes', {
      apiVersion: 'v1', kind: 'Node',
      metadata: {name: 'node1', labels: {'kubernetes.io/hostname': 'node1'}, annotations: {
        'projectcalico.org/IPv4Address': '192.168.1.10/24', 'projectcalico.org/ASNumber': '64512',
        'projectcalico.org/IPv4VXLANTunnelAddr': '10.244.0.1', 'projectcalico.org/labels': '{"rack":"r1"}',
      }},
      spec: {podCIDRs: ['10.244.0.0/24']},
    })
    const node = await b.get<Resource>({kind: 'Node', name: 'node1'})
    expect(node.value.metadata.labels).toEqual({rack: 'r1', 'kubernetes.io/hostname': 'node1'})
    expect(node.value.spec).toEqual({
      bgp: {ipv4Address: '192.168.1.10/24', asNumber: 64512},
      ipv4VXLANTunnelAddr: '10.244.0.1',
      addresses: [{address: '192.168.1.10/24', type: 'CalicoNodeIP'}],
      orchRefs: [{nodeName: 'node1', orchestrator: 'k8s'}],
    })
    expect(node.value.status).toEqual({podCIDRs: ['10.244.0.0/24']})

    const updated = structuredClone(node.value)
    updated.spec = {...updated.spec, bgp: {ipv4Address: '192.168.1.11/24'}, wireguard: {interfaceIPv4Address: '10.244.0.2'}}
    updated.metadata.labels = {...updated.metadata.labels, zone: 'z1'}
    await b.update({kind: 'Node', name: 'node1'}, updated, node.revision)
    const annotations = server.object('', 'nodes', 'node1')?.metadata.annotations
    expect(annotations).toMatchObject({
      'projectcalico.org/IPv4Address': '192.168.1.11/24', 'projectcalico.org/IPv4WireguardInterfaceAddr': '10.244.0.2',
      'projectcalico.org/labels': '{"rack":"r1","zone":"z1"}',
    })
    expect(annotations?.['projectcalico.org/ASNumber']).toBeUndefined()
    await expect(b.update({kind: 'Node', name: 'node1'}, updated, node.revision)).rejects.toBeInstanceOf(ResourceUpdateConflictError)
    const err = await b.create({kind: 'Node', name: 'n2'}, updated).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OperationNotSupportedError)
    expect((err as Error).message).toBe('operation Create is not supported on Node(n2)')
  })

  it('with usePodCIDR (host-local IPAM) takes the tunnel address from the pod CIDR', async () => {
    const server = await startServer()
    const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url, usePodCIDR: true})
    cleanups.push(async () => {
      await b.close()
      await server.stop()
    })
    server.seed('', 'nodes', {metadata: {name: 'n1', annotations: {'projectcalico.org/IPv4IPIPTunnelAddr': '10.9.9.9', 'projectcalico.org/WireguardPublicKey': 'k'}}, spec: {podCIDR: '10.244.3.0/24'}})
    const node = await b.get<Resource>({kind: 'Node', name: 'n1'})
    expect(node.value.spec).toMatchObject({bgp: {ipv4IPIPTunnelAddr: '10.244.3.1'}, wireguard: {interfaceIPv4Address: '10.244.3.1'}})
  })

  it('names workload interfaces with the first FELIX_INTERFACEPREFIX entry', async () => {
    const server = await startServer()
    const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url}, {env: {FELIX_INTERFACEPREFIX: 'tap,cali'}})
    cleanups.push(async () => {
      await b.close()
      await server.stop()
    })
    server.seed('', 'pods', {metadata: {name: 'p'}, spec: {nodeName: 'n1', containers: [{name: 'c'}]}}, 'ns1')
    const [wep] = (await b.list<Resource>({kind: 'WorkloadEndpoint'})).items
    expect(wep.value.spec?.interfaceName).toMatch(/^tap[0-9a-f]{11}$/)
  })

  it('derives Profiles from Namespaces and ServiceAccounts and refuses to change them', async () => {
    const {server, b} = await setup()
    await put(server, '/api/v1/namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'ns1', labels: {team: 'a'}}})
    await put(server, '/api/v1/namespaces/ns1/serviceaccounts', {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'web', labels: {tier: 'fe'}}})
    const profiles = await b.list<Resource>({kind: 'Profile'})
    // projectcalico-default-allow is the resource client's (src/datastore/client.ts), for every backend.
    expect(profiles.items.map((i) => i.key.name)).toEqual(['kns.ns1', 'ksa.ns1.web'])
    const kns = profiles.items[0].value
    expect(kns.spec).toEqual({ingress: [{action: 'Allow'}], egress: [{action: 'Allow'}], labelsToApply: {'pcns.team': 'a', 'pcns.projectcalico.org/name': 'ns1'}})
    expect(kns.metadata.uid).toBe(convertK8sUID(server.object('', 'namespaces', 'ns1')?.metadata.uid ?? ''))
    expect(profiles.items[0].revision).toMatch(/^\d+\/$/)
    expect(profiles.items[1].revision).toMatch(/^\/\d+$/)
    expect((await b.get<Resource>({kind: 'Profile', name: 'ksa.ns1.web'})).value.spec).toEqual({labelsToApply: {'pcsa.tier': 'fe', 'pcsa.projectcalico.org/name': 'web'}})
    await expect(b.delete({kind: 'Profile', name: 'kns.ns1'})).rejects.toThrow('operation Delete is not supported on Profile(kns.ns1)')
    await expect(b.get({kind: 'Profile', name: 'kns.nope'})).rejects.toBeInstanceOf(ResourceDoesNotExistError)
  })

  it('shows scheduled pods as WorkloadEndpoints and records CNI results as pod annotations', async () => {
    const {server, b} = await setup()
    await put(server, '/api/v1/namespaces/ns1/pods', {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {name: 'web-1', labels: {app: 'web'}},
      spec: {nodeName: 'node-a', serviceAccountName: 'web', containers: [{name: 'c', ports: [{name: 'http', containerPort: 8080}, {containerPort: 9090}]}]},
    })
    await put(server, '/api/v1/namespaces/ns1/pods', {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'pending'}, spec: {containers: [{name: 'c'}]}})
    await put(server, '/api/v1/namespaces/ns1/pods', {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'hostnet'}, spec: {nodeName: 'node-a', hostNetwork: true, containers: [{name: 'c'}]}})
    const weps = await b.list<Resource>({kind: 'WorkloadEndpoint', namespace: 'ns1'})
    expect(weps.items.map((i) => i.key.name)).toEqual(['node--a-k8s-web--1-eth0'])
    const wep = weps.items[0].value
    expect(wep.metadata.labels).toEqual({app: 'web', 'projectcalico.org/namespace': 'ns1', 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/serviceaccount': 'web'})
    expect(wep.spec).toMatchObject({
      orchestrator: 'k8s', node: 'node-a', pod: 'web-1', endpoint: 'eth0', ipNetworks: [], profiles: ['kns.ns1', 'ksa.ns1.web'],
      ports: [{name: 'http', protocol: 'TCP', port: 8080}],
    })
    expect(wep.spec?.interfaceName).toMatch(/^cali[0-9a-f]{11}$/)
    // One node's endpoints are listed with a spec.nodeName field selector.
    expect((await b.list({kind: 'WorkloadEndpoint', namePrefix: 'node--a-k8s-'})).items).toHaveLength(1)
    expect((await b.list({kind: 'WorkloadEndpoint', namePrefix: 'node--b-k8s-'})).items).toHaveLength(0)
    expect(server.requests.some((r) => r.url.includes('fieldSelector=spec.nodeName%3Dnode-a'))).toBe(true)

    const withIPs = structuredClone(wep)
    withIPs.spec = {...withIPs.spec, ipNetworks: ['10.244.0.5/32'], containerID: 'abc123'}
    const written = await b.create<Resource>({kind: 'WorkloadEndpoint', namespace: 'ns1', name: 'node--a-k8s-web--1-eth0'}, withIPs)
    expect(written.value.spec?.ipNetworks).toEqual(['10.244.0.5/32'])
    expect(server.object('', 'pods', 'web-1', 'ns1')?.metadata.annotations).toEqual({
      'cni.projectcalico.org/podIP': '10.244.0.5/32', 'cni.projectcalico.org/podIPs': '10.244.0.5/32', 'cni.projectcalico.org/containerID': 'abc123',
    })
    await b.delete({kind: 'WorkloadEndpoint', namespace: 'ns1', name: 'node--a-k8s-web--1-eth0'})
    expect(server.object('', 'pods', 'web-1', 'ns1')?.metadata.annotations?.['cni.projectcalico.org/podIP']).toBe('')
    await expect(b.get({kind: 'WorkloadEndpoint', namespace: 'ns1', name: 'node--b-k8s-web--1-eth0'})).rejects.toBeInstanceOf(ResourceDoesNotExistError)
  })

  it('shows Kubernetes NetworkPolicies as read-only KubernetesNetworkPolicy resources', async () => {
    const {server, b} = await setup()
    await put(server, '/apis/networking.k8s.io/v1/namespaces/ns1/networkpolicies', {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: {name: 'web'},
      spec: {podSelector: {matchLabels: {app: 'web'}}, ingress: [{ports: [{port: 80}]}]},
    })
    const [knp] = (await b.list<Resource>({kind: 'KubernetesNetworkPolicy'})).items
    expect(knp.key).toEqual({kind: 'KubernetesNetworkPolicy', namespace: 'ns1', name: 'web'})
    expect(knp.value.spec).toEqual({
      tier: 'default', order: 1000, ingress: [{action: 'Allow', protocol: 'TCP', destination: {ports: [80]}}],
      selector: "projectcalico.org/orchestrator == 'k8s' && app == 'web'", types: ['Ingress'],
    })
    await expect(b.update(knp.key, knp.value, knp.revision)).rejects.toThrow('operation Update is not supported on KubernetesNetworkPolicy(ns1/web)')
  })
})

describe('projectcalico.org/v3 CRD mode', () => {
  it('is chosen when only projectcalico.org is served, and sends objects unchanged', async () => {
    const {server, b} = await setup('v3')
    expect(b.group).toBe('projectcalico.org')
    const pool: Resource = {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'p1', labels: {team: 'a'}}, spec: {cidr: '10.0.0.0/16'}}
    await b.create({kind: 'IPPool', name: 'p1'}, pool)
    const cr = server.object('projectcalico.org', 'ippools', 'p1')
    expect(cr?.apiVersion).toBe('projectcalico.org/v3')
    expect(cr?.metadata.labels).toEqual({team: 'a'})
    expect(cr?.metadata.annotations).toBeUndefined()
    const got = await b.get<Resource>({kind: 'IPPool', name: 'p1'})
    expect(got.value.metadata.uid).toBe(cr?.metadata.uid)
    await b.create({kind: 'BlockAffinity', name: 'host:n1:10.0.0.0/26'}, {state: 'confirmed', deleted: false})
    expect(server.object('projectcalico.org', 'blockaffinities', 'n1-10-0-0-0-26')?.spec).toMatchObject({deleted: false})
  })

  it('stays on crd.projectcalico.org when both groups are served (v3 is then an aggregated API in front of v1)', async () => {
    const {server} = await setup('v1')
    installCrds(server, 'v3')
    const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url})
    cleanups.push(() => b.close())
    expect(b.group).toBe('crd.projectcalico.org')
  })

  it('an explicit calicoAPIGroup wins over discovery', async () => {
    const {b} = await setup('v1', 'projectcalico.org/v3')
    expect(b.group).toBe('projectcalico.org')
    await expect(b.list({kind: 'IPPool'})).rejects.toThrow(/ippools.projectcalico.org is not installed/)
  })
})

describe('lists', () => {
  it('page through limit/continue and read every item', async () => {
    const {server, b} = await setup()
    const backend: Backend = b
    for (let i = 0; i < 5; i++) {
      await backend.create({kind: 'GlobalNetworkSet', name: `s${i}`}, {apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: {name: `s${i}`}, spec: {}})
    }
    const listed = await backend.list({kind: 'GlobalNetworkSet'})
    expect(listed.items.map((i) => i.key.name)).toEqual(['s0', 's1', 's2', 's3', 's4'])
    expect(server.requests.filter((r) => r.url.startsWith('/apis/crd.projectcalico.org/v1/globalnetworksets?') && r.url.includes('continue='))).toHaveLength(2)
  })
})

describe('the node agent on the Kubernetes datastore', () => {
  const NS = '/api/v1/namespaces'
  const pod = (name: string, extra: {labels?: Record<string, string>; nodeName?: string; podIP?: string; hostNetwork?: boolean} = {}) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: {name, labels: extra.labels ?? {app: name}},
    spec: {containers: [{name: 'c', ports: [{name: 'http', containerPort: 80}]}], ...(extra.nodeName ? {nodeName: extra.nodeName} : {}), ...(extra.hostNetwork ? {hostNetwork: true} : {})},
    ...(extra.podIP ? {status: {phase: 'Running', podIP: extra.podIP, podIPs: [{ip: extra.podIP}]}} : {}),
  })
  const netpol = (name: string, app: string) => ({
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: {name},
    spec: {podSelector: {matchLabels: {app}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: 'a'}}}]}]},
  })
  /** The agent's view of one change: the key, and whether the validation filter lets it through. */
  const view = (kv: KVPair) => `${kv.key.kind}:${kv.key.namespace ? `${kv.key.namespace}/` : ''}${kv.key.name}:${checkStoredValue(kv.key, kv.value).ok ? 'ok' : 'absent'}`

  it('watches what Felix watches there: KubernetesNetworkPolicy too, the rest as on etcd', () => {
    expect(agentKinds('kubernetes')).toEqual([...agentKinds('etcdv3'), 'KubernetesNetworkPolicy'])
    expect(agentKinds('embedded')).toEqual(agentKinds('etcdv3'))
    expect(agentKinds('etcdv3')).not.toContain('KubernetesNetworkPolicy')
  })

  it('the validation filter reads a KubernetesNetworkPolicy as the NetworkPolicy it holds; endpoints wait for an address quietly', async () => {
    const {server, b} = await setup()
    await put(server, '/apis/networking.k8s.io/v1/namespaces/x/networkpolicies', netpol('np1', 'web'))
    await put(server, `${NS}/x/pods`, pod('starting', {nodeName: 'n1'}))
    const [knp] = (await b.list({kind: 'KubernetesNetworkPolicy'})).items
    const checked = checkStoredValue(knp.key, knp.value)
    expect(checked.ok && checked.resource.kind).toBe('KubernetesNetworkPolicy')
    expect(checked.ok && checked.resource.spec).toMatchObject({tier: 'default', order: 1000, types: ['Ingress']})
    // The same value under the wrong key kind is refused, as any kind mismatch is.
    expect(checkStoredValue({...knp.key, kind: 'GlobalNetworkPolicy'}, knp.value)).toMatchObject({ok: false})
    const [wep] = (await b.list({kind: 'WorkloadEndpoint'})).items
    expect(checkStoredValue(wep.key, wep.value)).toEqual({ok: false, reason: 'the endpoint has no IP addresses yet', silent: true})
    // The CNI plugin records the address as the cni.projectcalico.org/podIP annotation before kubelet's status has it.
    const networked = await b.update<Resource>(wep.key, {...(wep.value as Resource), spec: {...(wep.value as Resource).spec, ipNetworks: ['10.65.0.11/32']}}, wep.revision)
    expect(server.object('', 'pods', 'starting', 'x')?.status).not.toHaveProperty('podIP')
    expect(checkStoredValue(networked.key, networked.value)).toMatchObject({ok: true, resource: {spec: {ipNetworks: ['10.65.0.11/32']}}})
  })

  it('follows Pods, Namespaces, ServiceAccounts and NetworkPolicies: snapshot, events, resume, re-list after 410', async () => {
    const {server, b} = await setup()
    await put(server, NS, {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'x', labels: {team: 'a'}}})
    await put(server, `${NS}/x/serviceaccounts`, {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'default'}})
    await put(server, `${NS}/x/pods`, pod('web', {nodeName: 'n1', podIP: '10.65.0.10'}))
    await put(server, `${NS}/x/pods`, pod('unscheduled'))
    await put(server, `${NS}/x/pods`, pod('starting', {nodeName: 'n1'}))
    await put(server, `${NS}/x/pods`, pod('hostnet', {nodeName: 'n1', podIP: '192.0.2.1', hostNetwork: true}))
    await put(server, `${NS}/x/pods`, pod('remote', {nodeName: 'n2', podIP: '10.65.1.10'}))
    await put(server, '/apis/networking.k8s.io/v1/namespaces/x/networkpolicies', netpol('np1', 'web'))

    const abort = new AbortController()
    cleanups.push(async () => abort.abort())
    const errors: Error[] = []
    const stream = watchForever(b, {kinds: agentKinds(b.type), signal: abort.signal, retryDelayMs: 50, onError: (e) => errors.push(e)})
    const next = async (): Promise<SyncEvent> => {
      const r = await stream.next()
      if (r.done) throw new Error('stream ended')
      return r.value
    }
    /** The next event that is not a repeat of what the agent already holds (a watch may start before a list's revision). */
    const change = async (): Promise<string> => {
      const ev = await next()
      if (ev.type === 'snapshot') return `snapshot ${ev.items.map(view).join(' ')}`
      return `${ev.type} ${ev.type === 'deleted' ? `${ev.key.kind}:${ev.key.namespace ?? ''}/${ev.key.name}` : view({key: ev.key, value: ev.value, revision: ev.revision})}`
    }

    // Unscheduled and host-networked pods are no endpoints; one still waiting for its address is, but the agent's
    // filter keeps it out of the calculation until it has one. Remote pods are there: they feed selector IP sets.
    expect((await change()).split(' ').sort()).toEqual([
      'KubernetesNetworkPolicy:x/np1:ok', 'Profile:kns.x:ok', 'Profile:ksa.x.default:ok',
      'WorkloadEndpoint:x/n1-k8s-starting-eth0:absent', 'WorkloadEndpoint:x/n1-k8s-web-eth0:ok', 'WorkloadEndpoint:x/n2-k8s-remote-eth0:ok', 'snapshot',
    ])

    // Changes arrive as events of the derived kinds.
    const starting = server.object('', 'pods', 'starting', 'x')!
    await put(server, `${NS}/x/pods/starting/status`, {...starting, status: {phase: 'Running', podIP: '10.65.0.11', podIPs: [{ip: '10.65.0.11'}]}}, 'PUT')
    expect(await change()).toBe('modified WorkloadEndpoint:x/n1-k8s-starting-eth0:ok')
    const ns = server.object('', 'namespaces', 'x')!
    await put(server, `${NS}/x`, {...ns, metadata: {...ns.metadata, labels: {team: 'b'}}}, 'PUT')
    const profile = await next()
    expect(profile.type === 'modified' && (profile.value as Resource).spec).toMatchObject({labelsToApply: {'pcns.team': 'b'}})
    await put(server, '/apis/networking.k8s.io/v1/namespaces/x/networkpolicies', netpol('np2', 'other'))
    expect(await change()).toBe('added KubernetesNetworkPolicy:x/np2:ok')
    const unscheduled = server.object('', 'pods', 'unscheduled', 'x')!
    await put(server, `${NS}/x/pods/unscheduled`, {...unscheduled, spec: {...(unscheduled.spec as object), nodeName: 'n1'}}, 'PUT')
    // Calico reports a pod that becomes an endpoint as the Kubernetes event it was (MODIFIED); the agent applies both alike.
    expect(await change()).toBe('modified WorkloadEndpoint:x/n1-k8s-unscheduled-eth0:absent')
    await put(server, '/apis/networking.k8s.io/v1/namespaces/x/networkpolicies/np2', {}, 'DELETE')
    expect(await change()).toBe('deleted KubernetesNetworkPolicy:x/np2')
    await put(server, `${NS}/x/pods/remote`, {}, 'DELETE')
    expect(await change()).toBe('deleted WorkloadEndpoint:x/n2-k8s-remote-eth0')

    // Watches cut and resumed from their last revision: what changed meanwhile arrives as events, not a re-list.
    let resume = server.pauseWatches()
    await put(server, `${NS}/x/pods`, pod('late', {nodeName: 'n1', podIP: '10.65.0.12'}))
    resume()
    expect(await change()).toBe('added WorkloadEndpoint:x/n1-k8s-late-eth0:ok')

    // History compacted while disconnected: 410 Gone, then a fresh snapshot holding the current state.
    resume = server.pauseWatches()
    await put(server, '/apis/networking.k8s.io/v1/namespaces/x/networkpolicies/np1', {}, 'DELETE')
    await put(server, `${NS}/x/pods`, pod('later', {nodeName: 'n1', podIP: '10.65.0.13'}))
    server.compact(server.resourceVersion)
    resume()
    expect((await change()).split(' ').sort()).toEqual([
      'Profile:kns.x:ok', 'Profile:ksa.x.default:ok', 'WorkloadEndpoint:x/n1-k8s-late-eth0:ok', 'WorkloadEndpoint:x/n1-k8s-later-eth0:ok',
      'WorkloadEndpoint:x/n1-k8s-starting-eth0:ok', 'WorkloadEndpoint:x/n1-k8s-unscheduled-eth0:absent', 'WorkloadEndpoint:x/n1-k8s-web-eth0:ok', 'snapshot',
    ])
    expect(errors.map((e) => e.constructor.name)).toContain('WatchExpiredError')
    abort.abort()
    await stream.return(undefined)
  })

  it('a Profile list is complete up to the older of its two sources, so a watch from it misses neither', async () => {
    const {server, b} = await setup()
    await put(server, NS, {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'x'}})
    // A namespace created after the namespaces were listed but before the service accounts were.
    let raced = false
    server.deny((r) => {
      if (r.resource === 'serviceaccounts' && r.verb === 'list' && !raced) {
        raced = true
        server.seed('', 'namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'late'}})
      }
      return false
    })
    const listed = await b.list({kind: 'Profile'})
    expect(raced).toBe(true)
    expect(listed.items.map((i) => i.key.name)).toEqual(['kns.x'])
    const w = b.watch({kinds: ['Profile'], fromRevision: listed.revision})
    cleanups.push(async () => w.close())
    const first = (async () => {
      for await (const ev of w) return [ev.type, ev.key.name]
      return undefined
    })()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve('no event within 5 s'), 5000)))
    expect(await Promise.race([first, timeout])).toEqual(['added', 'kns.late'])
    clearTimeout(timer)
  })

  it('registers the agent\'s Node into the core Node kubelet created, and says what is wrong when there is none', async () => {
    const {server, b} = await setup()
    const err = await registerNode(b, {name: 'kn', ipv4Address: '192.0.2.1/24'}).catch((e: unknown) => e)
    expect((err as Error).message).toBe(
      'node "kn" does not exist in the Kubernetes API: on the Kubernetes datastore the Calico Node is a view of the core Node, which kubelet registers; start kubelet on this node (or check that --name matches the Kubernetes node name)')
    await put(server, '/api/v1/nodes', {apiVersion: 'v1', kind: 'Node', metadata: {name: 'kn', labels: {'kubernetes.io/hostname': 'kn'}}, status: {addresses: [{type: 'InternalIP', address: '192.0.2.1'}]}})
    const node = await registerNode(b, {name: 'kn', ipv4Address: '192.0.2.1/24', asNumber: 64512})
    expect(node.spec?.bgp).toEqual({ipv4Address: '192.0.2.1/24', asNumber: 64512})
    const stored = server.object('', 'nodes', 'kn')!
    expect(stored.metadata.annotations).toEqual({'projectcalico.org/IPv4Address': '192.0.2.1/24', 'projectcalico.org/ASNumber': '64512'})
    expect(stored.metadata.labels).toEqual({'kubernetes.io/hostname': 'kn'})
    expect(stored.status).toEqual({addresses: [{type: 'InternalIP', address: '192.0.2.1'}]})
    // Nothing to change: no write.
    const revision = stored.metadata.resourceVersion
    await registerNode(b, {name: 'kn', ipv4Address: '192.0.2.1/24'})
    expect(server.object('', 'nodes', 'kn')?.metadata.resourceVersion).toBe(revision)
  })
})
