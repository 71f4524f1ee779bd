// The agent's dataplane driver: holds the policy calculation, and after each burst of changes renders the table and
// sends the kernel only the delta since the last successful apply, as one atomic `nft -f` transaction. Failed
// applies are retried as a full replacement (the kernel's state is then unknown), routes follow the workloads after
// an apply, and drift is repaired. Nothing reaches the kernel before the first complete snapshot; the first full
// table is streamed into an nft started in advance, beginning while the snapshot's objects that only add IP set
// members are still being fed in (their elements close the same transaction).
//
// Drift (another process changing our table) is seen as it happens by an `nft monitor` child (nft-monitor.ts): every
// transaction of ours carries a marker, so a reported transaction that touches the table without one is someone
// else's, and the table is reprogrammed. The monitor counts only once it has reported one of our full applies (it
// then sees every later transaction); when it is not running, has lost events or has not reported one yet, drift is
// recognised the old way: `nft -s list table` right after each apply as the reference, compared on the refresh
// interval. Listing a large table costs far more than a small delta (seconds of CPU for 20,000 rules), so it never
// delays an apply: it runs in the background, one at a time, and one that overlapped an apply is discarded and taken
// again. With the monitor counting, only the refresh lists the table (a safety net, once per interval).
import {createHash, randomBytes} from 'node:crypto'
import {setImmediate} from 'node:timers/promises'

import {PolicyCalculator, type CalcEvent, type LocalEndpoint, type PolicyState} from '../dataplane/calc/index.js'
import {DEFAULT_TABLE_NAME, FullScriptStream, diffTables, renderFullScript, renderTable, ruleText, setElementsScript, type NftTable} from '../dataplane/nftables/index.js'
import {Nft, type PreparedTransaction} from '../dataplane/linux/nft.js'
import {NftMonitor, markerScript, type MonitorReport, type TableWatcher} from '../dataplane/linux/nft-monitor.js'
import {RouteManager, type RouteReconciler} from '../dataplane/routing/manager.js'
import {spoofs, type WorkloadRouteInput} from '../dataplane/routing/workload-routes.js'
import type {AgentLogger} from './log.js'
import type {AgentMetrics} from './metrics.js'

export interface DataplaneOptions {
  nodeName: string
  logger: AgentLogger
  metrics: AgentMetrics
  /** Told after every apply attempt: whether the kernel now holds the desired state. */
  onApplied?: (ok: boolean) => void
  /** Quiet time that ends a burst of updates before an apply starts (ms). */
  batchMs?: number
  /** Minimum time between two applies, so a storm of updates is applied at a bounded rate (ms). */
  minApplyIntervalMs?: number
  /** Delay after an apply before the table is read back as the reference for drift checks (ms, default 0). */
  fingerprintDelayMs?: number
  /** First retry delay after a failed apply; doubles up to 10 s. */
  retryMs?: number
  interfacePrefixes: readonly string[]
  ipv6: boolean
  tableName?: string
  /** Injected in tests; real nft and routes otherwise. */
  nft?: Pick<Nft, 'apply' | 'prepareStream' | 'list'>
  routes?: RouteReconciler
  /**
   * Reports the transactions on the table: by default an `nft monitor` child, unless `nft` is injected (then none);
   * false for none, so that drift is only found by reading the table back.
   */
  watcher?: TableWatcher | false
  /** How long the watcher may take to report a full apply before applies are read back instead (ms, default 10 s). */
  watchConfirmMs?: number
  /** After a gap in what the watcher saw: first delay before the table is reprogrammed; doubles up to a minute. */
  watchRetryMs?: number
  /** Minimum time between two drift repairs (each replaces the whole table), against a process that keeps changing it. */
  driftRepairIntervalMs?: number
}

/**
 * Quiet time before an apply. Events of one datastore burst arrive within a few milliseconds of each other, and the
 * minimum interval below already bounds the rate under a storm, so this only needs to cover one burst: every
 * millisecond of it is added to the latency of a single change.
 */
