// decodeAndDefault (the agent's validation filter) keeps what the first decode built instead of decoding it again;
// its result must be exactly that of decodeResource then applyDefaults, key order included, and so must its errors.
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import {DecodeMemo, decodeResource} from '../../src/api/decode.js'
import {applyDefaults, decodeAndDefault} from '../../src/api/defaults.js'
import {isObject} from '../../src/api/json.js'
import {validateResourceFields, ValidationMemo} from '../../src/api/validate.js'

const here = dirname(fileURLToPath(import.meta.url))
const load = (path: string): unknown => yaml.load(readFileSync(join(here, '../fixtures', path), 'utf8'))

/** Every v3 object in the fixtures: validation inputs (valid and invalid), calicoctl's documents. */
function documents(): unknown[] {
  const out: unknown[] = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk)
    else if (isObject(v)) {
      if (v.apiVersion === 'projectcalico.org/v3' && typeof v.kind === 'string' && !v.kind.endsWith('List')) out.push(v)
      else Object.values(v).forEach(walk)
    }
  }
  walk(load('api/validation-inputs.yaml'))
  walk(load('validation/validation-cases.yaml'))
  walk(load('api/calicoctl-fixtures.yaml'))
  return out
}

function outcome(f: () => unknown): string {
  try {
    return `ok ${JSON.stringify(f())}`
  } catch (err) {
    return `error ${(err as Error).constructor.name}: ${(err as Error).message}`
  }
}

