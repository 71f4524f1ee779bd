// The netpol conformance truth tables with real packets: 9 pod network namespaces behind a node namespace that runs
// the rendered table, each step applied to the live table as a delta, TCP and UDP probes from inside the pods.
// A representative subset runs by default; NETPOL_KERNEL_ALL=1 runs every case. Namespaces use a per-run prefix and
// are deleted in afterAll, also on failure.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {diffTables, renderFullScript, renderTable} from '../../src/dataplane/nftables/index.js'
import {NetnsRun, inNs, netnsUnavailable} from '../helpers/netns.js'
import {ALL_PODS, NetpolWorld, loadCases, parseTable, podIP, podIface} from './nft-netpol-harness.js'

const DEFAULT_CASES = new Set([
  'e2e-14-ports',
  'e2e-18-ingress-named-port-from-namespace',
  'e2e-28-deny-egress-client-side',
  'e2e-35-egress-cidr-except',
  'e2e-43-udp-default-deny-ingress',
  'calico-05-pass-skips-rest-of-default-tier',
  'calico-07-tier-default-action-pass',
  'calico-15-port-range-and-named-port',
])

const canRun = netnsUnavailable() === undefined
const PORTS = [80, 81]
/** Each probe's bound; UDP is re-sent within it. */
const PROBE_TIMEOUT_MS = 1000
let run: NetnsRun | undefined
let nodeNs = ''
const podNs = new Map<string, string>()

/** Every client probes every other pod at once; returns `from>to` → connected. */
async function probe(protocol: 'TCP' | 'UDP', port: number): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>()
  const proto = protocol === 'TCP' ? 'tcp' : 'udp'
  await Promise.all(
    ALL_PODS.map(async (from) => {
      const targets = ALL_PODS.filter((t) => t !== from)
      const res = await run!.probeAsync(podNs.get(from)!, targets.map((t) => [podIP(t), port, proto] as const), PROBE_TIMEOUT_MS)
      targets.forEach((to, i) => out.set(`${from}>${to}`, res[i]!))
    }),
  )
  return out
}

const fixtures = join(import.meta.dirname, '../fixtures/netpol')
const allCases = [...loadCases(join(fixtures, 'cases')), ...loadCases(join(fixtures, 'calico-cases'))]
const cases = process.env['NETPOL_KERNEL_ALL'] === '1' ? allCases : allCases.filter((c) => DEFAULT_CASES.has(c.id))

describe.skipIf(!canRun)('netpol truth tables with real packets (private network namespaces)', () => {
  beforeAll(async () => {
    run = new NetnsRun('hp')
    nodeNs = run.addNode('node', {forwarding: true})
    const ready: Promise<void>[] = []
    for (const pod of ALL_PODS) {
      const ns = run.addPod(nodeNs, {suffix: pod.replace('/', ''), iface: podIface(pod), address: podIP(pod), hostSide: true})
      podNs.set(pod, ns)
      ready.push(run.listen(ns, PORTS, {udp: true}))
    }
    await Promise.all(ready)
  })

  afterAll(() => run?.destroy())

  it('runs a representative set of cases', () => expect(cases.length).toBeGreaterThanOrEqual(DEFAULT_CASES.size))

  for (const c of cases) {
    it(c.id, async () => {
      const world = new NetpolWorld()
      let prev = renderTable(world.calc.state())
      // Each case starts from a freshly replaced table, then moves step by step with deltas only.
      inNs(nodeNs, 'nft', ['-f', '-'], renderFullScript(prev))
      for (const step of c.steps) {
        for (const a of step.actions) world.act(a)
        const next = renderTable(world.calc.state())
        const delta = diffTables(prev, next).script
        if (delta !== '') inNs(nodeNs, 'nft', ['-f', '-'], delta)
        prev = next
        for (const p of step.probes ?? []) {
          const expected = parseTable(p.expected)
          const actual = await probe(p.protocol, p.port)
          const bad = [...actual].filter(([k, v]) => expected.get(k) !== v).map(([k, v]) => `${k} ${v ? 'connected' : 'blocked'}`)
          expect(bad, `${step.name} ${p.protocol}/${p.port}`).toEqual([])
        }
      }
    })
  }
})