const DEFAULT_BATCH_MS = 5
const DEFAULT_MIN_APPLY_INTERVAL_MS = 100
/** The monitor prints every rule of a full apply before its end, which takes a while for a large table. */
const DEFAULT_WATCH_CONFIRM_MS = 10_000
const DEFAULT_WATCH_RETRY_MS = 1000
const WATCH_RETRY_MAX_MS = 60_000
const MAX_UNREPORTED = 256
/**
 * Work done between two turns of the event loop while a snapshot is fed into the calculation (ms). Short enough that
 * nft, parsing the first apply meanwhile, never runs out of input: it parses a 64 KiB pipe's worth in about 7 ms.
 */
const SNAPSHOT_SLICE_MS = 4
/** A single foreign change is repaired at once; one that keeps coming back is repaired this often (ms). */
const DEFAULT_DRIFT_REPAIR_INTERVAL_MS = 5000

export class Dataplane {
  private calc: PolicyCalculator
  private readonly nft: Pick<Nft, 'apply' | 'prepareStream' | 'list'>
  /** The `nft -f` of the first full apply, started with the agent so its start-up is over when the table is ready. */
  private prepared?: PreparedTransaction
  /**
   * Settles once a snapshot's objects that only add IP set members are all fed in. Meanwhile a full apply writes the
   * rest of the table, for nft to parse, and then waits for this before it writes the sets' elements.
   */
  private membershipFed?: Promise<void>
  private readonly routes: RouteReconciler
  private readonly tableName: string
  /** The table as last applied successfully; undefined means the next apply replaces the whole table. */
  private applied?: NftTable
  /** Counts successful applies: a listing is only a valid reference for the generation it was taken in. */
  private generation = 0
  /** `nft -s list` of our table after an apply, to recognise changes made behind our back. */
  /**
   * The table as last read back, as a SHA-256 digest of the listing (undefined: no table): only equality is ever
   * asked of it, and the listing itself is megabytes for a large table that would stay on the heap between checks.
   */
  private fingerprint?: {generation: number; digest: string | undefined}
  private fingerprintTimer?: NodeJS.Timeout
  /** A read-back is running: the next waits for it rather than stacking `nft list` processes. */
  private fingerprintInFlight = false
  /** A read-back is due but waits for the apply in progress or the one in flight. */
  private fingerprintWanted = false
  /** An `nft -f` is in progress: a listing that ends meanwhile may show either side of it. */
  private applying = false
  private readonly watcher?: TableWatcher
  /** Our transactions carry marker chains named with this per-instance prefix and a counter. */
  private readonly markerPrefix = `cali-txn-${randomBytes(3).toString('hex')}-`
  private markerSeq = 0
  /** Markers of our transactions not reported by the watcher yet (in commit order) → whether each replaced the table. */
  private readonly unreported = new Map<string, boolean>()
  /** The watcher reported a full apply of ours and has lost nothing since: it sees every later transaction. */
  private watching = false
  /** Gaps in what the watcher saw since it last counted (lost events, restarts): the backoff of the next repair. */
  private watchGaps = 0
  private watchTimer?: NodeJS.Timeout
  /** A foreign change reported while an apply ran: repaired once it has finished. */
  private driftWhileApplying?: string
  private lastDriftRepairAt = -Infinity
  private driftTimer?: NodeJS.Timeout
  private inSync = false
  private dirty = false
  private routesDirty = false
  /** What routes were last reconciled for (routeKey of the workloads). */
  private routedKey?: string
  private timer?: NodeJS.Timeout
  private running?: Promise<void>
  private lastApplyAt = 0
  private failures = 0
  private stopped = false
  private lastState?: PolicyState
  private firstApplyDone = false
  private readonly startedAt = Date.now()
  /** Host interface → addresses, for host endpoints identified by expectedIPs only. */
  private hostInterfaces = new Map<string, string[]>()

