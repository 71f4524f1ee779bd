// The diagnostics collector: each step's file, a failure recorded in the bundle (never thrown), skipped steps, the
// summary, bounded parallelism; and the command runner's outcomes in Go's words.
import {existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {Collector, formatSummary, StepSkipped, type Step} from '../../src/cli/diags/collect.js'
import {lookPath, runCommand} from '../../src/cli/diags/exec.js'

const root = mkdtempSync(join(tmpdir(), 'calico-diags-collect-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))
const node = process.execPath

describe('runCommand', () => {
  it("reports a missing tool, a non-zero exit, a signal and a deadline in Go's os/exec words", async () => {
    expect(await runCommand(['no-such-tool-here'])).toEqual({stdout: '', stderr: '', error: 'exec: "no-such-tool-here": executable file not found in $PATH'})
    expect(await runCommand([node, '-e', 'process.stdout.write("out"); process.stderr.write("bad"); process.exit(3)'])).toEqual({stdout: 'out', stderr: 'bad', error: 'exit status 3'})
    expect((await runCommand([node, '-e', 'process.kill(process.pid, "SIGTERM")'])).error).toBe('signal: SIGTERM')
    expect((await runCommand([node, '-e', 'setTimeout(() => {}, 10000)'], {timeoutMs: 300})).error).toBe('timed out after 0.3s')
    expect(await runCommand([node, '-e', 'process.stdout.write("fine")'])).toEqual({stdout: 'fine', stderr: ''})
  })

  it('finds executables on the given PATH only', () => {
    expect(lookPath('node', join(node, '..'))).toBe(node)
    expect(lookPath('node', root)).toBeUndefined()
    expect(lookPath(node, '')).toBe(node)
  })
})

describe('Collector', () => {
  it('writes each step, records failures beside them, skips, links, and keeps going', async () => {
    const dir = join(root, 'bundle')
    const printed: string[] = []
    const collector = new Collector({dir, print: (l) => printed.push(l)})
    const steps: Step[] = [
      {info: 'Dumping ok', argv: [node, '-e', 'process.stdout.write("hello\\n")'], file: 'ok', link: 'links/ok'},
      {info: 'Dumping failing', argv: [node, '-e', 'console.error("noise"); console.error("it broke"); process.exit(2)'], file: 'sub/failing'},
      {argv: ['no-such-tool-here', '-x'], file: 'missing'},
      {argv: ['iptables-save'], file: 'absent', unavailable: 'iptables-save is not installed'},
      {what: 'computed', file: 'computed', produce: async () => 'value\n'},
      {what: 'threw', file: 'threw', produce: () => Promise.reject(new Error('no answer'))},
      {info: 'Looking', what: 'optional', file: 'optional', produce: () => Promise.reject(new StepSkipped('not there, skipping...'))},
    ]
    const results = await collector.run(steps)
    expect(results.map((r) => r.outcome.state)).toEqual(['ok', 'failed', 'failed', 'skipped', 'ok', 'failed', 'skipped'])
    expect(readFileSync(join(dir, 'ok'), 'utf8')).toBe('hello\n')
    expect(readlinkSync(join(dir, 'links', 'ok'))).toBe('../ok')
    expect(readFileSync(join(dir, 'computed'), 'utf8')).toBe('value\n')
    // A failed command's empty output is not kept; its error file says what ran and why it failed.
    expect(existsSync(join(dir, 'sub', 'failing'))).toBe(false)
    expect(readFileSync(join(dir, 'sub', 'failing.error'), 'utf8')).toBe(`command: ${node} -e console.error("noise"); console.error("it broke"); process.exit(2)\nerror: exit status 2\n\nnoise\nit broke\n`)
    expect(readFileSync(join(dir, 'missing.error'), 'utf8')).toBe('command: no-such-tool-here -x\nerror: exec: "no-such-tool-here": executable file not found in $PATH\n')
    expect(readFileSync(join(dir, 'threw.error'), 'utf8')).toBe('command: threw\nerror: no answer\n')
    expect(existsSync(join(dir, 'absent.error')) || existsSync(join(dir, 'optional.error'))).toBe(false)
    expect(printed).toEqual([
      'Dumping ok',
      'Dumping failing',
      `Failed to run command: ${node} -e console.error("noise"); console.error("it broke"); process.exit(2)\nError: it broke`,
      'Failed to run command: no-such-tool-here -x\nError: exec: "no-such-tool-here": executable file not found in $PATH',
      'Failed to run command: threw\nError: no answer',
      'Looking',
      'not there, skipping...',
    ])
    expect(collector.results).toEqual(results)
    expect(formatSummary(results)).toBe(
      [
        `OK      ok           ${node} -e process.stdout.write("hello\\n")`,
        `FAILED  sub/failing  ${node} -e console.error("noise"); console.error("it broke"); process.exit(2): exit status 2 (see sub/failing.error)`,
        'FAILED  missing      no-such-tool-here -x: exec: "no-such-tool-here": executable file not found in $PATH (see missing.error)',
        'SKIPPED absent       iptables-save: iptables-save is not installed',
        'OK      computed     computed',
        'FAILED  threw        threw: no answer (see threw.error)',
        'SKIPPED optional     optional: not there, skipping...',
        '',
      ].join('\n'),
    )
  })

  it('queries return their output, or record the failure and give undefined; numbered lines as calicoctl', async () => {
    const dir = join(root, 'queries')
    const printed: string[] = []
    // The argv that runs is rewritten (connection flags), the one recorded is not.
    const collector = new Collector({dir, print: (l) => printed.push(l), numbered: true, command: (argv) => (argv[0] === 'tool' ? [node, ...argv.slice(1)] : argv)})
    expect(await collector.query({info: 'Listing', argv: ['tool', '-e', 'process.stdout.write("a b")'], file: 'list'})).toBe('a b')
    expect(await collector.query({argv: ['tool', '-e', 'process.exit(1)'], file: 'nested/list'})).toBeUndefined()
    expect(printed).toEqual(['[1] Listing', '[2] Failed to run command: tool -e process.exit(1)\nError: exit status 1'])
    expect(existsSync(join(dir, 'list'))).toBe(false)
    expect(readFileSync(join(dir, 'nested', 'list.error'), 'utf8')).toBe('command: tool -e process.exit(1)\nerror: exit status 1\n')
    expect(formatSummary(collector.results)).toBe('OK      -            tool -e process.stdout.write("a b")\nFAILED  nested/list  tool -e process.exit(1): exit status 1 (see nested/list.error)\n')
  })

  it('runs at most `parallelism` steps at a time and keeps their order', async () => {
    const dir = join(root, 'parallel')
    let running = 0
    let peak = 0
    const step = (i: number): Step => ({
      what: `s${i}`,
      file: `s${i}`,
      produce: async () => {
        peak = Math.max(peak, ++running)
        await new Promise((r) => setTimeout(r, 20 - i))
        running--
        return String(i)
      },
    })
    const results = await new Collector({dir, print: () => undefined}).run(Array.from({length: 8}, (_, i) => step(i)), 3)
    expect(peak).toBe(3)
    expect(results.map((r) => r.step.file)).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7'])
    expect(readFileSync(join(dir, 's7'), 'utf8')).toBe('7')
  })
})
