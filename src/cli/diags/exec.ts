// Runs the commands a diagnostics bundle records: argument arrays, never a shell; stdout straight into the bundle's
// file (a pod log or a ruleset can be large), stderr kept for the report. A command that cannot be found, exits
// non-zero or overruns its deadline is an outcome to record, never an exception: collection carries on.
// Read-only queries only (listings, dumps); programming the kernel stays in src/dataplane/linux.
import {spawn} from 'node:child_process'
import {open} from 'node:fs/promises'
import {accessSync, constants as fsc, statSync} from 'node:fs'
import {delimiter, join} from 'node:path'

export interface RunOutcome {
  /** stdout, unless it went to a file. */
  stdout: string
  stderr: string
  /** Why it failed, in Go's os/exec words (`exit status 1`, `signal: killed`, `exec: "x": executable file not found in $PATH`). */
  error?: string
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  /** Killed (SIGKILL) after this long. */
  timeoutMs?: number
  /** Where stdout goes instead of `stdout` (created or truncated). */
  stdoutFile?: string
}

/** stderr beyond this is dropped: it only explains a failure. */
const STDERR_LIMIT = 64 * 1024

/** Go's exec.LookPath: the first executable regular file named `name` on `path` (a name with a slash is taken as is). */
export function lookPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = name.includes('/') ? [name] : path.split(delimiter).map((dir) => join(dir || '.', name))
  return candidates.find((c) => {
    try {
      accessSync(c, fsc.X_OK)
      return statSync(c).isFile()
    } catch {
      return false
    }
  })
}

export async function runCommand(argv: readonly string[], opts: RunOptions = {}): Promise<RunOutcome> {
  const [cmd, ...args] = argv
  if (cmd === undefined) return {stdout: '', stderr: '', error: 'no command to execute'}
  const env = opts.env ?? process.env
  if (lookPath(cmd, env.PATH ?? '') === undefined) {
    return {stdout: '', stderr: '', error: `exec: "${cmd}": executable file not found in $PATH`}
  }
  const file = opts.stdoutFile === undefined ? undefined : await open(opts.stdoutFile, 'w', 0o644)
  try {
    return await new Promise<RunOutcome>((resolve) => {
      const started = Date.now()
      const child = spawn(cmd, args, {stdio: ['ignore', file?.fd ?? 'pipe', 'pipe'], env, timeout: opts.timeoutMs, killSignal: 'SIGKILL'})
      const out: Buffer[] = []
      const err: Buffer[] = []
      let errBytes = 0
      child.stdout?.on('data', (b: Buffer) => out.push(b))
      child.stderr?.on('data', (b: Buffer) => {
        if (errBytes < STDERR_LIMIT) err.push(b)
        errBytes += b.length
      })
      child.on('error', (e) => resolve({stdout: '', stderr: '', error: e.message}))
      child.on('close', (code, signal) => {
        const stdout = Buffer.concat(out).toString('utf8')
        const stderr = Buffer.concat(err).toString('utf8').slice(0, STDERR_LIMIT)
        if (code === 0) resolve({stdout, stderr})
        else if (signal && opts.timeoutMs !== undefined && Date.now() - started >= opts.timeoutMs) resolve({stdout, stderr, error: `timed out after ${opts.timeoutMs / 1000}s`})
        else resolve({stdout, stderr, error: signal ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal}` : `exit status ${code}`})
      })
    })
  } finally {
    await file?.close()
  }
}
