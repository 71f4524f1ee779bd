// The node agent's lifecycle (`calicoctl node run`): register the Node, read this node's FelixConfiguration,
// serve health and metrics, then follow the datastore (snapshot, then changes) into the dataplane and the VXLAN
// overlay (this node's tunnel address, the kernel's vxlan.calico and routes to other nodes) until the signal aborts.
// Stopping leaves the kernel's rules exactly as last programmed: enforcement outlives the process.
import type {CalcEvent} from '../dataplane/calc/index.js'
import {monitorLinks} from '../dataplane/linux/iproute.js'
import {isVxlanKind, VXLAN_KINDS, VxlanManager, type VxlanItem} from '../dataplane/routing/vxlan-manager.js'
import type {VxlanFelixConfig} from '../dataplane/routing/vxlan.js'
import {ensureSysctl} from '../dataplane/linux/sysctl.js'
import type {Backend, Key, KVPair} from '../datastore/backend.js'
import {watchForever} from '../datastore/sync.js'
import {Dataplane} from './dataplane.js'
import {HealthAggregator} from './health.js'
import {hostInterfaces} from './host.js'
import {HttpServers, healthRoutes, metricsRoutes, type Endpoint} from './http.js'
import type {AgentLogger} from './log.js'
import {AgentMetrics} from './metrics.js'
import {keepVxlanTunnel, registerNode, type NodeRegistration} from './registration.js'
import {agentKinds, CheckMemo, checkStoredValue, checkVxlanValue, deletion, keyText, OverlayCalcFeed} from './resources.js'
import {agentSettingsFrom, felixConfigNames, type AgentFelixConfig, type AgentSettings} from './settings.js'
import {sleep} from '../lib/sleep.js'
import {setFlagsFromString} from 'node:v8'

export interface AgentOptions {
  backend: Backend
  registration: NodeRegistration
  logger: AgentLogger
  /** Aborting stops the agent (SIGTERM/SIGINT in `node run`). */
  signal: AbortSignal
  /** Told the bound health/metrics endpoints once listening (tests use port 0). */
  onListening?: (endpoints: Endpoint[]) => void
}

const STARTUP = 'FelixStartup'
const CALC = 'CalculationGraph'
const DATAPLANE = 'InternalDataplaneMainLoop'
/** The main loop reports every 10 s; Felix's DataplaneWatchdogTimeout is 90 s. */
const REPORT_INTERVAL_MS = 10_000
const DATAPLANE_TIMEOUT_MS = 90_000

/** Retries `fn` with backoff until it succeeds or the signal aborts (the datastore may come up after the agent). */
async function untilDone<T>(what: string, fn: () => Promise<T>, opts: AgentOptions): Promise<T | undefined> {
  let delay = 500
  while (!opts.signal.aborted) {
    try {
      return await fn()
    } catch (err) {
      opts.logger.warn(`${what} failed, retrying in ${delay} ms: ${(err as Error).message}`)
      await sleep(delay, opts.signal)
      delay = Math.min(delay * 2, 10_000)
    }
  }
  return undefined
}

/**
 * Keeps V8's young generation from growing further: its semi-spaces are at 4 MiB when start-up begins, and the burst
 * (every stored object validated and indexed, the whole table rendered) would grow them to V8's 32 MiB limit, which V8
 * then keeps resident for the life of the process. Measured (10,000 endpoints): letting them grow cuts start-up
 * scavenges from ~85 to ~20, but the agent's resident memory then peaks at ~149 MiB instead of 126 MiB, over the
 * 150 MB the issue allows; pinning them at 8 MiB peaks as high. Unlike the maximum size, which V8 only reads at start
 * (--max-semi-space-size has to be on node's command line), the growth factor is read whenever the space would grow,
 * so setting it here takes effect.
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1')
}

/**
 * Whether a stored object can only add members to IP sets: network sets, and other nodes' endpoints (judged from the
 * stored value before validation; a wrong guess costs time, not correctness: Dataplane.replaceAll checks the table).
 */
function onlyMembers(kv: KVPair, nodeName: string): boolean {
  if (kv.key.kind === 'NetworkSet' || kv.key.kind === 'GlobalNetworkSet') return true
  if (kv.key.kind !== 'WorkloadEndpoint' && kv.key.kind !== 'HostEndpoint') return false
  const node = (kv.value as {spec?: {node?: unknown}} | null | undefined)?.spec?.node
  return typeof node === 'string' && node !== nodeName
}

