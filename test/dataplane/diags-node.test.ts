// `calicoctl node diags` as root through the built binary, inside a private network namespace where the real node
// agent runs (embedded datastore in a temp dir) beside an nft table of the test's own: the archive in the current
// directory holds calicoctl's files with this namespace's addresses and ruleset, the agent's readiness and metrics,
// node status and the log directory; with no tools on PATH every command is recorded as failed and the archive is
// still written; not as root, calicoctl's refusal.
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {execArgv} from '../helpers/exec.js'
import {NetnsRun, inNs, ip} from '../helpers/netns.js'
import {agentSkipReason, CALICOCTL} from '../lab/agent.js'

const why = agentSkipReason()
const STARTED = 'Calico node started successfully'

describe.skipIf(why !== undefined)('node diags in a network namespace', () => {
  let run: NetnsRun
  let ns = ''
  let dir = ''
  let agentLog = ''

  beforeAll(async () => {
    run = new NetnsRun('dg')
    dir = mkdtempSync(join(tmpdir(), 'calico-node-diags-'))
    ns = run.addNetns('node')
    ip('-n', ns, 'link', 'add', 'dg0', 'type', 'veth', 'peer', 'name', 'dg1')
    ip('-n', ns, 'link', 'set', 'dg0', 'up')
    ip('-n', ns, 'link', 'set', 'dg1', 'up')
    ip('-n', ns, 'addr', 'add', '198.51.100.7/24', 'dev', 'dg0')
    inNs(ns, 'nft', ['add', 'table', 'inet', 'diags_probe'])
    const agent = run.spawnIn(ns, [process.execPath, CALICOCTL, 'node', 'run', '--name', `${run.prefix}-node`], {
      env: {...process.env, DATASTORE_PATH: join(dir, 'store')},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the agent was not ready within 30 s:\n${agentLog}`)), 30_000)
      const onData = (b: Buffer): void => {
        agentLog += b.toString()
        if (agentLog.includes(STARTED)) {
          clearTimeout(timer)
          resolve()
        }
      }
      agent.stdout!.on('data', onData)
      agent.stderr!.on('data', onData)
      agent.once('exit', (code) => reject(new Error(`the agent exited (${code}):\n${agentLog}`)))
    })
    mkdirSync(join(dir, 'logs', 'cni'), {recursive: true})
    writeFileSync(join(dir, 'logs', 'cni', 'cni.log'), 'an earlier CNI ADD\n')
  }, 60_000)
  afterAll(() => {
    run?.destroy()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  /** `calicoctl node diags` inside the namespace, from a fresh current directory. */
  async function diags(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{stdout: string; stderr: string; code: number; cwd: string}> {
    const cwd = mkdtempSync(join(dir, 'cwd-'))
    const ipPath = execFileSync('sh', ['-c', 'command -v ip'], {encoding: 'utf8'}).trim()
    const r = await execArgv([ipPath, 'netns', 'exec', ns, process.execPath, CALICOCTL, 'node', 'diags', ...args], {cwd, env})
    return {...r, cwd}
  }

  function archiveOf(cwd: string): {path: string; list: string[]; read: (file: string) => string} {
    const [name] = readdirSync(cwd)
    expect(name).toMatch(/^diags-\d{8}_\d{6}\.tar\.gz$/)
    const path = join(cwd, name!)
    return {
      path,
      list: execFileSync('tar', ['-tzf', path], {encoding: 'utf8'}).trim().split('\n'),
      read: (file) => execFileSync('tar', ['-xzOf', path, `diagnostics/${file}`], {encoding: 'utf8'}),
    }
  }

  it("bundles the namespace's addresses, ruleset and sockets, the agent's endpoints and status, and the logs", async () => {
    const r = await diags(['--log-dir', join(dir, 'logs')])
    expect(r.code, `${r.stdout}${r.stderr}\nagent:\n${agentLog}`).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toBe('Collecting diagnostics')
    const temp = /^Using temp dir: (.+)$/.exec(lines[1]!)?.[1]
    expect(temp).toBeDefined()
    expect(existsSync(temp!)).toBe(false)
    expect(r.stdout).toContain('\nDumping nftables\n')
    const a = archiveOf(r.cwd)
    expect(r.stdout.endsWith(`\nDiags saved to ${a.path}\nIf required, you can upload the diagnostics bundle to a file sharing service.\n`)).toBe(true)
    expect(a.list[0]).toBe('diagnostics/')
    for (const f of ['date', 'hostname', 'ipv4_route', 'ipv6_addr', 'ipv4_rule', 'ip_link', 'nft_ruleset', 'ss', 'agent_readiness', 'agent_metrics', 'node_status', 'checksystem', 'sysctls', 'summary.txt', 'logs/cni/cni.log']) {
      expect(a.list).toContain(`diagnostics/${f}`)
    }
    expect(a.read('ipv4_addr')).toMatch(/inet 198\.51\.100\.7\/24 .*dg0/)
    expect(a.read('ipv4_route')).toMatch(/^198\.51\.100\.0\/24 dev dg0/m)
    const ruleset = a.read('nft_ruleset')
    expect(ruleset).toMatch(/^table inet diags_probe \{ # handle \d+$/m)
    expect(ruleset).toMatch(/^table inet calico \{ # handle \d+$/m)
    expect(a.read('ip_link')).toMatch(/dg0@dg1: .* state UP/)
    expect(a.read('ss')).toMatch(/LISTEN.*:9099/)
    expect(a.read('agent_readiness')).toMatch(/^COMPONENT +STATUS\n[\s\S]*ready=true/)
    expect(a.read('agent_metrics')).toMatch(/^felix_int_dataplane_apply_time_seconds_bucket/m)
    expect(a.read('node_status')).toMatch(/^Calico process is running\.\n/)
    expect(a.read('checksystem')).toMatch(/System meets minimum system requirements to run Calico!\n$/)
    expect(a.read('sysctls')).toMatch(/^net\.ipv4\.ip_forward = [01]$/m)
    expect(a.read('logs/cni/cni.log')).toBe('an earlier CNI ADD\n')
    expect(a.read('summary.txt')).toMatch(/^OK {6}nft_ruleset +nft -n -a list ruleset$/m)
    expect(a.read('summary.txt')).not.toMatch(/^FAILED/m)
    // checksystem's probes were dry runs: the namespace has exactly the two tables.
    expect(inNs(ns, 'nft', ['list', 'tables']).trim().split('\n').sort()).toEqual(['table inet calico', 'table inet diags_probe'])
  })

  it('records every command it cannot run and still writes the archive', async () => {
    const r = await diags(['--log-dir', join(dir, 'no-such-dir')], {...process.env, PATH: join(dir, 'empty-path')})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain('Failed to run command: nft -n -a list ruleset\nError: exec: "nft": executable file not found in $PATH\n')
    expect(r.stdout).toContain(`Error copying log files: stat ${join(dir, 'no-such-dir')}: no such file or directory\n`)
    const a = archiveOf(r.cwd)
    expect(a.list).toContain('diagnostics/nft_ruleset.error')
    expect(a.list).not.toContain('diagnostics/nft_ruleset')
    expect(a.read('nft_ruleset.error')).toBe('command: nft -n -a list ruleset\nerror: exec: "nft": executable file not found in $PATH\n')
    const summary = a.read('summary.txt')
    expect(summary).toMatch(/^FAILED {2}ipv4_addr +ip -4 addr: exec: "ip": executable file not found in \$PATH \(see ipv4_addr\.error\)$/m)
    expect(summary).toMatch(/^SKIPPED ipv4_tables +iptables-save -c: iptables-save is not installed \(not found in \$PATH\)$/m)
    expect(summary).toMatch(/^SKIPPED logs +copy .*no-such-dir: stat .*: no such file or directory$/m)
    // What needs no tool is still there: the agent's endpoints.
    expect(summary).toMatch(/^OK {6}agent_readiness /m)
  })

  it("refuses to run without root, in calicoctl's words", () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'))
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CALICOCTL, 'node', 'diags'], {
      cwd,
      encoding: 'utf8',
      env: {...process.env, HOME: '/nonexistent'},
    })
    expect(r.error).toBeUndefined()
    expect({status: r.status, stdout: r.stdout, stderr: r.stderr}).toEqual({status: 1, stdout: 'Need super user privileges: Operation not permitted\n', stderr: ''})
    expect(readdirSync(cwd)).toEqual([])
  })
})
