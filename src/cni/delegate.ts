// Running another IPAM plugin (e.g. host-local) the way CNI runtimes do: found in CNI_PATH, same environment
// with CNI_COMMAND set, the network configuration on stdin, the result or error JSON on stdout.
import {spawn} from 'node:child_process'
import {accessSync, constants} from 'node:fs'
import {join} from 'node:path'

import type {CniCommand} from './config.js'
import {CNI_CODES, CniError} from './errors.js'

/** Absolute path of plugin `type` in the CNI_PATH directories. */
export function findPlugin(type: string, dirs: readonly string[]): string {
  if (type.includes('/')) throw new CniError(CNI_CODES.invalidNetworkConfig, `invalid plugin type "${type}"`)
  for (const dir of dirs) {
    const file = join(dir, type)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      continue
    }
  }
  throw new CniError(CNI_CODES.invalidNetworkConfig, `failed to find plugin "${type}" in path [${dirs.join(' ')}]`)
}

/** Runs the plugin; resolves with its parsed stdout (null when it printed nothing), rejects with its CNI error. */
export function execPlugin(file: string, command: CniCommand, env: NodeJS.ProcessEnv, stdin: string, timeoutMs = 60_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], {env: {...env, CNI_COMMAND: command}, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', (e) => reject(new CniError(CNI_CODES.ioFailure, `failed to run ${file}: ${e.message}`)))
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString('utf8').trim()
      let parsed: unknown = null
      try {
        parsed = text === '' ? null : JSON.parse(text)
      } catch {
        parsed = undefined
      }
      if (code === 0 && parsed !== undefined) return resolve(parsed)
      const e = parsed as {code?: unknown; msg?: unknown; details?: unknown} | null | undefined
      if (e && typeof e.msg === 'string') {
        const c = typeof e.code === 'number' && Number.isInteger(e.code) && e.code > 0 ? e.code : CNI_CODES.internal
        return reject(new CniError(c, e.msg, typeof e.details === 'string' ? e.details : ''))
      }
      const stderr = Buffer.concat(err).toString('utf8').trim()
      reject(new CniError(CNI_CODES.internal, `${file} ${command} failed (exit ${code ?? 'signal'})${stderr ? `: ${stderr}` : ''}`))
    })
    child.stdin.on('error', () => undefined)
    child.stdin.end(stdin)
  })
}