/** The snapshot's events from the overlay's kinds (IP pools, Nodes), then the rest. */
function* withOverlay(overlay: readonly CalcEvent[], rest: Iterable<CalcEvent>): Iterable<CalcEvent> {
  yield* overlay
  yield* rest
}

export async function runAgent(opts: AgentOptions): Promise<void> {
  const {backend, logger, signal} = opts
  // Before the flag: a V8 flag changed at run time makes V8 reject every code cache loaded later (the etcd client's).
  await backend.preload?.()
  keepYoungGenerationSmall()
  const nodeName = opts.registration.name
  const metrics = new AgentMetrics()
  const health = new HealthAggregator()
  health.register({name: STARTUP, timeoutMs: 0})
  health.register({name: CALC, timeoutMs: 0})
  health.register({name: DATAPLANE, timeoutMs: DATAPLANE_TIMEOUT_MS})
  metrics.resyncState.set(1)

  logger.info(`Starting the node agent for node ${nodeName}`)
  const node = await untilDone('registering the Node resource', () => registerNode(backend, opts.registration), opts)
  if (!node) return
  logger.info(`Node ${nodeName} registered: ${JSON.stringify(node.spec?.bgp ?? {})}`)

  // Configuration first, so health and metrics listen where the cluster says before the (possibly long) resync.
  const felixConfigs = new Map<string, AgentFelixConfig & VxlanFelixConfig>()
  const configNames = felixConfigNames(nodeName)
  await untilDone('reading FelixConfiguration', async () => {
    for (const name of configNames) {
      const kv = await backend.list<{spec?: AgentFelixConfig}>({kind: 'FelixConfiguration', namePrefix: name})
      for (const item of kv.items) if (item.key.name === name) felixConfigs.set(name, item.value.spec ?? ({} as AgentFelixConfig))
    }
  }, opts)
  if (signal.aborted) return
  const configsNow = (): (AgentFelixConfig & VxlanFelixConfig)[] => configNames.flatMap((n) => (felixConfigs.has(n) ? [felixConfigs.get(n)!] : []))
  const settingsNow = (): AgentSettings => agentSettingsFrom(configsNow())
  let settings = settingsNow()

  for (const [parts, value] of [[['net', 'ipv4', 'ip_forward'], '1'], [['net', 'ipv6', 'conf', 'all', 'forwarding'], '1']] as const) {
    if (parts[1] === 'ipv6' && !settings.ipv6Support) continue
    await ensureSysctl(parts, value).catch((err: Error) => logger.warn(`cannot set ${parts.join('.')}=${value}: ${err.message}`))
  }

  const servers = new HttpServers()
  const startServers = async (): Promise<void> => {
    const bindings: {endpoint: Endpoint; routes: ReturnType<typeof healthRoutes>}[] = []
    if (settings.healthEnabled) bindings.push({endpoint: {host: settings.healthHost, port: settings.healthPort}, routes: healthRoutes(health)})
    if (settings.metricsEnabled) bindings.push({endpoint: {host: settings.metricsHost, port: settings.metricsPort}, routes: metricsRoutes(metrics)})
    try {
      const bound = await servers.start(bindings)
      for (const b of bound) logger.info(`listening on ${b.host || '*'}:${b.port}`)
      opts.onListening?.(bound)
    } catch (err) {
      logger.error(`cannot start the health/metrics server: ${(err as Error).message}`)
    }
  }
  await startServers()
  health.report(STARTUP, {live: true, ready: true})

  /** Invalid stored values already reported, by key and revision. */
  const reported = new Set<string>()
  // The VXLAN overlay: this node's tunnel address (kept as calico/node's allocator keeps it) and the kernel's side.
  const tunnel = keepVxlanTunnel(backend, nodeName, logger, signal)
  let firstApplied = (): void => undefined
  const vxlan = new VxlanManager({
    nodeName,
    onError: (err) => logger.warn(`VXLAN update failed (will retry): ${err.message}`),
    onChanged: (what) => logger.info(what),
    // Policy first: the overlay's kernel work starts once the first policy apply has been tried, as workload routes
    // follow applies (it took ~25 ms from an empty store's first apply when both ran together).
    startAfter: new Promise((resolve) => (firstApplied = resolve)),
  })
  /** What of this node's Node the tunnel address depends on, as last seen. */
  let tunnelInputs: string | undefined
  const vxlanItem = (key: Key & {kind: VxlanItem['kind']}, value: unknown, revision: string): VxlanItem => {
    if (value === undefined) return {kind: key.kind, name: key.name}
    const checked = checkVxlanValue(key, value)
    if (checked.ok) return checked.item
    const id = `${keyText(key)}@${revision}`
    if (!reported.has(id)) {
      reported.add(id)
      logger.warn(`Validation failed for ${keyText(key)}; treating it as deleted: ${checked.reason}`)
      metrics.validationFailures.inc()
    }
    return {kind: key.kind, name: key.name}
  }
  /** Pool changes, or this Node's tunnel fields or labels changing, may change the tunnel address it needs. */
  const tunnelMayChange = (item: VxlanItem): boolean => {
    if (item.kind === 'IPPool') return true
    if (item.kind !== 'Node' || item.name !== nodeName) return false
    const n = item.value as {metadata?: {labels?: unknown}; spec?: {ipv4VXLANTunnelAddr?: string; vxlanTunnelMACAddr?: string}} | undefined
    const inputs = JSON.stringify([n?.spec?.ipv4VXLANTunnelAddr, n?.spec?.vxlanTunnelMACAddr, n?.metadata?.labels])
    const changed = inputs !== tunnelInputs
    tunnelInputs = inputs
    return changed
  }

  const overlayFeed = new OverlayCalcFeed()

  let started = false
  const dataplane = new Dataplane({
    nodeName,
    logger,
    metrics,
    interfacePrefixes: settings.interfacePrefixes,
    ipv6: settings.ipv6Support,
    onApplied: (ok) => {
      firstApplied()
      const ready = ok && dataplane.ready
      if (ready && !started) logger.info('Calico node started successfully')
      started ||= ready
      health.report(DATAPLANE, {live: true, ready})
    },
  })
  const reportLoop = setInterval(() => health.report(DATAPLANE, {live: true, ready: dataplane.ready}), REPORT_INTERVAL_MS)
  const readInterfaces = (): void => {
    dataplane.setHostInterfaces(new Map(hostInterfaces().map((i) => [i.name, i.addresses.map((a) => a.address)])))
    dataplane.interfacesChanged()
    vxlan.refresh()
  }
  readInterfaces()
  const monitor = monitorLinks(readInterfaces)
  let nftTimer: NodeJS.Timeout | undefined
  let routeTimer: NodeJS.Timeout | undefined
  const startTimers = (): void => {
    clearInterval(nftTimer)
    clearInterval(routeTimer)
    if (Number.isFinite(settings.nftRefreshMs)) {
      nftTimer = setInterval(() => void dataplane.refresh().catch((err: Error) => logger.warn(`refresh failed: ${err.message}`)), settings.nftRefreshMs)
    }
    if (Number.isFinite(settings.routeRefreshMs)) routeTimer = setInterval(readInterfaces, settings.routeRefreshMs)
  }
  startTimers()

  const onProblem = (ev: CalcEvent, err: Error): void => {
    const name = ev.type === 'set' ? `${ev.resource.kind}(${ev.resource.metadata.namespace ? ev.resource.metadata.namespace + '/' : ''}${ev.resource.metadata.name})` : ev.name
    logger.warn(`Skipping ${name}: ${err.message}`)
    metrics.validationFailures.inc()
  }
  /** Validates one stored value; an invalid one is logged (once per revision) and becomes a deletion. */
  const toEvent = (key: Key, value: unknown, revision: string, memo?: CheckMemo): CalcEvent => {
    const checked = checkStoredValue(key, value, memo)
    if (checked.ok) return {type: 'set', resource: checked.resource}
    if (checked.silent) return deletion(key)
    const id = `${keyText(key)}@${revision}`
    if (!reported.has(id)) {
      reported.add(id)
      logger.warn(`Validation failed for ${keyText(key)}; treating it as deleted: ${checked.reason}`)
      metrics.validationFailures.inc()
    }
    return deletion(key)
  }
  const configChanged = async (): Promise<void> => {
    vxlan.setConfig(configsNow())
    const next = settingsNow()
    const prev = settings
    settings = next
    const endpointsOf = (s: AgentSettings): string => JSON.stringify([s.healthEnabled, s.healthHost, s.healthPort, s.metricsEnabled, s.metricsHost, s.metricsPort])
    if (endpointsOf(prev) !== endpointsOf(next)) {
      logger.info('health/metrics configuration changed; rebinding')
      await servers.close()
      await startServers()
    }
    if (prev.nftRefreshMs !== next.nftRefreshMs || prev.routeRefreshMs !== next.routeRefreshMs) startTimers()
    if (JSON.stringify(prev.interfacePrefixes) !== JSON.stringify(next.interfacePrefixes) || prev.ipv6Support !== next.ipv6Support) {
      dataplane.setRouteOptions(next.interfacePrefixes, next.ipv6Support)
    }
  }
  const trackConfig = (key: Key, ev: CalcEvent): boolean => {
    if (key.kind !== 'FelixConfiguration' || !configNames.includes(key.name)) return false
    if (ev.type === 'set') felixConfigs.set(key.name, (ev.resource.spec ?? {}) as AgentFelixConfig & VxlanFelixConfig)
    else felixConfigs.delete(key.name)
    return true
  }

  try {
    for await (const ev of watchForever(backend, {
      kinds: [...agentKinds(backend.type), ...VXLAN_KINDS],
      signal,
      onError: (err) => {
        logger.warn(`datastore: ${err.message}; enforcement stays as programmed while reconnecting`)
        metrics.resyncState.set(1)
      },
    })) {
      if (ev.type === 'snapshot') {
        const {items} = ev
        const count = items.length
        metrics.resyncsStarted.inc()
        logger.info(`datastore snapshot received: ${count} objects; validating`)
        // Configuration first: the calculation runs with the settings (and servers) the snapshot says.
        felixConfigs.clear()
        for (const kv of items) if (kv.key.kind === 'FelixConfiguration') trackConfig(kv.key, toEvent(kv.key, kv.value, kv.revision))
        await configChanged()
        const t0 = performance.now()
        // Each stored object is validated as the calculation takes it and then let go, so the raw listing and the
        // decoded objects are never all held at once (they are most of the start-up's peak memory).
        const memo = new CheckMemo()
        const validated = (list: KVPair[]): Iterable<CalcEvent> => {
          list.reverse()
          return (function* () {
            for (let kv = list.pop(); kv; kv = list.pop()) yield toEvent(kv.key, kv.value, kv.revision, memo)
          })()
        }
        const members: KVPair[] = []
        const rest: KVPair[] = []
        const overlay: VxlanItem[] = []
        /** IP pools and Nodes, checked once for the overlay, also feed the calculation (natOutgoing, VXLAN hosts). */
        const overlayEvents: CalcEvent[] = []
        overlayFeed.reset()
        for (const kv of items.splice(0)) {
          if (isVxlanKind(kv.key.kind)) {
            const item = vxlanItem({...kv.key, kind: kv.key.kind}, kv.value, kv.revision)
            overlay.push(item)
            const calcEvent = overlayFeed.event(item)
            if (calcEvent) overlayEvents.push(calcEvent)
          } else (onlyMembers(kv, nodeName) ? members : rest).push(kv)
        }
        tunnelInputs = undefined
        for (const item of overlay) tunnelMayChange(item)
        vxlan.replaceAll(overlay)
        tunnel.request()
        await dataplane.replaceAll(withOverlay(overlayEvents, validated(rest)), onProblem, validated(members))
        logger.info(`datastore in sync: ${count} objects at revision ${ev.revision} (validation and calculation ${(performance.now() - t0).toFixed(0)} ms)`)
        metrics.resyncState.set(3)
        health.report(CALC, {live: true, ready: true})
        continue
      }
      const kind = ev.key.kind
      if (isVxlanKind(kind)) {
        const item = vxlanItem({...ev.key, kind}, ev.type === 'deleted' ? undefined : ev.value, ev.revision)
        vxlan.update(item)
        if (tunnelMayChange(item)) tunnel.request()
        const calcEvent = overlayFeed.event(item)
        if (calcEvent) dataplane.update(calcEvent, onProblem)
        continue
      }
      const calcEvent = ev.type === 'deleted' ? deletion(ev.key) : toEvent(ev.key, ev.value, ev.revision)
      if (trackConfig(ev.key, calcEvent)) await configChanged()
      dataplane.update(calcEvent, onProblem)
    }
  } finally {
    logger.info('Stopping the node agent; the programmed rules stay in place')
    clearInterval(reportLoop)
    clearInterval(nftTimer)
    clearInterval(routeTimer)
    monitor.kill()
    await vxlan.stop()
    await tunnel.stop()
    await dataplane.stop()
    await servers.close()
  }
}
