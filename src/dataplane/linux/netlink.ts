// Workload interface plumbing for the CNI plugin: veth pairs, addresses, routes and per-interface sysctls, as
// argument arrays for `ip` (iproute2). Commands for the container run inside its network namespace through
// `nsenter --net=<path>`, because CNI_NETNS is a path (`/var/run/netns/x` or `/proc/<pid>/ns/net`) and `ip -n`
// only accepts names. Host-side commands run in the caller's own namespace.
import {run} from './exec.js'
import {ensureSysctl} from './sysctl.js'

/** The network namespace a command runs in: undefined is the calling process's own (the host side). */
export type NetnsPath = string | undefined

export interface LinkDetails {
  name: string
  index: number
  mac: string
  mtu: number
  up: boolean
  /** `veth` for veth ends; undefined for links without link info. */
  kind?: string
}

export interface AddressDetails {
  family: 4 | 6
  /** `10.0.0.5/32`. */
  cidr: string
}

export interface RouteDetails {
  /** Canonical: `10.0.0.5/32`, `169.254.1.1/32` or `default`. */
  dst: string
  gateway?: string
  dev?: string
  scope?: string
}

interface RawLink {
  ifname: string
  ifindex: number
  address?: string
  mtu?: number
  flags?: string[]
  linkinfo?: {info_kind?: string}
}

interface RawAddr {
  addr_info?: {family: string; local: string; prefixlen: number}[]
}

interface RawRoute {
  dst: string
  gateway?: string
  dev?: string
  scope?: string
}

function ipIn(netns: NetnsPath, args: readonly string[], input?: string): Promise<{stdout: string}> {
  return netns === undefined ? run('ip', args, input) : run('nsenter', [`--net=${netns}`, 'ip', ...args], input)
}

/**
 * Runs several `ip` commands in one process (`ip -batch -`, stopping at the first failure, or with `force` going on
 * past failures and failing at the end): one process start instead of one per command. Arguments are words of
 * iproute2's batch syntax, so they may not contain whitespace, quotes, backslashes or `#`.
 */
export async function ipBatch(netns: NetnsPath, commands: readonly (readonly string[])[], opts: {force?: boolean} = {}): Promise<void> {
  for (const c of commands) {
    for (const arg of c) if (arg === '' || /[\s"'\\#]/.test(arg)) throw new Error(`ip batch: unsafe argument ${JSON.stringify(arg)}`)
  }
  await ipIn(netns, [...(opts.force ? ['-force'] : []), '-batch', '-'], commands.map((c) => `${c.join(' ')}\n`).join(''))
}

/** True when the command failed because the named device does not exist. */
export function isMissingDevice(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err)
  return /does not exist|Cannot find device|No such device/i.test(text)
}

/**
 * Creates a veth pair: `hostName` in the calling namespace and `containerName` directly inside `containerNetns`
 * (so a container-side name such as eth0 never exists, even briefly, on the host), both with `mtu`.
 */
export async function createVethPair(hostName: string, containerName: string, containerNetns: string, mtu: number): Promise<void> {
  await run('ip', ['link', 'add', hostName, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', containerName, 'mtu', String(mtu), 'netns', containerNetns])
}

/** Sets the MAC and brings the link up in one step. */
export async function setLinkMacUp(netns: NetnsPath, name: string, mac: string): Promise<void> {
  await ipIn(netns, ['link', 'set', 'dev', name, 'address', mac, 'up'])
}

/** Deletes a link (a veth end takes its peer with it); false when it did not exist. */
export async function deleteLink(netns: NetnsPath, name: string): Promise<boolean> {
  try {
    await ipIn(netns, ['link', 'del', 'dev', name])
    return true
  } catch (err) {
    if (isMissingDevice(err)) return false
    throw err
  }
}

/** The link, or undefined when it does not exist. */
export async function getLink(netns: NetnsPath, name: string): Promise<LinkDetails | undefined> {
  let stdout: string
  try {
    ;({stdout} = await ipIn(netns, ['-j', '-d', 'link', 'show', 'dev', name]))
  } catch (err) {
    if (isMissingDevice(err)) return undefined
    throw err
  }
  const [raw] = JSON.parse(stdout || '[]') as RawLink[]
  if (raw === undefined) return undefined
  const link: LinkDetails = {
    name: raw.ifname,
    index: raw.ifindex,
    mac: raw.address ?? '',
    mtu: raw.mtu ?? 0,
    up: (raw.flags ?? []).includes('UP'),
  }
  if (raw.linkinfo?.info_kind !== undefined) link.kind = raw.linkinfo.info_kind
  return link
}

export async function listAddresses(netns: NetnsPath, dev: string): Promise<AddressDetails[]> {
  const {stdout} = await ipIn(netns, ['-j', 'addr', 'show', 'dev', dev])
  const out: AddressDetails[] = []
  for (const l of JSON.parse(stdout || '[]') as RawAddr[]) {
    for (const a of l.addr_info ?? []) {
      if (a.family === 'inet' || a.family === 'inet6') out.push({family: a.family === 'inet' ? 4 : 6, cidr: `${a.local}/${a.prefixlen}`})
    }
  }
  return out
}

/** `ip route replace <dst> dev <dev> scope link`: the host's route to a workload address. */
export async function replaceLinkRoute(netns: NetnsPath, family: 4 | 6, dst: string, dev: string): Promise<void> {
  await ipIn(netns, [`-${family}`, 'route', 'replace', dst, 'dev', dev, 'scope', 'link'])
}

export async function listRoutes(netns: NetnsPath, family: 4 | 6, dev?: string): Promise<RouteDetails[]> {
  const args = ['-j', `-${family}`, 'route', 'show', 'table', 'main']
  if (dev !== undefined) args.push('dev', dev)
  const {stdout} = await ipIn(netns, args)
  return (JSON.parse(stdout || '[]') as RawRoute[]).map((r) => {
    const route: RouteDetails = {dst: r.dst === 'default' || r.dst.includes('/') ? r.dst : `${r.dst}/${family === 4 ? 32 : 128}`}
    if (r.gateway !== undefined) route.gateway = r.gateway
    // `ip route show dev X` leaves the device out of each entry.
    const routeDev = r.dev ?? dev
    if (routeDev !== undefined) route.dev = routeDev
    if (r.scope !== undefined) route.scope = r.scope
    return route
  })
}

/**
 * The host-side settings that make a veth a routed workload interface (felix-dataplane.md §4.1): proxy ARP so the
 * host answers for 169.254.1.1, no proxy delay, forwarding on; IPv6: forwarding and proxy NDP, never accept RAs.
 * Runs in the calling process's namespace (/proc/sys is per network namespace).
 */
export async function configureHostVethSysctls(name: string, ipv4: boolean, ipv6: boolean): Promise<void> {
  if (ipv4) {
    await ensureSysctl(['net', 'ipv4', 'conf', name, 'proxy_arp'], '1')
    await ensureSysctl(['net', 'ipv4', 'neigh', name, 'proxy_delay'], '0')
    await ensureSysctl(['net', 'ipv4', 'conf', name, 'forwarding'], '1')
  }
  if (ipv6) {
    await ensureSysctl(['net', 'ipv6', 'conf', name, 'accept_ra'], '0')
    await ensureSysctl(['net', 'ipv6', 'conf', name, 'proxy_ndp'], '1')
    await ensureSysctl(['net', 'ipv6', 'conf', name, 'forwarding'], '1')
  }
}
