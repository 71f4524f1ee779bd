import {describe, expect, it} from 'vitest'

import type {Resource} from '../../src/api/resource.js'
import type {SourcedResource} from '../../src/cli/input.js'
import {independentRuns} from '../../src/cli/resourcemgr/execute.js'

function item(kind: string, name: string, namespace?: string): SourcedResource {
  const resource: Resource = {apiVersion: 'projectcalico.org/v3', kind, metadata: {name, namespace}}
  return {resource, file: 'f.yaml', document: 0}
}

const names = (runs: SourcedResource[][]) => runs.map((r) => r.map((i) => i.resource.metadata.name))

describe('independentRuns', () => {
  it('groups consecutive resources of one kind with distinct names', () => {
    const input = [item('GlobalNetworkPolicy', 'a'), item('GlobalNetworkPolicy', 'b'), item('GlobalNetworkSet', 'c')]
    expect(names(independentRuns('apply', input))).toEqual([['a', 'b'], ['c']])
  })

  it('keeps a Tier ahead of the policies that use it', () => {
    const input = [item('Tier', 't'), item('GlobalNetworkPolicy', 'p1'), item('GlobalNetworkPolicy', 'p2')]
    expect(names(independentRuns('create', input))).toEqual([['t'], ['p1', 'p2']])
  })

  it('never runs two writes of the same object concurrently', () => {
    const input = [item('NetworkPolicy', 'p', 'ns1'), item('NetworkPolicy', 'p', 'ns2'), item('NetworkPolicy', 'p', 'ns1')]
    expect(independentRuns('apply', input).map((r) => r.length)).toEqual([2, 1])
  })

  it('keeps IPPools, Tiers and everything in replace/patch one at a time', () => {
    const pools = [item('IPPool', 'a'), item('IPPool', 'b')]
    expect(names(independentRuns('apply', pools))).toEqual([['a'], ['b']])
    const policies = [item('GlobalNetworkPolicy', 'a'), item('GlobalNetworkPolicy', 'b')]
    expect(names(independentRuns('replace', policies))).toEqual([['a'], ['b']])
    expect(names(independentRuns('patch', policies))).toEqual([['a'], ['b']])
  })
})
