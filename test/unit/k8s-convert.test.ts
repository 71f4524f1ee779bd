// The crd.projectcalico.org/v1 metadata mapping (convert.ts toV1Resource/fromV1Resource): what a v3
// resource becomes as a CR and back, including CRs that Calico did not write. And the fields of a Pod's
// WorkloadEndpoint view that must read as the CNI plugin writes them on an etcd-style datastore.
import {describe, expect, it} from 'vitest'
import {convertK8sUID} from '../../src/api/k8s-networkpolicy.js'
import type {Resource} from '../../src/api/resource.js'
import type {KubeObject} from '../../src/datastore/kubernetes/client.js'
import {fromV1Resource, METADATA_ANNOTATION, PodConversionError, podToWorkloadEndpoint, toV1Resource} from '../../src/datastore/kubernetes/convert.js'
import {allowedSourcePrefixes} from '../../src/cni/annotations.js'

const UID = '6f3b6ea0-8c1f-4d6e-9b1a-2a1b3c4d5e6f'

function served(cr: KubeObject, resourceVersion = '42'): KubeObject {
  // What the API server adds: its own UID, resourceVersion and creationTimestamp.
  return {...cr, metadata: {...cr.metadata, uid: convertK8sUID(UID), resourceVersion, creationTimestamp: '2026-01-02T03:04:05Z'}}
}

describe('v1 CR metadata mapping', () => {
  const policy: Resource = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: {
      name: 'allow-web', namespace: 'prod', uid: UID, generation: 2, creationTimestamp: '2025-05-05T05:05:05Z',
      labels: {app: 'web', 'projectcalico.org/tier': 'default'}, annotations: {note: 'x', 'projectcalico.org/owner': 'me'},
      ownerReferences: [{apiVersion: 'projectcalico.org/v3', kind: 'Tier', name: 'default', uid: UID}], finalizers: ['keep'],
    },
    spec: {tier: 'default', order: 10, selector: 'all()'},
  }

  it('keeps only Calico labels and annotations on the CR and the rest in the metadata annotation', () => {
    const cr = toV1Resource('NetworkPolicy', policy, 'default.allow-web', 'prod')
    expect(cr.metadata.name).toBe('default.allow-web')
    expect(cr.metadata.uid).toBe(convertK8sUID(UID))
    expect(cr.metadata.labels).toEqual({'projectcalico.org/tier': 'default'})
    expect(Object.keys(cr.metadata.annotations ?? {})).toEqual(['projectcalico.org/owner', METADATA_ANNOTATION])
    expect(JSON.parse(cr.metadata.annotations?.[METADATA_ANNOTATION] ?? '')).toMatchObject({name: 'allow-web', generation: 2, labels: policy.metadata.labels})
  })

  it('round-trips the v3 metadata in ObjectMeta field order, with the server revision', () => {
    const back = fromV1Resource('NetworkPolicy', served(toV1Resource('NetworkPolicy', policy, 'default.allow-web', 'prod')), 'p')
    expect(back.metadata).toEqual({
      name: 'allow-web', namespace: 'prod', uid: UID, resourceVersion: '42', generation: 2, creationTimestamp: '2025-05-05T05:05:05Z',
      labels: policy.metadata.labels, annotations: policy.metadata.annotations,
      ownerReferences: [{apiVersion: 'projectcalico.org/v3', kind: 'Tier', name: 'default', uid: UID}], finalizers: ['keep'],
    })
    expect(Object.keys(back.metadata)).toEqual(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'labels', 'annotations', 'ownerReferences', 'finalizers'])
    expect(back.spec).toEqual(policy.spec)
  })

  it('takes the server creationTimestamp when none was stored and leaves empty maps out', () => {
    const pool: Resource = {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'p', labels: {}, annotations: {}}, spec: {cidr: '10.0.0.0/16'}}
    const back = fromV1Resource('IPPool', served(toV1Resource('IPPool', pool, 'p', undefined)), 'p')
    expect(back.metadata).toEqual({name: 'p', uid: UID, resourceVersion: '42', creationTimestamp: '2026-01-02T03:04:05Z'})
  })

  it('strips the default. prefix of an unnamed policy CR only in the default tier', () => {
    const cr = (name: string, tier: string): KubeObject => ({apiVersion: 'crd.projectcalico.org/v1', kind: 'GlobalNetworkPolicy', metadata: {name, annotations: {[METADATA_ANNOTATION]: '{}'}}, spec: {tier}})
    expect(fromV1Resource('GlobalNetworkPolicy', cr('default.a', 'default'), 'p').metadata.name).toBe('a')
    expect(fromV1Resource('GlobalNetworkPolicy', cr('default.a', ''), 'p').metadata.name).toBe('a')
    expect(fromV1Resource('GlobalNetworkPolicy', cr('default.a', 'other'), 'p').metadata.name).toBe('default.a')
    expect(fromV1Resource('IPPool', cr('default.a', 'default'), 'p').metadata.name).toBe('default.a')
  })

  it('shows a CR that Calico did not write with its own metadata', () => {
    const cr: KubeObject = {
      apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool',
      metadata: {name: 'foreign', uid: 'not-a-uuid', resourceVersion: '7', labels: {a: 'b'}, annotations: {c: 'd'}, generation: 1},
      spec: {cidr: '10.1.0.0/16'},
    }
    expect(fromV1Resource('IPPool', cr, 'p').metadata).toEqual({name: 'foreign', resourceVersion: '7', labels: {a: 'b'}, annotations: {c: 'd'}, generation: 1})
    const bare = fromV1Resource('IPPool', {...cr, metadata: {name: 'foreign', uid: convertK8sUID(UID)}}, 'p')
    expect(bare.metadata).toEqual({name: 'foreign', uid: UID, resourceVersion: undefined})
    expect(Object.hasOwn(bare.metadata, 'annotations')).toBe(false)
  })

  it('names the object when the metadata annotation is not JSON', () => {
    const cr: KubeObject = {metadata: {name: 'x', annotations: {[METADATA_ANNOTATION]: '{broken'}}}
    expect(() => fromV1Resource('IPPool', cr, '/apis/crd.projectcalico.org/v1/ippools/x')).toThrow(
      /^failed to parse datastore entry \/apis\/crd.projectcalico.org\/v1\/ippools\/x: annotation "projectcalico.org\/metadata" contained invalid JSON/)
  })

  it('keeps a __proto__ annotation key as data', () => {
    const cr: KubeObject = {metadata: {name: 'x', annotations: {[METADATA_ANNOTATION]: '{"annotations":{"__proto__":"v"}}'}}}
    const annotations = fromV1Resource('IPPool', cr, 'p').metadata.annotations ?? {}
    expect(Object.getPrototypeOf(annotations)).toBe(Object.prototype)
    expect(Object.keys(annotations)).toEqual(['__proto__'])
  })
})

