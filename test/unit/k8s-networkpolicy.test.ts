// Kubernetes NetworkPolicy → Calico NetworkPolicy. Part 1: cases modelled on libcalico-go's conversion tests
// and calicoctl convert's test data (rewritten here). Part 2: every Kubernetes conformance case in
// test/fixtures/netpol/cases is converted and the converted Calico policies are evaluated with Calico's
// semantics (selectors through src/api/selector.ts) against the 9-pod model; all 81 cells of every truth
// table must come out as the e2e suite expects.
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import {
  applyK8sNetworkPolicyDefaults,
  convertK8sNetworkPolicy,
  convertK8sUID,
  InvalidUIDError,
  k8sSelectorToCalico,
  normaliseCIDR,
  PolicyConversionError,
  type ConvertedNetworkPolicy,
  type ConvertedRule,
  type K8sLabelSelector,
  type K8sNetworkPolicy,
  type K8sNetworkPolicySpec,
} from '../../src/api/k8s-networkpolicy.js'
import {entityRuleSelector, parseSelector, validateSelector, type Labels} from '../../src/api/selector.js'
import type {NetworkPolicy} from '../../src/api/types.js'
import {parseTable} from './nft-netpol-harness.js'

const UID = '30316465-6365-4463-ad63-3564622d3638'
const ORCH = "projectcalico.org/orchestrator == 'k8s'"

function knp(spec: Partial<K8sNetworkPolicySpec>, name = 'test.policy', namespace: string | undefined = 'default'): K8sNetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {name, ...(namespace ? {namespace} : {}), uid: UID},
    spec: {podSelector: {}, ...spec},
  }
}

/** Converts without API-server defaulting (as libcalico-go's tests do) and asserts there was no error. */
function convert(np: K8sNetworkPolicy, naming: 'knp' | 'kubernetes' | 'convert' = 'kubernetes'): ConvertedNetworkPolicy {
  const {policy, error} = convertK8sNetworkPolicy(np, {naming, apiServerDefaults: false})
  expect(error).toBeUndefined()
  assertSelectorsParse(policy)
  return policy
}

function assertSelectorsParse(policy: ConvertedNetworkPolicy): void {
  const selectors = [policy.spec.selector]
  for (const r of [...(policy.spec.ingress ?? []), ...(policy.spec.egress ?? [])]) {
    for (const e of [r.source, r.destination]) {
      if (e?.selector !== undefined) selectors.push(e.selector)
      if (e?.namespaceSelector !== undefined) selectors.push(e.namespaceSelector)
    }
  }
  for (const s of selectors) expect(validateSelector(s), s).toBeUndefined()
}

const fromPods = (matchLabels: Record<string, string>) => ({podSelector: {matchLabels}})

