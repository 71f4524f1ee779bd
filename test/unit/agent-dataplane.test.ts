// The dataplane driver against a recording nft and route manager: when it applies, what it sends, and how it
// recovers. (The same driver against the real kernel: test/dataplane/agent-run.test.ts.)
import {describe, expect, it} from 'vitest'
import {Dataplane} from '../../src/agent/dataplane.js'
import {createAgentLogger} from '../../src/agent/log.js'
import {AgentMetrics} from '../../src/agent/metrics.js'
import {namespaceProfile, type CalcEvent, type CalcResource} from '../../src/dataplane/calc/index.js'
import type {MonitorReport, TableWatcher, WatchHandlers} from '../../src/dataplane/linux/nft-monitor.js'
import type {RouteReconciler} from '../../src/dataplane/routing/manager.js'
import type {WorkloadRouteInput} from '../../src/dataplane/routing/workload-routes.js'
import {sleep} from '../../src/lib/sleep.js'
import type {PreparedTransaction} from '../../src/dataplane/linux/nft.js'

const V3 = 'projectcalico.org/v3'

class FakeNft {
  scripts: string[] = []
  failNext = 0
  listing = 'table v1'
  lists = 0
  /** Transactions started ahead (prepareStream) and those cancelled unused. */
  prepared = 0
  cancelled = 0
  /** While set, list() waits for it (a slow read-back of a large table). */
  listGate?: Promise<void>
  async apply(script: string): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--
      throw new Error('Error: Could not process rule')
    }
    this.scripts.push(script)
  }
  prepareStream(): PreparedTransaction {
    this.prepared++
    return {
      apply: async (chunks) => {
        let script = ''
        for await (const chunk of chunks) script += chunk
        await this.apply(script)
      },
      cancel: async () => void this.cancelled++,
    }
  }
  async list(): Promise<string | undefined> {
    this.lists++
    const listing = this.listing
    await this.listGate
    return listing
  }
}

/** Stands in for nft monitor: the test reports transactions (the agent's own by the marker its script carries). */
class FakeWatcher implements TableWatcher {
  handlers?: WatchHandlers
  prefix = ''
  starts = 0
  start(prefix: string, handlers: WatchHandlers): void {
    this.prefix = prefix
    this.handlers = handlers
    this.starts++
  }
  stop(): void {
    this.handlers = undefined
  }
  /** Reports the transaction of an applied script, as the monitor prints it after the commit. */
  ours(script: string, generation = 1): void {
    const markers = [...script.matchAll(/^add chain inet calico (\S+)$/gm)].map((m) => m[1]!).filter((m) => m.startsWith(this.prefix))
    expect(markers).toHaveLength(1)
    this.report({kind: 'transaction', generation, process: '10 (nft)', markers, touched: true})
  }
  foreign(touched = true): void {
    this.report({kind: 'transaction', generation: 99, process: '4242 (nft)', markers: [], touched})
  }
  report(r: MonitorReport): void {
    this.handlers!.report(r)
  }
}

class FakeRoutes implements RouteReconciler {
  calls: WorkloadRouteInput[][] = []
  async reconcile(eps: readonly WorkloadRouteInput[]) {
    this.calls.push([...eps])
    return {replace: [], remove: [], deferred: 0}
  }
  setOptions(): void {}
}

const wep = (n: number): CalcResource => ({
  apiVersion: V3, kind: 'WorkloadEndpoint',
  metadata: {name: `wep${n}`, namespace: 't', labels: {app: `a${n}`}},
  spec: {node: 'n1', interfaceName: `cali${n}`, ipNetworks: [`10.0.${Math.floor(n / 250)}.${(n % 250) + 1}/32`], profiles: ['kns.t']},
})
const policy = (n: number): CalcResource => ({
  apiVersion: V3, kind: 'NetworkPolicy',
  metadata: {name: `p${n}`, namespace: 't'},
  spec: {selector: `app == 'a${n}'`, types: ['Ingress'], ingress: [{action: 'Allow', source: {selector: "app == 'a0'"}}]},
})
const set = (resource: CalcResource): CalcEvent => ({type: 'set', resource})

