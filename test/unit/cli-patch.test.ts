import {describe, expect, it} from 'vitest'

import {PatchError, strategicMergePatch, type Json} from '../../src/cli/resourcemgr/patch.js'

const original: {[k: string]: Json} = {
  kind: 'BGPPeer',
  metadata: {name: 'p', labels: {a: '1', b: '2'}},
  spec: {asNumber: 64512, peerIP: '1.1.1.1', filters: ['f1', 'f2'], nested: {x: 1, y: 2}},
}

describe('strategicMergePatch', () => {
  it('merges objects key by key', () => {
    const out = strategicMergePatch(original, '{"spec":{"asNumber":63445},"metadata":{"labels":{"c":"3"}}}')
    expect(out.spec).toEqual({asNumber: 63445, peerIP: '1.1.1.1', filters: ['f1', 'f2'], nested: {x: 1, y: 2}})
    expect((out.metadata as {labels: unknown}).labels).toEqual({a: '1', b: '2', c: '3'})
  })

  it('replaces lists wholesale', () => {
    expect((strategicMergePatch(original, '{"spec":{"filters":["f3"]}}').spec as {filters: unknown}).filters).toEqual(['f3'])
  })

  it('deletes keys set to null', () => {
    const out = strategicMergePatch(original, '{"spec":{"peerIP":null,"nested":{"x":null}}}')
    expect(out.spec).toEqual({asNumber: 64512, filters: ['f1', 'f2'], nested: {y: 2}})
  })

  it('honours $patch: replace and delete', () => {
    expect((strategicMergePatch(original, '{"spec":{"nested":{"$patch":"replace","z":3}}}').spec as {nested: unknown}).nested).toEqual({z: 3})
    expect(strategicMergePatch(original, '{"spec":{"nested":{"$patch":"delete"}}}').spec).not.toHaveProperty('nested')
  })

  it('does not modify its input', () => {
    const before = JSON.stringify(original)
    strategicMergePatch(original, '{"spec":{"nested":{"x":5}}}')
    expect(JSON.stringify(original)).toBe(before)
  })

  it.each(['not json', '[1,2]', '"str"'])('rejects %s', (text) => {
    expect(() => strategicMergePatch(original, text)).toThrow(PatchError)
  })
})