  constructor(private readonly opts: DataplaneOptions) {
    this.calc = new PolicyCalculator(opts.nodeName)
    this.nft = opts.nft ?? new Nft()
    this.tableName = opts.tableName ?? DEFAULT_TABLE_NAME
    this.routes = opts.routes ?? new RouteManager({
      interfacePrefixes: opts.interfacePrefixes,
      ipv6: opts.ipv6,
      onError: (err) => opts.logger.warn(`route update failed (will retry): ${err.message}`),
    })
    // Started now, so that it listens well before the first apply (which it must report to count).
    this.watcher = opts.watcher === false ? undefined : (opts.watcher ?? (opts.nft ? undefined : new NftMonitor({table: this.tableRef})))
    this.startWatcher()
    this.prepared = this.nft.prepareStream()
  }

  private get tableRef(): {family: 'inet'; name: string} {
    return {family: 'inet', name: this.tableName}
  }

  /** Interface prefixes or IPv6 support changed (FelixConfiguration); the next reconcile uses them. */
  setRouteOptions(interfacePrefixes: readonly string[], ipv6: boolean): void {
    this.routes.setOptions({
      interfacePrefixes,
      ipv6,
      onError: (err) => this.opts.logger.warn(`route update failed (will retry): ${err.message}`),
    })
    this.interfacesChanged()
  }

  get ready(): boolean {
    return this.firstApplyDone && this.failures === 0
  }

  /**
   * A complete state from the datastore: replaces everything held so far (Felix's resync). `membership` holds the
   * snapshot's objects that only add members to IP sets (other nodes' endpoints, network sets): when the whole table is
   * to be written, nft already parses the rest of it while they are fed in. Feeding a large snapshot takes a while;
   * every few milliseconds the event loop turns, so that I/O goes on meanwhile (that nft, health probes, monitors).
   */
  async replaceAll(events: Iterable<CalcEvent>, onProblem: (ev: CalcEvent, err: Error) => void, membership: Iterable<CalcEvent> = []): Promise<void> {
    const hostInterfaces = this.hostInterfaces
    const calc = new PolicyCalculator(this.opts.nodeName)
    calc.setHostInterfaces(hostInterfaces)
    // Problems are reported once the whole snapshot is in: a workload endpoint that asks to spoof its source may come
    // before the FelixConfiguration that allows it.
    const failed: CalcEvent[] = []
    await this.feedAll(calc, events, failed)
    // The host's interfaces changed meanwhile (setHostInterfaces updated the calculation being replaced).
    if (this.hostInterfaces !== hostInterfaces) calc.setHostInterfaces(this.hostInterfaces)
    this.calc = calc
    this.inSync = true
    if (this.applied === undefined) {
      let fed = (): void => undefined
      this.membershipFed = new Promise((resolve) => (fed = resolve))
      // A snapshot is complete: nothing to wait for before applying it.
      this.markDirty(0)
      try {
        await this.feedAll(calc, membership, failed)
      } finally {
        this.membershipFed = undefined
        fed()
      }
    } else {
      await this.feedAll(calc, membership, failed)
      this.markDirty(0)
    }
    for (const ev of failed) {
      const problem = this.problemOf(calc, ev)
      if (problem !== undefined) onProblem(ev, new Error(problem))
    }
  }

  /** Feeds events into `calc` in slices of SNAPSHOT_SLICE_MS with event-loop turns between; collects those it rejected. */
  private async feedAll(calc: PolicyCalculator, events: Iterable<CalcEvent>, failed: CalcEvent[]): Promise<void> {
    let sliceEnd = performance.now() + SNAPSHOT_SLICE_MS
    let fed = 0
    for (const ev of events) {
      if (this.feed(calc, ev) !== undefined) failed.push(ev)
      // Reading the clock costs about as much as a small event: only every few events.
      if (++fed % 32 === 0 && performance.now() >= sliceEnd) {
        await setImmediate()
        sliceEnd = performance.now() + SNAPSHOT_SLICE_MS
      }
    }
  }