function make(opts: {batchMs?: number; minApplyIntervalMs?: number; fingerprintDelayMs?: number; watcher?: FakeWatcher; driftRepairIntervalMs?: number} = {}) {
  const nft = new FakeNft()
  const routes = new FakeRoutes()
  const applied: boolean[] = []
  const metrics = new AgentMetrics()
  const dp = new Dataplane({
    nodeName: 'n1', logger: createAgentLogger('panic'), metrics, interfacePrefixes: ['cali'], ipv6: false,
    nft, routes, retryMs: 10, batchMs: opts.batchMs ?? 10, minApplyIntervalMs: opts.minApplyIntervalMs ?? 0, fingerprintDelayMs: opts.fingerprintDelayMs ?? 10,
    watcher: opts.watcher, watchConfirmMs: 150, watchRetryMs: 30, driftRepairIntervalMs: opts.driftRepairIntervalMs ?? 0,
    onApplied: (ok) => applied.push(ok),
  })
  return {dp, nft, routes, applied, metrics}
}
const noProblem = (): void => {
  throw new Error('unexpected problem')
}

describe('agent dataplane driver', () => {
  it('touches nothing before the first complete snapshot, then replaces the whole table once', async () => {
    const {dp, nft, routes} = make()
    // Its nft is started with the driver, ahead of the snapshot.
    expect(nft.prepared).toBe(1)
    dp.update(set(wep(1)), noProblem)
    await sleep(50)
    expect(nft.scripts).toEqual([])
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1))], noProblem)
    await sleep(50)
    expect(nft.scripts).toHaveLength(1)
    expect(nft.scripts[0]).toMatch(/^add table inet calico\ndelete table inet calico\n/)
    expect(nft.prepared).toBe(1)
    expect(routes.calls.at(-1)!.map((e) => e.iface)).toEqual(['cali1'])
    expect(dp.ready).toBe(true)
    await dp.stop()
    expect(nft.cancelled).toBe(0)
  })

  it('a large snapshot lets the event loop turn while it is fed in', async () => {
    const {dp, nft} = make()
    let turned = false
    let seenAfterTurn = 0
    setImmediate(() => (turned = true))
    function* events(): Generator<CalcEvent> {
      yield set(namespaceProfile('t', {}))
      for (let i = 0; i < 3000; i++) {
        if (turned) seenAfterTurn++
        yield set(wep(i))
      }
    }
    await dp.replaceAll(events(), noProblem)
    // The loop turned part-way through, not only after the last event.
    expect(seenAfterTurn).toBeGreaterThan(0)
    expect(seenAfterTurn).toBeLessThan(3000)
    await sleep(50)
    expect(nft.scripts).toHaveLength(1)
    await dp.stop()
  })

  it('a snapshot is applied at once, without waiting out the batching of updates', async () => {
    const {dp, nft} = make({batchMs: 5000})
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1))], noProblem)
    await sleep(50)
    expect(nft.scripts).toHaveLength(1)
    await dp.stop()
  })

  /** Endpoints of another node labelled app=a0, whose addresses fill the IP set of every policy's rule. */
  function* remoteMembers(count: number): Generator<CalcEvent> {
    for (let i = 2; i < count + 2; i++) {
      yield set({
        apiVersion: V3, kind: 'WorkloadEndpoint',
        metadata: {name: `wep${i}`, namespace: 't', labels: {app: 'a0'}},
        spec: {node: 'n2', interfaceName: `x${i}`, ipNetworks: [`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}/32`], profiles: ['kns.t']},
      })
    }
  }

  it('objects that only add IP set members are fed in while the table is written; their elements come last, in the same transaction', async () => {
    const {dp, nft, metrics} = make()
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1)), set(policy(1))], noProblem, remoteMembers(3000))
    await sleep(50)
    expect(nft.scripts).toHaveLength(1)
    const script = nft.scripts[0]!
    const setName = /add set inet calico (\S+) /.exec(script)![1]!
    const elements = script.split('\n').filter((l) => l.startsWith(`add element inet calico ${setName} `))
    expect(elements.join(',').match(/10\.0\./g)).toHaveLength(3000)
    // The set was declared before the rules that use it, and filled after all of them.
    expect(script.indexOf(`add set inet calico ${setName} `)).toBeLessThan(script.indexOf(`@${setName}`))
    expect(script.lastIndexOf('add rule ')).toBeLessThan(script.indexOf(elements[0]!))
    expect(metrics.activeLocalEndpoints.get()).toBe(1)
    // What was applied is the complete state: the same state again needs no transaction.
    dp.update(set(policy(1)), noProblem)
    await sleep(50)
    expect(nft.scripts).toHaveLength(1)
    await dp.stop()
  })

  it('an object taken for one that only adds members but changing the table: the stream is dropped and the table written again', async () => {
    const {dp, nft, applied, metrics} = make()
    function* members(): Generator<CalcEvent> {
      yield* remoteMembers(3000)
      // A local endpoint after the table has begun: its chains are not in what nft has been sent.
      yield set(wep(7))
    }
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1)), set(policy(1))], noProblem, members())
    await sleep(50)
    expect(applied).toEqual([true])
    expect(metrics.dataplaneFailures.get()).toBe(0)
    // The first nft was given up (nothing committed), the second wrote the table whole.
    expect(nft.prepared).toBe(2)
    expect(nft.scripts).toHaveLength(1)
    expect(nft.scripts[0]).toContain('"cali7" : goto')
    await dp.stop()
  })

  it('stopped before any snapshot, the nft started ahead goes without a script', async () => {
    const {dp, nft} = make()
    await dp.stop()
    expect([nft.prepared, nft.cancelled, nft.scripts.length]).toEqual([1, 1, 0])
  })

  it('a burst of updates becomes one delta transaction', async () => {
    const {dp, nft, metrics} = make({batchMs: 30})
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(0))], noProblem)
    await sleep(80)
    for (let i = 1; i <= 50; i++) {
      dp.update(set(wep(i)), noProblem)
      dp.update(set(policy(i)), noProblem)
    }
    await sleep(150)
    expect(nft.scripts).toHaveLength(2)
    expect(nft.scripts[1]).not.toMatch(/delete table/)
    expect(nft.scripts[1]).toMatch(/add chain inet calico/)
    expect(metrics.activeLocalEndpoints.get()).toBe(51)
    expect(metrics.activeLocalPolicies.get()).toBe(50)
    // Nothing changed: no transaction at all.
    dp.update(set(wep(3)), noProblem)
    await sleep(60)
    expect(nft.scripts).toHaveLength(2)
    await dp.stop()
  })

  it('after a failed transaction the retry replaces the whole table (the kernel state is unknown)', async () => {
    const {dp, nft, applied, metrics} = make()
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1))], noProblem)
    await sleep(50)
    nft.failNext = 2
    dp.update(set(policy(1)), noProblem)
    await sleep(200)
    expect(applied).toEqual([true, false, false, true])
    expect(nft.scripts).toHaveLength(2)
    expect(nft.scripts[1]).toMatch(/^add table inet calico\ndelete table inet calico\n/)
    // The failed delta, then two full replacements, each with an nft of its own.
    expect(nft.prepared).toBe(3)
    expect(metrics.dataplaneFailures.get()).toBe(2)
    expect(dp.ready).toBe(true)
    await dp.stop()
  })

  it('not ready while the first program keeps failing', async () => {
    const {dp, nft} = make()
    nft.failNext = 1000
    await dp.replaceAll([set(wep(1))], noProblem)
    await sleep(100)
    expect(dp.ready).toBe(false)
    expect(nft.scripts).toEqual([])
    await dp.stop()
  })

  it('refresh reprograms the table only when the kernel listing changed', async () => {
    const {dp, nft, metrics} = make()
    await dp.replaceAll([set(wep(1))], noProblem)
    await sleep(50)
    expect(await dp.refresh()).toBe(false)
    nft.listing = 'table v2 (someone flushed a chain)'
    expect(await dp.refresh()).toBe(true)
    await sleep(50)
    expect(nft.scripts).toHaveLength(2)
    expect(nft.scripts[1]).toMatch(/^add table inet calico\ndelete table inet calico\n/)
    expect(metrics.driftRepairs.get()).toBe(1)
    expect(await dp.refresh()).toBe(false)
    await dp.stop()
  })

  it('the read-back waits for a quiet table and never holds up an apply', async () => {
    const until = async (cond: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !cond(); i++) await sleep(10)
      expect(cond()).toBe(true)
    }
    const {dp, nft} = make({fingerprintDelayMs: 300})
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1))], noProblem)
    await until(() => nft.scripts.length === 1)
    // An update within the quiet time: still no listing.
    dp.update(set(wep(2)), noProblem)
    await until(() => nft.scripts.length === 2)
    expect(nft.lists).toBe(0)
    // A slow listing in progress: the next apply goes ahead, and the listing (which may predate it) is discarded.
    let release!: () => void
    nft.listGate = new Promise((r) => (release = r))
    await until(() => nft.lists === 1)
    dp.update(set(wep(3)), noProblem)
    await until(() => nft.scripts.length === 3)
    nft.listing = 'table v2 (after the third apply)'
    release()
    nft.listGate = undefined
    // The refresh finds no reference for the current table, takes one, and reports no drift; the next compares.
    expect(await dp.refresh()).toBe(false)
    expect(await dp.refresh()).toBe(false)
    nft.listing = 'table v3 (someone flushed a chain)'
    expect(await dp.refresh()).toBe(true)
    await dp.stop()
  })

  it('a resource the calculation rejects is reported and dropped, the rest still applies', async () => {
    const {dp, nft} = make()
    const problems: string[] = []
    const long = {...wep(2), spec: {...wep(2).spec, interfaceName: 'cali0123456789abcdef'}} as CalcResource
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1)), set(long)], (_ev, err) => problems.push(err.message))
    await sleep(50)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/longer than 15 bytes/)
    expect(nft.scripts[0]).toContain('"cali1"')
    expect(nft.scripts[0]).not.toContain('cali0123456789abcdef')
    await dp.stop()
  })

  it('host endpoints given by expectedIPs follow the host interfaces that hold those addresses', async () => {
    const {dp, nft} = make()
    const hep: CalcResource = {apiVersion: V3, kind: 'HostEndpoint', metadata: {name: 'h1'}, spec: {node: 'n1', expectedIPs: ['192.0.2.7']}}
    await dp.replaceAll([set(hep)], noProblem)
    await sleep(50)
    expect(nft.scripts[0]).not.toContain('"eth7"')
    dp.setHostInterfaces(new Map([['eth7', ['192.0.2.7']], ['lo', ['127.0.0.1']]]))
    await sleep(50)
    expect(nft.scripts).toHaveLength(2)
    expect(nft.scripts[1]).toContain('"eth7"')
    // The same interfaces again (any order): no work.
    dp.setHostInterfaces(new Map([['lo', ['127.0.0.1']], ['eth7', ['192.0.2.7']]]))
    await sleep(50)
    expect(nft.scripts).toHaveLength(2)
    await dp.stop()
  })
})