describe('policy-level fields', () => {
  it('converts a basic ingress policy (names, order, tier, sorted matchLabels, default TCP, named port)', () => {
    const np = knp({
      podSelector: {matchLabels: {label2: 'value2', label: 'value'}},
      ingress: [{ports: [{port: 80}, {port: 'foo'}], from: [fromPods({k2: 'v2', k: 'v'})]}],
      policyTypes: ['Ingress'],
    })
    const policy = convert(np)
    expect(policy).toEqual({
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: {name: 'test.policy', namespace: 'default', uid: '0c8c26a6-c6a6-44c6-adc6-ac2646b46c1c'},
      spec: {
        tier: 'default',
        order: 1000,
        ingress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            source: {selector: `${ORCH} && k == 'v' && k2 == 'v2'`},
            destination: {ports: [80, 'foo']},
          },
        ],
        selector: `${ORCH} && label == 'value' && label2 == 'value2'`,
        types: ['Ingress'],
      },
    })
    // The output is a valid v3 NetworkPolicy as the rest of the code types it (checked at compile time).
    const typed: NetworkPolicy = policy
    expect(typed.kind).toBe('NetworkPolicy')
    // Key order follows Calico's JSON field order.
    expect(Object.keys(policy.spec)).toEqual(['tier', 'order', 'ingress', 'selector', 'types'])
    expect(Object.keys(policy.spec.ingress?.[0] ?? {})).toEqual(['action', 'protocol', 'source', 'destination'])
  })

  it.each([
    ['knp', 'knp.default.test.policy', 'default'],
    ['kubernetes', 'test.policy', 'default'],
    ['convert', 'test.policy', undefined],
  ] as const)('naming %s gives name %s and tier %s', (naming, name, tier) => {
    const policy = convert(knp({policyTypes: ['Ingress']}), naming)
    expect(policy.metadata.name).toBe(name)
    expect(policy.spec.tier).toBe(tier)
    expect(policy.metadata.namespace).toBe('default')
  })

  it("defaults naming to 'knp' and applies API-server defaults unless told not to", () => {
    const np = knp({egress: [{}]})
    const {policy} = convertK8sNetworkPolicy(np)
    expect(policy.metadata.name).toBe('knp.default.test.policy')
    expect(policy.spec.types).toEqual(['Ingress', 'Egress'])
    expect(convertK8sNetworkPolicy(np, {apiServerDefaults: false}).policy.spec.types).toEqual(['Ingress'])
  })

  it('copies namespace, creationTimestamp and resourceVersion, and omits what is absent', () => {
    const np = knp({policyTypes: ['Ingress']}, 'p', undefined)
    np.metadata = {name: 'p', creationTimestamp: '2024-01-02T03:04:05Z', resourceVersion: '42', labels: {a: 'b'}}
    const meta = convert(np).metadata
    expect(meta).toEqual({name: 'p', creationTimestamp: '2024-01-02T03:04:05Z', resourceVersion: '42'})
    expect(Object.keys(meta)).toEqual(['name', 'resourceVersion', 'creationTimestamp'])
  })

  it('converts a policy with no rules', () => {
    const policy = convert(knp({podSelector: {matchLabels: {label: 'value'}}, policyTypes: ['Ingress']}))
    expect(policy.spec).toEqual({tier: 'default', order: 1000, selector: `${ORCH} && label == 'value'`, types: ['Ingress']})
  })

  it('converts a default-deny egress policy', () => {
    const policy = convert(knp({policyTypes: ['Egress']}, 'testPolicy'))
    expect(policy.metadata.name).toBe('testPolicy')
    expect(policy.spec).toEqual({tier: 'default', order: 1000, selector: ORCH, types: ['Egress']})
  })

  it('orders types Ingress then Egress whatever the declared order', () => {
    const policy = convert(
      knp({
        ingress: [{from: [{ipBlock: {cidr: '192.168.0.0/16', except: ['192.168.3.0/24', '192.168.4.0/24']}}]}],
        egress: [{to: [{ipBlock: {cidr: '10.10.0.0/16', except: ['192.168.13.0/24', '192.168.14.0/24', '192.168.15.0/24']}}]}],
        policyTypes: ['Egress', 'Ingress'],
      }),
    )
    expect(policy.spec.types).toEqual(['Ingress', 'Egress'])
    expect(policy.spec.ingress).toEqual([
      {action: 'Allow', source: {nets: ['192.168.0.0/16'], notNets: ['192.168.3.0/24', '192.168.4.0/24']}},
    ])
    expect(policy.spec.egress).toEqual([
      {
        action: 'Allow',
        destination: {nets: ['10.10.0.0/16'], notNets: ['192.168.13.0/24', '192.168.14.0/24', '192.168.15.0/24']},
      },
    ])
  })

  it('keeps egress rules but types [Ingress] for a pre-1.8 policy without policyTypes', () => {
    const policy = convert(knp({egress: [{ports: [{port: 80}]}]}))
    expect(policy.spec.types).toEqual(['Ingress'])
    expect(policy.spec.egress).toEqual([{action: 'Allow', protocol: 'TCP', destination: {ports: [80]}}])
  })
})

describe('API server defaulting', () => {
  it.each([
    [{}, ['Ingress']],
    [{egress: []}, ['Ingress']],
    [{egress: [{}]}, ['Ingress', 'Egress']],
    [{policyTypes: ['Egress']}, ['Egress']],
    [{policyTypes: [], egress: [{}]}, ['Ingress', 'Egress']],
  ] as const)('%j → policyTypes %j', (spec, expected) => {
    const np = knp(spec as Partial<K8sNetworkPolicySpec>)
    expect(applyK8sNetworkPolicyDefaults(np).spec.policyTypes).toEqual(expected)
    expect(np.spec.policyTypes).toEqual((spec as Partial<K8sNetworkPolicySpec>).policyTypes)
  })
})

