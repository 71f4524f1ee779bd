// How the lab launches the CNI plugins: the real binaries (bin/calico, bin/calico-ipam over dist/) when dist/ is
// at least as new as every source file, otherwise the same entry point run from the TypeScript sources, so a
// stale build is never what a test exercises. CNI_LAB_PLUGIN=dist|source forces one.
import {existsSync, readdirSync, statSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export type PluginKind = 'calico' | 'calico-ipam'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

function newestMtime(dir: string): number {
  let newest = 0
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p))
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs)
  }
  return newest
}

let mode: 'dist' | 'source' | undefined

export function pluginMode(): 'dist' | 'source' {
  if (mode) return mode
  const forced = process.env.CNI_LAB_PLUGIN
  if (forced === 'dist' || forced === 'source') return (mode = forced)
  const built = join(ROOT, 'dist', 'cni', 'main.js')
  mode = existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(ROOT, 'src')) ? 'dist' : 'source'
  return mode
}

/** argv that runs the plugin (to be prefixed with `ip netns exec <node>`). */
export function pluginCommand(kind: PluginKind): string[] {
  if (pluginMode() === 'dist') return [process.execPath, join(ROOT, 'bin', kind)]
  return [process.execPath, '--import', join(ROOT, 'test', 'datastore', 'helpers', 'register.mjs'), join(ROOT, 'test', 'lab', 'plugin-entry.ts'), kind]
}
