// Links and routes through iproute2's JSON output (`ip -j`), and the few route writes the agent makes.
// Writes are argument arrays for `ip`; nothing here decides what should be programmed.
import {spawn, type ChildProcess} from 'node:child_process'
import {run} from './exec.js'

export interface LinkInfo {
  name: string
  index: number
  /** Administratively up with carrier (LOWER_UP): the state in which Felix programs a workload's routes. */
  up: boolean
}

export interface RouteInfo {
  family: 4 | 6
  /** Canonical destination: `10.0.0.1/32`; `default` stays as is. */
  dst: string
  dev?: string
  /** iproute2's protocol name or number (`boot` is 3, `kernel` is 2). */
  protocol: string
  scope?: string
}

interface RawLink {
  ifname: string
  ifindex: number
  flags?: string[]
}

interface RawRoute {
  dst: string
  dev?: string
  protocol?: string
  scope?: string
}

export async function listLinks(): Promise<LinkInfo[]> {
  const raw = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout || '[]') as RawLink[]
  return raw.map((l) => ({
    name: l.ifname,
    index: l.ifindex,
    up: (l.flags ?? []).includes('UP') && (l.flags ?? []).includes('LOWER_UP'),
  }))
}

/** iproute2 prints host routes without a prefix length; give every destination one. */
function canonicalDst(dst: string, family: 4 | 6): string {
  if (dst === 'default' || dst.includes('/')) return dst
  return `${dst}/${family === 4 ? 32 : 128}`
}

/** Routes in the main table, as iproute2 reports them. */
export async function listRoutes(family: 4 | 6): Promise<RouteInfo[]> {
  const raw = JSON.parse((await run('ip', ['-j', `-${family}`, 'route', 'show', 'table', 'main'])).stdout || '[]') as RawRoute[]
  return raw.map((r) => {
    const route: RouteInfo = {family, dst: canonicalDst(r.dst, family), protocol: r.protocol ?? 'boot'}
    if (r.dev !== undefined) route.dev = r.dev
    if (r.scope !== undefined) route.scope = r.scope
    return route
  })
}

/** `ip route replace <dst> dev <dev> scope link proto <protocol>`: idempotent. */
export async function replaceDeviceRoute(family: 4 | 6, dst: string, dev: string, protocol: number): Promise<void> {
  await run('ip', [`-${family}`, 'route', 'replace', dst, 'dev', dev, 'scope', 'link', 'proto', String(protocol)])
}

export async function deleteDeviceRoute(family: 4 | 6, dst: string, dev: string): Promise<void> {
  await run('ip', [`-${family}`, 'route', 'del', dst, 'dev', dev])
}

/**
 * Calls `onChange` whenever a link or address appears, disappears or changes (`ip monitor link address`), so interface work
 * does not wait for the next refresh. Returns the monitor process; kill it to stop.
 */
export function monitorLinks(onChange: () => void): ChildProcess {
  const child = spawn('ip', ['-o', 'monitor', 'link', 'address'], {stdio: ['ignore', 'pipe', 'ignore']})
  child.stdout?.on('data', () => onChange())
  child.on('error', () => undefined)
  return child
}
