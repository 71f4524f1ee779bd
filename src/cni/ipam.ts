// calico-ipam: address assignment for one container over Calico IPAM (cni-plugin/pkg/ipamplugin). The
// `calico` plugin calls these in-process; the `calico-ipam` binary wraps them in the IPAM plugin protocol.
import {ResourceDoesNotExistError} from '../api/errors.js'
import {goTimeString} from '../api/gotime.js'
import type {Resource} from '../api/resource.js'
import type {Backend} from '../datastore/backend.js'
import {AutoAssignError, IPAMClient, MaxRetriesError, partialFulfillmentError} from '../ipam/index.js'
import type {AutoAssignResult, IPAMAssignments} from '../ipam/index.js'
import type {NetConf} from './config.js'
import {acquireIPAMLock} from './ipam-lock.js'
import {CNI_CODES, CniError} from './errors.js'
import type {Logger} from './log.js'
import type {WorkloadIdentifiers} from './names.js'
import type {CniIPConfig} from './result.js'

export interface IpamRequest {
  conf: NetConf
  ids: WorkloadIdentifiers
  handleID: string
  /** Specific addresses instead of auto-assignment (CNI_ARGS `IP=`, or the pod's `ipAddrs` annotation). */
  requestedIPs?: readonly string[]
  /** The pod's namespace labels, for IP pools' namespaceSelector (absent: no labels). */
  namespaceLabels?: Record<string, string>
  now?: Date
}

/** The owner attributes Calico stores with each allocation. */
export function allocationAttrs(ids: WorkloadIdentifiers, now: Date): Record<string, string> {
  const attrs: Record<string, string> = {node: ids.node, timestamp: goTimeString(now)}
  if (ids.pod !== '') {
    attrs.pod = ids.pod
    attrs.namespace = ids.namespace
  }
  return attrs
}

/** Pool names or CIDRs from `ipv4_pools`/`ipv6_pools` as CIDRs (utils.ResolvePools). */
export function resolvePools(requested: readonly string[], pools: readonly Resource[], v4: boolean): string[] {
  return requested.map((p) => {
    let cidr = p.includes('/') ? p : undefined
    if (cidr === undefined) {
      const pool = pools.find((x) => x.metadata.name === p)
      const spec = (pool?.spec ?? {}) as {cidr?: unknown}
      if (typeof spec.cidr !== 'string') throw new CniError(CNI_CODES.internal, `error parsing pool "${p}": invalid CIDR address: ${p}`)
      cidr = spec.cidr
    }
    const isV6 = cidr.includes(':')
    if (v4 && isV6) throw new CniError(CNI_CODES.internal, `"${cidr.split('/')[0]}" isn't a IPv4 address`)
    if (!v4 && !isV6) throw new CniError(CNI_CODES.internal, `"${cidr.split('/')[0]}" isn't a IPv6 address`)
    return cidr
  })
}

/** Releases whatever a failed assignment left assigned; the original failure is what the caller reports. */
async function releaseAssigned(ipam: IPAMClient, log: Logger, ...sets: (IPAMAssignments | undefined)[]): Promise<void> {
  await releaseIPs(ipam, log, sets.flatMap((s) => s?.ips ?? []))
}

async function releaseIPs(ipam: IPAMClient, log: Logger, ips: readonly string[]): Promise<void> {
  const addresses = ips.map((ip) => ({address: ip.split('/')[0] ?? ip}))
  if (addresses.length === 0) return
  try {
    await ipam.releaseIPs(addresses)
  } catch (err) {
    log.error('releasing partially assigned addresses failed', {addresses: addresses.map((a) => a.address), error: String(err)})
  }
}

/** Calico's IPAM failures that only mean "busy": the runtime should retry the ADD. */
function ipamFailure(err: unknown): CniError {
  if (err instanceof CniError) return err
  const cause = err instanceof AutoAssignError ? err.cause : err
  if (cause instanceof MaxRetriesError) return new CniError(CNI_CODES.tryAgainLater, cause.message)
  return new CniError(CNI_CODES.internal, cause instanceof Error ? cause.message : String(cause))
}

/**
 * Assigns the container's addresses (one IPv4 and/or one IPv6, or the CNI_ARGS `IP=`), returning them as
 * `ip/<block prefix>` the way IPAM hands them out. Nothing stays assigned when this throws.
 */
export async function ipamAdd(backend: Backend, req: IpamRequest, log: Logger): Promise<CniIPConfig[]> {
  const lock = await acquireIPAMLock()
  if (!lock.acquired) log.warning('proceeding without the host IPAM lock')
  try {
    return await assign(backend, req, log)
  } finally {
    await lock.unlock()
  }
}

