// The NetworkPolicy conformance model (test/fixtures/netpol/README.md: 3 namespaces × 3 pods, test/lab/netpol.ts)
// enforced by the real agent: each step's resources are written to the store while `calicoctl node run` runs in the
// node namespace, and the 9×9 matrix is measured with real TCP connections and UDP echoes until it converges to the
// expected table. Scope: the Calico cases that use only projectcalico.org/v3 resources (Kubernetes NetworkPolicies
// are not stored in an etcd-style datastore); agent-kdd-netpol.test.ts runs the rest on the Kubernetes datastore.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadCases, type NetpolCase} from '../unit/nft-netpol-harness.js'
import {waitFor} from '../helpers/wait.js'
import {agentSkipReason, startAgent, type LabAgent} from '../lab/agent.js'
import {Lab} from '../lab/lab.js'
import {NetpolModel} from '../lab/netpol.js'
import {ROOT} from '../lab/plugin.js'

const why = agentSkipReason()

const CASES: NetpolCase[] = loadCases(join(ROOT, 'test', 'fixtures', 'netpol', 'calico-cases')).filter(
  (c) => !JSON.stringify(c.steps).includes('networking.k8s.io'),
)

describe.skipIf(why !== undefined)('Calico conformance cases enforced by node run (real TCP and UDP)', () => {
  let lab: Lab
  let agent: LabAgent
  let model: NetpolModel

  beforeAll(async () => {
    lab = await Lab.start()
    const node = await lab.addNode('kn', {}, {forwarding: false})
    await lab.put('FelixConfiguration', 'default', {healthHost: '127.0.0.1', healthPort: 19099, prometheusMetricsEnabled: false})
    model = await NetpolModel.attach(lab, node)
    agent = startAgent(lab, node, {args: ['--ip', `${node.address}/24`]})
    if (!(await waitFor(async () => (await lab.httpGet(node, 19099, '/readiness')).status === 200, 30_000))) throw new Error(`agent not ready: ${agent.log()}`)
  }, 180_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  it('has cases to run', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(10)
  })

  for (const c of CASES) {
    it(c.id, () => model.run(c, 8000), 120_000)
  }
})
