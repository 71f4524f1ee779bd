// Pod facts: from the API server for a Kubernetes pod in Calico's k8s policy mode (namespace first, as Calico), from
// the network configuration's args.cni.labels otherwise; and when calico-ipam reads the namespace itself.
import {describe, expect, it} from 'vitest'

import type {CniEnv} from '../../src/cni/config.js'
import {parseNetConf} from '../../src/cni/config.js'
import {CniError} from '../../src/cni/errors.js'
import {workloadIdentifiers} from '../../src/cni/names.js'
import {openPodReader, podFacts, readsNamespaceForIpam, readsPod, type KubernetesNamespace, type KubernetesPod, type PodReader} from '../../src/cni/pods.js'
import type {Backend} from '../../src/datastore/backend.js'

const env: CniEnv = {command: 'ADD', containerID: 'c1', netns: '/x', ifName: 'eth0', args: {K8S_POD_NAMESPACE: 'web', K8S_POD_NAME: 'api-0'}, path: []}
const k8sPod = workloadIdentifiers(env, 'node-1')
const cniWorkload = workloadIdentifiers({...env, args: {}}, 'node-1')
const kdd = parseNetConf(JSON.stringify({cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', datastore_type: 'kubernetes', ipam: {type: 'calico-ipam'}, args: {cni: {labels: [{key: 'ignored', value: 'x'}]}}}))
const etcd = parseNetConf(JSON.stringify({cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', etcd_endpoints: 'http://e:2379', ipam: {type: 'calico-ipam'}, args: {cni: {labels: [{key: 'app', value: 'api'}]}}}))

/** An API server stand-in holding one namespace and its pods; records what was read, in order. */
function reader(pods: Record<string, KubernetesPod>, namespace: KubernetesNamespace = {labels: {}, annotations: {}}): PodReader & {reads: string[]} {
  const reads: string[] = []
  return {
    reads,
    async readNamespace(name) {
      reads.push(`namespaces/${name}`)
      if (name !== 'web') throw new CniError(999, `namespaces "${name}" not found`)
      return namespace
    },
    async readPod(namespace, name) {
      reads.push(`pods/${namespace}/${name}`)
      const pod = pods[name]
      if (!pod) throw new CniError(999, `pods "${name}" not found`)
      return pod
    },
    async readNodePodCIDRs(name) {
      reads.push(`nodes/${name}`)
      return []
    },
    async readKubeVirt(kind, namespace, name) {
      throw new CniError(999, `${kind}.kubevirt.io "${name}" not found in ${namespace}`)
    },
  }
}

function backendOfType(type: Backend['type'], extra: object = {}): Backend {
  const unused = () => Promise.reject(new Error('not used'))
  return {
    type,
    create: unused,
    update: unused,
    apply: unused,
    delete: unused,
    list: unused,
    get: unused,
    watch: () => {
      throw new Error('not used')
    },
    close: () => Promise.resolve(),
    ...extra,
  }
}

describe('pod facts', () => {
  it('reads the namespace, then the pod, from the API server', async () => {
    const api = reader(
      {'api-0': {labels: {app: 'api'}, annotations: {'cni.projectcalico.org/ipv4pools': '["p"]'}, serviceAccountName: 'api-sa', ports: [{name: 'http', protocol: 'TCP', port: 80}], generateName: 'api-', ownerReferences: []}},
      {labels: {team: 'a'}, annotations: {owner: 'team-a'}},
    )
    expect(await podFacts(kdd, k8sPod, api)).toEqual({
      labels: {app: 'api'},
      serviceAccountName: 'api-sa',
      ports: [{name: 'http', protocol: 'TCP', port: 80}],
      generateName: 'api-',
      annotations: {'cni.projectcalico.org/ipv4pools': '["p"]'},
      namespaceAnnotations: {owner: 'team-a'},
      namespaceLabels: {team: 'a'},
    })
    expect(api.reads).toEqual(['namespaces/web', 'pods/web/api-0'])
  })

  it('gives a pod without a service account Kubernetes\' default one', async () => {
    const api = reader({'api-0': {labels: {}, annotations: {}, serviceAccountName: '', ports: [], ownerReferences: []}})
    expect((await podFacts(kdd, k8sPod, api)).serviceAccountName).toBe('default')
  })

  it('fails with the API server\'s message when the pod or its namespace is missing', async () => {
    await expect(podFacts(kdd, k8sPod, reader({}))).rejects.toMatchObject({code: 999, message: 'pods "api-0" not found'})
    const elsewhere = workloadIdentifiers({...env, args: {K8S_POD_NAMESPACE: 'gone', K8S_POD_NAME: 'api-0'}}, 'node-1')
    await expect(podFacts(kdd, elsewhere, reader({}))).rejects.toMatchObject({message: 'namespaces "gone" not found'})
  })

  it('takes labels from args.cni.labels without an API server, and plain CNI workloads never ask one', async () => {
    expect(await podFacts(etcd, k8sPod, undefined)).toEqual({labels: {app: 'api'}, serviceAccountName: 'default', annotations: {}, namespaceAnnotations: {}})
    const api = reader({})
    expect(await podFacts(etcd, cniWorkload, api)).toEqual({labels: {app: 'api'}, serviceAccountName: '', annotations: {}, namespaceAnnotations: {}})
    expect(api.reads).toEqual([])
  })

  it('reads the Pod only in the k8s policy mode, and the namespace for IPAM with Kubernetes access', () => {
    const withPolicy = parseNetConf(JSON.stringify({cniVersion: '1.0.0', name: 'n', type: 'calico', datastore_type: 'kubernetes', policy: {type: 'k8s'}, ipam: {type: 'calico-ipam'}}))
    const withKubeconfig = parseNetConf(JSON.stringify({cniVersion: '1.0.0', name: 'n', type: 'calico', etcd_endpoints: 'http://e:2379', kubernetes: {kubeconfig: '/k'}, ipam: {type: 'calico-ipam'}}))
    expect([readsPod(withPolicy, k8sPod), readsPod(withPolicy, cniWorkload), readsPod(kdd, k8sPod), readsPod(withKubeconfig, k8sPod)]).toEqual([true, false, false, false])
    // The namespace of a plain CNI workload is `default`, and calico-ipam asks for it too.
    expect([readsNamespaceForIpam(withPolicy, k8sPod), readsNamespaceForIpam(withKubeconfig, cniWorkload), readsNamespaceForIpam(kdd, k8sPod), readsNamespaceForIpam(etcd, k8sPod)]).toEqual([true, true, false, false])
  })

  it('asks the stand-in a backend provides', async () => {
    // A stand-in that answers API questions itself (as these tests' readers do) is used as it is.
    const standIn = backendOfType('kubernetes', reader({}))
    expect((await openPodReader(kdd, standIn)).reader).toBe(standIn)
  })
})