  update(ev: CalcEvent, onProblem: (ev: CalcEvent, err: Error) => void): void {
    // A configuration change can make other resources unusable (workload endpoints that ask to spoof their source).
    const before = (ev.type === 'set' ? ev.resource.kind : ev.kind) === 'FelixConfiguration' ? new Map(this.calc.problems()) : undefined
    const problem = this.feed(this.calc, ev)
    if (problem !== undefined) onProblem(ev, new Error(problem))
    if (before) {
      const own = problemKey(ev)
      for (const [key, p] of this.calc.problems()) {
        if (key === own || before.get(key) === p) continue
        this.opts.logger.warn(`Skipping ${key}: ${p}`)
        this.opts.metrics.validationFailures.inc()
      }
    }
    if (this.inSync) this.markDirty()
  }

  /** Feeds one event; returns why the calculation could not use the resource it sets, if it could not. */
  private feed(calc: PolicyCalculator, ev: CalcEvent): string | undefined {
    // The calculation treats what it cannot interpret as absent and records why (key `Kind/[ns/]name`).
    calc.update(ev)
    this.opts.metrics.calcUpdates.inc()
    return this.problemOf(calc, ev)
  }

  private problemOf(calc: PolicyCalculator, ev: CalcEvent): string | undefined {
    return ev.type === 'set' ? calc.problems().get(problemKey(ev)) : undefined
  }

  /** The host's interfaces and addresses changed: host endpoints given by expectedIPs may move between interfaces. */
  setHostInterfaces(ifaces: ReadonlyMap<string, readonly string[]>): void {
    const next = new Map([...ifaces].map(([name, addrs]) => [name, [...addrs].sort()]))
    const same = next.size === this.hostInterfaces.size && [...next].every(([k, v]) => JSON.stringify(this.hostInterfaces.get(k)) === JSON.stringify(v))
    if (same) return
    this.hostInterfaces = next
    this.calc.setHostInterfaces(next)
    if (this.inSync) this.markDirty()
  }

  /** Interfaces changed (link monitor) or the route refresh is due: reconcile routes without re-rendering. */
  interfacesChanged(): void {
    this.routesDirty = true
    this.schedule(this.opts.batchMs ?? DEFAULT_BATCH_MS)
  }

  /** Reads the table back; reprograms it completely if someone changed or deleted it. */
  async refresh(): Promise<boolean> {
    if (!this.applied || this.stopped) return false
    await this.running
    if (this.fingerprint?.generation !== this.generation) {
      // No reference for the table as last applied yet (applies kept coming): this listing becomes it.
      await this.takeFingerprint()
      return false
    }
    const generation = this.generation
    const now = await this.nft.list(this.tableRef)
    // An apply in the meantime makes the comparison meaningless; its own read-back follows.
    if (generation !== this.generation || this.applying) return false
    if (now !== undefined && listingDigest(now) === this.fingerprint.digest) return false
    return this.repairDrift(now === undefined ? 'is missing' : 'was changed outside the agent')
  }

  /** Someone else changed the table: replace it whole (what exactly they changed is not known). */
  private repairDrift(what: string): boolean {
    if (this.stopped) return false
    if (this.applying) {
      // The change may have come before our transaction in progress (which then does not undo it): repair after it.
      this.driftWhileApplying = what
      return false
    }
    // Not applied yet, or already due to be replaced whole: that apply repairs it.
    if (!this.applied) return false
    const wait = this.lastDriftRepairAt + (this.opts.driftRepairIntervalMs ?? DEFAULT_DRIFT_REPAIR_INTERVAL_MS) - Date.now()
    if (wait > 0) {
      // Someone keeps changing it: replacing a large table each time would keep nft busy; repair at a bounded rate.
      if (!this.driftTimer) {
        this.opts.logger.warn(`nftables table ${this.tableName} ${what}; changed again within ${this.opts.driftRepairIntervalMs ?? DEFAULT_DRIFT_REPAIR_INTERVAL_MS} ms of the last repair, reprogramming it in ${Math.ceil(wait)} ms`)
        this.driftTimer = setTimeout(() => {
          this.driftTimer = undefined
          this.repairDrift(what)
        }, wait)
      }
      return false
    }
    this.lastDriftRepairAt = Date.now()
    this.opts.logger.warn(`nftables table ${this.tableName} ${what}; reprogramming it`)
    this.opts.metrics.driftRepairs.inc()
    this.applied = undefined
    this.markDirty()
    return true
  }

