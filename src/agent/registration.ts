// Creates or updates this node's Node resource with its addresses and AS number, as calico/node does at start-up.
// Written straight through the Backend with compare-and-swap, keeping fields owned by other writers
// (IPIP/VXLAN tunnel addresses, orchRefs, wireguard) as they are. On the Kubernetes datastore the Calico Node is a
// view of the core Node (its projectcalico.org/* annotations): it can be updated but not created, so a node that
// kubelet has not registered yet is reported as such (calico/node exits there; the agent's caller retries).
// The VXLAN tunnel address is written here too, as calico/node's tunnel address allocator does (allocateip.go): an
// address from a VXLAN pool through Calico IPAM, with calico/node's handle and attributes, and the VTEP MAC.
import {randomUUID} from 'node:crypto'
import {
  OperationNotSupportedError, ResourceAlreadyExistsError, ResourceDoesNotExistError, ResourceUpdateConflictError,
} from '../api/errors.js'
import {metav1Time} from '../api/gotime.js'
import type {Resource} from '../api/resource.js'
import type {Node, NodeSpec} from '../api/types/endpoints.js'
import type {Backend, KVPair} from '../datastore/backend.js'
import {vtepMac} from '../dataplane/routing/vxlan.js'
import {IPAMClient, IPInCooldownError, parseCIDR, parseIP, partialFulfillmentError} from '../ipam/index.js'
import {poolFromResource, selectsNode} from '../ipam/pools.js'
import {cidrContainsIP} from '../ipam/net.js'
import {sleep} from '../lib/sleep.js'

export interface NodeRegistration {
  name: string
  /** CIDR form (`192.0.2.5/24`); undefined leaves the stored value alone. */
  ipv4Address?: string
  ipv6Address?: string
  asNumber?: number
}

/** The spec after registration: only the BGP fields given are set, everything else is kept. */
export function mergeNodeSpec(current: NodeSpec | undefined, reg: NodeRegistration): NodeSpec {
  const spec: NodeSpec = {...current}
  const bgp = {...current?.bgp}
  if (reg.ipv4Address !== undefined) bgp.ipv4Address = reg.ipv4Address
  if (reg.ipv6Address !== undefined) bgp.ipv6Address = reg.ipv6Address
  if (reg.asNumber !== undefined) bgp.asNumber = reg.asNumber
  if (Object.keys(bgp).length > 0) spec.bgp = bgp
  return spec
}

/** The datastore cannot create Nodes (Kubernetes: only kubelet does) and this one does not exist yet. */
export class NodeNotRegisteredError extends Error {
  constructor(readonly nodeName: string) {
    super(`node "${nodeName}" does not exist in the Kubernetes API: on the Kubernetes datastore the Calico Node is a view of the core Node, which kubelet registers; start kubelet on this node (or check that --name matches the Kubernetes node name)`)
  }
}

/** Returns the stored Node after the write (or unchanged, when nothing differed). */
export async function registerNode(backend: Backend, reg: NodeRegistration, now: () => Date = () => new Date()): Promise<Node> {
  const key = {kind: 'Node', name: reg.name}
  // Another writer (calicoctl, the IPAM tunnel allocator) may race us: retry the read-modify-write.
  for (let attempt = 0; ; attempt++) {
    let current
    try {
      current = await backend.get<Node>(key)
    } catch (err) {
      if (!(err instanceof ResourceDoesNotExistError)) throw err
    }
    try {
      if (!current) {
        const node: Node = {
          apiVersion: 'projectcalico.org/v3',
          kind: 'Node',
          metadata: {name: reg.name, uid: randomUUID(), creationTimestamp: metav1Time(now())},
          spec: mergeNodeSpec(undefined, reg),
        }
        return (await backend.create(key, node).catch((err: unknown) => {
          throw err instanceof OperationNotSupportedError ? new NodeNotRegisteredError(reg.name) : err
        })).value
      }
      const spec = mergeNodeSpec(current.value.spec, reg)
      if (JSON.stringify(spec) === JSON.stringify(current.value.spec ?? {})) return current.value
      return (await backend.update(key, {...current.value, spec}, current.revision)).value
    } catch (err) {
      const raced = err instanceof ResourceUpdateConflictError || err instanceof ResourceAlreadyExistsError
      if (!raced || attempt >= 5) throw err
    }
  }
}

/** calico/node's IPAM handle for a node's VXLAN tunnel address. */
export const vxlanTunnelHandle = (nodeName: string): string => `vxlan-tunnel-addr-${nodeName}`
/** The `type` attribute calico/node stores with the allocation (model.IPAMBlockAttributeTypeVXLAN). */
const VXLAN_ATTR_TYPE = 'vxlanTunnelAddress'

/**
 * The IPv4 pools this node's VXLAN tunnel address may come from (determineEnabledPoolCIDRs): vxlanMode Always or
 * CrossSubnet, tunnel addresses among their allowed uses, selecting the node, neither disabled nor being deleted.
 */
export function vxlanTunnelPools(pools: readonly Resource[], nodeLabels: Readonly<Record<string, string>>): string[] {
  return pools.flatMap((r) => {
    const mode = (r.spec as {vxlanMode?: string} | undefined)?.vxlanMode
    const pool = poolFromResource(r)
    if (!pool || pool.cidr.version !== 4 || (mode !== 'Always' && mode !== 'CrossSubnet')) return []
    if (pool.disabled || r.metadata.deletionTimestamp !== undefined || !pool.allowedUses.includes('Tunnel')) return []
    return selectsNode(pool, nodeLabels) ? [pool.cidrText] : []
  })
}

