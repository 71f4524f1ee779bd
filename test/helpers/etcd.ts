// Runs a real, throw-away etcd for tests: loopback ports only, a temp data directory, and cleanup on
// stop(), on process exit and on failure. An instance can be halted and restarted on the same data
// (fault tests), and etcdctl can be run against it to inspect raw keys.

import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {get as httpsGet} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {atExit} from './exit.js'
import {freePort} from './ports.js'

const ETCD = process.env.ETCD_BIN ?? '/usr/bin/etcd'
const ETCDCTL = process.env.ETCDCTL_BIN ?? '/usr/bin/etcdctl'

export interface EtcdTlsFiles {
  caFile: string
  certFile: string
  keyFile: string
}

export interface EtcdOptions {
  /** Serve TLS only, requiring client certificates signed by a throw-away CA (files in the data dir). */
  tls?: boolean
}

export interface EtcdInstance {
  /** Client URL, e.g. `http://127.0.0.1:23791` (the shape of calicoctl's etcdEndpoints). */
  readonly endpoints: string
  readonly dataDir: string
  /** With `tls`: the CA and a client certificate/key that etcd accepts. */
  readonly tls?: EtcdTlsFiles
  /** Kills etcd and removes its data directory. Idempotent. */
  stop(): Promise<void>
  /** Kills etcd (SIGKILL, like a crash) but keeps its data, so restart() resumes the same store. */
  halt(): Promise<void>
  restart(): Promise<void>
  /** Runs etcdctl (v3 API) against this instance; resolves with stdout, rejects on a non-zero exit. */
  etcdctl(args: string[], input?: string): Promise<string>
}

/**
 * Why etcd tests cannot run here, or undefined when they can. In CI (CI=true) a missing etcd is a
 * broken environment, so this throws instead of letting the suite skip silently.
 */
export function etcdSkipReason(): string | undefined {
  const missing = [ETCD, ETCDCTL].filter((bin) => !existsSync(bin))
  if (missing.length === 0) return undefined
  const reason = `etcd tests skipped: ${missing.join(' and ')} not found (install the Debian "etcd-server" and "etcd-client" packages or set ETCD_BIN/ETCDCTL_BIN)`
  if (process.env.CI === 'true') throw new Error(reason.replace('skipped', 'cannot run in CI'))
  console.warn(reason)
  return reason
}

const live = new Set<ChildProcess>()
const dirs = new Set<string>()

/** Last resort when a test run dies without reaching stop(): no orphaned etcd, no leftover data. */
function killAllSync(): void {
  for (const p of live) p.kill('SIGKILL')
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
}

async function healthy(url: string, tls: EtcdTlsFiles | undefined): Promise<boolean> {
  if (!tls) {
    const res = await fetch(`${url}/health`, {signal: AbortSignal.timeout(1000)})
    return ((await res.json()) as {health?: string}).health === 'true'
  }
  // fetch cannot present a client certificate; node:https can.
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      `${url}/health`,
      {ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), timeout: 1000},
      (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve(body.includes('"health":"true"')))
      },
    )
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
  })
}

async function waitHealthy(url: string, proc: ChildProcess, log: string, timeoutMs: number, tls?: EtcdTlsFiles): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) break
    try {
      if (await healthy(url, tls)) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : ''
  throw new Error(`etcd at ${url} did not become healthy within ${timeoutMs} ms\n${tail}`)
}

async function waitExit(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  await new Promise<void>((resolve) => proc.once('exit', () => resolve()))
}

function openssl(args: string[]): void {
  const res = spawnSync('openssl', args, {encoding: 'utf8'})
  if (res.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${res.error?.message ?? res.stderr}`)
}

/** A CA plus a server certificate for 127.0.0.1 and a client certificate, all EC P-256, valid one day. */
export function makeCertificates(dir: string): EtcdTlsFiles & {serverCert: string; serverKey: string} {
  const f = (name: string) => join(dir, name)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=calico-ts-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  const issue = (name: string, cn: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext)
    openssl(['req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`])
    openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-out', f(`${name}.pem`), '-days', '1', '-extfile', f(`${name}.ext`)])
  }
  issue('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  issue('client', 'calico-ts-client', 'extendedKeyUsage=clientAuth\n')
  return {caFile: f('ca.pem'), certFile: f('client.pem'), keyFile: f('client.key'), serverCert: f('server.pem'), serverKey: f('server.key')}
}