describe('rules and ports', () => {
  const peer = fromPods({k: 'v', k2: 'v2'})
  const peerSel = `${ORCH} && k == 'v' && k2 == 'v2'`

  it('has no protocol when a rule has no ports', () => {
    const policy = convert(knp({ingress: [{from: [peer]}], policyTypes: ['Ingress']}))
    expect(policy.spec.ingress).toEqual([{action: 'Allow', source: {selector: peerSel}}])
  })

  it('treats an empty port entry as every TCP port (ingress)', () => {
    const policy = convert(knp({ingress: [{ports: [{port: 80}, {}], from: [peer]}], policyTypes: ['Ingress']}))
    expect(policy.spec.ingress).toEqual([{action: 'Allow', protocol: 'TCP', source: {selector: peerSel}}])
  })

  it('treats an empty port entry as every TCP port (egress), other protocols separate', () => {
    const policy = convert(
      knp({
        egress: [{ports: [{}, {port: 80}], to: [peer]}, {ports: [{port: 53, protocol: 'UDP'}]}],
        policyTypes: ['Egress'],
      }),
    )
    expect(policy.spec.egress).toEqual([
      {action: 'Allow', protocol: 'TCP', destination: {selector: peerSel}},
      {action: 'Allow', protocol: 'UDP', destination: {ports: [53]}},
    ])
  })

  it('emits one rule per protocol (sorted) and peer', () => {
    const policy = convert(
      knp({
        podSelector: {matchLabels: {label: 'value'}},
        ingress: [{ports: [{port: 90, protocol: 'UDP'}, {port: 80, protocol: 'TCP'}], from: [fromPods({k: 'v'}), fromPods({k2: 'v2'})]}],
        policyTypes: ['Ingress'],
      }),
    )
    const summary = (policy.spec.ingress ?? []).map((r) => [r.protocol, r.source?.selector, r.destination?.ports])
    expect(summary).toEqual([
      ['TCP', `${ORCH} && k == 'v'`, [80]],
      ['TCP', `${ORCH} && k2 == 'v2'`, [80]],
      ['UDP', `${ORCH} && k == 'v'`, [90]],
      ['UDP', `${ORCH} && k2 == 'v2'`, [90]],
    ])
  })

  it('renders endPort as a range', () => {
    const policy = convert(knp({ingress: [{ports: [{protocol: 'TCP', port: 32000, endPort: 32768}]}], policyTypes: ['Ingress']}))
    expect(policy.spec.ingress).toEqual([{action: 'Allow', protocol: 'TCP', destination: {ports: ['32000:32768']}}])
  })

  it('merges the ports of one protocol into ranges, named ports first (SimplifyPorts)', () => {
    const policy = convert(
      knp({
        ingress: [{ports: [{port: 82}, {port: 80}, {port: 9090}, {port: 'foo'}, {port: 81}, {port: 81}, {port: 83, endPort: 85}]}],
        policyTypes: ['Ingress'],
      }),
    )
    expect(policy.spec.ingress?.[0].destination?.ports).toEqual(['foo', '80:85', 9090])
  })

  it('keeps a single numeric port list as written', () => {
    const policy = convert(knp({ingress: [{ports: [{port: 'foo'}, {port: 80}, {port: 'bar'}]}], policyTypes: ['Ingress']}))
    expect(policy.spec.ingress?.[0].destination?.ports).toEqual(['foo', 80, 'bar'])
  })

  it('canonicalises protocol names like numorstring.ProtocolFromString', () => {
    const np = knp({ingress: [{ports: [{port: 80, protocol: 'udp' as 'UDP'}, {port: 80, protocol: 'sctp' as 'SCTP'}]}], policyTypes: ['Ingress']})
    expect(convert(np).spec.ingress?.map((r) => r.protocol)).toEqual(['SCTP', 'UDP'])
  })

  it('drops rules whose ports do not parse and reports them', () => {
    const np = knp({
      podSelector: {matchLabels: {label: 'value'}},
      egress: [
        {ports: [{port: 80}, {port: 'foo'}], to: [peer]},
        {ports: [{port: 80}, {port: '-50:-1'}], to: [peer]},
        {ports: [{port: 80}, {port: '-22:-3'}], to: [peer]},
      ],
      policyTypes: ['Egress'],
    })
    const {policy, error} = convertK8sNetworkPolicy(np, {naming: 'kubernetes'})
    expect(policy.spec.egress).toEqual([{action: 'Allow', protocol: 'TCP', destination: {selector: peerSel, ports: [80, 'foo']}}])
    expect(error).toBeInstanceOf(PolicyConversionError)
    expect(error?.policyName).toBe('test.policy')
    expect(error?.rules.map((r) => [r.direction, r.index, r.reason])).toEqual([
      ['egress', 1, "k8s rule couldn't be converted: failed to parse k8s port: invalid port -50:-1: invalid name for named port (-50:-1)"],
      ['egress', 2, "k8s rule couldn't be converted: failed to parse k8s port: invalid port -22:-3: invalid name for named port (-22:-3)"],
    ])
    expect(error?.message.split('\n')[0]).toBe('policy: test.policy: error with the following rules:')

    const single = convertK8sNetworkPolicy(knp({ingress: [{ports: [{port: 70000}]}], policyTypes: ['Ingress']}))
    expect(single.error?.message).toBe(
      `policy: test.policy: error with rule {"ports":[{"port":70000}]} (k8s rule couldn't be converted: failed to parse k8s port: invalid port 70000: invalid port format (70000))`,
    )
    expect(single.policy.spec.ingress).toBeUndefined()
  })

  it.each([
    [{port: 90, endPort: 80}, 'invalid port 90:80: minimum port number (90) is greater than maximum port number (80) in port range'],
    [{port: 80, endPort: 65536}, 'invalid port 80:65536: invalid maximum port number in range (80:65536)'],
    [{port: 'http', endPort: 90}, 'invalid port http:90: invalid name for named port (http:90)'],
    [{port: 'a'.repeat(129)}, `invalid port ${'a'.repeat(129)}: invalid name for named port (${'a'.repeat(129)})`],
  ])('rejects port %j', (port, reason) => {
    const {error} = convertK8sNetworkPolicy(knp({ingress: [{ports: [port]}], policyTypes: ['Ingress']}))
    expect(error?.rules[0].reason).toBe(`k8s rule couldn't be converted: failed to parse k8s port: ${reason}`)
  })

  it('accepts port 0 and 65535 and a string number', () => {
    const policy = convert(knp({ingress: [{ports: [{port: 0}, {port: '65535', protocol: 'UDP'}]}], policyTypes: ['Ingress']}))
    expect(policy.spec.ingress?.map((r) => r.destination?.ports)).toEqual([[0], [65535]])
  })

  it('refuses a rule with an unparsable ipBlock rather than widening it', () => {
    const {policy, error} = convertK8sNetworkPolicy(knp({egress: [{to: [{ipBlock: {cidr: '192.168.0.0/55'}}]}], policyTypes: ['Egress']}))
    expect(policy.spec.egress).toBeUndefined()
    expect(error?.rules[0].reason).toBe("k8s rule couldn't be converted: invalid CIDR address: 192.168.0.0/55")
  })
})

