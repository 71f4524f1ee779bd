// Running a program from a test without blocking the event loop (the test may itself serve what the program talks
// to: the test Kubernetes API server, a relay, a lab's helpers): argv, never a shell; output collected; a deadline.
import {spawn} from 'node:child_process'

export interface ExecResult {
  /** The exit status; 128 when a signal ended it (the deadline's included). */
  code: number
  stdout: string
  stderr: string
}

export interface ExecOptions {
  /** Written to stdin, which is then closed (also when absent: the program never waits for input). */
  input?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Killed (SIGKILL) after this long; default 60 s. */
  timeoutMs?: number
}

/** Runs `argv` and resolves with its outcome whatever the exit status; rejects only when it cannot be started. */
export function execArgv(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv
    if (cmd === undefined) return reject(new Error('empty argv'))
    const child = spawn(cmd, args, {stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL'})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolve({code: code ?? (signal ? 128 : -1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8')}),
    )
    // The program may exit without reading its input; its status says so, not EPIPE.
    child.stdin.on('error', () => undefined)
    child.stdin.end(opts.input ?? '')
  })
}
