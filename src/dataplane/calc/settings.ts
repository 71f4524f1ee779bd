// FelixConfiguration → the dataplane settings the policy renderer needs (defaults from Felix's config-params).
import type {DataplaneSettings, EndpointToHostAction, FelixConfigurationSpec, ProtoPort, ProtoPortSpec, WorkloadSourceSpoofing} from './types.js'

const tcp = (port: number): ProtoPort => ({protocol: 'tcp', port})
const udp = (port: number): ProtoPort => ({protocol: 'udp', port})

export const DEFAULT_FAILSAFE_INBOUND: readonly ProtoPort[] = [
  tcp(22), udp(68), tcp(179), tcp(2379), tcp(2380), tcp(5473), tcp(6443), tcp(6666), tcp(6667),
]
export const DEFAULT_FAILSAFE_OUTBOUND: readonly ProtoPort[] = [
  udp(53), udp(67), tcp(179), tcp(2379), tcp(2380), tcp(5473), tcp(6443), tcp(6666), tcp(6667),
]

export function defaultSettings(): DataplaneSettings {
  return {
    defaultEndpointToHostAction: 'drop',
    failsafeInbound: [...DEFAULT_FAILSAFE_INBOUND],
    failsafeOutbound: [...DEFAULT_FAILSAFE_OUTBOUND],
    logPrefix: 'calico-packet',
    denyAction: 'drop',
    disableConntrackInvalidCheck: false,
    allowVXLANPacketsFromWorkloads: false,
    allowIPIPPacketsFromWorkloads: false,
    vxlanPort: 4789,
    interfacePrefixes: ['cali'],
    ipv6Support: true,
    workloadSourceSpoofing: 'Disabled',
  }
}

function endpointToHost(v: string): EndpointToHostAction {
  switch (v.toUpperCase()) {
    case 'ACCEPT':
      return 'accept'
    case 'RETURN':
      return 'return'
    case 'DROP':
      return 'drop'
    default:
      throw new Error(`invalid defaultEndpointToHostAction ${JSON.stringify(v)}`)
  }
}

/** Felix parses the value case-insensitively into its canonical spelling. */
function sourceSpoofing(v: string): WorkloadSourceSpoofing {
  switch (v.toLowerCase()) {
    case 'any':
      return 'Any'
    case 'disabled':
    case '':
      return 'Disabled'
    default:
      throw new Error(`invalid workloadSourceSpoofing ${JSON.stringify(v)}`)
  }
}

function protoPorts(list: readonly ProtoPortSpec[]): ProtoPort[] {
  return list.map((p) => {
    const proto = (p.protocol ?? 'tcp').toLowerCase()
    if (proto !== 'tcp' && proto !== 'udp') throw new Error(`failsafe protocol must be tcp or udp, not ${p.protocol}`)
    return p.net ? {protocol: proto, port: p.port, net: p.net} : {protocol: proto, port: p.port}
  })
}

/** Applies FelixConfiguration specs in increasing precedence (`default`, then `node.<name>`). */
export function settingsFrom(specs: readonly FelixConfigurationSpec[]): DataplaneSettings {
  const s = defaultSettings()
  for (const c of specs) {
    if (c.defaultEndpointToHostAction !== undefined) s.defaultEndpointToHostAction = endpointToHost(c.defaultEndpointToHostAction)
    if (c.failsafeInboundHostPorts !== undefined) s.failsafeInbound = protoPorts(c.failsafeInboundHostPorts)
    if (c.failsafeOutboundHostPorts !== undefined) s.failsafeOutbound = protoPorts(c.failsafeOutboundHostPorts)
    if (c.logPrefix !== undefined) s.logPrefix = c.logPrefix
    const deny = c.nftablesFilterDenyAction ?? c.iptablesFilterDenyAction
    if (deny !== undefined) s.denyAction = deny.toUpperCase() === 'REJECT' ? 'reject' : 'drop'
    if (c.disableConntrackInvalidCheck !== undefined) s.disableConntrackInvalidCheck = c.disableConntrackInvalidCheck
    if (c.allowVXLANPacketsFromWorkloads !== undefined) s.allowVXLANPacketsFromWorkloads = c.allowVXLANPacketsFromWorkloads
    if (c.allowIPIPPacketsFromWorkloads !== undefined) s.allowIPIPPacketsFromWorkloads = c.allowIPIPPacketsFromWorkloads
    if (c.vxlanPort !== undefined) s.vxlanPort = c.vxlanPort
    if (c.interfacePrefix !== undefined) {
      s.interfacePrefixes = c.interfacePrefix.split(',').map((p) => p.trim()).filter((p) => p !== '')
    }
    if (c.ipv6Support !== undefined) s.ipv6Support = c.ipv6Support
    if (c.workloadSourceSpoofing !== undefined) s.workloadSourceSpoofing = sourceSpoofing(c.workloadSourceSpoofing)
  }
  return s
}
