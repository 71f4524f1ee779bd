// Keeps the kernel's workload routes and per-interface sysctls in line with the local endpoints: Felix's endpoint
// manager's routing half. Called after every policy apply and on the route refresh interval.
import {deleteDeviceRoute, listLinks, listRoutes, replaceDeviceRoute, type LinkInfo} from '../linux/iproute.js'
import {ensureSysctl, readSysctl} from '../linux/sysctl.js'
import {interfaceSysctls} from './interface-sysctls.js'
import {DEVICE_ROUTE_PROTOCOL, desiredRoutes, isWorkloadInterface, routeDelta, spoofs, type RouteDelta, type WorkloadRouteInput} from './workload-routes.js'

export interface RouteManagerOptions {
  interfacePrefixes: readonly string[]
  ipv6: boolean
  /** Told about each failed kernel write (the next reconcile retries it). */
  onError?: (err: Error) => void
  /**
   * A route through a workload interface that no endpoint claims is only removed once the interface has existed
   * this long: the CNI plugin adds the route before the agent has seen the pod's WorkloadEndpoint (default 10 s).
   */
  staleRouteGraceMs?: number
}

export interface ReconcileResult extends RouteDelta {
  /** Stale routes kept for now because their interface is new; reconcile again after `retryAfterMs`. */
  deferred: number
  retryAfterMs?: number
}

/** What the agent needs from a route manager (tests substitute their own). */
export interface RouteReconciler {
  reconcile(endpoints: readonly WorkloadRouteInput[]): Promise<ReconcileResult>
  setOptions(opts: RouteManagerOptions): void
}

export class RouteManager implements RouteReconciler {
  /**
   * Interface index → what its sysctls were set for (name, and whether its workload spoofs), for interfaces already
   * configured: a recreated veth gets a new index, and a workload that starts or stops spoofing another rp_filter.
   */
  private configured = new Map<number, string>()
  /** `net.ipv4.conf.default.rp_filter` as first seen: what a non-spoofing interface gets back (Felix reads it at start). */
  private defaultRPFilter?: string
  /** Interface index → when this manager first saw it. */
  private firstSeen = new Map<number, number>()

  constructor(private opts: RouteManagerOptions) {}

  setOptions(opts: RouteManagerOptions): void {
    this.opts = opts
  }

  /** Brings routes (and the interface settings they depend on) in line with `endpoints`; returns what it changed. */
  async reconcile(endpoints: readonly WorkloadRouteInput[]): Promise<ReconcileResult> {
    const links = await listLinks()
    const ours = links.filter((l) => isWorkloadInterface(l.name, this.opts.interfacePrefixes))
    const now = Date.now()
    const present = new Set(ours.map((l) => l.index))
    for (const idx of [...this.firstSeen.keys()]) if (!present.has(idx)) this.firstSeen.delete(idx)
    for (const l of ours) if (!this.firstSeen.has(l.index)) this.firstSeen.set(l.index, now)
    const ageOf = new Map(ours.map((l) => [l.name, now - this.firstSeen.get(l.index)!]))
    await this.configureInterfaces(ours, new Set(endpoints.filter(spoofs).map((e) => e.iface)))
    const up = new Set(ours.filter((l) => l.up).map((l) => l.name))
    const families: (4 | 6)[] = this.opts.ipv6 ? [4, 6] : [4]
    const kernel = (await Promise.all(families.map((f) => listRoutes(f)))).flat()
    const wanted = desiredRoutes(endpoints, up).filter((r) => families.includes(r.family))
    const full = routeDelta(wanted, kernel, this.opts.interfacePrefixes)
    const grace = this.opts.staleRouteGraceMs ?? 10_000
    // Routes through interfaces that are gone vanish with them; only young interfaces' routes wait.
    const young = (dev: string): boolean => (ageOf.get(dev) ?? Infinity) < grace
    const remove = full.remove.filter((r) => !young(r.dev))
    const kept = full.remove.filter((r) => young(r.dev))
    for (const r of remove) await this.attempt(() => deleteDeviceRoute(r.family, r.dst, r.dev))
    for (const r of full.replace) await this.attempt(() => replaceDeviceRoute(r.family, r.dst, r.dev, DEVICE_ROUTE_PROTOCOL))
    const result: ReconcileResult = {replace: full.replace, remove, deferred: kept.length}
    if (kept.length > 0) result.retryAfterMs = Math.max(...kept.map((r) => grace - ageOf.get(r.dev)!)) + 50
    return result
  }

  /** Felix's per-interface settings (interface-sysctls.ts); `spoofing`: interfaces whose workload may spoof. */
  private async configureInterfaces(links: readonly LinkInfo[], spoofing: ReadonlySet<string>): Promise<void> {
    const present = new Set(links.map((l) => l.index))
    for (const idx of [...this.configured.keys()]) if (!present.has(idx)) this.configured.delete(idx)
    if (links.length === 0) return
    // Unreadable (no IPv4 in this kernel): Felix assumes strict.
    this.defaultRPFilter ??= (await readSysctl(['net', 'ipv4', 'conf', 'default', 'rp_filter'])) ?? '1'
    for (const l of links) {
      const spoof = spoofing.has(l.name)
      const state = spoof ? `${l.name} spoofing` : l.name
      if (this.configured.get(l.index) === state) continue
      const ok = await this.attempt(async () => {
        // With IPv6 disabled on the interface (or in the kernel) its IPv6 files do not exist: nothing to set there.
        const ipv6Present = (await readSysctl(['net', 'ipv6', 'conf', l.name, 'forwarding'])) !== undefined
        const settings = interfaceSysctls(l.name, {ipv6Present, ipv6Enabled: this.opts.ipv6, defaultRPFilter: this.defaultRPFilter!, spoofing: spoof})
        for (const s of settings) await ensureSysctl(s.path, s.value)
      })
      if (ok) this.configured.set(l.index, state)
    }
  }

  private async attempt(fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn()
      return true
    } catch (err) {
      this.opts.onError?.(err as Error)
      return false
    }
  }
}
