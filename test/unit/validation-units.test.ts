// Building blocks of the validator (address parsing, Kubernetes name checks, message format) and its behaviour on
// inputs the reference cases do not cover: field paths, wrong JSON types, every kind, volume.

import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import {ValidationError} from '../../src/api/errors.js'
import {KINDS, kindInfo} from '../../src/api/kinds.js'
import type {Resource} from '../../src/api/resource.js'
import {validateFragment, validateResource, validateResourceFields} from '../../src/api/validate.js'
import {cidrsOverlap, formatCIDR, isMasked} from '../../src/api/net.js'
import {parseCIDR, parseCIDROrIP, parseIP} from '../../src/api/validation/cnet.js'
import {isQualifiedName, isValidLabelValue, isValidPortName} from '../../src/api/validation/names.js'
import {parsePort} from '../../src/api/validation/ports.js'

function np(spec: Record<string, unknown>, name = 'p'): Resource {
  return {apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: {name, namespace: 'default'}, spec}
}

describe('addresses (Go net semantics)', () => {
  it('parses IPv4 and IPv6, refusing what Go refuses', () => {
    expect(parseIP('10.0.0.1')).toEqual({version: 4, value: 0x0a000001n})
    expect(parseIP('::ffff:10.0.0.1')?.version).toBe(4)
    expect(parseIP('fe80::1')?.version).toBe(6)
    expect(parseIP('1:2:3:4:5:6:7:8')?.version).toBe(6)
    expect(parseIP('::')).toEqual({version: 6, value: 0n})
    expect(parseIP('1:2:3:4:5:6:7::')?.value).toBe(0x0001000200030004000500060007_0000n)
    expect(parseIP('::1.2.3.4')).toEqual({version: 6, value: 0x01020304n})
    for (const bad of ['010.0.0.1', '256.1.1.1', '1.2.3', 'fe80::1%eth0', '1::2::3', '1:2:3:4:5:6:7:8:9', '', 'abc',
      ':1::', '1.2.3.4::', '12345::']) {
      expect(parseIP(bad), bad).toBeUndefined()
    }
  })

  it('parses CIDRs and bare addresses, and knows masking and overlap', () => {
    expect(parseCIDR('10.0.0.1')).toBeUndefined()
    expect(parseCIDROrIP('10.0.0.1')?.cidr.prefix).toBe(32)
    expect(parseCIDR('10.0.0.0/33')).toBeUndefined()
    expect(isMasked(parseCIDR('10.0.0.0/8')!)).toBe(true)
    expect(isMasked(parseCIDR('10.0.0.1/8')!)).toBe(false)
    expect(cidrsOverlap(parseCIDR('10.0.0.0/8')!.cidr, parseCIDR('10.200.0.0/16')!.cidr)).toBe(true)
    expect(cidrsOverlap(parseCIDR('10.0.0.0/16')!.cidr, parseCIDR('10.1.0.0/16')!.cidr)).toBe(false)
    expect(formatCIDR(parseCIDR('2001:db8:0:0:1::1/64')!.cidr)).toBe('2001:db8::/64')
  })
})

describe('Kubernetes name checks', () => {
  it('words qualified-name errors as apimachinery does', () => {
    expect(isQualifiedName('example.com/my-key')).toEqual([])
    expect(isQualifiedName('a/b/c')[0]).toMatch(/^a qualified name must consist of/)
    expect(isQualifiedName('/x')).toEqual(['prefix part must be non-empty'])
    expect(isQualifiedName('x'.repeat(64))).toEqual(['name part must be no more than 63 characters'])
  })

  it('checks label values and port names', () => {
    expect(isValidLabelValue('')).toEqual([])
    expect(isValidLabelValue('-x')).toHaveLength(1)
    expect(isValidPortName('http')).toEqual([])
    expect(isValidPortName('a--b')).toEqual(['must not contain consecutive hyphens'])
    expect(isValidPortName('123')).toEqual(['must contain at least one letter (a-z)'])
  })
})

describe('ports', () => {
  it('reads the wire forms of numorstring.Port', () => {
    expect(parsePort(80)).toEqual({min: 80, max: 80, name: ''})
    expect(parsePort('80:90')).toEqual({min: 80, max: 90, name: ''})
    expect(parsePort('http')).toEqual({min: 0, max: 0, name: 'http'})
    expect(parsePort('70000')).toBe('invalid port format (70000)')
    expect(parsePort('bad name')).toBe('invalid name for named port (bad name)')
  })
})

