// Real packets through the rendered table: a "node" network namespace running our nftables table and routing for
// workload namespaces attached by cali* veths (the CNI's plumbing: /32 routes, proxy ARP, 169.254.1.1 gateway).
// Every probe is also judged by the table evaluator, so the evaluator's model of nft is checked against the kernel.
// All namespaces are created here with a per-run prefix and deleted in afterAll, also on failure.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {computePolicyState, namespaceProfile, type CalcResource} from '../../src/dataplane/calc/index.js'
import {TableEvaluator, diffTables, renderFullScript, renderTable, type NftTable} from '../../src/dataplane/nftables/index.js'
import {NetnsRun, inNs, netnsUnavailable, type ProbeTarget} from '../helpers/netns.js'

const canRun = netnsUnavailable() === undefined
const PODS = ['a', 'b', 'c'] as const
const PORTS = [80, 81]
/** Pods share one node: an accepted connection answers in well under this. */
const PROBE_TIMEOUT_MS = 400
let run: NetnsRun | undefined
let nodeNs = ''
const podNs = new Map<string, string>()
const podIP = (p: string): string => `10.66.0.${10 + PODS.indexOf(p as 'a')}`
// Interface names are per node namespace, so they need not carry the run prefix.
const podIface = (p: string): string => `cali${p}`

function resources(policies: CalcResource[]): CalcResource[] {
  return [
    namespaceProfile('t', {}),
    ...PODS.map((p): CalcResource => ({
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: {name: `pod-${p}`, namespace: 't', labels: {pod: p}},
      spec: {node: 'kn', interfaceName: podIface(p), ipNetworks: [`${podIP(p)}/32`], profiles: ['kns.t'], ports: [{name: 'web', protocol: 'TCP', port: 81}]},
    })),
    ...policies,
  ]
}

/** Applies `script` (default: the full start-up script of `table`) in the node, then probes every pod pair. */
function probeAll(table: NftTable, script = renderFullScript(table)): {kernel: Record<string, boolean>; model: Record<string, boolean>} {
  if (script !== '') inNs(nodeNs, 'nft', ['-f', '-'], script)
  const ev = new TableEvaluator(table)
  const kernel: Record<string, boolean> = {}
  const model: Record<string, boolean> = {}
  for (const from of PODS) {
    const targets = PODS.filter((t) => t !== from).flatMap((t) => PORTS.map((port): ProbeTarget => [podIP(t), port]))
    const res = run!.probe(podNs.get(from)!, targets, PROBE_TIMEOUT_MS)
    targets.forEach(([host, port], i) => {
      const to = PODS[Number(host.split('.')[3]) - 10]!
      const key = `${from}>${to}:${port}`
      kernel[key] = res[i]!
      model[key] =
        ev.evaluatePath(['prerouting', 'forward'], {family: 4, saddr: podIP(from), daddr: host, proto: 6, sport: 40000, dport: port, iifname: podIface(from), oifname: podIface(to), ctState: 'new'}).verdict === 'accept'
    })
  }
  return {kernel, model}
}

describe.skipIf(!canRun)('real traffic through the rendered table (private network namespaces)', () => {
  beforeAll(async () => {
    run = new NetnsRun('hk')
    nodeNs = run.addNode('node', {forwarding: true})
    for (const p of PODS) {
      const ns = run.addPod(nodeNs, {suffix: p, iface: podIface(p), address: podIP(p), hostSide: true})
      podNs.set(p, ns)
      await run.listen(ns, PORTS)
    }
  })

  afterAll(() => run?.destroy())

  let open: NftTable

  it('profile only: everything connects', () => {
    open = renderTable(computePolicyState('kn', resources([])))
    const {kernel, model} = probeAll(open)
    expect(Object.values(kernel).every(Boolean)).toBe(true)
    expect(kernel).toEqual(model)
  })

  it('tiers, Pass, named port, deny (applied as a delta): kernel and evaluator agree cell by cell', () => {
    const v3 = 'projectcalico.org/v3'
    const table = renderTable(computePolicyState('kn', resources([
      {apiVersion: v3, kind: 'Tier', metadata: {name: 'sec'}, spec: {order: 10, defaultAction: 'Deny'}},
      // a: only b may reach it, and only on the named port (81).
      {apiVersion: v3, kind: 'NetworkPolicy', metadata: {name: 'a-in', namespace: 't'}, spec: {selector: "pod == 'a'", ingress: [{action: 'Allow', protocol: 'TCP', source: {selector: "pod == 'b'"}, destination: {ports: ['web']}}]}},
      // sec tier: c's egress to port 80 is passed on, everything else from c is denied at the end of the tier.
      {apiVersion: v3, kind: 'GlobalNetworkPolicy', metadata: {name: 'sec.c-out'}, spec: {tier: 'sec', selector: "pod == 'c'", types: ['Egress'], egress: [{action: 'Pass', protocol: 'TCP', destination: {ports: [80]}}]}},
    ])))
    const {kernel, model} = probeAll(table, diffTables(open, table).script)
    expect(kernel).toEqual(model)
    expect(kernel).toMatchObject({'b>a:81': true, 'b>a:80': false, 'c>a:81': false, 'c>b:80': true, 'c>b:81': false, 'a>b:81': true})
  })
})
