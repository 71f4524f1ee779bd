// What calicoctl's ST suite reads back after `create -f <fixture>` (calicoctl-cases.yaml `decoded_equals` steps whose
// expected document is the input fixture itself): decode + applyDefaults must reproduce it, compared the way the
// suite compares (clean_calico_data drops creationTimestamp, resourceVersion, uid, nulls and empty objects).
import {readFileSync} from 'node:fs'

import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'

import {decodeDocument} from '../../src/api/decode.js'
import {applyDefaults} from '../../src/api/defaults.js'
import {POLICY_KINDS} from '../../src/api/kinds.js'
import type {Resource} from '../../src/api/resource.js'

const fixtures = yaml.load(readFileSync(new URL('../fixtures/api/calicoctl-fixtures.yaml', import.meta.url), 'utf8'), {schema: yaml.CORE_SCHEMA}) as Record<string, unknown>

function clean(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clean)
  if (typeof v !== 'object' || v === null) return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) {
    if (['creationTimestamp', 'resourceVersion', 'uid'].includes(k) || x === null) continue
    const c = clean(x)
    if (typeof c === 'object' && c !== null && !Array.isArray(c) && Object.keys(c).length === 0) continue
    out[k] = c
  }
  return out
}

/** The suite's add_tier_label transform for policy kinds. */
function withTierLabel(r: Resource): Resource {
  if (!POLICY_KINDS.has(r.kind)) return r
  const tier = typeof r.spec?.tier === 'string' && r.spec.tier ? r.spec.tier : 'default'
  return {...r, metadata: {...r.metadata, labels: {...r.metadata.labels, 'projectcalico.org/tier': tier}}}
}

describe('stored form of calicoctl ST fixtures', () => {
  it.each([
    'ippool_name1_rev1_v4', 'ippool_name2_rev1_v6', 'profile_name1_rev1', 'profile_name1_rev2', 'globalnetworkpolicy_name1_rev1',
    'workloadendpoint_name1_rev1', 'workloadendpoint_name2_rev1', 'node_name4_rev1',
  ])('%s reads back as written', (name) => {
    const input = fixtures[name]
    const [stored] = decodeDocument(input).map(applyDefaults)
    const expected = withTierLabel(input as Resource)
    expect(clean(stored)).toEqual(clean(expected))
  })
})
