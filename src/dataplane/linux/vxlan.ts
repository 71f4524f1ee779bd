// The VXLAN device, its neighbour and FDB entries, and gateway routes, through iproute2's JSON output (`ip -j`,
// `bridge -j`) and batches of writes. Nothing here decides what should be programmed (dataplane/routing/vxlan.ts).
import {run} from './exec.js'
import {deleteLink, getLink, ipBatch, isMissingDevice} from './netlink.js'

/** A VXLAN device as the kernel has it (the fields routing/vxlan.ts compares). */
export interface VxlanLink {
  kind?: string
  vni?: number
  port?: number
  local?: string
  parent?: string
  learning?: boolean
  mtu: number
  mac: string
  up: boolean
  /** IPv4 addresses as `a.b.c.d/n`. */
  addresses: string[]
}

export interface VxlanLinkSpec {
  name: string
  vni: number
  port: number
  /** The node's address: the outer source of encapsulated packets. */
  local: string
  /** The uplink the encapsulated packets leave through. */
  parent: string
  mtu: number
  mac: string
  /** The node's VTEP address (a /32 on the device). */
  address: string
}

interface RawVxlanLink {
  ifname: string
  mtu?: number
  address?: string
  flags?: string[]
  linkinfo?: {info_kind?: string; info_data?: {id?: number; local?: string; link?: string; port?: number; learning?: boolean}}
}

interface RawAddrLink {
  ifname: string
  mtu?: number
  addr_info?: {family: string; local: string; prefixlen: number}[]
}

/** The device and its IPv4 addresses, or undefined when there is no link of that name. */
export async function readVxlanLink(name: string): Promise<VxlanLink | undefined> {
  let stdout: string
  try {
    ;({stdout} = await run('ip', ['-j', '-d', 'link', 'show', 'dev', name]))
  } catch (err) {
    if (isMissingDevice(err)) return undefined
    throw err
  }
  const [raw] = JSON.parse(stdout || '[]') as RawVxlanLink[]
  if (raw === undefined) return undefined
  const info = raw.linkinfo?.info_data
  const link: VxlanLink = {mtu: raw.mtu ?? 0, mac: raw.address ?? '', up: (raw.flags ?? []).includes('UP'), addresses: await ipv4Addresses(name)}
  if (raw.linkinfo?.info_kind !== undefined) link.kind = raw.linkinfo.info_kind
  if (info?.id !== undefined) link.vni = info.id
  if (info?.port !== undefined) link.port = info.port
  if (info?.local !== undefined) link.local = info.local
  if (info?.link !== undefined) link.parent = info.link
  if (info?.learning !== undefined) link.learning = info.learning
  return link
}

