// What the node agent benchmarks share: the synthetic cluster (N policies with 5 selector rules each, local and
// remote workload endpoints in one namespace), an embedded store seeded with it, and `calicoctl node run` started
// inside a network namespace and followed until it reports readiness. Root only; the namespaces belong to a
// NetnsRun (test/helpers/netns.ts: per-run prefix, removed on destroy() and on exit), the store to a temp dir.
import type {ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {namespaceProfile, type CalcResource} from '../src/dataplane/calc/index.js'
import {EmbeddedBackend} from '../src/datastore/embedded/backend.js'
import {NetnsRun} from '../test/helpers/netns.js'

export const V3 = 'projectcalico.org/v3'
export const NAMESPACE = 'bench'
export const NODE = 'kn'
export const CALICOCTL = resolve(import.meta.dirname, '../../bin/calicoctl')

export interface ScaleOptions {
  policies: number
  /** Workload endpoints on this node (their interfaces need not exist). */
  local: number
  /** Workload endpoints on other nodes: they only feed the IP sets. */
  remote: number
}

/** Reads BENCH_POLICIES, BENCH_LOCAL_ENDPOINTS and BENCH_REMOTE_ENDPOINTS over the given defaults. */
export function scaleFromEnv(defaults: ScaleOptions): ScaleOptions {
  const n = (name: string, d: number): number => (process.env[name] === undefined ? d : Number(process.env[name]))
  return {policies: n('BENCH_POLICIES', defaults.policies), local: n('BENCH_LOCAL_ENDPOINTS', defaults.local), remote: n('BENCH_REMOTE_ENDPOINTS', defaults.remote)}
}

/** The address of synthetic endpoint `i` (10.60.0.0/14; pods the benches really create use 10.70.0.0/16). */
export function endpointAddress(i: number): string {
  return `10.${60 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`
}

export interface WorkloadOptions {
  name: string
  node: string
  iface: string
  address: string
  labels: Record<string, string>
}

export function workloadEndpoint(w: WorkloadOptions): CalcResource {
  return {
    apiVersion: V3,
    kind: 'WorkloadEndpoint',
    metadata: {name: w.name, namespace: NAMESPACE, labels: {...w.labels, 'projectcalico.org/namespace': NAMESPACE}},
    spec: {node: w.node, orchestrator: 'k8s', pod: w.name, endpoint: 'eth0', interfaceName: w.iface, ipNetworks: [`${w.address}/32`], profiles: [`kns.${NAMESPACE}`]},
  }
}

/**
 * Endpoint i is labelled app=app(i%50), tier=t(i%7); policy p selects app=app(p%50) and has 5 ingress rules allowing
 * TCP 8000+r from `app == app((p+r)%50) && tier == t(r)`. So each local endpoint gets policies/50 policies and every
 * rule needs its own IP set.
 */
export function scaleResources(s: ScaleOptions): CalcResource[] {
  const out: CalcResource[] = [namespaceProfile(NAMESPACE, {})]
  for (let i = 0; i < s.local + s.remote; i++) {
    out.push(workloadEndpoint({
      name: `wep-${i}`,
      node: i < s.local ? NODE : `remote${i % 20}`,
      iface: `cali${i.toString(16).padStart(11, '0')}`,
      address: endpointAddress(i),
      labels: {app: `app${i % 50}`, tier: `t${i % 7}`},
    }))
  }
  for (let p = 0; p < s.policies; p++) {
    const rules = Array.from({length: 5}, (_, r) => ({
      action: 'Allow',
      protocol: 'TCP',
      source: {selector: `app == 'app${(p + r) % 50}' && tier == 't${r}'`},
      destination: {ports: [8000 + r]},
    }))
    out.push({apiVersion: V3, kind: 'NetworkPolicy', metadata: {name: `pol-${p}`, namespace: NAMESPACE}, spec: {order: p, selector: `app == 'app${p % 50}'`, types: ['Ingress'], ingress: rules}})
  }
  return out
}

/** A temp dir holding an embedded store and a calicoctl.cfg pointing at it; `remove()` deletes both. */
export class BenchStore {
  readonly dir = mkdtempSync(join(tmpdir(), 'agent-bench-'))
  readonly storeDir = join(this.dir, 'store')
  readonly configPath = join(this.dir, 'calicoctl.cfg')

  constructor() {
    writeFileSync(this.configPath, `apiVersion: ${V3}\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: embedded\n  datastorePath: ${this.storeDir}\n`)
  }

  open(): EmbeddedBackend {
    return EmbeddedBackend.open({dir: this.storeDir}).backend
  }

  async seed(resources: readonly CalcResource[]): Promise<void> {
    const store = this.open()
    try {
      for (const r of resources) await store.apply({kind: r.kind, name: r.metadata.name!, namespace: r.metadata.namespace}, r)
    } finally {
      await store.close()
    }
  }

  remove(): void {
    rmSync(this.dir, {recursive: true, force: true})
  }
}

/** Runs a bench body with its own namespaces (prefix `tag`) and store, both removed afterwards, also on failure. */
export async function withBenchLab(tag: string, body: (run: NetnsRun, store: BenchStore) => Promise<void>): Promise<void> {
  const run = new NetnsRun(tag)
  const store = new BenchStore()
  try {
    await body(run, store)
  } finally {
    run.destroy()
    store.remove()
  }
}

export interface RunningAgent {
  child: ChildProcess
  /** The agent's pid (`ip netns exec` execs it, so this is the node process itself). */
  pid: number
  /** Milliseconds from spawn to the "started successfully" log line. */
  readyMs: number
  /** CPU time (user + system) of the agent and its finished children (nft, ip) when readiness was seen. */
  readyCpuMs: number
  /** Everything the agent logged so far. */
  log(): string
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>
}

const READY = /time="([^"]+)" level=info msg="Calico node started successfully"/

