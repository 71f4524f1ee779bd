import {describe, expect, it} from 'vitest'

import {kindInfo} from '../../src/api/kinds.js'
import type {Resource} from '../../src/api/resource.js'
import {resolveNamespace} from '../../src/cli/resourcemgr/namespace.js'
import {exportMetadata, mergeMetadataForUpdate, prepareMetadataForCreate} from '../../src/cli/resourcemgr/metadata.js'

function res(kind: string, namespace?: string): Resource {
  return {apiVersion: 'projectcalico.org/v3', kind, metadata: namespace === undefined ? {name: 'x'} : {name: 'x', namespace}}
}

function resolve(kind: string, resNs: string | undefined, flags: {namespace?: string; allNamespaces?: boolean}): string | undefined {
  const r = res(kind, resNs)
  resolveNamespace(r, kindInfo(kind)!, flags)
  return r.metadata.namespace
}

describe('resolveNamespace (calicoctl handleNamespace)', () => {
  it.each([
    ['NetworkPolicy', undefined, {}, 'default'],
    ['NetworkPolicy', undefined, {namespace: 'a'}, 'a'],
    ['NetworkPolicy', 'b', {}, 'b'],
    ['NetworkPolicy', 'b', {namespace: 'b'}, 'b'],
    ['NetworkPolicy', undefined, {allNamespaces: true}, ''],
    ['NetworkPolicy', 'b', {allNamespaces: true}, ''],
    ['IPPool', undefined, {}, undefined],
  ] as const)('%s ns=%s flags=%j -> %s', (kind, ns, flags, expected) => {
    expect(resolve(kind, ns, flags)).toBe(expected)
  })

  it.each([
    ['NetworkPolicy', undefined, {namespace: 'a', allNamespaces: true}, 'cannot use both --namespace and --all-namespaces flags at the same time'],
    ['NetworkPolicy', 'a', {namespace: 'b'}, 'resource namespace does not match client namespace. a != b'],
    ['IPPool', 'a', {}, 'namespace should not be specified for a non-namespaced resource. IPPool is not a namespaced resource'],
    ['IPPool', undefined, {allNamespaces: true}, 'IPPool is not namespaced'],
    ['IPPool', undefined, {namespace: 'x'}, 'IPPool is not namespaced'],
  ] as const)('%s ns=%s flags=%j fails', (kind, ns, flags, message) => {
    expect(() => resolve(kind, ns, flags)).toThrow(message)
  })
})

describe('metadata handling', () => {
  const full: Resource = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'HostEndpoint',
    metadata: {
      name: 'h',
      namespace: 'n',
      uid: 'u',
      resourceVersion: '5',
      generation: 3,
      selfLink: 'l',
      finalizers: ['f'],
      creationTimestamp: '2006-01-02T15:04:05Z',
      labels: {a: 'b'},
      annotations: {k: 'v'},
    },
  }

  it('create keeps only name, namespace, resourceVersion, labels and annotations', () => {
    expect(prepareMetadataForCreate(full).metadata).toEqual({name: 'h', namespace: 'n', resourceVersion: '5', labels: {a: 'b'}, annotations: {k: 'v'}})
  })

  it('update takes stored metadata except labels and annotations', () => {
    const stored: Resource = {...full, metadata: {name: 'h', uid: 'stored', resourceVersion: '9', labels: {old: '1'}}}
    const input: Resource = {...full, metadata: {name: 'h', uid: 'x', generation: 7, labels: {new: '1'}}}
    expect(mergeMetadataForUpdate(stored, input).metadata).toEqual({name: 'h', uid: 'stored', resourceVersion: '9', labels: {new: '1'}})
  })

  it('export strips cluster-specific fields', () => {
    expect(exportMetadata(full).metadata).toEqual({
      name: 'h',
      generation: 3,
      selfLink: 'l',
      finalizers: ['f'],
      labels: {a: 'b'},
      annotations: {k: 'v'},
    })
  })
})
