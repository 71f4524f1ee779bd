// Runs the kernel tools (nft, ip) as argument arrays, never through a shell, and reports their stderr on failure.
import {spawn} from 'node:child_process'
import {setPriority} from 'node:os'

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${command} ${args.join(' ')} failed (${code === null ? 'killed' : `exit ${code}`}): ${stderr.trim() || 'no output'}`)
  }
}

export interface ExecResult {
  stdout: string
  stderr: string
}

export interface RunOptions {
  /** Scheduling niceness for the child (0 normal, up to 19 lowest): for background work that must not slow the rest. */
  nice?: number
}

/** Runs `command args…` with `input` on stdin; resolves with its output, rejects with CommandError on non-zero exit. */
export function run(command: string, args: readonly string[], input?: string, opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']})
    if (opts.nice !== undefined && child.pid !== undefined) {
      try {
        setPriority(child.pid, opts.nice)
      } catch {
        // Already exited, or not permitted: it then simply runs at normal priority.
      }
    }
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (b: Buffer) => out.push(b))
    child.stderr?.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8')
      const stderr = Buffer.concat(err).toString('utf8')
      if (code === 0) resolve({stdout, stderr})
      else reject(new CommandError(command, args, code, stderr))
    })
    if (input !== undefined) {
      // A tool that exits early closes its stdin; the exit status then tells what happened.
      child.stdin?.on('error', () => undefined)
      child.stdin?.end(input)
    }
  })
}
