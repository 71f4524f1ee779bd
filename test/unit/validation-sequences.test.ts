// The multi-step client scenarios of validation-cases.yaml (`sequences`): the datastore part is simulated with a
// map of pools and a list of IPAM blocks; the checks under test are the pure ones the resource client calls.

import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import {applyDefaults} from '../../src/api/defaults.js'
import type {ErroredField} from '../../src/api/errors.js'
import {ValidationError} from '../../src/api/errors.js'
import type {Resource} from '../../src/api/resource.js'
import type {PoolRef} from '../../src/api/validate.js'
import {
  canonicalPoolCIDR, checkBlockSizeConflict, checkIPPoolUpdate, checkPoolOverlap, validateResourceFields,
} from '../../src/api/validate.js'
import {formatCIDR, maskIP} from '../../src/api/net.js'
import {parseCIDR} from '../../src/api/validation/cnet.js'

interface Step {
  op: string
  resource?: Resource
  name?: string
  expected: 'ok' | 'error'
  errorType?: string
  errorContains?: string
  expectStored?: {spec: Record<string, unknown>}
}

interface Sequence {
  id: string
  steps: Step[]
}

const file = fileURLToPath(new URL('../fixtures/validation/validation-cases.yaml', import.meta.url))
const {sequences} = yaml.load(readFileSync(file, 'utf8')) as {sequences: Sequence[]}

function poolRef(res: Resource): PoolRef {
  const spec = res.spec as {cidr: string; blockSize?: number; allowedUses?: string[]}
  return {name: res.metadata.name ?? '', cidr: spec.cidr, blockSize: spec.blockSize, allowedUses: spec.allowedUses}
}

/** A minimal stand-in for the resource client's IPPool create path, with IPAM blocks as plain CIDRs. */
class PoolStore {
  readonly pools = new Map<string, Resource>()
  readonly blocks: string[] = []

  create(input: Resource): {error?: string; type?: string; stored?: Resource} {
    const res = applyDefaults(input)
    const fields: ErroredField[] = [
      ...validateResourceFields(res),
      ...checkPoolOverlap(poolRef(res), [...this.pools.values()].map(poolRef)),
    ]
    if (fields.length === 0) fields.push(...checkBlockSizeConflict(poolRef(res), this.blocks))
    if (fields.length > 0) return {error: new ValidationError(fields).message, type: 'ErrorValidation'}
    if (this.pools.has(res.metadata.name ?? '')) return {error: 'resource already exists', type: 'ErrorResourceAlreadyExists'}
    this.pools.set(res.metadata.name ?? '', res)
    return {stored: res}
  }

  /** Auto-assign one address: the first block of the first pool, of the pool's block size. */
  autoAssign(): void {
    const pool = [...this.pools.values()][0]
    const ref = poolRef(pool)
    const net = parseCIDR(ref.cidr)
    if (!net) throw new Error(`bad pool CIDR ${ref.cidr}`)
    const block = formatCIDR(maskIP(net.ip, ref.blockSize ?? 26))
    if (!this.blocks.includes(block)) this.blocks.push(block)
  }

  /** Releasing the last address deletes the now unaffine block. */
  releaseAll(): void {
    this.blocks.length = 0
  }
}

describe('validation sequences', () => {
  for (const seq of sequences) {
    it(seq.id, () => {
      const store = new PoolStore()
      for (const [i, step] of seq.steps.entries()) {
        const where = `${seq.id} step ${i} (${step.op})`
        if (step.op === 'create' && step.resource?.kind === 'IPPool') {
          const r = store.create(step.resource)
          if (step.expected === 'ok') {
            expect(r.error, where).toBeUndefined()
            if (step.expectStored) expect(r.stored?.spec, where).toMatchObject(step.expectStored.spec)
          } else {
            expect(r.error, where).toBeDefined()
            if (step.errorContains) expect(r.error, where).toContain(step.errorContains)
            if (step.errorType) expect(r.type, where).toBe(step.errorType)
          }
        } else if (step.op === 'create' && step.resource) {
          // Policy and tier creates: only validation is in scope (tier existence is the client's check).
          expect(validateResourceFields(applyDefaults(step.resource)), where).toEqual([])
        } else if (step.op === 'delete') {
          expect(store.pools.delete(step.name ?? ''), where).toBe(true)
        } else if (step.op === 'ipam.autoAssign') {
          store.autoAssign()
        } else if (step.op === 'ipam.releaseIPs') {
          store.releaseAll()
        } else {
          throw new Error(`unhandled step ${where}`)
        }
      }
    })
  }
})