/** Starts etcd on free loopback ports. Call stop() in afterAll. */
export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdInstance> {
  atExit(killAllSync)
  const dataDir = mkdtempSync(join(tmpdir(), 'calico-ts-etcd-'))
  dirs.add(dataDir)
  const clientPort = await freePort()
  const peerPort = await freePort()
  const certs = opts.tls ? makeCertificates(dataDir) : undefined
  const endpoints = `${certs ? 'https' : 'http'}://127.0.0.1:${clientPort}`
  const peer = `http://127.0.0.1:${peerPort}`
  const log = join(dataDir, 'etcd.log')
  let proc: ChildProcess | undefined
  let stopped = false

  const launch = async (): Promise<void> => {
    const fd = openSync(log, 'a')
    // Only the member directory lives under data-dir, so the log next to it survives restarts.
    const p = spawn(
      ETCD,
      [
        '--name', 'test',
        '--data-dir', join(dataDir, 'data'),
        '--listen-client-urls', endpoints,
        '--advertise-client-urls', endpoints,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `test=${peer}`,
        '--initial-cluster-state', 'new',
        '--log-level', 'warn',
        ...(certs
          ? ['--cert-file', certs.serverCert, '--key-file', certs.serverKey, '--trusted-ca-file', certs.caFile, '--client-cert-auth']
          : []),
      ],
      {stdio: ['ignore', fd, fd]},
    )
    closeSync(fd)
    proc = p
    live.add(p)
    p.once('exit', () => live.delete(p))
    try {
      await waitHealthy(endpoints, p, log, 15_000, certs)
    } catch (err) {
      p.kill('SIGKILL')
      await waitExit(p)
      throw err
    }
  }

  const halt = async (): Promise<void> => {
    const p = proc
    proc = undefined
    if (!p) return
    p.kill('SIGKILL')
    await waitExit(p)
  }

  const tlsArgs = certs ? ['--cacert', certs.caFile, '--cert', certs.certFile, '--key', certs.keyFile] : []
  const instance: EtcdInstance = {
    endpoints,
    dataDir,
    tls: certs && {caFile: certs.caFile, certFile: certs.certFile, keyFile: certs.keyFile},
    async stop() {
      if (stopped) return
      stopped = true
      await halt()
      rmSync(dataDir, {recursive: true, force: true})
      dirs.delete(dataDir)
    },
    halt,
    async restart() {
      if (stopped) throw new Error('etcd instance was stopped')
      await halt()
      await launch()
    },
    etcdctl(args, input) {
      return new Promise((resolve, reject) => {
        const p = spawn(ETCDCTL, ['--endpoints', endpoints, ...tlsArgs, ...args], {
          env: {...process.env, ETCDCTL_API: '3'},
          stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        })
        let out = ''
        let err = ''
        p.stdout?.on('data', (d: Buffer) => (out += d.toString()))
        p.stderr?.on('data', (d: Buffer) => (err += d.toString()))
        p.once('error', reject)
        p.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`etcdctl ${args.join(' ')}: exit ${code}: ${err}`))))
        if (p.stdin) {
          // etcdctl may exit before reading its input; its exit code reports that, not EPIPE.
          p.stdin.on('error', () => undefined)
          p.stdin.end(input)
        }
      })
    },
  }
  try {
    await launch()
  } catch (err) {
    await instance.stop()
    throw err
  }
  return instance
}

/** The etcd version string, for diagnostics. */
export function etcdVersion(): string {
  return spawnSync(ETCD, ['--version'], {encoding: 'utf8'}).stdout.split('\n')[0] ?? ''
}
