// Keeps the layers of shared/DESIGN.md honest: every relative import in src/ must point down.
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const src = join(root, 'src')

// Layer → the layers it may import (besides itself). Order of keys: most specific first.
const allowed: Record<string, string[]> = {
  'commands': ['cli', 'agent', 'cni', 'ipam', 'datastore', 'dataplane/calc', 'dataplane/nftables', 'dataplane/routing', 'dataplane/linux', 'api', 'lib'],
  'cli': ['agent', 'cni', 'ipam', 'datastore', 'api', 'lib'],
  'agent': ['dataplane/calc', 'dataplane/nftables', 'dataplane/routing', 'dataplane/linux', 'ipam', 'datastore', 'api', 'lib'],
  'cni': ['ipam', 'dataplane/linux', 'datastore', 'api', 'lib'],
  'ipam': ['datastore', 'api', 'lib'],
  'dataplane/routing': ['dataplane/linux', 'api', 'lib'],
  'dataplane/nftables': ['dataplane/calc', 'api', 'lib'],
  'dataplane/calc': ['api', 'lib'],
  'dataplane/linux': ['lib'],
  'datastore': ['api', 'lib'],
  'api': [],
  'lib': [],
}

function layerOf(file: string): string {
  const rel = relative(src, file).replaceAll('\\', '/')
  const layer = Object.keys(allowed)
    .sort((a, b) => b.length - a.length)
    .find((l) => rel === l || rel.startsWith(`${l}/`))
  if (!layer) throw new Error(`${rel} is in no known layer: add its folder to shared/DESIGN.md and this test`)
  return layer
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

const importPattern = /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g

describe('architecture', () => {
  it('imports point down the layers only', () => {
    const violations: string[] = []
    for (const file of sourceFiles(src)) {
      const from = layerOf(file)
      for (const match of readFileSync(file, 'utf8').matchAll(importPattern)) {
        const target = resolve(dirname(file), match[1] ?? match[2])
        const to = layerOf(target)
        if (to !== from && !allowed[from].includes(to)) {
          violations.push(`${relative(root, file)} (${from}) imports ${match[1] ?? match[2]} (${to})`)
        }
      }
    }
    expect(violations).toEqual([])
  })

  it('recognises an upward edge', () => {
    // Guards the checker itself: api importing the datastore must be flagged.
    expect(allowed['api']).not.toContain(layerOf(join(src, 'datastore', 'backend.ts')))
  })
})