describe('allowSpoofedSourcePrefixes of a Pod\'s WorkloadEndpoint view', () => {
  const ANNOTATION = 'cni.projectcalico.org/allowedSourcePrefixes'
  const view = (text: string) =>
    podToWorkloadEndpoint({metadata: {name: 'p', namespace: 'ns', annotations: {[ANNOTATION]: text}}, spec: {nodeName: 'n'}, status: {podIP: '10.0.0.5'}})
  const spoof = (text: string) => (view(text).spec as {allowSpoofedSourcePrefixes?: string[]}).allowSpoofedSourcePrefixes
  /** What the CNI plugin stores in the endpoint on etcd or embedded for the same annotation, or the message it fails with. */
  const cni = (text: string): string[] | string => {
    try {
      return allowedSourcePrefixes({[ANNOTATION]: text})
    } catch (err) {
      return (err as Error).message
    }
  }

  it('holds each prefix as its network, in both families, as the CNI plugin stores it', () => {
    const text = '["10.70.1.9/16", "192.0.2.0/24", "fd00:70::1/48", "2001:db8:0:0::1/64"]'
    expect(spoof(text)).toEqual(['10.70.0.0/16', '192.0.2.0/24', 'fd00:70::/48', '2001:db8::/64'])
    expect(spoof(text)).toEqual(cni(text))
    expect(spoof('[]')).toBeUndefined()
    expect(spoof('')).toBeUndefined()
  })

  it('fails the conversion of a malformed annotation with the message the CNI plugin refuses the pod with', () => {
    for (const text of ['["10.70.1.9"]', '["10.0.0.0/33"]', '10.0.0.0/8', '[1]', '{"a": "10.0.0.0/8"}']) {
      let err: unknown
      try {
        view(text)
      } catch (e) {
        err = e
      }
      expect(err, text).toBeInstanceOf(PodConversionError)
      expect((err as Error).message, text).toBe(cni(text))
    }
    expect(() => view('["10.70.1.9"]')).toThrow("failed to parse '10.70.1.9' as a CIDR: invalid CIDR address: 10.70.1.9")
  })
})
