// Runs the kernel tools (nft, ip) as argument arrays, never through a shell, and reports their stderr on failure.
import {spawn, type ChildProcess} from 'node:child_process'
import {close, constants as fsc, open} from 'node:fs'
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

/** startStreamed could not make its pipe (no writable temp dir, no mkfifo): nothing was started or read. */
export class PipeUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`cannot make a pipe for streaming: ${cause instanceof Error ? cause.message : String(cause)}`, {cause})
  }
}

/** A child started on a pipe it reads its input from, before that input exists (startStreamed). */
export interface StreamedRun {
  /**
   * Writes `input` into the pipe chunk by chunk, while the chunks are still being produced (with backpressure), and
   * resolves with the child's output once it exits. If producing the input throws, the child is killed before it
   * could read the end of its input, and the error is rethrown: a tool that acts only at end of input (`nft -f`
   * commits once, after parsing everything) does nothing.
   */
  feed(input: Iterable<string> | AsyncIterable<string>): Promise<ExecResult>
  /** Kills the child before its input ended (so it acts on nothing) and waits for it to exit. */
  cancel(): Promise<void>
}

/**
 * Starts `command args(path)…` where `path` names a pipe that the input will be written into later (feed): for a tool
 * that parses a file as it reads it, so both work at once, and so that the tool's own start-up is over before the
 * input is ready. The pipe is a FIFO the tool opens by name; Node's own stdin pipes are sockets, which cannot be opened
 * by path. Resolves once both ends are open.
 */
export async function startStreamed(command: string, args: (path: string) => readonly string[]): Promise<StreamedRun> {
  let dir: string
  try {
    dir = await mkdtemp(join(tmpdir(), 'calico-pipe-'))
  } catch (err) {
    throw new PipeUnavailableError(err)
  }
  let sink: Socket
  let child: ChildProcess
  let result: Promise<ExecResult>
  try {
    const path = join(dir, 'in')
    await run('mkfifo', ['-m', '600', path]).catch((err: unknown) => {
      throw new PipeUnavailableError(err)
    })
    const argv = args(path)
    child = spawn(command, argv, {stdio: ['ignore', 'pipe', 'pipe']})
    result = collect(child, command, argv)
    sink = new Socket({fd: await openWriteEnd(path, result), readable: false, writable: true})
  } finally {
    // Both ends are open (or the child is gone): the pipe no longer needs its name.
    await rm(dir, {recursive: true, force: true})
  }
  let exited = false
  // Settles when the child is gone; `result` tells how it went.
  const gone = result.then(() => undefined, () => undefined).then(() => {
    exited = true
  })
  // A child that exits early closes the pipe (EPIPE): its exit status tells what happened.
  sink.on('error', () => undefined)
  const cancel = async (): Promise<void> => {
    child.kill('SIGKILL')
    sink.destroy()
    await gone
  }
  return {
    cancel,
    async feed(input: Iterable<string> | AsyncIterable<string>): Promise<ExecResult> {
      try {
        for await (const chunk of input) {
          if (exited) break
          if (!sink.write(chunk)) await Promise.race([new Promise((resolve) => sink.once('drain', resolve)), gone])
        }
      } catch (err) {
        // Killed before its input ends, so it never acts on the part it has read.
        await cancel()
        throw err
      }
      sink.end()
      return result
    },
  }
}

/**
 * Opens the FIFO for writing once the child has opened it for reading (a FIFO's open waits for its other end, so the
 * child never finds it without a writer and waits forever); if the child exits without opening it, opening the read
 * end here releases the wait, and the child's failure is reported.
 */
async function openWriteEnd(path: string, child: Promise<ExecResult>): Promise<number> {
  // A raw descriptor, not a FileHandle: the socket owns it from here, and a FileHandle would close it when collected.
  const opening = openFd(path, fsc.O_WRONLY)
  const outcome = await Promise.race([opening.then(() => 'opened' as const), child.then(() => 'exited' as const, () => 'exited' as const)])
  if (outcome === 'exited') {
    const release = await openFd(path, fsc.O_RDONLY | fsc.O_NONBLOCK)
    await closeFd(await opening)
    await closeFd(release)
    await child
    throw new Error(`${path} was never opened`)
  }
  return opening
}

function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))))
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve())))
}
