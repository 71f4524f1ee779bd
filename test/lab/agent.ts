// The node agent in a lab node: `calicoctl node run` (bin/calicoctl over dist/, as a user runs it) inside the node's
// network namespace against the lab's datastore. The process is adopted by the lab, so Lab.destroy() (and the exit
// hooks) kill it with everything else; stop() ends it the way systemd would, with SIGTERM.
//
//   const agent = startAgent(lab, node)
//   await agent.ready()                         // "Calico node started successfully": first program in the kernel
//   await agent.table()                         // `nft list table inet calico` inside the node
//   await agent.stop()                          // SIGTERM; agent.kill() is SIGKILL (a crash)
//
// AGENT_LOG_DUMP=<file> appends every lab agent's log to <file> when it exits (for debugging a failed run).
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {appendFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'

import type {Lab, LabNode} from './lab.js'
import {ROOT} from './plugin.js'

export const CALICOCTL = join(ROOT, 'bin', 'calicoctl')

/** The line `node run` logs once the first full program reached the kernel. */
const STARTED = 'Calico node started successfully'

/**
 * Why the agent cannot run in a lab here (undefined when it can): the lab's own needs (root, Linux), the nft and ip
 * tools, and a built dist/ (the agent runs as the user runs it, through bin/calicoctl). In CI a missing requirement
 * is an error, not a skip.
 */
export function agentSkipReason(): string | undefined {
  const reason = agentLabMissing()
  if (reason !== undefined && process.env.CI === 'true') throw new Error(`${reason} (required in CI)`)
  return reason
}

/** What this machine lacks for an agent lab (undefined when nothing), without the CI policy of agentSkipReason. */
export function agentLabMissing(): string | undefined {
  if (process.platform !== 'linux') return 'the node agent lab needs Linux'
  if (process.getuid?.() !== 0) return 'the node agent lab needs root (network namespaces, nftables)'
  if (spawnSync('nft', ['--version'], {stdio: 'ignore'}).status !== 0) return 'the node agent lab needs the nft tool (Debian package nftables)'
  if (spawnSync('ip', ['-V'], {stdio: 'ignore'}).status !== 0) return 'the node agent lab needs the ip tool (iproute2)'
  if (!existsSync(join(ROOT, 'dist', 'commands', 'node', 'run.js')) || !existsSync(join(ROOT, 'oclif.manifest.json'))) return 'dist/ is missing: run `npm run build` first (npm test does)'
  return undefined
}

export interface LabAgent {
  readonly node: LabNode
  readonly child: ChildProcess
  /** Everything the agent wrote so far (stdout and stderr): tests show it when something fails. */
  log(): string
  /** Resolves once the agent programmed the kernel for the first time; rejects when it exits or times out. */
  ready(timeoutMs?: number): Promise<void>
  /** The agent's nftables table as the kernel has it (empty string when there is none yet). */
  table(): Promise<string>
  /** SIGTERM, then waits for the exit; resolves with the exit code (the rules stay programmed). */
  stop(): Promise<number | null>
  /** SIGKILL (a crash: no chance to clean up), then waits for the exit. */
  kill(): Promise<void>
}

export interface AgentOptions {
  /** Extra `calicoctl node run` arguments (the node name and config are set). */
  args?: string[]
  env?: NodeJS.ProcessEnv
}

export function startAgent(lab: Lab, node: LabNode, opts: AgentOptions = {}): LabAgent {
  const config = lab.clientConfig(node)
  const child = spawn('ip', ['netns', 'exec', node.netns, process.execPath, CALICOCTL, 'node', 'run', '--name', node.name, '-c', config, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  })
  lab.adopt(child)
  let log = ''
  const waiters = new Set<() => void>()
  const onData = (b: Buffer): void => {
    log += b.toString()
    for (const w of waiters) w()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const dump = process.env.AGENT_LOG_DUMP
  if (dump) child.once('exit', () => appendFileSync(dump, `--- ${node.name}\n${log}\n`))
  child.once('exit', () => {
    for (const w of waiters) w()
  })

  return {
    node,
    child,
    log: () => log,
    ready(timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (log.includes(STARTED)) finish()
          else if (child.exitCode !== null || child.signalCode !== null) finish(new Error(`node run exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${log}`))
        }
        const timer = setTimeout(() => finish(new Error(`node run not ready within ${timeoutMs} ms:\n${log}`)), timeoutMs)
        function finish(err?: Error): void {
          clearTimeout(timer)
          waiters.delete(check)
          if (err) reject(err)
          else resolve()
        }
        waiters.add(check)
        check()
      })
    },
    async table() {
      const r = await lab.exec(node.netns, ['nft', 'list', 'table', 'inet', 'calico'])
      return r.code === 0 ? r.stdout : ''
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
