// Scale check from the brief: 1,000 policies × 200 local endpoints with 10,000 remote endpoints. Bounds are
// generous (CI machines vary) but catch accidental O(n²·m) behaviour; timings are printed for the record.
import {describe, expect, it} from 'vitest'
import {PolicyCalculator, namespaceProfile, type CalcResource} from '../../src/dataplane/calc/index.js'
import {renderTable, diffTables} from '../../src/dataplane/nftables/index.js'

const NODE = 'node-0'
const NAMESPACES = 20

function endpoint(i: number, local: boolean, app = `app-${i % 100}`): CalcResource {
  const ns = `ns-${i % NAMESPACES}`
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: {name: `ep-${i}`, namespace: ns, labels: {app, tier: `t${i % 5}`, 'projectcalico.org/namespace': ns, 'projectcalico.org/orchestrator': 'k8s'}},
    spec: {
      node: local ? NODE : `node-${1 + (i % 50)}`,
      orchestrator: 'k8s',
      interfaceName: `cali${i.toString(16).padStart(11, '0')}`,
      ipNetworks: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`],
      profiles: [`kns.${ns}`],
      ports: [{name: 'http', protocol: 'TCP', port: 8080}],
    },
  }
}

function policy(i: number): CalcResource {
  const ns = `ns-${i % NAMESPACES}`
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: {name: `pol-${i}`, namespace: ns},
    spec: {
      order: i % 7,
      selector: `app == 'app-${i % 100}'`,
      types: ['Ingress', 'Egress'],
      ingress: [
        {action: 'Allow', protocol: 'TCP', source: {selector: `app == 'app-${(i * 7) % 100}'`}, destination: {ports: [80, 'http']}},
        {action: 'Allow', source: {namespaceSelector: `team == 'team-${i % 10}'`, selector: `tier == 't${i % 5}'`}},
      ],
      egress: [{action: 'Allow', destination: {selector: `app == 'app-${(i * 3) % 100}'`}}],
    },
  }
}

describe('calculator scale', () => {
  it('1,000 policies × 200 local endpoints, 10,000 remote endpoints', () => {
    const calc = new PolicyCalculator(NODE)
    const t0 = performance.now()
    for (let n = 0; n < NAMESPACES; n++) calc.update({type: 'set', resource: namespaceProfile(`ns-${n}`, {team: `team-${n % 10}`})})
    for (let i = 0; i < 200; i++) calc.update({type: 'set', resource: endpoint(i, true)})
    for (let i = 200; i < 10_200; i++) calc.update({type: 'set', resource: endpoint(i, false)})
    for (let i = 0; i < 1000; i++) calc.update({type: 'set', resource: policy(i)})
    const state = calc.state()
    const table = renderTable(state)
    const tLoad = performance.now() - t0

    expect(state.endpoints).toHaveLength(200)
    expect(state.policies.size).toBe(1000)
    expect(state.ipSets.size).toBeGreaterThan(100)
    // A selector set holds every matching endpoint, local and remote (~102 per app label).
    const largest = Math.max(...[...state.ipSets.values()].map((s) => s.members.length))
    expect(largest).toBeGreaterThan(100)

    // Incremental churn: a remote endpoint relabelled, a local endpoint added, a policy edited.
    const t1 = performance.now()
    const churn = 200
    for (let k = 0; k < churn; k++) {
      calc.update({type: 'set', resource: endpoint(5000 + k, false, `app-${(k + 1) % 100}`)})
    }
    const tRemote = (performance.now() - t1) / churn
    const t2 = performance.now()
    calc.update({type: 'set', resource: endpoint(10_500, true)})
    calc.update({type: 'set', resource: {...policy(3), spec: {...(policy(3).spec as object), order: 99}} as CalcResource})
    const ta = performance.now()
    const st2 = calc.state()
    const tb = performance.now()
    const next = renderTable(st2)
    const tc = performance.now()
    const delta = diffTables(table, next)
    const tDiff = performance.now() - tc
    const tStep = performance.now() - t2
    expect(delta.script).toContain('filter-cali-tw-cali')

    const rules = [...next.chains.values()].reduce((n, c) => n + c.rules.length, 0)
    console.log(
      `scale: load+render ${tLoad.toFixed(0)} ms; remote endpoint update ${tRemote.toFixed(2)} ms; local change ${tStep.toFixed(0)} ms ` +
        `(state ${(tb - ta).toFixed(0)}, render ${(tc - tb).toFixed(0)}, diff ${tDiff.toFixed(0)}); ${next.chains.size} chains, ${rules} rules, ${next.sets.size} sets`,
    )
    expect(tLoad).toBeLessThan(60_000)
    expect(tRemote).toBeLessThan(50)
    expect(tStep).toBeLessThan(10_000)
  })
})
