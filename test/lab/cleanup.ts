// The lab's temporary directories (its datastore, the demo's store): registered here and removed by Lab.destroy()
// or their owner, and, as a last resort, when the process exits or is interrupted (../helpers/exit.ts). Namespaces
// and processes are the lab's NetnsRun's (test/helpers/netns.ts), which removes them the same way and sweeps those
// of killed runs.
import {rmSync} from 'node:fs'
import {atExit} from '../helpers/exit.js'

/** The exit callback of each registered directory, to unregister it. */
const dirs = new Map<string, () => void>()

export function trackDir(dir: string): void {
  if (!dirs.has(dir)) dirs.set(dir, atExit(() => rmSync(dir, {recursive: true, force: true})))
}

export function untrackDir(dir: string): void {
  dirs.get(dir)?.()
  dirs.delete(dir)
}
