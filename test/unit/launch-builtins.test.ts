// What a cold start of the built calicoctl loads of Node itself: bin/calicoctl requires its launcher as CommonJS (an
// ES module's import of a built-in would evaluate all its exports, WebCrypto included), the launcher needs no
// node:crypto, and the bundle defers what oclif loads for rare paths (child processes through wsl-utils, performance
// marks, line-by-line stdin).
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {BIN, builtOrExplain} from '../e2e/harness.js'

const skip = builtOrExplain()
const dir = mkdtempSync(join(tmpdir(), 'calico-launch-builtins-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** Node's internal module list at exit of a plain `node bin/calicoctl <args>` on a throw-away embedded store. */
function modulesOf(args: string[]): string[] {
  const hook = join(dir, 'list.cjs')
  const out = join(dir, `${args.join('-')}.json`)
  writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.moduleLoadList)))\n`)
  const r = spawnSync(process.execPath, ['--require', hook, BIN, ...args], {
    // A user's environment, not vitest's: with NODE_ENV=test oclif looks for TypeScript sources, loading more.
    env: {PATH: process.env.PATH, HOME: process.env.HOME, DATASTORE_PATH: join(dir, 'store'), NO_COLOR: '1'},
    encoding: 'utf8',
    timeout: 60_000,
  })
  expect(r.status, r.stderr).toBe(0)
  return JSON.parse(readFileSync(out, 'utf8')) as string[]
}

describe.skipIf(skip !== undefined)('a cold calicoctl start', () => {
  const unneeded = ['internal/crypto/webcrypto', 'child_process', 'perf_hooks', 'readline']
  // The launcher checks its cache with zlib's CRC-32; a datastore command loads node:crypto for its own use.
  for (const [args, alsoUnneeded] of [[['version', '--client'], ['crypto']], [['get', 'ippools'], []]] as const) {
    it(`loads none of ${[...unneeded, ...alsoUnneeded].join(', ')} for ${args.join(' ')}`, () => {
      const loaded = modulesOf([...args])
      expect(loaded).toContain('NativeModule vm')
      const names = [...unneeded, ...alsoUnneeded].map((m) => `NativeModule ${m}`)
      expect(loaded.filter((m) => names.includes(m))).toEqual([])
    })
  }
})
