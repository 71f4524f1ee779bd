// The container's network plumbing (cni-plugin/pkg/dataplane/linux): a veth pair whose host end is a routed
// `cali…` interface answering ARP for the fake gateway 169.254.1.1 (proxy ARP), and whose container end gets
// the /32 (/128) address and routes (by default the default routes) through that gateway. All commands go through
// netlink.ts.
import {existsSync} from 'node:fs'

import * as nl from '../dataplane/linux/netlink.js'
import {CNI_CODES, CniError} from './errors.js'

/** The host end's fixed MAC: the pod's gateway is always this MAC, whatever veth it is on. */
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee'
export const IPV4_GATEWAY = '169.254.1.1'
/** The link-local address of HOST_VETH_MAC (EUI-64), the pods' IPv6 gateway. */
export const IPV6_GATEWAY = 'fe80::ecee:eeff:feee:eeee'

export interface WorkloadNetwork {
  hostVeth: string
  containerNetns: string
  containerIface: string
  mtu: number
  /** Single-address CIDRs (`10.0.0.5/32`). */
  addresses: string[]
  /** The container side's MAC address when the pod asks for one (else the kernel's). */
  containerMac?: string
  /** Destinations routed through the gateway inside the container, per family of its addresses; default: DEFAULT_ROUTES. */
  routes?: string[]
  /**
   * false: no host routes to the addresses (a KubeVirt live-migration target, whose source pod keeps them until the
   * migration completes and the agent moves them). Default true.
   */
  hostRoutes?: boolean
}

/** Calico's routes inside a pod unless the configuration names others (utils.DefaultRoutes). */
export const DEFAULT_ROUTES: readonly string[] = ['0.0.0.0/0', '::/0']

/** `ip route` names the whole space `default`. */
const routeDst = (cidr: string): string => (cidr === '0.0.0.0/0' || cidr === '::/0' ? 'default' : cidr)

export interface SetupResult {
  hostMac: string
  containerMac: string
}

/** What the plugin needs from the dataplane; the Linux implementation is below, tests may supply their own. */
export interface Dataplane {
  /** Fails with CNI code 3 when the container's namespace does not exist (checked before any address is taken). */
  requireNetns(path: string): Promise<void>
  setup(net: WorkloadNetwork): Promise<SetupResult>
  /** Removes the workload's interfaces; tolerates everything already gone. */
  teardown(hostVeth: string, containerNetns: string, containerIface: string, hostSideToo: boolean): Promise<void>
  /** Throws a CniError naming the first thing that differs from `net`. */
  check(net: WorkloadNetwork): Promise<void>
}

const family = (cidr: string): 4 | 6 => (cidr.includes(':') ? 6 : 4)

export class LinuxDataplane implements Dataplane {
  async requireNetns(path: string): Promise<void> {
    if (!existsSync(path)) throw new CniError(CNI_CODES.unknownContainer, `failed to open netns "${path}"`, 'no such file')
  }

