// The bundle launcher (src/cli/launch.ts): a code cache is used only for the exact bundle it was made from.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterEach, describe, expect, it} from 'vitest'

const LAUNCH = fileURLToPath(new URL('../../src/cli/launch.ts', import.meta.url))
const REGISTER = fileURLToPath(new URL('../datastore/helpers/register.mjs', import.meta.url))

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

/** A stand-in bundle whose result depends on one character, so two versions have the same length. */
function bundleText(value: number): string {
  return `exports.value = function value() { return ${value} }\nexports.runCalicoctl = async () => {}\n`
}

/**
 * Loads `bundle` in a fresh node (the cache must be judged by a plain process, not vitest's, whose V8 flags may
 * differ) and optionally writes its cache; prints what it saw as JSON.
 */
function launch(bundle: string, write: boolean): {value: number; cacheUsed: boolean} {
  const script = `
    import {loadBundle, writeCodeCache} from ${JSON.stringify(LAUNCH)}
    const loaded = loadBundle(${JSON.stringify(bundle)})
    const value = loaded.exports.value()
    if (${write}) writeCodeCache(loaded, ${JSON.stringify(bundle)})
    console.log(JSON.stringify({value, cacheUsed: loaded.cacheUsed}))
  `
  const r = spawnSync(process.execPath, ['--import', REGISTER, '--input-type=module', '-e', script], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout) as {value: number; cacheUsed: boolean}
}

describe('loadBundle', () => {
  it('uses a cache written for the same bundle, and ignores it once the bundle changes at the same length', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calico-launch-'))
    dirs.push(dir)
    const bundle = join(dir, 'calicoctl.cjs')
    writeFileSync(bundle, bundleText(1))
    expect(launch(bundle, true)).toEqual({value: 1, cacheUsed: false})
    expect(launch(bundle, false)).toEqual({value: 1, cacheUsed: true})
    expect(readFileSync(`${bundle}.cache`, 'latin1').slice(0, 9)).toMatch(/^[0-9a-f]{8}\n$/)

    writeFileSync(bundle, bundleText(2))
    expect(bundleText(2).length).toBe(bundleText(1).length)
    expect(launch(bundle, false)).toEqual({value: 2, cacheUsed: false})
  })

  it('runs without a cache file, and with a truncated one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calico-launch-'))
    dirs.push(dir)
    const bundle = join(dir, 'calicoctl.cjs')
    writeFileSync(bundle, bundleText(3))
    expect(launch(bundle, false)).toEqual({value: 3, cacheUsed: false})
    writeFileSync(`${bundle}.cache`, 'abc')
    expect(launch(bundle, false)).toEqual({value: 3, cacheUsed: false})
  })
})
