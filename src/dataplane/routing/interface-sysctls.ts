// The kernel settings Felix gives each workload interface (its endpoint manager's configureInterface), as data:
// the route manager writes them. Pure.

export interface SysctlSetting {
  /** Components under /proc/sys, e.g. `['net', 'ipv4', 'conf', 'cali1', 'proxy_arp']`. */
  path: string[]
  value: string
}

export interface InterfaceSysctlOptions {
  /** The kernel has an IPv6 configuration for the interface (it may have IPv6 disabled). */
  ipv6Present: boolean
  /** The agent runs with IPv6 support (FelixConfiguration ipv6Support). */
  ipv6Enabled: boolean
  /** The rp_filter the kernel gives new interfaces (`net.ipv4.conf.default.rp_filter` when the agent started). */
  defaultRPFilter: string
  /** The interface's workload may send from allowSpoofedSourcePrefixes. */
  spoofing: boolean
}

/**
 * Proxy ARP/NDP answers the pod's link-local gateway, forwarding routes its traffic, route_localnet allows NAT to
 * the host. A spoofing workload's interface gets rp_filter 0: the kernel's reverse-path filter would otherwise drop
 * its packets from the allowed prefixes, which the agent's own RPF check in nftables lets through. IPv6 has no
 * rp_filter (the nftables check covers it); router advertisements are refused whenever the kernel has IPv6 on the
 * interface, even with the agent's IPv6 support off (as Felix does, for security).
 */
export function interfaceSysctls(iface: string, o: InterfaceSysctlOptions): SysctlSetting[] {
  const v4 = (leaf: string): string[] => ['net', 'ipv4', 'conf', iface, leaf]
  const v6 = (leaf: string): string[] => ['net', 'ipv6', 'conf', iface, leaf]
  const out: SysctlSetting[] = [
    {path: v4('route_localnet'), value: '1'},
    {path: v4('proxy_arp'), value: '1'},
    {path: ['net', 'ipv4', 'neigh', iface, 'proxy_delay'], value: '0'},
    {path: v4('forwarding'), value: '1'},
    {path: v4('rp_filter'), value: o.spoofing ? '0' : o.defaultRPFilter},
  ]
  if (o.ipv6Present) out.push({path: v6('accept_ra'), value: '0'})
  if (o.ipv6Present && o.ipv6Enabled) out.push({path: v6('proxy_ndp'), value: '1'}, {path: v6('forwarding'), value: '1'})
  return out
}