describe('peers', () => {
  const ingressOf = (from: K8sNetworkPolicy['spec']['ingress']): ConvertedRule[] =>
    convert(knp({podSelector: {matchLabels: {label: 'value'}}, ingress: from, policyTypes: ['Ingress']})).spec.ingress ?? []

  it('namespaceSelector: own field, pod selector is the orchestrator term alone', () => {
    expect(ingressOf([{from: [{namespaceSelector: {matchLabels: {namespaceRole: 'dev', namespaceFoo: 'bar'}}}]}])).toEqual([
      {action: 'Allow', source: {selector: ORCH, namespaceSelector: "namespaceFoo == 'bar' && namespaceRole == 'dev'"}},
    ])
  })

  it('an empty podSelector and no namespaceSelector stays in the namespace', () => {
    expect(ingressOf([{from: [{podSelector: {}}]}])).toEqual([{action: 'Allow', source: {selector: ORCH}}])
  })

  it('an empty namespaceSelector selects every namespace: all()', () => {
    expect(ingressOf([{from: [{namespaceSelector: {matchLabels: {}}}]}])).toEqual([
      {action: 'Allow', source: {selector: ORCH, namespaceSelector: 'all()'}},
    ])
  })

  it('pod and namespace selectors together', () => {
    expect(ingressOf([{from: [{namespaceSelector: {matchLabels: {namespaceRole: 'dev', namespaceFoo: 'bar'}}, podSelector: {matchLabels: {podA: 'B', podC: 'D'}}}]}])).toEqual([
      {
        action: 'Allow',
        source: {selector: `${ORCH} && podA == 'B' && podC == 'D'`, namespaceSelector: "namespaceFoo == 'bar' && namespaceRole == 'dev'"},
      },
    ])
  })

  it('an ipBlock egress peer with ports, one rule per protocol', () => {
    const policy = convert(
      knp({
        egress: [{ports: [{port: 90, protocol: 'UDP'}, {port: 80, protocol: 'TCP'}], to: [{ipBlock: {cidr: '192.168.0.0/16', except: ['192.168.3.0/24']}}]}],
        policyTypes: ['Egress'],
      }),
    )
    expect(policy.spec.egress).toEqual([
      {action: 'Allow', protocol: 'TCP', destination: {nets: ['192.168.0.0/16'], ports: [80], notNets: ['192.168.3.0/24']}},
      {action: 'Allow', protocol: 'UDP', destination: {nets: ['192.168.0.0/16'], ports: [90], notNets: ['192.168.3.0/24']}},
    ])
    expect(Object.keys(policy.spec.egress?.[0].destination ?? {})).toEqual(['nets', 'ports', 'notNets'])
  })

  it('normalises ipBlock CIDRs to their network', () => {
    expect(ingressOf([{from: [{ipBlock: {cidr: '10.1.2.3/8', except: ['10.1.2.3/16']}}]}])).toEqual([
      {action: 'Allow', source: {nets: ['10.0.0.0/8'], notNets: ['10.1.0.0/16']}},
    ])
  })
})

