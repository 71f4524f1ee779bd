// `calicoctl node diags`: calicoctl's host snapshot (commands/node/diags.go) for this project's node agent, which
// runs as `calicoctl node run` (systemd unit calico-node.service), programs `inet calico` in nftables and serves
// health on 9099 and metrics on 9091. Collected into `diagnostics/` in a temp dir, then archived in the current
// directory as diags-<local YYYYMMDD_HHMMSS>.tar.gz (calicoctl leaves it inside its temp dir). calicoctl's docker,
// crictl, BIRD and `pkill -SIGUSR1 felix` steps have no counterpart here; the agent's own endpoints, `node status`,
// `node checksystem` and the sysctls the agent depends on are added.
import {mkdir, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {checkSystem, formatCheckResults} from '../../agent/checksystem.js'
import {defaultAgentSettings} from '../../agent/settings.js'
import {nodeStatus, processCommandLines, queryBird} from '../../agent/status.js'
import {Collector, formatSummary, type Step} from './collect.js'
import {lookPath} from './exec.js'
import {writeTarGz} from './tar.js'

/** What the plan asks of the host, so the plan itself is pure. */
export interface NodeProbes {
  hasTool(name: string): boolean
  /** The agent's endpoint at `path` on this host (`/readiness`, `/metrics`). */
  agent(path: string, port: number): Promise<string>
  nodeStatus(): Promise<string>
  checksystem(): Promise<string>
  sysctls(): Promise<string>
  /** undefined when the log directory can be copied, else why not (Go's stat error). */
  logDirProblem: string | undefined
}

/** The sysctls the agent relies on (forwarding, reverse-path filtering, conntrack), and the kernel release. */
export const SYSCTLS = [
  'kernel/osrelease',
  'net/ipv4/ip_forward',
  'net/ipv4/conf/all/rp_filter',
  'net/ipv4/conf/default/rp_filter',
  'net/ipv4/conf/all/src_valid_mark',
  'net/ipv6/conf/all/forwarding',
  'net/ipv6/conf/all/disable_ipv6',
  'net/netfilter/nf_conntrack_max',
  'net/netfilter/nf_conntrack_count',
] as const

const missing = (tool: string): string => `${tool} is not installed (not found in $PATH)`

/** The bundle's steps in calicoctl's order (its file names where calicoctl has the step), given what this host has. */
export function nodeDiagsSteps(p: NodeProbes, logDir: string): Step[] {
  const optional = (tool: string): string | undefined => (p.hasTool(tool) ? undefined : missing(tool))
  const {healthPort, metricsPort} = defaultAgentSettings()
  // calicoctl prefers netstat and falls back to ss; netstat is obsolete on current distributions, so ss comes first.
  const sockets: Step = p.hasTool('ss') || !p.hasTool('netstat')
    ? {info: 'Dumping ss', argv: ['ss', '-a', '-n'], file: 'ss'}
    : {info: 'Dumping netstat', argv: ['netstat', '-a', '-n'], file: 'netstat'}
  return [
    {argv: ['date'], file: 'date'},
    {argv: ['hostname'], file: 'hostname'},
    {info: 'Dumping routes (IPv4)', argv: ['ip', '-4', 'route'], file: 'ipv4_route'},
    {info: 'Dumping routes (IPv6)', argv: ['ip', '-6', 'route'], file: 'ipv6_route'},
    {info: 'Dumping interface info (IPv4)', argv: ['ip', '-4', 'addr'], file: 'ipv4_addr'},
    {info: 'Dumping interface info (IPv6)', argv: ['ip', '-6', 'addr'], file: 'ipv6_addr'},
    {info: 'Dumping routing rules (IPv4)', argv: ['ip', '-4', 'rule'], file: 'ipv4_rule'},
    {info: 'Dumping routing rules (IPv6)', argv: ['ip', '-6', 'rule'], file: 'ipv6_rule'},
    {info: 'Dumping links', argv: ['ip', '-d', 'link'], file: 'ip_link'},
    {info: 'Dumping nftables', argv: ['nft', '-n', '-a', 'list', 'ruleset'], file: 'nft_ruleset'},
    {info: 'Dumping iptables (IPv4)', argv: ['iptables-save', '-c'], file: 'ipv4_tables', unavailable: optional('iptables-save')},
    {info: 'Dumping iptables (IPv6)', argv: ['ip6tables-save', '-c'], file: 'ipv6_tables', unavailable: optional('ip6tables-save')},
    {info: 'Dumping ipsets', argv: ['ipset', 'list'], file: 'ipsets', unavailable: optional('ipset')},
    {
      info: 'Copying journal for calico-node.service',
      argv: ['journalctl', '-u', 'calico-node.service', '--no-pager'],
      file: 'journalctl_calico_node',
      unavailable: optional('journalctl'),
    },
    sockets,
    {info: 'Dumping agent readiness', what: `GET http://localhost:${healthPort}/readiness`, file: 'agent_readiness', produce: () => p.agent('/readiness', healthPort)},
    {info: 'Dumping agent metrics', what: `GET http://localhost:${metricsPort}/metrics`, file: 'agent_metrics', produce: () => p.agent('/metrics', metricsPort)},
    {info: 'Dumping node status', what: 'calicoctl node status', file: 'node_status', produce: () => p.nodeStatus()},
    {info: 'Checking the system', what: 'calicoctl node checksystem', file: 'checksystem', produce: () => p.checksystem()},
    {info: 'Dumping sysctls', what: `read /proc/sys (${SYSCTLS.length} keys)`, file: 'sysctls', produce: () => p.sysctls()},
    {info: 'Copying Calico logs', what: `copy ${logDir}`, file: 'logs', copyTree: logDir, unavailable: p.logDirProblem},
  ]
}

/** Go's time format 20060102_150405, in local time as calicoctl's time.Now(). */
export function localStamp(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}_${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`
}

/** Go's wording of a failed os.Stat, as calicoctl prints it. */
function statProblem(path: string, err: NodeJS.ErrnoException): string {
  const words: Record<string, string> = {ENOENT: 'no such file or directory', EACCES: 'permission denied', ENOTDIR: 'not a directory'}
  return `stat ${path}: ${words[err.code ?? ''] ?? err.message}`
}

/** The agent's endpoint body (with its status when it is not 200: a 503 readiness is a finding, not a failure). */
async function agentEndpoint(path: string, port: number): Promise<string> {
  const url = `http://localhost:${port}${path}`
  try {
    const res = await fetch(url, {signal: AbortSignal.timeout(2000)})
    const body = await res.text()
    return res.ok ? body : `HTTP ${res.status} ${res.statusText}\n${body}`
  } catch (err) {
    const cause = (err as {cause?: {code?: string; message?: string}}).cause
    throw new Error(cause?.message ?? (err as Error).message)
  }
}

async function readSysctls(): Promise<string> {
  const lines = await Promise.all(
    SYSCTLS.map(async (key) => {
      const name = key.replaceAll('/', '.')
      const value = await readFile(`/proc/sys/${key}`, 'utf8').then(
        (v) => v.trim(),
        (err: NodeJS.ErrnoException) => `(unreadable: ${err.code ?? err.message})`,
      )
      return `${name} = ${value}\n`
    }),
  )
  return lines.join('')
}

export interface NodeDiagsOptions {
  logDir: string
  /** Where the archive is written. */
  cwd: string
  now: Date
  print: (line: string) => void
}

/** Collects the bundle and writes the archive; resolves with the archive's path. */
export async function runNodeDiags(opts: NodeDiagsOptions): Promise<string> {
  opts.print('Collecting diagnostics')
  const tmp = await mkdtemp(join(tmpdir(), 'calico'))
  opts.print(`Using temp dir: ${tmp}`)
  const dir = join(tmp, 'diagnostics')
  await mkdir(dir)
  let logDirProblem: string | undefined
  try {
    if (!(await stat(opts.logDir)).isDirectory()) logDirProblem = `No logs found in ${opts.logDir}; skipping log copying`
  } catch (err) {
    logDirProblem = statProblem(opts.logDir, err as NodeJS.ErrnoException)
  }
  const probes: NodeProbes = {
    hasTool: (name) => lookPath(name) !== undefined,
    agent: agentEndpoint,
    nodeStatus: async () => {
      const {text, running} = await nodeStatus({commandLines: processCommandLines, query: (f) => queryBird(f)})
      return running ? text : 'Calico process is not running.\n'
    },
    checksystem: async () => formatCheckResults(await checkSystem()).text,
    sysctls: readSysctls,
    logDirProblem,
  }
  // One at a time, as calicoctl: the progress lines then read in order, and the host is not loaded while it is
  // being diagnosed. A command that hangs (a wedged nft) is given up after 30 s.
  const results = await new Collector({dir, print: opts.print, timeoutMs: 30_000}).run(nodeDiagsSteps(probes, opts.logDir))
  // calicoctl's line for a log directory it cannot copy (the collector prints nothing for a step it skips).
  if (logDirProblem !== undefined) opts.print(logDirProblem.startsWith('stat ') ? `Error copying log files: ${logDirProblem}` : logDirProblem)
  await writeFile(join(dir, 'summary.txt'), formatSummary(results))
  const archive = join(opts.cwd, `diags-${localStamp(opts.now)}.tar.gz`)
  try {
    await writeTarGz(dir, 'diagnostics', archive)
  } catch (err) {
    // The collected files are kept for the user to take by hand.
    throw new Error(`Error compressing the diagnostics: ${(err as Error).message}; the files are in ${dir}`)
  }
  await rm(tmp, {recursive: true, force: true})
  opts.print(`\nDiags saved to ${archive}`)
  opts.print('If required, you can upload the diagnostics bundle to a file sharing service.')
  return archive
}
