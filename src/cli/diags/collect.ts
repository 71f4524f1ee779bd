// The steps of a diagnostics bundle and their execution: each step writes one file of the bundle (a command's
// stdout, something computed in-process, or a copied directory). A step that fails leaves `<file>.error` (the command, the error,
// its stderr) instead, and every step's outcome is listed in the bundle's summary.txt; nothing aborts the collection.
import {cp, mkdir, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {dirname, join, relative} from 'node:path'

import {mapConcurrent} from '../../lib/map-concurrent.js'
import {runCommand} from './exec.js'

interface StepBase {
  /** The progress line printed when the step starts (none when absent). */
  info?: string
  /** The bundle file it writes, relative to the bundle's directory. */
  file: string
  /** A symlink to the file (relative to the bundle's directory), made when the step succeeds. */
  link?: string
  /** Set when the step is not run at all, e.g. its tool is not installed here: the reason. */
  unavailable?: string
}

/** A command whose stdout is the file, a computation whose result is, or a directory copied whole. */
export type Step = StepBase &
  ({argv: readonly string[]} | {what: string; produce: () => Promise<string | Buffer>} | {what: string; copyTree: string})

/** Thrown by a step's producer when there is nothing to record and nothing went wrong (e.g. an optional object is absent). */
export class StepSkipped extends Error {}

export type StepOutcome = {state: 'ok'} | {state: 'failed'; error: string} | {state: 'skipped'; reason: string}

export interface StepResult {
  step: Step
  outcome: StepOutcome
  /** A listing the collection planned from (Collector.query): its output is not a file of the bundle. */
  query?: boolean
}

export interface CollectorOptions {
  /** The bundle's directory. */
  dir: string
  print: (line: string) => void
  /** The argv actually run for a step's argv (e.g. kubectl with its connection flags, kept out of the bundle). */
  command?: (argv: readonly string[]) => readonly string[]
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
  /** Prefix progress lines with a running `[n]`, as calicoctl's cluster diags does for its parallel commands. */
  numbered?: boolean
}

/** What a step does, as the summary and the error file name it. */
export function describeStep(step: Step): string {
  return 'argv' in step ? step.argv.join(' ') : step.what
}

export class Collector {
  /** Every step's and query's outcome so far, in the order they were given. */
  readonly results: StepResult[] = []
  private counter = 0

  constructor(private readonly opts: CollectorOptions) {}

  /** Runs `steps`, at most `parallelism` at a time; their results are appended in the steps' order. */
  async run(steps: readonly Step[], parallelism = 1): Promise<StepResult[]> {
    const results = await mapConcurrent(steps, Math.max(1, parallelism), (s) => this.runStep(s))
    this.results.push(...results)
    return results
  }

  /**
   * Runs a command whose output the caller needs (a listing to plan further steps from) and returns its stdout; a
   * failure is recorded as a step's is, its error file at `file`, and gives undefined.
   */
  async query(step: StepBase & {argv: readonly string[]}): Promise<string | undefined> {
    const tag = this.tag()
    if (step.info) this.opts.print(`${tag}${step.info}`)
    const r = await runCommand(this.opts.command?.(step.argv) ?? step.argv, {env: this.opts.env, timeoutMs: this.opts.timeoutMs})
    if (r.error !== undefined) {
      this.results.push(await this.failed(step, tag, r.error, r.stderr))
      return undefined
    }
    this.results.push({step, outcome: {state: 'ok'}, query: true})
    return r.stdout
  }

  private tag(): string {
    return this.opts.numbered ? `[${++this.counter}] ` : ''
  }

  private async runStep(step: Step): Promise<StepResult> {
    if (step.unavailable !== undefined) return {step, outcome: {state: 'skipped', reason: step.unavailable}}
    const tag = this.tag()
    if (step.info) this.opts.print(`${tag}${step.info}`)
    const path = join(this.opts.dir, step.file)
    await mkdir(dirname(path), {recursive: true})
    if ('argv' in step) {
      const argv = this.opts.command?.(step.argv) ?? step.argv
      const r = await runCommand(argv, {stdoutFile: path, env: this.opts.env, timeoutMs: this.opts.timeoutMs})
      if (r.error !== undefined) return this.failed(step, tag, r.error, r.stderr)
    } else {
      try {
        if ('copyTree' in step) await cp(step.copyTree, path, {recursive: true, verbatimSymlinks: true})
        else await writeFile(path, await step.produce())
      } catch (err) {
        if (err instanceof StepSkipped) {
          this.opts.print(`${tag}${err.message}`)
          return {step, outcome: {state: 'skipped', reason: err.message}}
        }
        return this.failed(step, tag, (err as Error).message, '')
      }
    }
    if (step.link) {
      const link = join(this.opts.dir, step.link)
      await mkdir(dirname(link), {recursive: true})
      await symlink(relative(dirname(link), path), link).catch((err: Error) => this.opts.print(`${tag}Error making symlink ${link}: ${err.message}`))
    }
    return {step, outcome: {state: 'ok'}}
  }

  /**
   * Prints calicoctl's two lines and leaves `<file>.error` (the command, the error, its whole stderr) in the bundle.
   * The terminal gets only the tool's last line (kubectl's conclusion follows its retry log), not all of it.
   */
  private async failed(step: Step, tag: string, error: string, stderr: string): Promise<StepResult> {
    const last = stderr.trim().split('\n').at(-1)?.trim()
    this.opts.print(`${tag}Failed to run command: ${describeStep(step)}\nError: ${last || error}`)
    const path = join(this.opts.dir, step.file)
    await mkdir(dirname(path), {recursive: true})
    // An empty output file says nothing the error file does not.
    if ((await stat(path).catch(() => undefined))?.size === 0) await rm(path, {force: true})
    await writeFile(`${path}.error`, `command: ${describeStep(step)}\nerror: ${error}\n${stderr ? `\n${stderr}` : ''}`)
    return {step, outcome: {state: 'failed', error}}
  }
}

/** summary.txt: one line per step, `OK`, `FAILED` (see its .error file) or `SKIPPED` with the reason. */
export function formatSummary(results: readonly StepResult[]): string {
  const rows = results.map(({step, outcome, query}) => {
    switch (outcome.state) {
      case 'ok':
        return ['OK', query ? '-' : step.file, describeStep(step)]
      case 'failed':
        return ['FAILED', step.file, `${describeStep(step)}: ${outcome.error} (see ${step.file}.error)`]
      case 'skipped':
        return ['SKIPPED', step.file, `${describeStep(step)}: ${outcome.reason}`]
    }
  })
  const width = Math.max(0, ...rows.map((r) => r[1]!.length))
  return rows.map(([state, file, what]) => `${state!.padEnd(8)}${file!.padEnd(width + 2)}${what}\n`).join('')
}