describe('agent dataplane driver: routes', () => {
  it('are reconciled when the workloads change, not after a policy-only change', async () => {
    const {dp, nft, routes} = make()
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1)), set(wep(2))], noProblem)
    await sleep(60)
    expect(routes.calls).toHaveLength(1)
    dp.update(set(policy(1)), noProblem)
    await sleep(60)
    expect(nft.scripts).toHaveLength(2)
    expect(routes.calls).toHaveLength(1)
    dp.update(set(wep(3)), noProblem)
    await sleep(60)
    expect(routes.calls).toHaveLength(2)
    expect(routes.calls[1]!.map((e) => e.iface).sort()).toEqual(['cali1', 'cali2', 'cali3'])
    // The link monitor or the route refresh: reconciled whatever the policy did.
    dp.interfacesChanged()
    await sleep(60)
    expect(routes.calls).toHaveLength(3)
    await dp.stop()
  })
})

describe('agent dataplane driver: source spoofing', () => {
  const spoofer = (prefixes: string[]): CalcResource => ({...wep(1), spec: {...wep(1).spec, allowSpoofedSourcePrefixes: prefixes}} as CalcResource)
  const felix = (workloadSourceSpoofing: string): CalcResource => ({apiVersion: V3, kind: 'FelixConfiguration', metadata: {name: 'default'}, spec: {workloadSourceSpoofing}})

  it('a snapshot is judged whole: an endpoint before the configuration that allows it is no problem', async () => {
    const {dp, nft} = make()
    await dp.replaceAll([set(namespaceProfile('t', {})), set(spoofer(['192.0.2.0/24'])), set(felix('Any'))], noProblem)
    await sleep(50)
    expect(nft.scripts[0]).toContain('"cali1"')
    await dp.stop()
  })

  it('a configuration change that rejects endpoints reports them; routes follow whether a workload spoofs', async () => {
    const {dp, nft, routes, metrics} = make()
    const problems: string[] = []
    await dp.replaceAll([set(namespaceProfile('t', {})), set(spoofer(['192.0.2.0/24'])), set(wep(2)), set(felix('Any'))], noProblem)
    await sleep(60)
    expect(routes.calls.at(-1)!.map((e) => [e.iface, e.allowSpoofedSourcePrefixes])).toEqual([['cali1', ['192.0.2.0/24']], ['cali2', []]])
    dp.update(set(felix('Disabled')), (_ev, err) => problems.push(err.message))
    await sleep(60)
    // The configuration itself is fine; the endpoint it rejects is counted as a validation failure.
    expect(problems).toEqual([])
    expect(metrics.validationFailures.get()).toBe(1)
    expect(nft.scripts.at(-1)).toContain('delete chain inet calico filter-cali-fw-cali1')
    expect(routes.calls.at(-1)!.map((e) => e.iface)).toEqual(['cali2'])
    // Allowed again; then the prefixes go: routes are reconciled for the interface's new setting.
    dp.update(set(felix('Any')), noProblem)
    await sleep(60)
    expect(routes.calls.at(-1)!.map((e) => e.iface)).toEqual(['cali1', 'cali2'])
    const calls = routes.calls.length
    dp.update(set(spoofer([])), noProblem)
    await sleep(60)
    expect(routes.calls).toHaveLength(calls + 1)
    expect(routes.calls.at(-1)![0]!.allowSpoofedSourcePrefixes).toEqual([])
    await dp.stop()
  })
})

