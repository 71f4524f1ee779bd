// Runs the kernel tools (nft, ip) as argument arrays, never through a shell, and reports their stderr on failure.
import {spawn, type ChildProcess} from 'node:child_process'
import {closeSync, constants as fsc, openSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {Socket} from 'node:net'
import {setPriority, tmpdir} from 'node:os'
import {join} from 'node:path'

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
  const child = spawn(command, args, {stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']})
  if (opts.nice !== undefined && child.pid !== undefined) {
    try {
      setPriority(child.pid, opts.nice)
    } catch {
      // Already exited, or not permitted: it then simply runs at normal priority.
    }
  }
  const result = collect(child, command, args)
  if (input !== undefined) {
    // A tool that exits early closes its stdin; the exit status then tells what happened.
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(input)
  }
  return result
}

/** The child's output once it has exited; rejects with CommandError on a non-zero exit or a failed spawn. */
function collect(child: ChildProcess, command: string, args: readonly string[]): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
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
  })
}

/**
 * Runs `command args(path)…` where `path` names a pipe that `input` is written into chunk by chunk, while the chunks
 * are still being produced (with backpressure): for a tool that parses a file as it reads it, so both work at once.
 * The pipe is a FIFO, not Node's stdin socket, because a tool can open a pipe by path but not a socket.
 *
 * If producing the input throws, the child is killed before it could read the end of its input, and the error is
 * rethrown: a tool that acts only at end of input (`nft -f` commits once, after parsing everything) does nothing.
 */
export async function runStreamed(command: string, args: (path: string) => readonly string[], input: Iterable<string>): Promise<ExecResult> {
  const {readFd, writeFd} = await openFifo()
  const argv = args('/proc/self/fd/0')
  let child: ChildProcess
  try {
    // The child reads the FIFO through its own open of its stdin (blocking, unlike our non-blocking descriptor).
    child = spawn(command, argv, {stdio: [readFd, 'pipe', 'pipe']})
  } catch (err) {
    closeSync(writeFd)
    throw err
  } finally {
    closeSync(readFd)
  }
  const result = collect(child, command, argv)
  // Settles when the child is gone (or never started); the result above tells how it went.
  const gone = result.then(() => undefined, () => undefined)
  let exited = false
  void gone.then(() => (exited = true))
  const sink = new Socket({fd: writeFd, readable: false, writable: true})
  // A child that exits early closes the pipe (EPIPE): its exit status tells what happened.
  sink.on('error', () => undefined)
  try {
    for (const chunk of input) {
      if (exited) break
      if (!sink.write(chunk)) await Promise.race([new Promise((resolve) => sink.once('drain', resolve)), gone])
    }
  } catch (err) {
    // Killed before its input ends, so it never acts on the part it has read.
    child.kill('SIGKILL')
    sink.destroy()
    await gone
    throw err
  }
  sink.end()
  return result
}

/** A FIFO opened at both ends (non-blocking), its name already removed: the pipe lives on in the two descriptors. */
async function openFifo(): Promise<{readFd: number; writeFd: number}> {
  const dir = await mkdtemp(join(tmpdir(), 'calico-pipe-'))
  try {
    const path = join(dir, 'in')
    await run('mkfifo', ['-m', '600', path])
    // The read end first: opening the write end of a FIFO without a reader fails (non-blocking) or waits.
    const readFd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK)
    try {
      return {readFd, writeFd: openSync(path, fsc.O_WRONLY | fsc.O_NONBLOCK)}
    } catch (err) {
      closeSync(readFd)
      throw err
    }
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}