/** The clock tick /proc/<pid>/stat counts in (USER_HZ, 100 on Linux). */
const USER_HZ = 100

/** CPU time of a process plus its waited-for children (user + system), in ms, from /proc/<pid>/stat. */
export function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the parenthesised command name: state is field 3, utime/stime/cutime/cstime are 14-17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0)
  return (ticks * 1000) / USER_HZ
}

/**
 * Another build's calicoctl (BENCH_BASELINE: a checkout of an earlier commit, built), whose agent the benches also run
 * in the same session for a before/after comparison; undefined when not set.
 */
export const BASELINE_CALICOCTL = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE, 'bin/calicoctl') : undefined

/**
 * Starts `calicoctl node run --name kn` in `ns` (a process of `run`) and resolves once it reports readiness.
 * `nodeFlags` go to node itself (V8 options such as --max-semi-space-size), for measuring a lever before adopting it;
 * `calicoctl` picks the build (BASELINE_CALICOCTL for the baseline's).
 */
export async function startAgent(run: NetnsRun, ns: string, store: BenchStore, timeoutMs = 180_000, nodeFlags: string[] = [], calicoctl = CALICOCTL): Promise<RunningAgent> {
  const t0 = Date.now()
  const child = run.spawnIn(ns, [process.execPath, ...nodeFlags, calicoctl, 'node', 'run', '--name', NODE, '--ip', '192.0.2.1/24', '-c', store.configPath], {stdio: ['ignore', 'ignore', 'pipe']})
  let log = ''
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  let readyCpuMs = NaN
  const readyMs = await new Promise<number>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not ready after ${timeoutMs} ms: ${log.slice(-2000)}`)), timeoutMs)
    child.stderr!.on('data', (b: Buffer) => {
      log += b.toString()
      const m = READY.exec(log)
      if (m && Number.isNaN(readyCpuMs)) {
        clearTimeout(timer)
        // Read at once: the agent goes on working (read-back, routes) after it logs readiness.
        readyCpuMs = cpuOf(child.pid!)
        resolvePromise(Date.parse(m[1]!) - t0)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`agent exited ${code}: ${log.slice(-2000)}`))
    })
  })
  return {
    child,
    pid: child.pid!,
    readyMs,
    readyCpuMs,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

/** Resident set size now and at its peak (VmRSS, VmHWM) of a process, in KiB. */
export function rssOf(pid: number): {rssKiB: number; peakKiB: number} {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return {rssKiB: field('VmRSS'), peakKiB: field('VmHWM')}
}

/** Exits quietly (status 0) when not root: the agent benchmarks need network namespaces and nftables. */
export function requireRoot(name: string): void {
  if (process.getuid?.() !== 0) {
    console.log(`${name}: needs root (network namespaces, nftables); skipped`)
    process.exit(0)
  }
}