describe('k8sSelectorToCalico', () => {
  it.each([
    ['empty pod selector', {}, 'pod', ORCH],
    ['empty namespace selector', {}, 'namespace', 'all()'],
    ['namespace DoesNotExist', {matchExpressions: [{key: 'toast', operator: 'DoesNotExist'}]}, 'namespace', '! has(toast)'],
    ['namespace Exists', {matchExpressions: [{key: 'toast', operator: 'Exists'}]}, 'namespace', 'has(toast)'],
    ['namespace In', {matchExpressions: [{key: 'toast', operator: 'In', values: ['butter', 'jam']}]}, 'namespace', "toast in { 'butter', 'jam' }"],
    ['namespace NotIn', {matchExpressions: [{key: 'toast', operator: 'NotIn', values: ['marmite', 'milk']}]}, 'namespace', "toast not in { 'marmite', 'milk' }"],
    ['pod DoesNotExist', {matchExpressions: [{key: 'toast', operator: 'DoesNotExist'}]}, 'pod', `${ORCH} && ! has(toast)`],
    ['missing pod selector', undefined, 'pod', ORCH],
    ['missing namespace selector', undefined, 'namespace', ''],
    [
      'labels then expressions',
      {matchLabels: {b: '2', a: '1'}, matchExpressions: [{key: 'c', operator: 'In', values: ['x']}, {key: 'd', operator: 'Exists'}]},
      'pod',
      `${ORCH} && a == '1' && b == '2' && c in { 'x' } && has(d)`,
    ],
  ] as const)('%s', (_name, sel, kind, expected) => {
    const got = k8sSelectorToCalico(sel as K8sLabelSelector | undefined, kind)
    expect(got).toBe(expected)
    expect(validateSelector(got)).toBeUndefined()
  })

  it('evaluates like Kubernetes label selectors', () => {
    const sel = parseSelector(
      k8sSelectorToCalico(
        {matchLabels: {app: 'web'}, matchExpressions: [{key: 'tier', operator: 'NotIn', values: ['db']}, {key: 'canary', operator: 'DoesNotExist'}]},
        'namespace',
      ),
    )
    expect(sel.matches({app: 'web'})).toBe(true) // NotIn matches a missing key
    expect(sel.matches({app: 'web', tier: 'db'})).toBe(false)
    expect(sel.matches({app: 'web', canary: ''})).toBe(false)
  })
})