  async setup(net: WorkloadNetwork): Promise<SetupResult> {
    // A host veth left by an earlier attempt for the same workload would block the new pair (DoNetworking does the same).
    if (await nl.getLink(undefined, net.hostVeth)) await nl.deleteLink(undefined, net.hostVeth)
    try {
      await nl.createVethPair(net.hostVeth, net.containerIface, net.containerNetns, net.mtu)
    } catch (err) {
      if (/netns|namespace|No such file/i.test((err as Error).message)) {
        throw new CniError(CNI_CODES.unknownContainer, `failed to open netns "${net.containerNetns}"`, (err as Error).message)
      }
      throw err
    }
    const v4 = net.addresses.some((a) => family(a) === 4)
    const v6 = net.addresses.some((a) => family(a) === 6)
    await nl.configureHostVethSysctls(net.hostVeth, v4, v6)
    await nl.setLinkMacUp(undefined, net.hostVeth, HOST_VETH_MAC)

    // The container side in one `ip` process: loopback, the interface, its addresses, the gateway routes.
    const ns = net.containerNetns
    const dev = net.containerIface
    const commands: string[][] = [
      ['link', 'set', 'dev', 'lo', 'up'],
      ...(net.containerMac !== undefined ? [['link', 'set', 'dev', dev, 'address', net.containerMac]] : []),
      ['link', 'set', 'dev', dev, 'up'],
      // IPAM made the address unique; duplicate detection on a point-to-point veth would only delay the pod.
      ...net.addresses.map((cidr) => (family(cidr) === 6 ? ['addr', 'add', cidr, 'dev', dev, 'nodad'] : ['addr', 'add', cidr, 'dev', dev])),
    ]
    // Batch lines take no global options such as -4; iproute2 infers the family from the addresses.
    if (v4) commands.push(['route', 'replace', `${IPV4_GATEWAY}/32`, 'dev', dev, 'scope', 'link'])
    for (const dst of net.routes ?? DEFAULT_ROUTES) {
      // A route of a family the pod has no address of has no source to use (DoNetworking skips it too).
      if (family(dst) === 4 ? v4 : v6) commands.push(['route', 'replace', routeDst(dst), 'via', family(dst) === 4 ? IPV4_GATEWAY : IPV6_GATEWAY, 'dev', dev])
    }
    await nl.ipBatch(ns, commands)
    const container = await nl.getLink(ns, net.containerIface)
    if (!container) throw new CniError(CNI_CODES.internal, `interface ${net.containerIface} vanished from ${ns}`)

    // The host route last: traffic is only steered to the workload once its side is ready.
    if (net.hostRoutes !== false) for (const cidr of net.addresses) await nl.replaceLinkRoute(undefined, family(cidr), cidr, net.hostVeth)
    return {hostMac: HOST_VETH_MAC, containerMac: container.mac}
  }

  async teardown(hostVeth: string, containerNetns: string, containerIface: string, hostSideToo: boolean): Promise<void> {
    // DEL may come without a namespace (the runtime already lost it).
    if (containerNetns !== '') {
      try {
        await nl.deleteLink(containerNetns, containerIface)
      } catch (err) {
        // A namespace that no longer exists took its interfaces with it.
        if (!/No such file|Invalid argument|netns/i.test((err as Error).message)) throw err
      }
    }
    // The host end goes with its peer; deleting it by name covers a lost namespace. Routes via it go with it.
    if (hostSideToo) await nl.deleteLink(undefined, hostVeth)
  }

  async check(net: WorkloadNetwork): Promise<void> {
    const fail = (msg: string): never => {
      throw new CniError(CNI_CODES.internal, msg)
    }
    const host = await nl.getLink(undefined, net.hostVeth)
    if (!host) fail(`host interface ${net.hostVeth} does not exist`)
    else if (!host.up) fail(`host interface ${net.hostVeth} is down`)
    let container: nl.LinkDetails | undefined
    try {
      container = await nl.getLink(net.containerNetns, net.containerIface)
    } catch (err) {
      throw new CniError(CNI_CODES.unknownContainer, `failed to open netns "${net.containerNetns}"`, (err as Error).message)
    }
    if (!container) fail(`interface ${net.containerIface} does not exist in ${net.containerNetns}`)
    else if (container.kind !== undefined && container.kind !== 'veth') fail(`interface ${net.containerIface} is a ${container.kind}, not a veth`)
    const have = new Set((await nl.listAddresses(net.containerNetns, net.containerIface)).map((a) => a.cidr))
    for (const cidr of net.addresses) if (!have.has(cidr)) fail(`interface ${net.containerIface} lacks address ${cidr}`)
    for (const cidr of net.hostRoutes === false ? [] : net.addresses) {
      const routes = await nl.listRoutes(undefined, family(cidr), net.hostVeth)
      if (!routes.some((r) => r.dst === cidr)) fail(`no host route to ${cidr} via ${net.hostVeth}`)
    }
    if (net.addresses.some((a) => family(a) === 4)) {
      const routes = await nl.listRoutes(net.containerNetns, 4)
      for (const dst of (net.routes ?? DEFAULT_ROUTES).filter((d) => family(d) === 4).map(routeDst)) {
        if (!routes.some((r) => r.dst === dst && r.gateway === IPV4_GATEWAY)) fail(`no route to ${dst} via ${IPV4_GATEWAY} in the container`)
      }
    }
  }
}
