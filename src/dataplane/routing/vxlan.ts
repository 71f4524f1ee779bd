// What the VXLAN overlay between nodes should look like on this node (Felix's VXLAN resolver and vxlan manager,
// felix/calc/vxlan_resolver.go, felix/dataplane/linux/vxlan_mgr.go and route_mgr.go), and the minimal change from what
// the kernel has. Pure: the VXLAN manager (vxlan-manager.ts) reads the kernel and writes the changes.
//
// - Inputs: Nodes (address, VTEP address and MAC), IPv4 IPPools with vxlanMode Always or CrossSubnet, IPAM blocks
//   (their `host:<node>` affinity) and FelixConfiguration's vxlanVNI, vxlanPort, vxlanMTU and vxlanEnabled.
// - The device vxlan.calico exists while a VXLAN pool exists and this node has a VTEP address.
// - Every other node with a VTEP gets a permanent neighbour entry (VTEP address → MAC) and an FDB entry (MAC → its
//   address) on the device, and a /32 route to its VTEP address through the device.
// - Each block affine to another node, inside a VXLAN pool, is routed via that node's VTEP address (onlink through
//   the device); with CrossSubnet, a node in this node's subnet is routed to directly through the uplink instead.
// - Each block affine to this node, inside a VXLAN pool, gets a blackhole route (Felix's IPAM block drop route): a
//   packet to an unallocated address of it is dropped rather than sent out by the default route (perhaps to come
//   back in a loop); the /32 routes to local workloads are more specific and still win. /32 blocks get none (it would
//   shadow the workload's own route), as in Felix. These need no device or VTEP: only a VXLAN pool.
import {createHash} from 'node:crypto'

import {cidrContainsCIDR, cidrContainsIP, formatCIDR, formatIP, parseCIDR, parseIP, parseIPNetOrIP, type CIDR} from '../../api/net.js'
import type {VxlanLink, VxlanLinkSpec} from '../linux/vxlan.js'

export const VXLAN_DEVICE = 'vxlan.calico'
/**
 * The protocol of every route this module programs (Felix's DefaultRouteProto, which it uses for routes that do not go
 * through a device of its own): only routes with it, or through vxlan.calico, are ever removed.
 */
export const VXLAN_ROUTE_PROTOCOL = 80
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers: vxlanMTU's default is the uplink's MTU minus this. */
export const VXLAN_OVERHEAD = 50

/** The FelixConfiguration fields read here (Calico's JSON names); the full api type is assignable. */
export interface VxlanFelixConfig {
  vxlanEnabled?: boolean
  vxlanVNI?: number
  vxlanPort?: number
  vxlanMTU?: number
}

export interface VxlanConfig {
  /** false: VXLAN off whatever the pools say (vxlanEnabled: false); undefined: the pools decide, as in Felix. */
  enabled?: boolean
  vni: number
  port: number
  /** 0: the uplink's MTU minus VXLAN_OVERHEAD. */
  mtu: number
}

/** Applies FelixConfiguration specs in increasing precedence over Felix's defaults (VNI 4096, port 4789). */
export function vxlanConfigFrom(specs: readonly VxlanFelixConfig[]): VxlanConfig {
  const c: VxlanConfig = {vni: 4096, port: 4789, mtu: 0}
  for (const s of specs) {
    if (s.vxlanVNI !== undefined && s.vxlanVNI > 0) c.vni = s.vxlanVNI
    if (s.vxlanPort !== undefined && s.vxlanPort > 0) c.port = s.vxlanPort
    if (s.vxlanMTU !== undefined && s.vxlanMTU > 0) c.mtu = s.vxlanMTU
    if (s.vxlanEnabled !== undefined) c.enabled = s.vxlanEnabled
  }
  return c
}

/** The VXLAN facts of one Node. */
export interface VxlanNode {
  name: string
  /** The node's IPv4 address (Node spec.bgp.ipv4Address without its prefix). */
  address?: string
  /** The node's subnet (spec.bgp.ipv4Address as a network), for CrossSubnet. */
  subnet?: CIDR
  /** spec.ipv4VXLANTunnelAddr. */
  vtep?: string
  /** spec.vxlanTunnelMACAddr, else the MAC derived from the node's name (vtepMac). */
  mac: string
}