describe('IPPool', () => {
  const pool = (spec: Record<string, unknown>): Resource => ({apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'p'}, spec})

  it('reports a missing CIDR once, and an unmasked one by tag, struct check and schema rule', () => {
    expect(validateResourceFields(pool({cidr: ''}), {crd: false}).map((f) => f.reason)).toEqual(['IPPool CIDR must be specified'])
    expect(validateResourceFields(pool({cidr: '10.0.0.1/16'})).map((f) => [f.name, f.path])).toEqual([
      ['CIDR', 'spec.cidr'], ['IPpool.CIDR', 'spec.cidr'], ['spec', 'spec'],
    ])
  })

  it('treats an unset nodeSelector as the all() default for LoadBalancer pools', () => {
    expect(validateResourceFields(pool({cidr: '10.0.0.0/24', allowedUses: ['LoadBalancer']}))).toEqual([])
  })
})

describe('Felix single-port fields', () => {
  it('checks natPortRange like any port', () => {
    expect(validateFragment('FelixConfigurationSpec', {natPortRange: '32768:65535'})).toEqual([])
    expect(validateFragment('FelixConfigurationSpec', {natPortRange: 0})[0]).toMatchObject({name: 'Port', path: 'natPortRange'})
  })
})

describe('error reporting', () => {
  it('carries the JSON path of each field and keeps libcalico-go message format', () => {
    const res = np({ingress: [{action: 'Allow', protocol: 'TCP', destination: {ports: [80, '0:10']}}]})
    const fields = validateResourceFields(res)
    expect(fields).toEqual([{
      name: 'Port', value: '0', reason: 'port range invalid, port number must be between 1 and 65535',
      path: 'spec.ingress[0].destination.ports[1]',
    }])
    expect(() => validateResource(res)).toThrow(
      "error with field Port = '0' (port range invalid, port number must be between 1 and 65535)")
  })

  it('lists several fields, and leaves out the value of schema rule failures', () => {
    const err = new ValidationError(validateResourceFields(np({types: ['Egress', 'Egress'], selector: 'global()'})))
    expect(err.message).toBe([
      'error with the following fields:',
      "-  NetworkPolicySpec.Types = '[Egress Egress]' ('Egress' type specified more than once)",
      '-  spec (global() can only be used in an EntityRule namespaceSelector)',
    ].join('\n'))
  })

  it("lists fields in Go's order: nested fields, then the policy's own checks, then schema rules", () => {
    const res = np({types: ['Egress', 'Egress'], ingress: [{action: 'Nope', protocol: 'TCP', destination: {ports: [0]}}]}, 'a.b.c')
    expect(validateResourceFields(res).map((f) => f.name)).toEqual([
      'Port', 'Metadata.Name', 'NetworkPolicySpec.Types', 'spec.ingress[0].action',
    ])
  })

  it('attaches a hint saying what a valid value looks like, outside the message', () => {
    const [sel] = validateResourceFields(np({selector: 'app == '}))
    expect(sel).toMatchObject({name: 'Selector', path: 'spec.selector'})
    expect(sel.hint).toMatch(/^invalid selector: /)
    const [hint] = validateFragment('FelixConfigurationSpec', {awsSrcDstCheck: 'Maybe'})
    expect(hint.hint).toBe('must be one of: DoNothing, Enable, Disable')
    expect(new ValidationError([hint]).message).toBe(
      "error with field AWSSrcDstCheck = 'Maybe' (Reason: failed to validate Field: AWSSrcDstCheck because of Tag: oneof )")
  })

  it('runs the CRD rules only when asked', () => {
    const res = np({ingress: [{action: 'Bogus'}]})
    expect(validateResourceFields(res)).toHaveLength(1)
    expect(validateResourceFields(res, {crd: false})).toEqual([])
  })
})

describe('robustness', () => {
  it('reports values of the wrong JSON type instead of failing', () => {
    const res = np({ingress: [{action: 'Allow', source: {nets: 'not-a-list', selector: 7}}], types: 'Ingress'})
    const fields = validateResourceFields(res)
    expect(fields.map((f) => [f.path, f.reason])).toEqual([
      ['spec.types', 'must be of type array'],
      ['spec.ingress[0].source.nets', 'must be of type array'],
      ['spec.ingress[0].source.selector', 'must be of type string'],
    ])
    expect(validateFragment('Rule', 'nope')).toEqual([{name: '', value: 'nope', reason: 'must be of type object', path: ''}])
  })

  it('accepts a minimal object of every kind without throwing', () => {
    for (const k of KINDS) {
      const info = kindInfo(k.kind)!
      const res: Resource = {
        apiVersion: 'projectcalico.org/v3', kind: k.kind,
        metadata: {name: 'x', ...(info.namespaced ? {namespace: 'ns'} : {})}, spec: {},
      }
      expect(() => validateResourceFields(res), k.kind).not.toThrow()
    }
  })

  it('does not modify the resource', () => {
    const res = np({ingress: [{action: 'Allow', protocol: 'tcp', destination: {ports: ['http', 80]}}]})
    const before = structuredClone(res)
    validateResourceFields(res)
    expect(res).toEqual(before)
  })
})