describe('checkIPPoolUpdate', () => {
  const pool = (cidr: string, blockSize?: number, allowedUses?: string[]): PoolRef => ({name: 'p', cidr, blockSize, allowedUses})

  it('accepts an unchanged pool and a canonical restatement of the same CIDR', () => {
    expect(checkIPPoolUpdate(pool('10.0.0.0/16', 26), pool('10.0.0.0/16', 26))).toEqual([])
    expect(checkIPPoolUpdate(pool('fd00:0:0::/64'), pool('fd00::/64'))).toEqual([])
  })

  it('refuses a CIDR change, and a non-canonical restatement', () => {
    const [f] = checkIPPoolUpdate(pool('10.0.0.0/16'), pool('10.1.0.0/16'))
    expect(f).toMatchObject({name: 'IPPool.Spec.CIDR', value: '10.1.0.0/16', reason: 'IPPool CIDR cannot be modified', path: 'spec.cidr'})
    expect(checkIPPoolUpdate(pool('fd00::/64'), pool('fd00:0::/64'))).toHaveLength(1)
  })

  it('refuses a block size change, treating an unset size as the default', () => {
    expect(checkIPPoolUpdate(pool('10.0.0.0/16'), pool('10.0.0.0/16', 26))).toEqual([])
    const [f] = checkIPPoolUpdate(pool('10.0.0.0/16', 26), pool('10.0.0.0/16', 28))
    expect(f.reason).toBe('IPPool BlockSize cannot be modified')
  })

  it('refuses turning a LoadBalancer pool into a Workload pool', () => {
    const fields = checkIPPoolUpdate(pool('10.0.0.0/16', 26, ['LoadBalancer']), pool('10.0.0.0/16', 26, ['Workload']))
    expect(fields.map((f) => f.reason)).toEqual(['IPPool allowed use cannot be changed from LoadBalacer to Workload or Tunnel'])
  })
})

describe('pool helpers', () => {
  it('reports every overlapping pool, skipping the pool itself and other families', () => {
    const others: PoolRef[] = [
      {name: 'a', cidr: '10.0.0.0/8'},
      {name: 'b', cidr: '10.1.2.0/24'},
      {name: 'c', cidr: '192.168.0.0/16'},
      {name: 'd', cidr: 'fd00::/8'},
      {name: 'me', cidr: '10.1.0.0/16'},
    ]
    const fields = checkPoolOverlap({name: 'me', cidr: '10.1.0.0/16'}, others)
    expect(fields.map((f) => f.reason)).toEqual([
      'IPPool(me) CIDR overlaps with IPPool(a) CIDR 10.0.0.0/8',
      'IPPool(me) CIDR overlaps with IPPool(b) CIDR 10.1.2.0/24',
    ])
  })

  it('allows blocks of the pool size and blocks outside the pool', () => {
    const p: PoolRef = {name: 'p', cidr: '10.0.0.0/24', blockSize: 28}
    expect(checkBlockSizeConflict(p, ['10.0.0.16/28', '10.9.0.0/26'])).toEqual([])
    expect(checkBlockSizeConflict(p, ['10.0.0.64/26'])[0].name).toBe('IPPool.Spec.BlockSize')
  })

  it('canonicalises pool CIDRs as Calico stores them', () => {
    expect(canonicalPoolCIDR('10.1.2.3/16')).toBe('10.1.0.0/16')
    expect(canonicalPoolCIDR('fd00:0:0:0::/64')).toBe('fd00::/64')
    expect(canonicalPoolCIDR('10.0.0.1')).toBeUndefined()
  })
})
