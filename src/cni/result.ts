// CNI results (SPEC.md "Success"): building the 1.0.0 form and writing it in the version the configuration
// asks for (0.3.x/0.4.0 carry a per-address `version`). Pure.
import type {CniVersion} from './config.js'
import {SUPPORTED_VERSIONS} from './config.js'

export interface CniInterface {
  name: string
  mac?: string
  /** The container's netns path; absent for host-side interfaces. */
  sandbox?: string
}

export interface CniIPConfig {
  /** CIDR notation, e.g. `10.0.0.5/32`. */
  address: string
  gateway?: string
  /** Index into `interfaces`. */
  interface?: number
}

export interface CniRoute {
  dst: string
  gw?: string
}

export interface CniResult {
  cniVersion: string
  interfaces?: CniInterface[]
  ips: CniIPConfig[]
  routes?: CniRoute[]
  dns: {nameservers?: string[]; domain?: string; search?: string[]; options?: string[]}
}

/** The VERSION reply. */
export function versionInfo(): {cniVersion: CniVersion; supportedVersions: string[]} {
  return {cniVersion: '1.0.0', supportedVersions: [...SUPPORTED_VERSIONS]}
}

/** The result in the requested version's shape (only 0.3.0–1.0.0 are accepted by config parsing). */
export function encodeResult(result: Omit<CniResult, 'cniVersion'>, version: CniVersion): Record<string, unknown> {
  const out: Record<string, unknown> = {cniVersion: version}
  if (result.interfaces !== undefined) out.interfaces = result.interfaces
  out.ips = result.ips.map((ip) => (version === '1.0.0' ? {...ip} : {version: ip.address.includes(':') ? '6' : '4', ...ip}))
  if (result.routes !== undefined) out.routes = result.routes
  out.dns = result.dns
  return out
}

export interface DecodedResult {
  interfaces: CniInterface[]
  ips: CniIPConfig[]
}

/** Reads a prevResult (any supported version): the interfaces and addresses CHECK verifies. */
export function decodeResult(value: unknown): DecodedResult | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as {interfaces?: unknown; ips?: unknown}
  const interfaces = Array.isArray(v.interfaces)
    ? v.interfaces.filter((i): i is CniInterface => typeof i === 'object' && i !== null && typeof (i as CniInterface).name === 'string')
    : []
  const ips = Array.isArray(v.ips)
    ? v.ips.filter((i): i is CniIPConfig => typeof i === 'object' && i !== null && typeof (i as CniIPConfig).address === 'string')
    : []
  return {interfaces, ips}
}