describe('calicoctl convert test data', () => {
  it('converts the multi-policy manifest like calicoctl convert did', () => {
    const docs: K8sNetworkPolicy[] = [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: {name: 'test-network-policy1', namespace: 'test-ns'},
        spec: {
          podSelector: {matchLabels: {role: 'db'}},
          policyTypes: ['Ingress', 'Egress'],
          ingress: [
            {
              from: [{ipBlock: {cidr: '172.17.0.0/16', except: ['172.17.1.0/24']}}, {namespaceSelector: {matchLabels: {project: 'myproject'}}}, {podSelector: {matchLabels: {role: 'frontend'}}}],
              ports: [{protocol: 'TCP', port: 6379}],
            },
          ],
          egress: [{to: [{ipBlock: {cidr: '10.0.0.0/24'}}], ports: [{protocol: 'TCP', port: 5978}]}],
        },
      },
      {apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: {name: 'default-deny-ingress'}, spec: {podSelector: {}, policyTypes: ['Ingress']}},
      {apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: {name: 'allow-all-egress'}, spec: {podSelector: {}, egress: [{}], policyTypes: ['Egress']}},
    ]
    const out = docs.map((d) => {
      const {policy, error} = convertK8sNetworkPolicy(d, {naming: 'convert', apiServerDefaults: false})
      expect(error).toBeUndefined()
      return policy
    })
    const dst6379 = {ports: [6379]}
    expect(out).toEqual([
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'NetworkPolicy',
        metadata: {name: 'test-network-policy1', namespace: 'test-ns'},
        spec: {
          order: 1000,
          ingress: [
            {action: 'Allow', protocol: 'TCP', source: {nets: ['172.17.0.0/16'], notNets: ['172.17.1.0/24']}, destination: dst6379},
            {action: 'Allow', protocol: 'TCP', source: {selector: ORCH, namespaceSelector: "project == 'myproject'"}, destination: dst6379},
            {action: 'Allow', protocol: 'TCP', source: {selector: `${ORCH} && role == 'frontend'`}, destination: dst6379},
          ],
          egress: [{action: 'Allow', protocol: 'TCP', destination: {nets: ['10.0.0.0/24'], ports: [5978]}}],
          selector: `${ORCH} && role == 'db'`,
          types: ['Ingress', 'Egress'],
        },
      },
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'NetworkPolicy',
        metadata: {name: 'default-deny-ingress'},
        spec: {order: 1000, selector: ORCH, types: ['Ingress']},
      },
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'NetworkPolicy',
        metadata: {name: 'allow-all-egress'},
        spec: {order: 1000, egress: [{action: 'Allow'}], selector: ORCH, types: ['Egress']},
      },
    ])
  })
})

describe('UID conversion', () => {
  it('matches Calico and is its own inverse', () => {
    expect(convertK8sUID(UID)).toBe('0c8c26a6-c6a6-44c6-adc6-ac2646b46c1c')
    expect(convertK8sUID('0c8c26a6-c6a6-44c6-adc6-ac2646b46c1c')).toBe(UID)
  })

  it('keeps the version nibble and round-trips random v4 UUIDs', () => {
    for (let i = 0; i < 200; i++) {
      const uid = crypto.randomUUID()
      const converted = convertK8sUID(uid)
      expect(converted[14]).toBe('4')
      expect(convertK8sUID(converted)).toBe(uid)
    }
  })

  it('accepts the other uuid.Parse spellings', () => {
    expect(convertK8sUID(`{${UID}}`)).toBe('0c8c26a6-c6a6-44c6-adc6-ac2646b46c1c')
    expect(convertK8sUID(`urn:uuid:${UID}`)).toBe('0c8c26a6-c6a6-44c6-adc6-ac2646b46c1c')
    expect(convertK8sUID(UID.replaceAll('-', '').toUpperCase())).toBe('0c8c26a6-c6a6-44c6-adc6-ac2646b46c1c')
  })

  it.each(['not-a-uid', `${UID.slice(0, 35)}g`, `${UID.slice(0, 8)}x${UID.slice(9)}`, `${UID.slice(0, 2)}-${UID.slice(3)}`, `[${UID}]`, `urn:uuix:${UID}`, `{${UID.replaceAll('-', 'a')}}`])('rejects %s', (uid) => {
    expect(() => convertK8sUID(uid)).toThrow(InvalidUIDError)
    const np = knp({})
    np.metadata.uid = uid
    expect(() => convertK8sNetworkPolicy(np)).toThrow(/^failed to parse UID for resource: /)
  })
})

