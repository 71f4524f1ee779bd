// The agent's own settings from FelixConfiguration (`default` overlaid by `node.<name>`): health and metrics
// endpoints and refresh intervals. Policy-rendering settings are the calculator's (src/dataplane/calc/settings.ts).
import {durationSeconds} from '../api/duration.js'

/** The FelixConfiguration fields the agent itself reads (Calico's JSON names); the full api type is assignable. */
export interface AgentFelixConfig {
  healthEnabled?: boolean
  healthHost?: string
  healthPort?: number
  prometheusMetricsEnabled?: boolean
  prometheusMetricsHost?: string
  prometheusMetricsPort?: number
  nftablesRefreshInterval?: string
  iptablesRefreshInterval?: string
  routeRefreshInterval?: string
  interfacePrefix?: string
  ipv6Support?: boolean
}

export interface AgentSettings {
  healthEnabled: boolean
  healthHost: string
  healthPort: number
  metricsEnabled: boolean
  metricsHost: string
  metricsPort: number
  /** How often the kernel table is read back and reprogrammed if it drifted (NftablesRefreshInterval). */
  nftRefreshMs: number
  /** How often workload routes and interface settings are reconciled even without a change (RouteRefreshInterval). */
  routeRefreshMs: number
  interfacePrefixes: string[]
  ipv6Support: boolean
}

/**
 * Defaults are Felix's, except that health and metrics are on: `node run` is the calico-node process, whose
 * manifests enable both (FELIX_HEALTHENABLED, and 9091 for the requested metrics). Either can still be disabled.
 */
export function defaultAgentSettings(): AgentSettings {
  return {
    healthEnabled: true,
    healthHost: 'localhost',
    healthPort: 9099,
    metricsEnabled: true,
    metricsHost: '',
    metricsPort: 9091,
    nftRefreshMs: 180_000,
    routeRefreshMs: 90_000,
    interfacePrefixes: ['cali'],
    ipv6Support: true,
  }
}

function ms(d: string | undefined): number | undefined {
  if (d === undefined || d === '') return undefined
  const s = durationSeconds(d)
  // Felix treats 0 as "disabled"; a refresh that never happens is expressed as Infinity here.
  return s <= 0 ? Infinity : s * 1000
}

/** Applies FelixConfiguration specs in increasing precedence. */
export function agentSettingsFrom(specs: readonly AgentFelixConfig[]): AgentSettings {
  const s = defaultAgentSettings()
  for (const c of specs) {
    if (c.healthEnabled !== undefined) s.healthEnabled = c.healthEnabled
    if (c.healthHost !== undefined && c.healthHost !== '') s.healthHost = c.healthHost
    if (c.healthPort !== undefined) s.healthPort = c.healthPort
    if (c.prometheusMetricsEnabled !== undefined) s.metricsEnabled = c.prometheusMetricsEnabled
    if (c.prometheusMetricsHost !== undefined) s.metricsHost = c.prometheusMetricsHost
    if (c.prometheusMetricsPort !== undefined) s.metricsPort = c.prometheusMetricsPort
    const nft = ms(c.nftablesRefreshInterval) ?? ms(c.iptablesRefreshInterval)
    if (nft !== undefined) s.nftRefreshMs = nft
    const route = ms(c.routeRefreshInterval)
    if (route !== undefined) s.routeRefreshMs = route
    if (c.interfacePrefix !== undefined) s.interfacePrefixes = c.interfacePrefix.split(',').map((p) => p.trim()).filter((p) => p !== '')
    if (c.ipv6Support !== undefined) s.ipv6Support = c.ipv6Support
  }
  return s
}

/** The FelixConfiguration names that apply to `nodeName`, lowest precedence first. */
export function felixConfigNames(nodeName: string): [string, string] {
  return ['default', `node.${nodeName}`]
}