/** The subset of a v3 Node read here. */
export interface NodeView {
  metadata: {name?: string}
  spec?: {bgp?: {ipv4Address?: string}; ipv4VXLANTunnelAddr?: string; vxlanTunnelMACAddr?: string}
}

/**
 * The MAC Felix gives a node's VTEP when its Node has none: 0x66 (`f`, a locally administered unicast address) and
 * the first five bytes of the SHA-1 of the node's name, so every node derives the same MAC for it.
 */
export function vtepMac(nodeName: string): string {
  const sha = createHash('sha1').update(nodeName).digest()
  return [0x66, ...sha.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0')).join(':')
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/

export function vxlanNodeOf(node: NodeView): VxlanNode {
  const name = node.metadata.name ?? ''
  const out: VxlanNode = {name, mac: vtepMac(name)}
  const net = node.spec?.bgp?.ipv4Address ? parseIPNetOrIP(node.spec.bgp.ipv4Address) : undefined
  if (net?.ip.version === 4) {
    out.address = formatIP(net.ip)
    out.subnet = net.cidr
  }
  const vtep = node.spec?.ipv4VXLANTunnelAddr ? parseIP(node.spec.ipv4VXLANTunnelAddr) : undefined
  if (vtep?.version === 4) out.vtep = formatIP(vtep)
  const mac = node.spec?.vxlanTunnelMACAddr?.toLowerCase()
  if (mac && MAC.test(mac)) out.mac = mac
  return out
}

export interface VxlanPool {
  cidr: CIDR
  mode: 'Always' | 'CrossSubnet'
}

/** The subset of a v3 IPPool read here. */
export interface PoolView {
  metadata: {deletionTimestamp?: string}
  spec?: {cidr?: string; vxlanMode?: string; disabled?: boolean}
}

/**
 * The pool as the overlay sees it: undefined unless it is an IPv4 pool with vxlanMode Always or CrossSubnet. A
 * disabled pool still routes the blocks it has (only new allocations stop), as in Felix.
 */
export function vxlanPoolOf(pool: PoolView): VxlanPool | undefined {
  const mode = pool.spec?.vxlanMode
  if (mode !== 'Always' && mode !== 'CrossSubnet') return undefined
  const cidr = pool.spec?.cidr ? parseCIDR(pool.spec.cidr) : undefined
  return cidr?.version === 4 ? {cidr, mode} : undefined
}

export interface VxlanBlock {
  cidr: CIDR
  /** The node the block is affine to (`affinity: host:<node>`). */
  node: string
}

/** An IPAM block as stored (model.AllocationBlock): undefined when it is not affine to a host. */
export function vxlanBlockOf(value: unknown): VxlanBlock | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const {cidr, affinity} = value as {cidr?: unknown; affinity?: unknown}
  if (typeof cidr !== 'string' || typeof affinity !== 'string' || !affinity.startsWith('host:')) return undefined
  const parsed = parseCIDR(cidr)
  return parsed?.version === 4 ? {cidr: parsed, node: affinity.slice('host:'.length)} : undefined
}

export interface VxlanInput {
  nodeName: string
  nodes: ReadonlyMap<string, VxlanNode>
  pools: readonly VxlanPool[]
  blocks: readonly VxlanBlock[]
  config: VxlanConfig
  /** This node's uplink: the interface holding its address (undefined when none does). */
  uplink?: {name: string; mtu: number}
}

/** The device as it should be: what linux/vxlan.ts creates. */
export type VxlanDevice = VxlanLinkSpec

export interface VxlanNeighbour {
  /** Another node's VTEP address. */
  ip: string
  mac: string
}

export interface VxlanFdbEntry {
  mac: string
  /** The other node's address. */
  dst: string
}

export interface VxlanDeviceRoute {
  /** Canonical CIDR. */
  dst: string
  /** Undefined: directly through the device (a VTEP address). */
  via?: string
  dev: string
  onlink: boolean
  blackhole?: undefined
}

/** Drops what is sent to a local block's unallocated addresses (no device, no gateway). */
export interface VxlanBlackholeRoute {
  dst: string
  blackhole: true
  onlink: false
  via?: undefined
  dev?: undefined
}

export type VxlanRoute = VxlanDeviceRoute | VxlanBlackholeRoute

export interface VxlanState {
  device?: VxlanDevice
  neighbours: VxlanNeighbour[]
  fdb: VxlanFdbEntry[]
  routes: VxlanRoute[]
}

const byText = <T>(key: (t: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)

const routeId = (r: {dst: string}): string => r.dst

/** The overlay this node should have. Deterministic: every list is sorted. */
export function desiredVxlan(input: VxlanInput): VxlanState {
  const me = input.nodes.get(input.nodeName)
  const out: VxlanState = {neighbours: [], fdb: [], routes: []}
  if (input.pools.length === 0 || input.config.enabled === false) return out
  if (me?.address && me.vtep && input.uplink) {
    out.device = {
      name: VXLAN_DEVICE,
      vni: input.config.vni,
      port: input.config.port,
      local: me.address,
      parent: input.uplink.name,
      mtu: input.config.mtu > 0 ? input.config.mtu : input.uplink.mtu - VXLAN_OVERHEAD,
      mac: me.mac,
      address: me.vtep,
    }
  }
  const routes = new Map<string, VxlanRoute>()
  if (out.device) {
    for (const n of input.nodes.values()) {
      if (n.name === input.nodeName || !n.vtep || !n.address) continue
      out.neighbours.push({ip: n.vtep, mac: n.mac})
      out.fdb.push({mac: n.mac, dst: n.address})
      routes.set(`${n.vtep}/32`, {dst: `${n.vtep}/32`, dev: VXLAN_DEVICE, onlink: false})
    }
  }
  for (const b of input.blocks) {
    const pool = input.pools.find((p) => cidrContainsCIDR(p.cidr, b.cidr))
    if (!pool) continue
    const dst = formatCIDR(b.cidr)
    if (b.node === input.nodeName) {
      if (b.cidr.prefix < 32) routes.set(dst, {dst, blackhole: true, onlink: false})
      continue
    }
    const remote = input.nodes.get(b.node)
    if (!remote) continue
    const remoteIP = remote.address ? parseIP(remote.address) : undefined
    if (pool.mode === 'CrossSubnet' && input.uplink && me?.subnet && remoteIP && cidrContainsIP(me.subnet, remoteIP)) {
      routes.set(dst, {dst, via: remote.address, dev: input.uplink.name, onlink: false})
    } else if (out.device && remote.vtep && remote.address) {
      routes.set(dst, {dst, via: remote.vtep, dev: VXLAN_DEVICE, onlink: true})
    }
  }
  out.neighbours.sort(byText((n) => n.ip))
  out.fdb.sort(byText((f) => f.mac))
  out.routes = [...routes.values()].sort(byText(routeId))
  return out
}

/** A route as the kernel reports it (main table, IPv4). */
export interface KernelVxlanRoute {
  dst: string
  via?: string
  dev?: string
  onlink: boolean
  /** The protocol number. */
  protocol: number
  /** A blackhole route (no device). */
  blackhole?: boolean
}

export interface Delta<T> {
  /** Written with `replace` (add or overwrite). */
  replace: T[]
  remove: T[]
}

/** RTPROT_KERNEL: routes the kernel adds for addresses. */
const KERNEL_PROTOCOL = 2

/** Whether a kernel route is this module's: through vxlan.calico (not the kernel's own), or with its protocol. */
function isVxlanRoute(r: KernelVxlanRoute): boolean {
  if (r.protocol === VXLAN_ROUTE_PROTOCOL) return true
  return r.dev === VXLAN_DEVICE && r.protocol !== KERNEL_PROTOCOL
}

const sameRoute = (a: VxlanRoute, k: KernelVxlanRoute): boolean =>
  (a.blackhole === true) === (k.blackhole === true) && a.dev === k.dev && a.via === k.via && a.onlink === k.onlink && k.protocol === VXLAN_ROUTE_PROTOCOL

/**
 * Routes to write and to remove. A route of ours to a destination nobody wants any more goes; one to a wanted
 * destination that differs is overwritten by the replace (also one of someone else's to the same destination, which
 * the overlay needs to take over, as Felix's route table does: a block that moves between nodes turns from tunnel
 * route to blackhole and back this way). A blackhole has no device, so only one with our protocol is ever removed.
 */
export function vxlanRouteDelta(desired: readonly VxlanRoute[], kernel: readonly KernelVxlanRoute[]): Delta<VxlanRoute> {
  const have = new Map<string, KernelVxlanRoute[]>()
  for (const k of kernel) have.set(k.dst, [...(have.get(k.dst) ?? []), k])
  const wanted = new Set(desired.map(routeId))
  const replace = desired.filter((d) => !(have.get(d.dst) ?? []).some((k) => sameRoute(d, k)))
  const remove: VxlanRoute[] = []
  for (const k of kernel) {
    if (!isVxlanRoute(k) || wanted.has(k.dst)) continue
    if (k.blackhole) {
      remove.push({dst: k.dst, blackhole: true, onlink: false})
      continue
    }
    if (k.dev === undefined) continue
    const r: VxlanDeviceRoute = {dst: k.dst, dev: k.dev, onlink: k.onlink}
    if (k.via !== undefined) r.via = k.via
    remove.push(r)
  }
  return {replace, remove}
}

/** Entries to write and to remove, keyed by `key` (two entries with one key and different values: the value changed). */
function entryDelta<T>(desired: readonly T[], kernel: readonly T[], key: (t: T) => string, value: (t: T) => string): Delta<T> {
  const have = new Map(kernel.map((k) => [key(k), value(k)]))
  const want = new Set(desired.map(key))
  return {
    replace: desired.filter((d) => have.get(key(d)) !== value(d)),
    remove: kernel.filter((k) => !want.has(key(k))),
  }
}

export const neighbourDelta = (desired: readonly VxlanNeighbour[], kernel: readonly VxlanNeighbour[]): Delta<VxlanNeighbour> =>
  entryDelta(desired, kernel, (n) => n.ip, (n) => n.mac)

/** FDB entries are keyed by MAC and destination together: the kernel keeps several destinations per MAC. */
export const fdbDelta = (desired: readonly VxlanFdbEntry[], kernel: readonly VxlanFdbEntry[]): Delta<VxlanFdbEntry> =>
  entryDelta(desired, kernel, (f) => `${f.mac} ${f.dst}`, () => '')

/** The device as the kernel has it. */
export type KernelVxlanDevice = VxlanLink

export type DeviceAction =
  | {type: 'none'}
  /** Absent, or with settings that can only be set at creation (kind, VNI, port, local address, parent, learning). */
  | {type: 'create'; recreate: boolean}
  | {type: 'update'; mtu?: number; mac?: string; up?: true; addAddress?: string; removeAddresses: string[]}

/** What to do to bring the kernel's device to `want`. */
export function deviceAction(want: VxlanDevice, have: KernelVxlanDevice | undefined): DeviceAction {
  if (!have) return {type: 'create', recreate: false}
  if (have.kind !== 'vxlan' || have.vni !== want.vni || have.port !== want.port || have.local !== want.local || have.parent !== want.parent || have.learning !== false) {
    return {type: 'create', recreate: true}
  }
  const address = `${want.address}/32`
  const action: DeviceAction = {type: 'update', removeAddresses: have.addresses.filter((a) => a !== address)}
  if (have.mtu !== want.mtu) action.mtu = want.mtu
  if (have.mac !== want.mac) action.mac = want.mac
  if (!have.up) action.up = true
  if (!have.addresses.includes(address)) action.addAddress = address
  const changed = action.mtu !== undefined || action.mac !== undefined || action.up || action.addAddress !== undefined || action.removeAddresses.length > 0
  return changed ? action : {type: 'none'}
}
