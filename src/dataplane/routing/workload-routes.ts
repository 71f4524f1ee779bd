// Which routes the host should have to its local workloads (Felix's endpoint manager, felix-dataplane.md §4.1),
// and the minimal change from what the kernel has. Pure: the route manager does the I/O.

/** Felix's DeviceRouteProtocol default: routes to workloads are written with `proto boot` (3). */
export const DEVICE_ROUTE_PROTOCOL = 3

export interface WorkloadRouteInput {
  iface: string
  ipv4Nets: readonly string[]
  ipv6Nets: readonly string[]
  /** Source prefixes the workload may send from besides its own addresses (already gated by WorkloadSourceSpoofing). */
  allowSpoofedSourcePrefixes?: readonly string[]
}

/** Whether the workload may send from addresses that are not its own. */
export function spoofs(w: WorkloadRouteInput): boolean {
  return (w.allowSpoofedSourcePrefixes?.length ?? 0) > 0
}

export interface DeviceRoute {
  family: 4 | 6
  dst: string
  dev: string
}

export interface KernelRoute {
  family: 4 | 6
  dst: string
  dev?: string
  /** iproute2's protocol name (`kernel`, `boot`, ...) or number. */
  protocol?: string
}

/** Routes the kernel maintains by itself on every link (IPv6 link-local and multicast): never ours to remove. */
function kernelManaged(r: KernelRoute): boolean {
  if (r.protocol === 'kernel') return true
  return r.family === 6 && /^(fe[89ab][0-9a-f]|ff[0-9a-f]{2}):/i.test(r.dst)
}

export interface RouteDelta {
  /** Routes to add or retarget (written with `ip route replace`). */
  replace: DeviceRoute[]
  /** Routes through our interfaces that no workload wants any more. */
  remove: DeviceRoute[]
}

/** True for interfaces the agent owns: names starting with one of the workload interface prefixes (`cali`). */
export function isWorkloadInterface(name: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => p !== '' && name.startsWith(p))
}

const routeId = (r: {family: number; dst: string}): string => `${r.family} ${r.dst}`

/**
 * One route per workload address, only through interfaces that are up (Felix programs routes on oper-up only, so a
 * down interface's traffic is not blackholed by a stale route). Two endpoints claiming one address: the first
 * interface in name order wins, so the outcome does not depend on event order.
 */
export function desiredRoutes(endpoints: readonly WorkloadRouteInput[], upInterfaces: ReadonlySet<string>): DeviceRoute[] {
  const byDst = new Map<string, DeviceRoute>()
  const sorted = [...endpoints].sort((a, b) => (a.iface < b.iface ? -1 : a.iface > b.iface ? 1 : 0))
  for (const ep of sorted) {
    if (!upInterfaces.has(ep.iface)) continue
    for (const [family, nets] of [[4, ep.ipv4Nets], [6, ep.ipv6Nets]] as const) {
      for (const dst of nets) {
        const r: DeviceRoute = {family, dst, dev: ep.iface}
        if (!byDst.has(routeId(r))) byDst.set(routeId(r), r)
      }
    }
  }
  return [...byDst.values()]
}

/**
 * Delta from the kernel's routes to the desired ones. Only routes through workload interfaces are ever removed
 * (routes through any other device belong to someone else), and never the kernel's own link routes.
 */
export function routeDelta(desired: readonly DeviceRoute[], kernel: readonly KernelRoute[], prefixes: readonly string[]): RouteDelta {
  const have = new Map<string, KernelRoute>()
  for (const r of kernel) have.set(routeId(r), r)
  const want = new Map(desired.map((r) => [routeId(r), r]))
  const replace = desired.filter((r) => have.get(routeId(r))?.dev !== r.dev)
  const remove: DeviceRoute[] = []
  for (const r of kernel) {
    if (r.dev === undefined || !isWorkloadInterface(r.dev, prefixes) || kernelManaged(r)) continue
    const w = want.get(routeId(r))
    // A route to a wanted destination on the wrong device is fixed by `replace`, which overwrites it.
    if (w === undefined) remove.push({family: r.family, dst: r.dst, dev: r.dev})
  }
  return {replace, remove}
}
