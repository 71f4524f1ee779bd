// The lab's temporary directories (its datastore, the demo's store): registered here and removed by Lab.destroy()
// or their owner, and, as a last resort, when the process exits or is interrupted. Namespaces and processes are the
// lab's NetnsRun's (test/helpers/netns.ts), which removes them the same way and sweeps those of killed runs.
import {rmSync} from 'node:fs'

const dirs = new Set<string>()
let hooked = false

/** Synchronous removal of every directory still registered (exit hooks cannot wait). */
export function cleanupAllSync(): void {
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

export function trackDir(dir: string): void {
  installHooks()
  dirs.add(dir)
}

export function untrackDir(dir: string): void {
  dirs.delete(dir)
}