/**
 * Gives the node a VXLAN tunnel address while a pool needs one, and releases it when none does (calico/node's
 * reconcileTunnelAddrs for VXLAN). A current address is kept if IPAM holds it for this node's tunnel and it is in one
 * of the pools; otherwise the handle's addresses are released and a new one assigned. The MAC (derived from the
 * node's name, as Felix derives it) is written once and then kept. Returns what changed, or undefined.
 */
export async function reconcileVxlanTunnel(backend: Backend, nodeName: string, ipam = new IPAMClient(backend)): Promise<string | undefined> {
  const key = {kind: 'Node', name: nodeName}
  const handle = vxlanTunnelHandle(nodeName)
  for (let attempt = 0; ; attempt++) {
    const current = await backend.get<Node>(key)
    const pools = (await backend.list<Resource>({kind: 'IPPool'})).items.map((kv: KVPair<Resource>) => kv.value)
    const cidrs = vxlanTunnelPools(pools, current.value.metadata.labels ?? {})
    const spec: NodeSpec = {...current.value.spec}
    let change: string | undefined
    if (cidrs.length > 0) {
      if (!(await ownsTunnelAddress(ipam, nodeName, spec.ipv4VXLANTunnelAddr, cidrs))) {
        // Also frees an address assigned before a crash kept it from reaching the Node.
        await releaseHandle(ipam, handle)
        const {v4} = await ipam.autoAssign({num4: 1, num6: 0, handleID: handle, attrs: {node: nodeName, type: VXLAN_ATTR_TYPE}, hostname: nodeName, ipv4Pools: cidrs, intendedUse: 'Tunnel'})
        const short = v4 ? partialFulfillmentError(v4) : 'no IPv4 result'
        if (short !== undefined || !v4?.ips[0]) throw new Error(`cannot assign a VXLAN tunnel address: ${short ?? 'none assigned'}`)
        spec.ipv4VXLANTunnelAddr = v4.ips[0].split('/')[0]!
        change = `VXLAN tunnel address ${spec.ipv4VXLANTunnelAddr} assigned`
      }
      if (!spec.vxlanTunnelMACAddr) spec.vxlanTunnelMACAddr = vtepMac(nodeName)
    } else if (spec.ipv4VXLANTunnelAddr !== undefined || spec.vxlanTunnelMACAddr !== undefined) {
      change = `VXLAN tunnel address ${spec.ipv4VXLANTunnelAddr ?? ''} released`
      delete spec.ipv4VXLANTunnelAddr
      delete spec.vxlanTunnelMACAddr
      await releaseHandle(ipam, handle)
    }
    if (JSON.stringify(spec) === JSON.stringify(current.value.spec ?? {})) return change
    try {
      await backend.update(key, {...current.value, spec}, current.revision)
      return change ?? 'VXLAN tunnel MAC written'
    } catch (err) {
      if (!(err instanceof ResourceUpdateConflictError) || attempt >= 5) throw err
    }
  }
}

/** Whether IPAM holds `address` for this node's VXLAN tunnel, inside one of `cidrs`. */
async function ownsTunnelAddress(ipam: IPAMClient, nodeName: string, address: string | undefined, cidrs: readonly string[]): Promise<boolean> {
  const ip = address ? parseIP(address) : undefined
  if (!ip || !cidrs.some((c) => cidrContainsIP(parseCIDR(c)!, ip))) return false
  try {
    const {attrs} = await ipam.getAssignmentAttributes(address!)
    return attrs.type === VXLAN_ATTR_TYPE && attrs.node === nodeName
  } catch (err) {
    // Unassigned, or released and cooling down: not ours any more.
    if (err instanceof ResourceDoesNotExistError || err instanceof IPInCooldownError) return false
    throw err
  }
}

async function releaseHandle(ipam: IPAMClient, handle: string): Promise<void> {
  await ipam.releaseByHandle(handle).catch((err: unknown) => {
    if (!(err instanceof ResourceDoesNotExistError)) throw err
  })
}

export interface VxlanTunnelKeeper {
  /** Reconciles the tunnel address soon (IP pools or this Node changed); requests meanwhile fold into one run. */
  request(): void
  /** Ends the retries and waits for a run in progress. */
  stop(): Promise<void>
}

/**
 * Runs reconcileVxlanTunnel on request, one run at a time; a failed run (datastore down, pool full) is retried with
 * backoff until it succeeds, the signal aborts or stop() is called.
 */
export function keepVxlanTunnel(backend: Backend, nodeName: string, log: {info(msg: string): void; warn(msg: string): void}, stopSignal: AbortSignal): VxlanTunnelKeeper {
  const ipam = new IPAMClient(backend)
  const stopping = new AbortController()
  stopSignal.addEventListener('abort', () => stopping.abort(), {once: true})
  const signal = stopping.signal
  let wanted = false
  let running: Promise<void> | undefined
  const loop = async (): Promise<void> => {
    let delay = 1000
    while (wanted && !signal.aborted) {
      wanted = false
      try {
        const what = await reconcileVxlanTunnel(backend, nodeName, ipam)
        if (what !== undefined) log.info(what)
      } catch (err) {
        log.warn(`VXLAN tunnel address: ${(err as Error).message}; retrying in ${delay} ms`)
        wanted = true
        await sleep(delay, signal)
        delay = Math.min(delay * 2, 30_000)
      }
    }
  }
  const keeper: VxlanTunnelKeeper = {
    request() {
      wanted = true
      running ??= loop().finally(() => {
        running = undefined
        // Asked for after the loop's last check.
        if (wanted && !signal.aborted) keeper.request()
      })
    },
    async stop() {
      stopping.abort()
      await running
    },
  }
  return keeper
}