describe('normaliseCIDR (Go net.ParseCIDR → IPNet.String)', () => {
  it.each([
    ['192.168.0.0/16', '192.168.0.0/16'],
    ['192.168.7.9/16', '192.168.0.0/16'],
    ['10.0.0.1/32', '10.0.0.1/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['1.2.3.4/0', '0.0.0.0/0'],
    ['10.1.2.3/012', '10.0.0.0/12'],
    ['2001:DB8::1/32', '2001:db8::/32'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001/64', '2001:db8::/64'],
    ['fd00:1:0:0:2::/80', 'fd00:1:0:0:2::/80'],
    ['fd00:0:0:0:1::/80', 'fd00::1:0:0:0/80'],
    ['::/0', '::/0'],
    ['::1/128', '::1/128'],
    ['1:0:1:0:1:0:1:0/128', '1:0:1:0:1:0:1:0/128'],
    ['1:0:0:1:0:0:0:1/128', '1:0:0:1::1/128'],
    ['::ffff:1.2.3.4/120', '1.2.3.0/24'],
    ['64:ff9b::10.0.0.1/96', '64:ff9b::/96'],
  ])('%s → %s', (input, expected) => {
    expect(normaliseCIDR(input)).toBe(expected)
  })

  it.each(['192.168.0.0/33', '192.168.0.0', '192.168.0/16', '192.168.00.0/16', '256.0.0.0/8', '1.2.3.4/-1', '1.2.3.4/', 'fe80::1%eth0/64', '1::2::3/64', '1:2:3:4:5:6:7:8:9/64', '1:2:3:4:5:6:7::8/128', ':1::/64', '::g/64', '::/129'])(
    'rejects %s',
    (input) => {
      expect(normaliseCIDR(input)).toBeUndefined()
    },
  )
})

// ---- Part 2: conformance cases -------------------------------------------------------------------------

const here = dirname(fileURLToPath(import.meta.url))
const casesDir = join(here, '../fixtures/netpol/cases')

type Action =
  | {apply: K8sNetworkPolicy}
  | {delete: {namespace: string; name: string; kind: string; apiVersion: string}}
  | {deleteAllNetworkPolicies: Record<string, never>}
  | {labelPod: {pod: string; labels: Record<string, string>}}
  | {unlabelPod: {pod: string; keys: string[]}}
  | {labelNamespace: {namespace: string; labels: Record<string, string>}}
  | {unlabelNamespace: {namespace: string; keys: string[]}}

interface Probe {
  protocol: 'TCP' | 'UDP'
  port: number
  expected: string
}
interface Step {
  name: string
  actions: Action[]
  probes: Probe[]
}
interface Case {
  id: string
  steps: Step[]
}

const NAMESPACES = ['x', 'y', 'z']
const POD_NAMES = ['a', 'b', 'c']
const PODS = NAMESPACES.flatMap((ns) => POD_NAMES.map((p) => `${ns}/${p}`))
const POD_CIDR = '10.77.0.0/16'
const ipOf = (pod: string): string => `10.77.${NAMESPACES.indexOf(pod.split('/')[0]) + 1}.${POD_NAMES.indexOf(pod.split('/')[1]) + 10}`
const NAMED_PORTS: Record<string, {port: number; protocol: string}> = {
  'serve-80-tcp': {port: 80, protocol: 'TCP'},
  'serve-80-udp': {port: 80, protocol: 'UDP'},
  'serve-81-tcp': {port: 81, protocol: 'TCP'},
  'serve-81-udp': {port: 81, protocol: 'UDP'},
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0)
}
function inCidr(ip: string, cidr: string): boolean {
  const [net, len] = cidr.split('/')
  const bits = Number(len)
  if (net.includes(':')) return false
  const mask = bits === 0 ? 0 : Math.pow(2, 32) - Math.pow(2, 32 - bits)
  return (ipv4ToInt(ip) & mask) >>> 0 === (ipv4ToInt(net) & mask) >>> 0
}

/** Substitutes {{ip ns/pod}} and {{podCIDR}} inside a manifest. */
function fillTemplates<T>(manifest: T): T {
  const text = JSON.stringify(manifest)
    .replace(/\{\{ip ([xyz]\/[abc])\}\}/g, (_, pod: string) => ipOf(pod))
    .replaceAll('{{podCIDR}}', POD_CIDR)
  return JSON.parse(text) as T
}

class Cluster {
  readonly podLabels = new Map(PODS.map((p) => [p, {pod: p.split('/')[1]} as Record<string, string>]))
  readonly nsLabels = new Map(NAMESPACES.map((n) => [n, {ns: n, 'kubernetes.io/metadata.name': n} as Record<string, string>]))
  readonly policies = new Map<string, ConvertedNetworkPolicy>()

  run(action: Action): void {
    if ('apply' in action) {
      const np = fillTemplates(action.apply)
      const {policy, error} = convertK8sNetworkPolicy(np)
      expect(error).toBeUndefined()
      assertSelectorsParse(policy)
      expect(policy.metadata.name).toBe(`knp.default.${np.metadata.name}`)
      this.policies.set(`${np.metadata.namespace}/${np.metadata.name}`, policy)
    } else if ('delete' in action) {
      this.policies.delete(`${action.delete.namespace}/${action.delete.name}`)
    } else if ('deleteAllNetworkPolicies' in action) {
      this.policies.clear()
    } else if ('labelPod' in action) {
      Object.assign(this.podLabels.get(action.labelPod.pod) ?? {}, action.labelPod.labels)
    } else if ('unlabelPod' in action) {
      const labels = this.podLabels.get(action.unlabelPod.pod) ?? {}
      for (const k of action.unlabelPod.keys) delete labels[k]
    } else if ('labelNamespace' in action) {
      Object.assign(this.nsLabels.get(action.labelNamespace.namespace) ?? {}, action.labelNamespace.labels)
    } else {
      const labels = this.nsLabels.get(action.unlabelNamespace.namespace) ?? {}
      for (const k of action.unlabelNamespace.keys) delete labels[k]
    }
  }

  /** The labels Calico evaluates selectors against: the pod's, the implicit ones and the namespace profile's. */
  endpointLabels(pod: string): Labels {
    const ns = pod.split('/')[0]
    const labels: Record<string, string> = {...this.podLabels.get(pod)}
    labels['projectcalico.org/namespace'] = ns
    labels['projectcalico.org/orchestrator'] = 'k8s'
    for (const [k, v] of Object.entries(this.nsLabels.get(ns) ?? {})) labels[`pcns.${k}`] = v
    labels['pcns.projectcalico.org/name'] = ns
    return labels
  }

  /** Default tier only, every rule Allow: isolated iff some policy applies; then allowed iff a rule matches. */
  allowed(target: string, peer: string, direction: 'Ingress' | 'Egress', probe: Probe): boolean {
    const ns = target.split('/')[0]
    const applying = [...this.policies.values()].filter(
      (p) => p.metadata.namespace === ns && p.spec.types.includes(direction) && parseSelector(p.spec.selector).matches(this.endpointLabels(target)),
    )
    if (applying.length === 0) return true
    return applying.some((p) =>
      (direction === 'Ingress' ? p.spec.ingress : p.spec.egress)?.some((r) => this.ruleMatches(r, p.metadata.namespace ?? '', peer, direction, probe)),
    )
  }

  private ruleMatches(r: ConvertedRule, policyNs: string, peer: string, direction: 'Ingress' | 'Egress', probe: Probe): boolean {
    if (r.protocol !== undefined && r.protocol !== probe.protocol) return false
    const entity = direction === 'Ingress' ? r.source : r.destination
    // Destination ports; every pod serves the same named ports, so the destination pod needs no lookup.
    const ports = r.destination?.ports
    if (ports && !ports.some((p) => portMatches(p, probe))) return false
    const ip = ipOf(peer)
    if (entity?.nets && !entity.nets.some((n) => inCidr(ip, n))) return false
    if (entity?.notNets?.some((n) => inCidr(ip, n))) return false
    const sel = entityRuleSelector({selector: entity?.selector, namespaceSelector: entity?.namespaceSelector}, policyNs)
    if (sel && !parseSelector(sel).matches(this.endpointLabels(peer))) return false
    return true
  }
}

function portMatches(p: number | string, probe: Probe): boolean {
  if (typeof p === 'number') return p === probe.port
  const range = /^(\d+):(\d+)$/.exec(p)
  if (range) return probe.port >= Number(range[1]) && probe.port <= Number(range[2])
  const named = NAMED_PORTS[p]
  return named !== undefined && named.port === probe.port && named.protocol === probe.protocol
}

const caseFiles = readdirSync(casesDir).filter((f) => f.endsWith('.yaml')).sort()

describe('netpol conformance cases evaluated on the converted policies', () => {
  it('found the fixture cases', () => {
    expect(caseFiles.length).toBeGreaterThanOrEqual(40)
  })

  it.each(caseFiles)('%s', (file) => {
    const c = yaml.load(readFileSync(join(casesDir, file), 'utf8')) as Case
    const cluster = new Cluster()
    for (const step of c.steps) {
      for (const action of step.actions) cluster.run(action)
      for (const probe of step.probes) {
        const expected = parseTable(probe.expected)
        expect(expected.size).toBe(81)
        const wrong: string[] = []
        for (const from of PODS) {
          for (const to of PODS) {
            const ok = cluster.allowed(from, to, 'Egress', probe) && cluster.allowed(to, from, 'Ingress', probe)
            if (ok !== expected.get(`${from}>${to}`)) wrong.push(`${from}->${to} expected ${expected.get(`${from}>${to}`) ? 'allow' : 'deny'}`)
          }
        }
        expect(wrong, `${c.id} / ${step.name} / ${probe.protocol} ${probe.port}`).toEqual([])
      }
    }
  })
})
