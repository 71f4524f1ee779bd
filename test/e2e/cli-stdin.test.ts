// Positional arguments come from the command line only, as with cobra: stdin is read only for `-f -`.
// (oclif fills a missing argument from a non-terminal stdin unless told not to; see positional in base-command.)
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {builtOrExplain, runCalicoctl} from './harness.js'

const dir = mkdtempSync(join(tmpdir(), 'calicoctl-stdin-'))
const env: NodeJS.ProcessEnv = {PATH: process.env.PATH, HOME: dir, NO_COLOR: '1', DATASTORE_PATH: join(dir, 'store')}
const run = (args: string[], stdin?: string) => runCalicoctl(args, env, stdin)

const POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool1
spec:
  cidr: 10.1.0.0/16
`

/** `get -o custom-columns=NAME` listing only pool1, in calicoctl's table layout. */
const NAMES = ['-o', 'custom-columns=NAME']
const POOL1 = 'NAME    \npool1   \n\n'

const skip = builtOrExplain()

describe.skipIf(skip !== undefined)('arguments and stdin', () => {
  beforeAll(() => {
    expect(run(['create', '-f', '-'], POOL).exit).toBe(0)
  })
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('get -f - reads the resources from stdin', () => {
    expect(run(['get', '-f', '-', ...NAMES], POOL)).toMatchObject({exit: 0, output: POOL1})
  })

  it('text on stdin is not taken for a missing name or kind', () => {
    expect(run(['get', 'ippools', ...NAMES], 'other\n')).toMatchObject({exit: 0, output: POOL1})
    expect(run(['get'], 'ippools\n')).toMatchObject({exit: 1, output: 'failed to get resources: a resource type or --filename is required\n'})
    expect(run(['delete', 'ippool'], 'pool1\n').exit).toBe(1)
    expect(run(['get', 'ippools', ...NAMES])).toMatchObject({exit: 0, output: POOL1})
    expect(run(['get', 'ippools', ...NAMES], '')).toMatchObject({exit: 0, output: POOL1})
  })

  it('completion defaults to bash whatever stdin holds', () => {
    const r = run(['completion'], 'zsh\n')
    expect(r.exit).toBe(0)
    expect(r.stdout).not.toContain('#compdef')
    expect(r.stdout).toBe(run(['completion', 'bash']).stdout)
  })
})