async function assign(backend: Backend, req: IpamRequest, log: Logger): Promise<CniIPConfig[]> {
  const ipam = new IPAMClient(backend)
  const attrs = allocationAttrs(req.ids, req.now ?? new Date())
  const {conf} = req
  if (req.requestedIPs !== undefined) {
    const assigned: string[] = []
    try {
      for (const ip of req.requestedIPs) {
        await ipam.assignIP({ip, handleID: req.handleID, attrs, hostname: req.ids.node, intendedUse: 'Workload'})
        assigned.push(ip)
      }
    } catch (err) {
      await releaseIPs(ipam, log, assigned)
      throw ipamFailure(err)
    }
    return assigned.map((ip) => ({address: `${ip}/${ip.includes(':') ? 128 : 32}`}))
  }
  const num4 = conf.ipam.assignIPv4 ? 1 : 0
  const num6 = conf.ipam.assignIPv6 ? 1 : 0
  let ipv4Pools: string[] = []
  let ipv6Pools: string[] = []
  if (conf.ipam.ipv4Pools.length > 0 || conf.ipam.ipv6Pools.length > 0) {
    const pools = (await backend.list<Resource>({kind: 'IPPool'})).items.map((kv) => kv.value)
    ipv4Pools = resolvePools(conf.ipam.ipv4Pools, pools, true)
    ipv6Pools = resolvePools(conf.ipam.ipv6Pools, pools, false)
  }
  let result: AutoAssignResult
  try {
    result = await ipam.autoAssign({
      num4,
      num6,
      handleID: req.handleID,
      attrs,
      hostname: req.ids.node,
      ipv4Pools,
      ipv6Pools,
      intendedUse: 'Workload',
      ...(req.namespaceLabels ? {namespaceLabels: req.namespaceLabels} : {}),
    })
  } catch (err) {
    if (err instanceof AutoAssignError) await releaseAssigned(ipam, log, err.v4, err.v6)
    throw ipamFailure(err)
  }
  for (const [want, got] of [
    [num4, result.v4],
    [num6, result.v6],
  ] as const) {
    if (want === 0 || got === undefined) continue
    const partial = partialFulfillmentError(got)
    if (partial !== undefined) {
      await releaseAssigned(ipam, log, result.v4, result.v6)
      throw new CniError(CNI_CODES.internal, `failed to request IPv${got.ipVersion} addresses: ${partial}`)
    }
  }
  return [...(result.v4?.ips ?? []), ...(result.v6?.ips ?? [])].map((address) => ({address}))
}

/** Releases the container's addresses. Idempotent: an unknown handle is not an error (ipamplugin cmdDel). */
export async function ipamDel(backend: Backend, handleID: string, log: Logger): Promise<void> {
  const ipam = new IPAMClient(backend)
  // Releases write the same blocks as assignments, so they take the same lock.
  const lock = await acquireIPAMLock()
  try {
    await ipam.releaseByHandle(handleID)
  } catch (err) {
    if (err instanceof ResourceDoesNotExistError) {
      log.info('no addresses for this container (already released)', {handleID})
      return
    }
    throw ipamFailure(err)
  } finally {
    await lock.unlock()
  }
}

/**
 * Releases addresses whatever handle holds them: the pod's earlier addresses before its `ipAddrs` annotation asks
 * for fixed ones (k8s releaseIPAddrs). Addresses IPAM does not hold are not an error.
 */
export async function ipamReleaseIPs(backend: Backend, ips: readonly string[], log: Logger): Promise<void> {
  if (ips.length === 0) return
  const ipam = new IPAMClient(backend)
  const lock = await acquireIPAMLock()
  try {
    const {unallocated} = await ipam.releaseIPs(ips.map((ip) => ({address: ip.split('/')[0] ?? ip})))
    if (unallocated.length > 0) log.warning('asked to release addresses IPAM does not hold', {addresses: unallocated})
  } catch (err) {
    throw new CniError(CNI_CODES.internal, `failed to release ipAddrs: ${err instanceof Error ? err.message : String(err)}`)
  } finally {
    await lock.unlock()
  }
}

/** CHECK: every expected address (`ip/<any prefix>`) is held by the container's handle. */
export async function ipamCheck(backend: Backend, handleID: string, expected: readonly string[]): Promise<void> {
  const ipam = new IPAMClient(backend)
  let held: string[]
  try {
    held = await ipam.ipsByHandle(handleID)
  } catch (err) {
    if (err instanceof ResourceDoesNotExistError) held = []
    else throw ipamFailure(err)
  }
  for (const address of expected) {
    const ip = address.split('/')[0] ?? address
    if (!held.includes(ip)) throw new CniError(CNI_CODES.internal, `IPAM has no allocation of ${ip} for handle ${handleID}`)
  }
}
