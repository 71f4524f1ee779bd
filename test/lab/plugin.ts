// How the lab launches the CNI plugins. In CI (`npm test` builds first) the real binaries, bin/calico and
// bin/calico-ipam over dist/. Elsewhere the same entry point from the TypeScript sources, unless dist/ is at least
// as new as every source file: on a shared work tree dist/ may be stale or being rewritten by someone's build.
// CNI_LAB_PLUGIN=dist|source forces one; CNI_LAB_BIN_DIR=<dir> runs <dir>/calico and <dir>/calico-ipam instead
// (an installed copy, like a kubelet's CNI bin directory).
import {existsSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, parse} from 'node:path'
import {fileURLToPath} from 'node:url'

export type PluginKind = 'calico' | 'calico-ipam'

/** The repository root: the nearest directory above this file with a package.json (also when run compiled from build/). */
export const ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    if (dir === parse(dir).root) throw new Error('test/lab: repository root (package.json) not found')
    dir = dirname(dir)
  }
  return dir
})()

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
  if (process.env.CI === 'true') return (mode = 'dist')
  // What bin/calico runs: the bundle, written after tsc's dist/cni/ (scripts/bundle.mjs).
  const built = join(ROOT, 'dist', 'cni.cjs')
  mode = existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(ROOT, 'src')) ? 'dist' : 'source'
  return mode
}

function sourceCommand(arg: string): string[] {
  return [process.execPath, '--import', join(ROOT, 'test', 'datastore', 'helpers', 'register.mjs'), join(ROOT, 'test', 'lab', 'plugin-entry.ts'), arg]
}

/** argv that runs the plugin (to be prefixed with `ip netns exec <node>`). */
export function pluginCommand(kind: PluginKind): string[] {
  const binDir = process.env.CNI_LAB_BIN_DIR
  if (binDir) return [process.execPath, join(binDir, kind)]
  if (pluginMode() === 'dist') return [process.execPath, join(ROOT, 'bin', kind)]
  return sourceCommand(kind)
}

/** In source mode, fills the transpile cache once (a cold cache makes every concurrent plugin load TypeScript). */
export function warmCommand(): string[] | undefined {
  return pluginMode() === 'source' && !process.env.CNI_LAB_BIN_DIR ? sourceCommand('warm') : undefined
}
