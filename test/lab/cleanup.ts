// Everything the lab creates is registered here and removed by Lab.destroy(), and, as a last resort, when the
// process exits or is interrupted: network namespaces (which take their links, routes and nft tables with
// them), child processes and temporary directories. Namespaces left by a run that was SIGKILLed are swept by
// the next run: their names carry the owning pid.
import {execFileSync, type ChildProcess} from 'node:child_process'
import {rmSync} from 'node:fs'

import {sweepStaleNetns} from '../helpers/netns.js'

export const NETNS_PREFIX = 'clab'

const netnsNames = new Set<string>()
const processes = new Set<ChildProcess>()
const dirs = new Set<string>()
let hooked = false

function deleteNetnsSync(name: string): void {
  try {
    execFileSync('ip', ['netns', 'delete', name], {stdio: 'ignore'})
  } catch {
    // Already gone.
  }
}

/** Synchronous teardown of everything still registered (exit hooks cannot wait). */
export function cleanupAllSync(): void {
  for (const p of processes) {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
  }
  processes.clear()
  for (const ns of netnsNames) deleteNetnsSync(ns)
  netnsNames.clear()
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
  dirs.clear()
}

function installHooks(): void {
  if (hooked) return
  hooked = true
  process.on('exit', cleanupAllSync)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanupAllSync()
      process.kill(process.pid, sig)
    })
  }
}

export function trackNetns(name: string): void {
  installHooks()
  netnsNames.add(name)
}

export function untrackNetns(name: string): void {
  netnsNames.delete(name)
}

export function trackProcess(p: ChildProcess): void {
  installHooks()
  processes.add(p)
  p.once('exit', () => processes.delete(p))
}

export function trackDir(dir: string): void {
  installHooks()
  dirs.add(dir)
}

export function untrackDir(dir: string): void {
  dirs.delete(dir)
}

/**
 * Deletes `clab-<pid>-…` namespaces whose creating process no longer exists (a previous run was killed); the shared
 * sweep of test/helpers/netns.ts, whose `<tag>-<pid>-<hex6>-` names the lab's follow.
 */
export function sweepStaleNamespaces(): string[] {
  return sweepStaleNetns()
}
