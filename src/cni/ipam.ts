// calico-ipam: address assignment for one container over Calico IPAM (cni-plugin/pkg/ipamplugin), a KubeVirt VM
// pod's under its VM's handle (see kubevirt.ts). The `calico` plugin calls these in-process; the `calico-ipam`
// binary wraps them in the IPAM plugin protocol.
import {ResourceDoesNotExistError} from '../api/errors.js'
import {goTimeString} from '../api/gotime.js'
import {hostCIDRText} from '../api/net.js'
import type {Resource} from '../api/resource.js'
import type {Backend} from '../datastore/backend.js'
import {AutoAssignError, IPAMClient, MaxRetriesError, ownerMatches, partialFulfillmentError} from '../ipam/index.js'
import type {AttributeOwner, AutoAssignResult, IPAMAssignments} from '../ipam/index.js'
import type {NetConf} from './config.js'
import {acquireIPAMLock} from './ipam-lock.js'
import {CNI_CODES, CniError} from './errors.js'
import {vmAttributes, vmBeingDeleted, type VmiInfo} from './kubevirt.js'
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
  /** The VM a KubeVirt pod runs when its addresses persist; `handleID` is then the VM's handle. */
  vm?: VmiInfo
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
  const attrs = {...allocationAttrs(req.ids, req.now ?? new Date()), ...(req.vm ? vmAttributes(req.vm) : {})}
  const {conf} = req
  if (req.vm) {
    const kept = await keepVmAddresses(ipam, req.handleID, attrs, req.vm, log)
    if (kept !== undefined) return kept
  }
  // A VM's handle holds one address per family, whichever of its pods asks (handleVirtLauncherPod).
  const maxAlloc = req.vm ? {maxAllocPerIPVersion: 1} : {}
  if (req.requestedIPs !== undefined) {
    const assigned: string[] = []
    try {
      for (const ip of req.requestedIPs) {
        await ipam.assignIP({ip, handleID: req.handleID, attrs, hostname: req.ids.node, intendedUse: 'Workload', ...maxAlloc})
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
      ...maxAlloc,
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

/**
 * The addresses the VM's handle already holds, now owned by this pod: as the active owner for the pod that runs
 * the VM, as the alternate owner for a live-migration target (handleVirtLauncherPod). Undefined when the handle
 * holds none and the pod may take new ones; a migration target must find its source's.
 */
async function keepVmAddresses(ipam: IPAMClient, handleID: string, attrs: Record<string, string>, vm: VmiInfo, log: Logger): Promise<CniIPConfig[] | undefined> {
  const target = vm.migrationJobUID !== ''
  let held: string[]
  try {
    held = await ipam.ipsByHandle(handleID)
  } catch (err) {
    if (!(err instanceof ResourceDoesNotExistError)) throw new CniError(CNI_CODES.internal, `failed to get existing IPs for VM handle ${handleID}: ${(err as Error).message}`)
    held = []
  }
  if (held.length === 0) {
    if (target) throw new CniError(CNI_CODES.internal, `migration target pod but no IP allocated to VM handle ${handleID}`)
    return undefined
  }
  for (const ip of held) {
    // No preconditions: a previous pod may still be terminating, or a failed migration may have left its target.
    try {
      await ipam.setOwnerAttributes(ip, handleID, target ? {alternateOwnerAttrs: attrs} : {activeOwnerAttrs: attrs})
    } catch (err) {
      throw new CniError(CNI_CODES.internal, `failed to set owner attributes for IP ${ip}: ${(err as Error).message}`)
    }
  }
  log.info('reusing the VM\'s addresses', {handleID, addresses: held, migrationTarget: target})
  return held.map((ip) => ({address: hostCIDRText(ip)}))
}

/** How DEL finds the container's addresses. */
export interface IpamRelease {
  handleID: string
  /** Calico v2.x's handle for the same workload (`<namespace>.<pod>`, else the container ID), released too. */
  legacyHandleID: string
  /** For a KubeVirt VM pod whose addresses persist: the VM and the pod giving them up. */
  vm?: {info: VmiInfo; pod: AttributeOwner}
}

/** Releases the container's addresses. Idempotent: an unknown handle is not an error (ipamplugin cmdDel). */
export async function ipamDel(backend: Backend, release: IpamRelease, log: Logger): Promise<void> {
  const ipam = new IPAMClient(backend)
  // Releases write the same blocks as assignments, so they take the same lock.
  const lock = await acquireIPAMLock()
  try {
    if (release.vm) return await releaseVmAddresses(ipam, release.handleID, release.vm.info, release.vm.pod, log)
    for (const handleID of [release.handleID, release.legacyHandleID]) {
      try {
        await ipam.releaseByHandle(handleID)
      } catch (err) {
        if (!(err instanceof ResourceDoesNotExistError)) throw err
        if (handleID === release.handleID) log.info('no addresses for this container (already released)', {handleID})
      }
    }
  } catch (err) {
    throw ipamFailure(err)
  } finally {
    await lock.unlock()
  }
}

/**
 * A VM pod's DEL (ipamplugin cmdDel): the pod stops owning the VM's addresses; they are released only when the
 * VM (or a standalone VMI) is being deleted and no other pod owns them.
 */
async function releaseVmAddresses(ipam: IPAMClient, handleID: string, vm: VmiInfo, pod: AttributeOwner, log: Logger): Promise<void> {
  let held: string[]
  try {
    held = await ipam.ipsByHandle(handleID)
  } catch (err) {
    if (err instanceof ResourceDoesNotExistError) return
    throw err
  }
  for (const ip of held) {
    let attrs
    try {
      attrs = await ipam.getAssignmentAttributes(ip)
    } catch (err) {
      log.warning('cannot read the address\'s owners; leaving them', {ip, error: String(err)})
      continue
    }
    // Conditional on the owner read: a migration completing meanwhile swaps them, and kubelet retries the DEL.
    if (ownerMatches(pod, attrs.attrs)) await ipam.setOwnerAttributes(ip, handleID, {clearActiveOwner: true}, {expectedActiveOwner: pod})
    else if (ownerMatches(pod, attrs.alternateOwnerAttrs)) await ipam.setOwnerAttributes(ip, handleID, {clearAlternateOwner: true}, {expectedAlternateOwner: pod})
  }
  let owned = false
  for (const ip of held) {
    try {
      const attrs = await ipam.getAssignmentAttributes(ip)
      if (Object.keys(attrs.attrs).length > 0 || Object.keys(attrs.alternateOwnerAttrs ?? {}).length > 0) {
        owned = true
        break
      }
    } catch (err) {
      // Released by someone else meanwhile.
      if (!(err instanceof ResourceDoesNotExistError)) throw new CniError(CNI_CODES.internal, `failed to verify owner attributes after cleanup for IP ${ip}: ${(err as Error).message}`)
    }
  }
  if (!vmBeingDeleted(vm) || owned) {
    log.info('the VM keeps its addresses', {handleID, vmBeingDeleted: vmBeingDeleted(vm), owned})
    return
  }
  try {
    await ipam.releaseByHandle(handleID)
  } catch (err) {
    if (!(err instanceof ResourceDoesNotExistError)) throw err
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
