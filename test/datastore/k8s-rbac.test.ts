// manifests/rbac is least privilege that still works: the test API server enforces each ClusterRole
// (RBAC's rule matching: apiGroup, resource[/subresource], verb) while the backend does what calicoctl
// and the node agent do; anything else is refused with the 403 line users see.

import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {loadAll} from 'js-yaml'
import {afterEach, describe, expect, it} from 'vitest'
import type {Resource} from '../../src/api/resource.js'
import {KubernetesBackend} from '../../src/datastore/kubernetes/backend.js'
import {KDD_KINDS} from '../../src/datastore/kubernetes/resources.js'
import {startServer} from '../k8s-apiserver/helpers.js'
import type {RequestInfo, TestApiServer} from '../k8s-apiserver/server.js'

interface Rule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
}

function clusterRole(file: string): Rule[] {
  const docs = loadAll(readFileSync(join(import.meta.dirname, '..', '..', 'manifests', 'rbac', file), 'utf8')) as {kind: string; rules?: Rule[]}[]
  const role = docs.find((d) => d.kind === 'ClusterRole')
  if (!role?.rules) throw new Error(`${file} has no ClusterRole`)
  return role.rules
}

function allowed(rules: Rule[], r: RequestInfo): boolean {
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource
  return rules.some((rule) => rule.apiGroups.includes(r.group) && rule.resources.includes(resource) && rule.verbs.includes(r.verb))
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function as(file: string): Promise<{server: TestApiServer; b: KubernetesBackend}> {
  const server = await startServer()
  const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url})
  cleanups.push(async () => {
    await b.close()
    await server.stop()
  })
  // Fixtures go in before the role applies.
  server.seed('', 'nodes', {metadata: {name: 'node1'}})
  server.seed('', 'pods', {metadata: {name: 'web'}, spec: {nodeName: 'node1', containers: [{name: 'c'}]}}, 'ns1')
  const rules = clusterRole(file)
  server.deny((r) => !r.group.startsWith('apiextensions') && !allowed(rules, r))
  return {server, b}
}

const pool: Resource = {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'p1'}, spec: {cidr: '10.0.0.0/16'}}

describe('manifests/rbac', () => {
  it('calicoctl can manage every Calico kind and read the derived ones', async () => {
    const {b} = await as('calicoctl.yaml')
    for (const kind of KDD_KINDS) await b.list({kind})
    const created = await b.create({kind: 'IPPool', name: 'p1'}, pool)
    await b.update({kind: 'IPPool', name: 'p1'}, pool, created.revision)
    await b.delete({kind: 'IPPool', name: 'p1'})
    await b.create({kind: 'IPAMHandle', name: 'h'}, {block: {}, deleted: false})
    await b.delete({kind: 'IPAMHandle', name: 'h'})
    const node = await b.get<Resource>({kind: 'Node', name: 'node1'})
    await b.update({kind: 'Node', name: 'node1'}, {...node.value, spec: {bgp: {ipv4Address: '10.0.0.1/24'}}}, node.revision)
  })

  it('the node agent can read everything, run IPAM, register its node and record pod IPs, and nothing more', async () => {
    const {server, b} = await as('calico-node.yaml')
    for (const kind of KDD_KINDS) await b.list({kind})
    const w = b.watch({})
    w.close()
    const block = await b.create({kind: 'IPAMBlock', name: '10.0.0.0/26'}, {cidr: '10.0.0.0/26', allocations: [], unallocated: [], attributes: [], deleted: false})
    await b.update({kind: 'IPAMBlock', name: '10.0.0.0/26'}, {...(block.value as object), sequenceNumber: 1}, block.revision)
    await b.create({kind: 'BlockAffinity', name: 'host:node1:10.0.0.0/26'}, {state: 'confirmed', deleted: false})
    await b.delete({kind: 'BlockAffinity', name: 'host:node1:10.0.0.0/26'})
    const node = await b.get<Resource>({kind: 'Node', name: 'node1'})
    await b.update({kind: 'Node', name: 'node1'}, {...node.value, spec: {bgp: {ipv4Address: '10.0.0.1/24'}}}, node.revision)
    const [wep] = (await b.list<Resource>({kind: 'WorkloadEndpoint'})).items
    await b.update(wep.key, {...wep.value, spec: {...wep.value.spec, ipNetworks: ['10.0.0.5/32']}}, wep.revision)

    await expect(b.create({kind: 'IPPool', name: 'p1'}, pool)).rejects.toThrow(
      /^the Kubernetes API server denied access \(403 Forbidden\): ippools.crd.projectcalico.org is forbidden: .* cannot create resource "ippools"/)
    server.seed('crd.projectcalico.org', 'ipamconfigs', {metadata: {name: 'default'}, spec: {strictAffinity: false, autoAllocateBlocks: true}})
    await b.get({kind: 'IPAMConfig', name: 'default'})
    await expect(b.delete({kind: 'IPAMConfig', name: 'default'})).rejects.toThrow(/403 Forbidden.* cannot delete resource "ipamconfigs"/)
  })
})
