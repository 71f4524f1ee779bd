// The last-resort cleanup registry: callbacks run on a normal exit and on an interrupting signal (after which the
// process still dies of that signal), and an unregistered callback does not run.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'exit-hooks-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** Runs a child that registers two callbacks (appending "kept" and "dropped" to a file), unregisters the second, then ends with `ending`. */
function child(name: string, ending: string): {status: number | null; signal: NodeJS.Signals | null; ran: string} {
  const out = join(dir, `${name}.out`)
  const script = join(dir, `${name}.ts`)
  writeFileSync(script, [
    `import {appendFileSync} from 'node:fs'`,
    `import {atExit} from ${JSON.stringify(join(import.meta.dirname, 'exit.ts'))}`,
    `atExit(() => appendFileSync(${JSON.stringify(out)}, 'kept\\n'))`,
    `const drop = atExit(() => appendFileSync(${JSON.stringify(out)}, 'dropped\\n'))`,
    `drop()`,
    ending,
  ].join('\n'))
  const r = spawnSync(process.execPath, ['--import', join(import.meta.dirname, '../datastore/helpers/register.mjs'), script], {encoding: 'utf8'})
  return {status: r.status, signal: r.signal, ran: existsSync(out) ? readFileSync(out, 'utf8') : ''}
}

describe('test/helpers/exit.ts', () => {
  it('runs the registered callbacks once on a normal exit', () => {
    expect(child('normal', 'process.exitCode = 3')).toEqual({status: 3, signal: null, ran: 'kept\n'})
  })

  it('runs them on SIGTERM, and the process still dies of the signal', () => {
    expect(child('signal', `process.kill(process.pid, 'SIGTERM'); setTimeout(() => undefined, 5000)`)).toEqual({status: null, signal: 'SIGTERM', ran: 'kept\n'})
  })
})
