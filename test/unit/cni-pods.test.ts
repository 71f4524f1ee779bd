// Pod labels and service account: from the Kubernetes datastore (readPod, or the Pod-derived endpoint) or from
// the network configuration's args.cni.labels.
import {describe, expect, it} from 'vitest'

import {ResourceDoesNotExistError} from '../../src/api/errors.js'
import type {CniEnv} from '../../src/cni/config.js'
import {parseNetConf} from '../../src/cni/config.js'
import {workloadIdentifiers} from '../../src/cni/names.js'
import {podInfo} from '../../src/cni/pods.js'
import type {Backend, Key, KVPair} from '../../src/datastore/backend.js'

const env: CniEnv = {command: 'ADD', containerID: 'c1', netns: '/x', ifName: 'eth0', args: {K8S_POD_NAMESPACE: 'web', K8S_POD_NAME: 'api-0'}, path: []}
const ids = workloadIdentifiers(env, 'node-1')
const kdd = parseNetConf(JSON.stringify({cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', datastore_type: 'kubernetes', ipam: {type: 'calico-ipam'}, args: {cni: {labels: [{key: 'ignored', value: 'x'}]}}}))
const etcd = parseNetConf(JSON.stringify({cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', etcd_endpoints: 'http://e:2379', ipam: {type: 'calico-ipam'}, args: {cni: {labels: [{key: 'app', value: 'api'}]}}}))

function backendWith(get: (key: Key) => unknown, extra: object = {}): Backend {
  const unused = () => Promise.reject(new Error('not used'))
  return {
    type: 'kubernetes',
    create: unused,
    update: unused,
    apply: unused,
    delete: unused,
    list: unused,
    watch: () => {
      throw new Error('not used')
    },
    close: () => Promise.resolve(),
    get: async <V,>(key: Key): Promise<KVPair<V>> => ({key, value: get(key) as V, revision: '1'}),
    ...extra,
  }
}

describe('pod info', () => {
  it('takes labels from args.cni.labels and the default service account without a Kubernetes datastore', async () => {
    expect(await podInfo(etcd, ids, backendWith(() => undefined))).toEqual({labels: {app: 'api'}, serviceAccountName: 'default'})
  })

  it('reads the Pod through the Kubernetes backend’s endpoint view, dropping Calico’s own labels', async () => {
    const seen: Key[] = []
    const backend = backendWith((key) => {
      seen.push(key)
      return {
        apiVersion: 'projectcalico.org/v3',
        kind: 'WorkloadEndpoint',
        metadata: {name: 'node--1-k8s-api--0-eth0', namespace: 'web', labels: {app: 'api', tier: 'be', 'projectcalico.org/namespace': 'web'}},
        spec: {serviceAccountName: 'api-sa'},
      }
    })
    expect(await podInfo(kdd, ids, backend)).toEqual({labels: {app: 'api', tier: 'be'}, serviceAccountName: 'api-sa'})
    expect(seen).toEqual([{kind: 'WorkloadEndpoint', name: 'node--1-k8s-api--0-eth0', namespace: 'web'}])
  })

  it('prefers a backend’s readPod and reports a missing pod', async () => {
    const withReader = backendWith(() => undefined, {readPod: async (ns: string, name: string) => (name === 'api-0' && ns === 'web' ? {labels: {a: 'b'}} : undefined)})
    expect(await podInfo(kdd, ids, withReader)).toEqual({labels: {a: 'b'}, serviceAccountName: 'default'})
    const missing = backendWith(() => {
      throw new ResourceDoesNotExistError('WorkloadEndpoint(web/x)')
    })
    await expect(podInfo(kdd, ids, missing)).rejects.toMatchObject({code: 999, message: 'pods "api-0" not found'})
  })
})