async function ipv4Addresses(dev: string): Promise<string[]> {
  const {stdout} = await run('ip', ['-j', '-4', 'addr', 'show', 'dev', dev])
  return (JSON.parse(stdout || '[]') as RawAddrLink[]).flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`))
}

/** The interface holding the IPv4 address `address` (the node's uplink), with its MTU. */
export async function interfaceWithAddress(address: string): Promise<{name: string; mtu: number} | undefined> {
  const {stdout} = await run('ip', ['-j', '-4', 'addr', 'show'])
  const link = (JSON.parse(stdout || '[]') as RawAddrLink[]).find((l) => (l.addr_info ?? []).some((a) => a.family === 'inet' && a.local === address))
  return link ? {name: link.ifname, mtu: link.mtu ?? 0} : undefined
}

/** Creates the device (learning off: the agent writes every FDB entry), then sets its MTU and MAC, brings it up and adds the address. */
export async function createVxlanLink(spec: VxlanLinkSpec): Promise<void> {
  await run('ip', ['link', 'add', spec.name, 'type', 'vxlan', 'id', String(spec.vni), 'local', spec.local, 'dev', spec.parent, 'dstport', String(spec.port), 'nolearning'])
  await ipBatch(undefined, [
    ['link', 'set', 'dev', spec.name, 'mtu', String(spec.mtu), 'address', spec.mac, 'up'],
    ['addr', 'replace', `${spec.address}/32`, 'dev', spec.name],
  ])
}

export interface VxlanLinkUpdate {
  mtu?: number
  mac?: string
  up?: true
  addAddress?: string
  removeAddresses: readonly string[]
}

export async function updateVxlanLink(name: string, u: VxlanLinkUpdate): Promise<void> {
  const commands: string[][] = u.removeAddresses.map((a) => ['addr', 'del', a, 'dev', name])
  const set = [...(u.mtu !== undefined ? ['mtu', String(u.mtu)] : []), ...(u.mac !== undefined ? ['address', u.mac] : []), ...(u.up ? ['up'] : [])]
  if (set.length > 0) commands.push(['link', 'set', 'dev', name, ...set])
  if (u.addAddress !== undefined) commands.push(['addr', 'replace', u.addAddress, 'dev', name])
  if (commands.length > 0) await ipBatch(undefined, commands)
}

/** Deletes the device (its neighbours, FDB entries and routes go with it); false when there was none. */
export async function deleteVxlanLink(name: string): Promise<boolean> {
  return (await getLink(undefined, name)) !== undefined && deleteLink(undefined, name)
}

export interface Neighbour {
  ip: string
  mac: string
}

/** The permanent IPv4 neighbour entries on `dev` (the ones the agent writes). */
export async function listPermanentNeighbours(dev: string): Promise<Neighbour[]> {
  const {stdout} = await run('ip', ['-j', '-4', 'neigh', 'show', 'dev', dev, 'nud', 'permanent'])
  return (JSON.parse(stdout || '[]') as {dst: string; lladdr?: string}[]).flatMap((n) => (n.lladdr ? [{ip: n.dst, mac: n.lladdr}] : []))
}

export interface FdbEntry {
  mac: string
  dst: string
}

/** The device's own (`self`) forwarding entries that have a remote destination. */
export async function listFdb(dev: string): Promise<FdbEntry[]> {
  const {stdout} = await run('bridge', ['-j', 'fdb', 'show', 'dev', dev])
  return (JSON.parse(stdout || '[]') as {mac: string; dst?: string; flags?: string[]}[]).flatMap((f) => (f.dst !== undefined && (f.flags ?? []).includes('self') ? [{mac: f.mac, dst: f.dst}] : []))
}

export interface RouteSpec {
  /** Canonical: `10.0.0.0/26`, `10.0.0.1/32`. */
  dst: string
  via?: string
  dev?: string
  onlink: boolean
  /** Type blackhole (neither gateway nor device); else unicast. */
  blackhole?: boolean
}

export interface GatewayRoute extends RouteSpec {
  /** The route's protocol number (`ip -N`: never a name from the local rt_protos). */
  protocol: number
}

/** The IPv4 routes of the main table with their gateways, onlink flags and whether they are blackholes. */
export async function listGatewayRoutes(): Promise<GatewayRoute[]> {
  const {stdout} = await run('ip', ['-N', '-j', '-4', 'route', 'show', 'table', 'main'])
  return (JSON.parse(stdout || '[]') as {type?: string; dst: string; gateway?: string; dev?: string; protocol?: string; flags?: string[]}[]).map((r) => {
    // iproute2 leaves out the protocol of boot (3) routes.
    const route: GatewayRoute = {dst: r.dst === 'default' || r.dst.includes('/') ? r.dst : `${r.dst}/32`, onlink: (r.flags ?? []).includes('onlink'), protocol: Number(r.protocol ?? 3)}
    if (r.gateway !== undefined) route.via = r.gateway
    if (r.dev !== undefined) route.dev = r.dev
    // iproute2 gives the type only when it is not unicast; with -N as its number (RTN_BLACKHOLE is 6).
    if (r.type === '6' || r.type === 'blackhole') route.blackhole = true
    return route
  })
}

/** The writes of one reconcile, in the order Felix makes them: route removals, entry removals, entry writes, route writes. */
export interface VxlanWrites {
  removeRoutes: readonly RouteSpec[]
  removeNeighbours: readonly Neighbour[]
  removeFdb: readonly FdbEntry[]
  fdb: readonly FdbEntry[]
  neighbours: readonly Neighbour[]
  routes: readonly RouteSpec[]
  /** The device the entries are on. */
  dev: string
  protocol: number
}

/**
 * Makes the writes, each group in one `ip -force -batch` that goes on past a failing command (an entry already
 * gone), so one bad entry does not hold back the rest; rejects afterwards when any command failed.
 */
export async function writeVxlan(w: VxlanWrites): Promise<void> {
  const routeArgs = (r: RouteSpec): string[] => [...(r.blackhole ? ['blackhole'] : []), r.dst, ...(r.via !== undefined ? ['via', r.via] : []), ...(r.dev !== undefined ? ['dev', r.dev] : [])]
  const failures: Error[] = []
  const attempt = async (p: Promise<unknown>): Promise<void> => {
    await p.catch((err: Error) => failures.push(err))
  }
  const batch = (commands: string[][]): Promise<void> => (commands.length === 0 ? Promise.resolve() : ipBatch(undefined, commands, {force: true}))
  // FDB entries are one per node: a `bridge` process each.
  const bridge = async (args: string[][]): Promise<void> => {
    for (const a of args) await attempt(run('bridge', a))
  }
  await attempt(batch(w.removeRoutes.map((r) => ['route', 'del', ...routeArgs(r)])))
  await attempt(batch(w.removeNeighbours.map((n) => ['neigh', 'del', n.ip, 'dev', w.dev])))
  await bridge(w.removeFdb.map((f) => ['fdb', 'del', f.mac, 'dev', w.dev, 'dst', f.dst, 'self']))
  await bridge(w.fdb.map((f) => ['fdb', 'replace', f.mac, 'dev', w.dev, 'dst', f.dst, 'self', 'permanent']))
  await attempt(batch(w.neighbours.map((n) => ['neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', w.dev, 'nud', 'permanent'])))
  await attempt(batch(w.routes.map((r) => ['route', 'replace', ...routeArgs(r), ...(r.onlink ? ['onlink'] : r.via === undefined && !r.blackhole ? ['scope', 'link'] : []), 'proto', String(w.protocol)])))
  if (failures.length > 0) throw new Error(failures.map((e) => e.message).join('; '))
}