  private startWatcher(): void {
    this.watcher?.start(this.markerPrefix, {report: (r) => this.watched(r), exit: (reason) => this.watchGap(reason, true)})
  }

  /** One transaction (or a loss) the watcher saw. */
  private watched(r: MonitorReport): void {
    if (this.stopped) return
    if (r.kind === 'lost') {
      this.watchGap('nft monitor lost events (its socket buffer overflowed)', false)
      return
    }
    let ours = false
    for (const marker of r.markers) {
      const full = this.unreported.get(marker)
      if (full === undefined) continue
      ours = true
      // Reports come in commit order: markers before this one were never committed or were lost.
      for (const m of this.unreported.keys()) {
        this.unreported.delete(m)
        if (m === marker) break
      }
      if (full && !this.watching) {
        this.watching = true
        this.watchGaps = 0
        clearTimeout(this.watchTimer)
        // It saw this whole table go in and sees what follows: no read-back needed.
        clearTimeout(this.fingerprintTimer)
        this.fingerprintWanted = false
        this.opts.logger.info(`nft monitor follows table ${this.tableName}: changes by other processes are repaired as they happen`)
      }
    }
    if (!ours && r.touched) this.repairDrift(`was changed outside the agent (nft monitor: generation ${r.generation} by process ${r.process})`)
  }

  /**
   * The watcher may have missed transactions (it lost events, or exited: then it is restarted). Until it reports a
   * full apply of ours again, applies are read back; that full apply comes after a backoff, so a monitor that keeps
   * losing the events of our own full apply does not make it a loop.
   */
  private watchGap(reason: string, restart: boolean): void {
    if (this.stopped) return
    this.watching = false
    this.unreported.clear()
    const retryMs = this.opts.watchRetryMs ?? DEFAULT_WATCH_RETRY_MS
    const delay = Math.min(retryMs * 2 ** this.watchGaps, WATCH_RETRY_MAX_MS)
    this.watchGaps++
    this.opts.logger.warn(`${reason}; ${restart ? 'restarting it and ' : ''}reprogramming table ${this.tableName} in ${delay} ms`)
    clearTimeout(this.watchTimer)
    const reprogram = (): void => {
      this.watchTimer = undefined
      if (this.stopped || !this.applied) return
      this.applied = undefined
      this.markDirty()
    }
    this.watchTimer = setTimeout(() => {
      if (!restart) return reprogram()
      this.startWatcher()
      // A restarted monitor first reads the ruleset, then listens: the full apply it must see comes after that.
      this.watchTimer = setTimeout(reprogram, retryMs)
      this.watchTimer.unref()
    }, delay)
    this.watchTimer.unref()
  }

  private markDirty(delay = this.opts.batchMs ?? DEFAULT_BATCH_MS): void {
    this.dirty = true
    this.schedule(delay)
  }