describe('decodeAndDefault', () => {
  const docs = documents()

  it('covers the fixtures', () => {
    expect(docs.length).toBeGreaterThan(700)
  })

  it('equals decodeResource then applyDefaults on every fixture document', () => {
    const differ: string[] = []
    let decoded = 0
    for (const doc of docs) {
      const want = outcome(() => applyDefaults(decodeResource(doc)))
      const got = outcome(() => decodeAndDefault(doc))
      if (want.startsWith('ok')) decoded++
      if (got !== want) differ.push(`${JSON.stringify(doc)}\n  want ${want}\n  got  ${got}`)
    }
    expect(differ).toEqual([])
    expect(decoded).toBeGreaterThan(500)
  })

  it('with memos shared by every document (each twice), decodes and validates as without', () => {
    const decodeMemo = new DecodeMemo()
    const validationMemo = new ValidationMemo()
    const check = (doc: unknown, shared: boolean): string =>
      outcome(() => {
        const res = shared ? decodeAndDefault(doc, decodeMemo) : decodeAndDefault(doc)
        return [res, validateResourceFields(res, shared ? {memo: validationMemo} : {})]
      })
    // Documents as a datastore hands them over: parsed JSON.
    const json = docs.map((d) => JSON.parse(JSON.stringify(d)) as unknown)
    const differ: string[] = []
    let invalid = 0
    for (const doc of [...json, ...json]) {
      const want = check(doc, false)
      const got = check(doc, true)
      if (/^ok \[.*,\[\{/.test(want)) invalid++
      if (got !== want) differ.push(`${JSON.stringify(doc)}\n  want ${want}\n  got  ${got}`)
    }
    expect(differ).toEqual([])
    expect(invalid).toBeGreaterThan(100)
  })

  it('reports a list element that failed to decode every time, and shares one that decoded', () => {
    const memo = new DecodeMemo()
    const policy = (name: string, rule: unknown): unknown => ({apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: {name, namespace: 'ns'}, spec: {ingress: [rule]}})
    const bad = {action: 'Allow', sauce: {}}
    for (const name of ['a', 'b']) expect(() => decodeAndDefault(policy(name, bad), memo)).toThrow('not recognized or is in the wrong location: sauce')
    const good = {action: 'Allow', source: {selector: "app == 'x'"}}
    const [a, b] = ['a', 'b'].map((name) => decodeAndDefault(policy(name, good), memo).spec as {ingress: unknown[]})
    expect(b!.ingress[0]).toBe(a!.ingress[0])
  })

  it('shares no structure with its input and fills defaults below reused parts', () => {
    const doc = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: {name: 'p', namespace: 'ns', labels: {z: '1', a: '2'}},
      spec: {ingress: [{action: 'Allow', source: {selector: "app == 'x'"}, destination: {ports: ['80']}}]},
    }
    const res = decodeAndDefault(doc)
    expect(JSON.stringify(res)).toBe(JSON.stringify(applyDefaults(decodeResource(doc))))
    expect(res.metadata.labels).toEqual({'a': '2', 'projectcalico.org/tier': 'default', 'z': '1'})
    expect((res.spec as {ingress: unknown[]}).ingress[0]).not.toBe(doc.spec.ingress[0])
    expect((res.spec as {tier?: string}).tier).toBe('default')
  })

  it('defaults in the first decode exactly as after it: zero values omitempty drops, fields Go always writes, other cases', () => {
    const v3 = (kind: string, metadata: Record<string, unknown>, spec: Record<string, unknown>): unknown => ({apiVersion: 'projectcalico.org/v3', kind, metadata, spec})
    const docs = [
      // stagedAction has the default Set; "" is a zero value omitempty drops, so the default applies after decoding.
      v3('StagedNetworkPolicy', {name: 'p', namespace: 'ns'}, {stagedAction: '', ingress: [{action: 'Allow'}]}),
      v3('StagedGlobalNetworkPolicy', {name: 'p'}, {stagedAction: 'Delete', tier: ''}),
      v3('NetworkPolicy', {name: 'p', namespace: 'ns'}, {tier: '', types: []}),
      v3('GlobalNetworkPolicy', {name: 'p', Labels: {b: '1', a: '2'}}, {Tier: 'platform', egress: [{action: 'Deny'}]}),
      // strictAffinity is written by Go even when false (not omitempty) and has the default false.
      v3('IPAMConfiguration', {name: 'default'}, {maxBlocksPerHost: 0}),
      v3('IPAMConfiguration', {name: 'default'}, {strictAffinity: null}),
      v3('BGPConfiguration', {name: 'default'}, {logSeverityScreen: '', serviceLoadBalancerAggregation: ''}),
      v3('FelixConfiguration', {name: 'default'}, {nftablesMode: '', floatingIPs: 'Enabled'}),
      v3('WorkloadEndpoint', {Name: 'w', namespace: 'ns', name: 'x'}, {node: 'n', ipNetworks: ['10.0.0.1/32']}),
      v3('Profile', {name: ''}, {}),
    ]
    for (const doc of docs) expect(outcome(() => decodeAndDefault(doc)), JSON.stringify(doc)).toBe(outcome(() => applyDefaults(decodeResource(doc))))
  })

  it('sorts label maps of any size as Go marshals them', () => {
    for (const n of [5, 40]) {
      const labels = Object.fromEntries(Array.from({length: n}, (_, i) => [`k${(i * 7919) % n}-${String.fromCharCode(90 - (i % 26))}`, 'v']))
      const res = decodeAndDefault({apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: {name: 'w', namespace: 'ns', labels}, spec: {}})
      expect(Object.keys(res.metadata.labels!)).toEqual(Object.keys(labels).sort())
    }
  })

  it('decodes again a reused part that has schema defaults below it', () => {
    // controllers.migration is left alone by the client defaults, and its policyNameMigrator has a CRD default.
    const doc = {apiVersion: 'projectcalico.org/v3', kind: 'KubeControllersConfiguration', metadata: {name: 'default'}, spec: {controllers: {migration: {}, node: {}}}}
    const res = decodeAndDefault(doc)
    expect(JSON.stringify(res)).toBe(JSON.stringify(applyDefaults(decodeResource(doc))))
    expect(res.spec).toMatchObject({healthChecks: 'Enabled', controllers: {migration: {policyNameMigrator: 'Enabled'}, node: {leakGracePeriod: '15m0s'}}})
  })
})
