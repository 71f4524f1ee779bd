// Entry point of both binaries (bin/calico, bin/calico-ipam): read the CNI environment and stdin, run the
// command, print the result or the CNI error JSON on stdout, and return the exit status (0 or 1).
// CALICO_CNI_TRACE=1 adds the stack of unexpected (non-CNI) errors to stderr.
import type {CniEnv, NetConf} from './config.js'
import {parseCniEnv, parseNetConf, peekCniVersion} from './config.js'
import {LinuxDataplane} from './dataplane.js'
import {openDatastore} from './datastore.js'
import {asCniError, CniError} from './errors.js'
import {createLogger} from './log.js'
import {cmdAdd, cmdCheck, cmdDel, ipamPluginAdd, ipamPluginCheck, ipamPluginDel} from './plugin.js'
import type {PluginDeps} from './plugin.js'
import {versionInfo} from './result.js'
import {readStdin} from '../lib/stdin.js'

export type PluginKind = 'calico' | 'calico-ipam'

export interface PluginIO {
  env: NodeJS.ProcessEnv
  stdin: string
  /** Receives the whole stdout text once. */
  write(text: string): void
  /** Overrides for tests (dataplane, datastore, clock). */
  deps?: Partial<Omit<PluginDeps, 'stdin' | 'processEnv'>>
}

async function dispatch(kind: PluginKind, env: CniEnv, conf: NetConf, deps: PluginDeps): Promise<Record<string, unknown> | undefined> {
  switch (env.command) {
    case 'ADD':
      return kind === 'calico' ? cmdAdd(conf, env, deps) : ipamPluginAdd(conf, env, deps)
    case 'DEL':
      await (kind === 'calico' ? cmdDel(conf, env, deps) : ipamPluginDel(conf, env, deps))
      return undefined
    case 'CHECK':
      await (kind === 'calico' ? cmdCheck(conf, env, deps) : ipamPluginCheck(conf, env, deps))
      return undefined
    case 'VERSION':
      return versionInfo()
  }
}

export async function runPlugin(kind: PluginKind, io: PluginIO): Promise<number> {
  let version = peekCniVersion(io.stdin)
  try {
    const env = parseCniEnv(io.env)
    if (env.command === 'VERSION') {
      io.write(`${JSON.stringify(versionInfo())}\n`)
      return 0
    }
    const conf = parseNetConf(io.stdin)
    version = conf.cniVersion
    const log = io.deps?.log ?? createLogger(conf.logLevel)
    const deps: PluginDeps = {
      openBackend: io.deps?.openBackend ?? openDatastore,
      dataplane: io.deps?.dataplane ?? new LinuxDataplane(),
      log,
      stdin: io.stdin,
      processEnv: io.env,
    }
    if (io.deps?.now) deps.now = io.deps.now
    log.debug(`${kind} ${env.command}`, {containerID: env.containerID, netns: env.netns, ifName: env.ifName})
    const out = await dispatch(kind, env, conf, deps)
    if (out !== undefined) io.write(`${JSON.stringify(out)}\n`)
    return 0
  } catch (err) {
    const cni = asCniError(err)
    if (!(err instanceof CniError) && process.env.CALICO_CNI_TRACE === '1') process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    io.write(`${JSON.stringify(cni.toJSON(version))}\n`)
    return 1
  }
}

/** The network configuration piped on stdin; a terminal on stdin means none was piped (VERSION needs none). */
async function readConfig(): Promise<string> {
  return process.stdin.isTTY ? '' : readStdin()
}

/** Runs as a process: stdout is flushed before exiting, so the runtime always reads the whole reply. */
export async function main(kind: PluginKind): Promise<void> {
  let out = ''
  const code = await runPlugin(kind, {env: process.env, stdin: await readConfig(), write: (t) => (out += t)})
  // Exit explicitly: a datastore client (grpc) may hold timers that would keep the process alive.
  process.stdout.write(out, () => process.exit(code))
}