describe('agent dataplane driver with nft monitor', () => {
  const until = async (cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !cond(); i++) await sleep(10)
    expect(cond()).toBe(true)
  }
  const isFull = (script: string): boolean => script.startsWith('add table inet calico\ndelete table inet calico\n')

  it('once it has reported a full apply, applies are not read back and a foreign change is repaired at once', async () => {
    const watcher = new FakeWatcher()
    const {dp, nft, metrics} = make({watcher})
    expect(watcher.starts).toBe(1)
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1))], noProblem)
    await until(() => nft.scripts.length === 1)
    // Every transaction carries a marker chain, added and deleted in it, so the table itself is unchanged.
    expect(nft.scripts[0]).toMatch(new RegExp(`add chain inet calico (${watcher.prefix}\\d+)\ndelete chain inet calico \\1\n$`))
    watcher.ours(nft.scripts[0]!)
    dp.update(set(wep(2)), noProblem)
    await until(() => nft.scripts.length === 2)
    expect(isFull(nft.scripts[1]!)).toBe(false)
    watcher.ours(nft.scripts[1]!, 2)
    await sleep(60)
    expect(nft.lists).toBe(0)
    // Other tables changed: nothing to do.
    watcher.foreign(false)
    await sleep(60)
    expect(nft.scripts).toHaveLength(2)
    // Someone else changed ours: replaced whole, without a read-back.
    watcher.foreign()
    await until(() => nft.scripts.length === 3)
    expect(isFull(nft.scripts[2]!)).toBe(true)
    expect(metrics.driftRepairs.get()).toBe(1)
    expect(nft.lists).toBe(0)
    await dp.stop()
    expect(watcher.handlers).toBeUndefined()
  })

  it('until it reports a full apply, each apply is read back (after waiting for the report)', async () => {
    const watcher = new FakeWatcher()
    const {dp, nft} = make({watcher})
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1))], noProblem)
    await until(() => nft.scripts.length === 1)
    await sleep(60)
    // Still within the time the monitor has to report it.
    expect(nft.lists).toBe(0)
    await until(() => nft.lists === 1)
    // A delta reported does not make it count: it may have missed what came before.
    dp.update(set(wep(2)), noProblem)
    await until(() => nft.scripts.length === 2)
    watcher.ours(nft.scripts[1]!)
    await until(() => nft.lists === 2)
    await dp.stop()
  })

  it('a foreign change reported while an apply runs is repaired after it', async () => {
    const watcher = new FakeWatcher()
    const {dp, nft, metrics} = make({watcher})
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1))], noProblem)
    await until(() => nft.scripts.length === 1)
    watcher.ours(nft.scripts[0]!)
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const apply = nft.apply.bind(nft)
    nft.apply = async (script: string) => {
      await gate
      await apply(script)
    }
    dp.update(set(wep(2)), noProblem)
    await sleep(40)
    // The other process's transaction came first; the delta in flight does not undo it.
    watcher.foreign()
    release()
    await until(() => nft.scripts.length === 3)
    expect(isFull(nft.scripts[1]!)).toBe(false)
    expect(isFull(nft.scripts[2]!)).toBe(true)
    expect(metrics.driftRepairs.get()).toBe(1)
    await dp.stop()
  })

  it('a table someone keeps changing is repaired at once, then at a bounded rate', async () => {
    const watcher = new FakeWatcher()
    const {dp, nft, metrics} = make({watcher, driftRepairIntervalMs: 300})
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1))], noProblem)
    await until(() => nft.scripts.length === 1)
    watcher.ours(nft.scripts[0]!)
    watcher.foreign()
    await until(() => nft.scripts.length === 2)
    watcher.ours(nft.scripts[1]!, 2)
    // Changed again right after the repair: the next repair waits for the interval.
    watcher.foreign()
    await sleep(150)
    expect(nft.scripts).toHaveLength(2)
    await until(() => nft.scripts.length === 3)
    expect(isFull(nft.scripts[2]!)).toBe(true)
    expect(metrics.driftRepairs.get()).toBe(2)
    await dp.stop()
  })

  it('lost events: the table is replaced after a backoff, and that apply makes the monitor count again', async () => {
    const watcher = new FakeWatcher()
    const {dp, nft} = make({watcher})
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1))], noProblem)
    await until(() => nft.scripts.length === 1)
    watcher.ours(nft.scripts[0]!)
    watcher.report({kind: 'lost'})
    await until(() => nft.scripts.length === 2)
    expect(isFull(nft.scripts[1]!)).toBe(true)
    watcher.ours(nft.scripts[1]!, 2)
    dp.update(set(wep(2)), noProblem)
    await until(() => nft.scripts.length === 3)
    watcher.ours(nft.scripts[2]!, 3)
    await sleep(200)
    expect(nft.lists).toBe(0)
    await dp.stop()
  })

  it('a monitor that exits is restarted, and the table replaced for it to see', async () => {
    const watcher = new FakeWatcher()
    const {dp, nft} = make({watcher})
    await dp.replaceAll([set(namespaceProfile('t', {})), set(wep(1))], noProblem)
    await until(() => nft.scripts.length === 1)
    watcher.ours(nft.scripts[0]!)
    watcher.handlers!.exit('nft monitor exited (SIGKILL)')
    await until(() => watcher.starts === 2 && nft.scripts.length === 2)
    expect(isFull(nft.scripts[1]!)).toBe(true)
    await dp.stop()
  })
})