describe('fuzz', () => {
  // Deterministic LCG so a failure reproduces.
  let seed = 12345
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  const junk = (): unknown => [null, 0, -1, 1.5, 'x', '', true, [], {}, [1, 'a'], {a: 1}, 'global()', '::/0'][rand(13)]

  /** Replaces one randomly chosen value somewhere in the document with junk. */
  function mutate(v: unknown): unknown {
    if (Array.isArray(v)) {
      if (v.length === 0 || rand(4) === 0) return junk()
      const i = rand(v.length)
      return v.map((x, j) => (j === i ? mutate(x) : x))
    }
    if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v)
      if (keys.length === 0 || rand(5) === 0) return junk()
      const k = keys[rand(keys.length)]
      return {...v, [k]: mutate((v as Record<string, unknown>)[k])}
    }
    return junk()
  }

  it('never throws on mangled versions of the reference resources', () => {
    const file = fileURLToPath(new URL('../fixtures/validation/validation-cases.yaml', import.meta.url))
    const {cases} = yaml.load(readFileSync(file, 'utf8')) as {cases: Array<{resource?: {metadata?: unknown; spec?: unknown}}>}
    const docs = cases.flatMap((c) => (c.resource ? [c.resource] : []))
    for (let round = 0; round < 5; round++) {
      for (const doc of docs) {
        const res = (rand(3) === 0 ? {...doc, metadata: mutate(doc.metadata)} : {...doc, spec: mutate(doc.spec)}) as Resource
        expect(() => validateResourceFields(res), JSON.stringify(res)).not.toThrow()
      }
    }
  })
})

describe('volume', () => {
  // How fast is measured by bench/agent.ts (timed assertions fail on a loaded machine, not on slow code).
  it('validates thousands of policies (the node agent validates everything it reads)', () => {
    const policies = Array.from({length: 2000}, (_, i) => np({
      selector: `app == "a${i}"`,
      types: ['Ingress', 'Egress'],
      ingress: [{action: 'Allow', protocol: 'TCP', source: {selector: 'role == "fe"', nets: ['10.0.0.0/8']},
        destination: {ports: [80, '8000:8080']}}],
      egress: [{action: 'Allow', destination: {nets: ['0.0.0.0/0'], notNets: ['10.0.0.0/8']}}],
    }, `p${i}`))
    for (const p of policies) expect(validateResourceFields(p)).toEqual([])
  })
})

describe('StagedKubernetesNetworkPolicy', () => {
  const sknp = (spec: Record<string, unknown>): Resource => ({
    apiVersion: 'projectcalico.org/v3', kind: 'StagedKubernetesNetworkPolicy', metadata: {name: 'k', namespace: 'ns'}, spec,
  })

  it('validates the policy as Calico would enforce it', () => {
    expect(validateResourceFields(sknp({
      stagedAction: 'Set', podSelector: {matchLabels: {app: 'db'}},
      ingress: [{from: [{podSelector: {matchLabels: {app: 'web'}}}], ports: [{protocol: 'TCP', port: 5432}]}],
      policyTypes: ['Ingress'],
    }))).toEqual([])
  })

  it('reports conversion failures', () => {
    const fields = validateResourceFields(sknp({ingress: [{from: [{ipBlock: {cidr: 'garbage'}}]}]}))
    expect(fields).toHaveLength(1)
    expect(fields[0]).toMatchObject({name: 'PolicySpec', path: 'spec'})
    expect(fields[0].reason).toMatch(/^conversion to stagednetworkpolicy failed /)
  })

  it('requires an otherwise empty spec for Delete', () => {
    expect(validateResourceFields(sknp({stagedAction: 'Delete'}))).toEqual([])
    expect(validateResourceFields(sknp({stagedAction: 'Delete', podSelector: {matchLabels: {a: 'b'}}}))[0].reason)
      .toBe('Spec fields should all be zero-value if stagedAction is Delete')
  })
})

describe('IPAM and status kinds', () => {
  it('applies the schema enums and ranges', () => {
    const res = (kind: string, spec: Record<string, unknown>): Resource =>
      ({apiVersion: 'projectcalico.org/v3', kind, metadata: {name: 'default'}, spec})
    expect(validateResourceFields(res('IPAMConfiguration', {maxBlocksPerHost: -1, ipCooldownSeconds: 5000})).map((f) => f.path))
      .toEqual(['spec.maxBlocksPerHost', 'spec.maxBlocksPerHost', 'spec.ipCooldownSeconds'])
    expect(validateResourceFields(res('BlockAffinity', {state: 'gone', cidr: '10.0.0.0/26', node: 'n'}))[0].path).toBe('spec.state')
    expect(validateResourceFields(res('CalicoNodeStatus', {node: 'n1', classes: ['BGP', 'Nope'], updatePeriodSeconds: 10}))
      .map((f) => f.path)).toEqual(['spec.classes[1]'])
  })
})