  private schedule(delay: number): void {
    if (this.stopped || this.timer) return
    const throttle = Math.max(0, this.lastApplyAt + (this.opts.minApplyIntervalMs ?? DEFAULT_MIN_APPLY_INTERVAL_MS) - Date.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.kick()
    }, Math.max(delay, throttle))
  }

  /** Runs one apply at a time; changes that arrive meanwhile are picked up by the next. */
  private async kick(): Promise<void> {
    if (this.running) {
      await this.running
      if (this.dirty || this.routesDirty) this.schedule(0)
      return
    }
    this.running = this.applyOnce()
    try {
      await this.running
    } finally {
      this.running = undefined
      // A read-back that came due while this ran (routes follow the apply) starts now.
      if (this.fingerprintWanted) this.scheduleFingerprint()
    }
  }

  private async applyOnce(): Promise<void> {
    if (this.stopped) return
    if (this.dirty && this.inSync) {
      this.dirty = false
      const ok = await this.applyPolicy()
      if (!ok) {
        this.dirty = true
        const delay = Math.min((this.opts.retryMs ?? 250) * 2 ** (this.failures - 1), 10_000)
        this.schedule(delay)
        this.opts.onApplied?.(false)
        return
      }
      // Routes follow the workloads' interfaces and addresses only: a policy change leaves them, and listing links
      // and routes costs two `ip` processes. Interface changes and the route refresh still reconcile.
      if (routeKey(workloadsOf(this.lastState!)) !== this.routedKey) this.routesDirty = true
      this.opts.onApplied?.(true)
    }
    if (this.routesDirty && this.lastState) {
      this.routesDirty = false
      const workloads = workloadsOf(this.lastState)
      this.routedKey = routeKey(workloads)
      const delta = await this.routes.reconcile(workloads).catch((err: Error) => {
        this.opts.logger.warn(`route reconciliation failed (will retry): ${err.message}`)
        this.routesDirty = true
        this.routedKey = undefined
        return undefined
      })
      if (delta && delta.replace.length + delta.remove.length > 0) {
        this.opts.logger.info(`routes: ${delta.replace.length} programmed, ${delta.remove.length} removed`)
      }
      if (delta?.retryAfterMs !== undefined && !this.stopped) {
        // Unclaimed routes on new interfaces get a grace period; look again once it is over.
        const t = setTimeout(() => this.interfacesChanged(), delta.retryAfterMs)
        t.unref()
      }
    }
  }

  private async applyPolicy(): Promise<boolean> {
    const t0 = performance.now()
    let state = this.calc.state()
    const full = this.applied === undefined
    const membership = full ? this.membershipFed : undefined
    // A whole table is rendered while nft already parses what it has been sent; a delta needs the new table first.
    // While IP set members are still being fed in, it is written with empty sets, and their elements come last.
    const stream = full ? new FullScriptStream(membership ? withoutMembers(state) : state, {tableName: this.tableName}) : undefined
    let table: NftTable | undefined
    let script = ''
    /** Written after the stream: the sets' elements, when they came last. */
    let elementBytes = 0
    if (!stream) {
      table = renderTable(state, {tableName: this.tableName})
      try {
        script = diffTables(this.applied!, table).script
      } catch (err) {
        // The delta cannot express this change (e.g. a base chain's hook); replace the table instead.
        this.opts.logger.info(`delta not possible (${(err as Error).message}); replacing the table`)
        script = renderFullScript(table)
      }
    }
    const tNft = performance.now()
    // Marks the transaction as ours for the watcher; registered first, since it may report the commit before nft exits.
    const marker = this.watcher && (stream || script !== '') ? `${this.markerPrefix}${++this.markerSeq}` : undefined
    const markerText = marker === undefined ? '' : markerScript(this.tableRef, marker)
    if (marker !== undefined) {
      // Bounded, for a watcher that never reports (an nft whose monitor prints differently): the oldest go first.
      if (this.unreported.size >= MAX_UNREPORTED) this.unreported.delete(this.unreported.keys().next().value!)
      this.unreported.set(marker, full)
    }
    try {
      if (stream || script !== '') {
        this.opts.metrics.nftCalls.inc()
        this.applying = true
        if (stream) {
          const tx = this.prepared ?? this.nft.prepareStream()
          this.prepared = undefined
          const chunks = membership ? this.withMembers(stream, membership, (s, t, elements) => ([state, table, elementBytes] = [s, t, elements.length])) : stream
          await tx.apply(withTail(chunks, markerText))
          table ??= stream.table
        } else await this.nft.apply(script + markerText)
      }
    } catch (err) {
      this.applying = false
      // nft commits all or nothing: this transaction will not be reported.
      if (marker !== undefined) this.unreported.delete(marker)
      if (err instanceof TableMoved) {
        // Not a failure: the complete snapshot is in now, and the table is written again from it.
        this.opts.logger.info(`${err.message}; writing the table again`)
        return this.applyPolicy()
      }
      this.driftWhileApplying = undefined
      this.failures++
      this.applied = undefined
      this.opts.metrics.nftErrors.inc()
      this.opts.metrics.dataplaneFailures.inc()
      this.opts.logger.error(`nft transaction failed (attempt ${this.failures}); the kernel keeps its previous rules: ${(err as Error).message}`)
      return false
    }
    this.applying = false
    this.lastApplyAt = Date.now()
    const seconds = (performance.now() - t0) / 1000
    const nftMs = performance.now() - tNft
    if (!this.firstApplyDone) {
      this.firstApplyDone = true
      this.opts.metrics.initialResyncTime.set((Date.now() - this.startedAt) / 1000)
    } else {
      this.opts.metrics.applyTime.observe(seconds)
    }
    this.failures = 0
    this.applied = table!
    this.lastState = state
    this.recordGauges(state, table!)
    const drift = this.driftWhileApplying
    this.driftWhileApplying = undefined
    if (drift !== undefined) this.repairDrift(drift)
    const bytes = stream ? stream.length + elementBytes : script.length
    if (bytes > 0) {
      // Streamed, nft's time includes the rendering it overlapped.
      this.opts.logger.info(`applied ${full ? 'full table' : 'delta'} (${bytes} bytes) in ${(seconds * 1000).toFixed(1)} ms (nft ${nftMs.toFixed(1)} ms)`)
      this.generation++
      this.scheduleFingerprint()
    }
    return true
  }

  /**
   * `stream` (a table rendered with empty sets while IP set members were still being fed in), then, once they are all
   * in, the sets' elements from the complete state (whose state, table and element statements `done` is told). If the
   * complete table differs in anything else (an object was taken for one that only adds members and was not), this
   * throws TableMoved instead: nft is killed before the end of its input, so nothing is committed.
   */
  private async *withMembers(stream: FullScriptStream, membership: Promise<void>, done: (state: PolicyState, table: NftTable, elements: string) => void): AsyncGenerator<string> {
    yield* stream
    await membership
    const state = this.calc.state()
    const table = renderTable(state, {tableName: this.tableName})
    const moved = differenceBesidesElements(stream.table, table)
    if (moved !== undefined) throw new TableMoved(moved)
    const elements = setElementsScript(table)
    done(state, table, elements)
    yield elements
  }

  /**
   * Reads the table back fingerprintDelayMs after the last apply, unless a read-back is running (it follows up), or
   * the watcher sees every transaction (then only the refresh reads it back). While the watcher may yet report a full
   * apply of ours, the read-back waits for that instead.
   */
  private scheduleFingerprint(): void {
    if (this.watching) return
    clearTimeout(this.fingerprintTimer)
    this.fingerprintWanted = true
    if (this.stopped || this.fingerprintInFlight) return
    const awaitingWatcher = [...this.unreported.values()].includes(true)
    const confirmMs = this.opts.watchConfirmMs ?? DEFAULT_WATCH_CONFIRM_MS
    this.fingerprintTimer = setTimeout(() => {
      this.fingerprintTimer = undefined
      if (awaitingWatcher && !this.watching) this.opts.logger.info(`nft monitor has not reported the full apply within ${confirmMs} ms; reading the table back after applies instead`)
      // An nft transaction in progress starts the read-back when its kick completes.
      if (!this.applying) void this.takeFingerprint()
    }, awaitingWatcher ? confirmMs : (this.opts.fingerprintDelayMs ?? 0))
    this.fingerprintTimer.unref()
  }

  /** Lists the table as the drift reference for the current generation, unless an apply overlaps the listing. */
  private async takeFingerprint(): Promise<void> {
    const generation = this.generation
    let listing: string | undefined
    this.fingerprintInFlight = true
    this.fingerprintWanted = false
    try {
      listing = await this.nft.list(this.tableRef)
    } catch (err) {
      this.opts.logger.warn(`reading the table back failed: ${(err as Error).message}`)
      return
    } finally {
      this.fingerprintInFlight = false
    }
    // Route reconciliation may run meanwhile (it does not touch the table); an nft transaction must not.
    if (generation === this.generation && !this.applying) this.fingerprint = {generation, digest: listing === undefined ? undefined : listingDigest(listing)}
    // Applies happened meanwhile: read the newest table back too.
    else if (this.fingerprint?.generation !== this.generation) this.scheduleFingerprint()
  }

  private recordGauges(state: PolicyState, table: NftTable): void {
    const m = this.opts.metrics
    m.activeLocalPolicies.set(state.policies.size)
    m.activeLocalEndpoints.set(state.endpoints.length)
    m.activeLocalSelectors.set(state.ipSets.size)
    m.nftChains.set(table.chains.size)
    m.nftSets.set(table.sets.size)
    let rules = 0
    for (const c of table.chains.values()) rules += c.rules.length
    m.nftRules.set(rules)
  }

  /** Waits for work in progress and stops; the kernel keeps whatever was last applied. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.fingerprintTimer)
    clearTimeout(this.watchTimer)
    clearTimeout(this.driftTimer)
    this.watcher?.stop()
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    await this.running
    // Never applied (stopped before the first snapshot): its nft goes without committing anything.
    await this.prepared?.cancel()
    this.prepared = undefined
  }

  problems(): ReadonlyMap<string, string> {
    return this.calc.problems()
  }
}

/** The calculator's key for the resource of an event (`Kind/[ns/]name`). */
function problemKey(ev: CalcEvent): string {
  const [kind, name, ns] = ev.type === 'set' ? [ev.resource.kind, ev.resource.metadata.name ?? '', ev.resource.metadata.namespace] : [ev.kind, ev.name, ev.namespace]
  return ns ? `${kind}/${ns}/${name}` : `${kind}/${name}`
}

function workloadsOf(state: PolicyState): LocalEndpoint[] {
  return state.endpoints.filter((e) => e.kind === 'workload')
}

/** The part of the workloads that routes and interface settings depend on. */
function routeKey(workloads: readonly WorkloadRouteInput[]): string {
  return workloads.map((w) => `${w.iface}=${w.ipv4Nets.join(',')};${w.ipv6Nets.join(',')}${spoofs(w) ? ';spoof' : ''}`).join(' ')
}

/** `chunks`, then `tail`. */
async function* withTail(chunks: Iterable<string> | AsyncIterable<string>, tail: string): AsyncGenerator<string> {
  yield* chunks
  if (tail !== '') yield tail
}

/** A full apply's table came out different once the whole snapshot was in (withMembers). */
class TableMoved extends Error {
  constructor(what: string) {
    super(`the complete snapshot changed ${what} of the table being written`)
  }
}

/** The state with every IP set empty: the table it renders differs only in set elements. */
function withoutMembers(state: PolicyState): PolicyState {
  return {...state, ipSets: new Map([...state.ipSets].map(([id, set]) => [id, {...set, members: []}]))}
}

/** What besides set elements differs between two tables (undefined: nothing). */
function differenceBesidesElements(a: NftTable, b: NftTable): string | undefined {
  if (a.chains.size !== b.chains.size || a.maps.size !== b.maps.size || a.sets.size !== b.sets.size) return 'the number of chains, maps or sets'
  for (const [name, c] of b.chains) {
    const o = a.chains.get(name)
    if (!o || JSON.stringify(o.base) !== JSON.stringify(c.base)) return `chain ${name}`
    // Renders share the rule arrays of whatever did not change; the rest is compared as text.
    if (o.rules !== c.rules && (o.rules.length !== c.rules.length || o.rules.some((r, i) => ruleText(r) !== ruleText(c.rules[i]!)))) return `chain ${name}`
  }
  for (const [name, m] of b.maps) {
    const o = a.maps.get(name)
    if (!o || o.elements.size !== m.elements.size || [...m.elements].some(([k, v]) => o.elements.get(k) !== v)) return `map ${name}`
  }
  for (const [name, s] of b.sets) {
    const o = a.sets.get(name)
    if (!o || o.kind !== s.kind || o.family !== s.family) return `set ${name}`
  }
  return undefined
}

/** Digest of a table listing, so a read-back can be compared without keeping the listing. */
function listingDigest(listing: string): string {
  return createHash('sha256').update(listing).digest('hex')
}
