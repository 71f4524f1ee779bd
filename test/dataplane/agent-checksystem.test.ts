// `calicoctl node checksystem` as root in a fresh network namespace: every probe reaches the kernel, nothing is left.
import {spawnSync} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {NetnsRun, inNs} from '../helpers/netns.js'
import {agentSkipReason, CALICOCTL} from '../lab/agent.js'

const why = agentSkipReason()

describe.skipIf(why !== undefined)('node checksystem in a network namespace', () => {
  let run: NetnsRun
  let ns = ''
  beforeAll(() => {
    run = new NetnsRun('jc')
    ns = run.addNetns('node')
  })
  afterAll(() => run?.destroy())

  it('reports every nftables feature OK and programs nothing', () => {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, CALICOCTL, 'node', 'checksystem'], {encoding: 'utf8'})
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^Checking kernel version\.\.\.\n/)
    expect(r.stdout).toMatch(/\t\tverdict maps\s+\t+OK\n/)
    expect(r.stdout).toMatch(/\t\tagent ruleset\s+\t+OK\n/)
    expect(r.stdout).not.toMatch(/FAIL/)
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('System meets minimum system requirements to run Calico!')
    expect(inNs(ns, 'nft', ['list', 'tables'])).toBe('')
  })

  it('says what is missing when nft is not installed', () => {
    const ipPath = spawnSync('sh', ['-c', 'command -v ip'], {encoding: 'utf8'}).stdout.trim()
    const r = spawnSync(ipPath, ['netns', 'exec', ns, process.execPath, CALICOCTL, 'node', 'checksystem'], {encoding: 'utf8', env: {...process.env, PATH: '/nonexistent'}})
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/\t\tnft\s+\t+FAIL\nWARNING: Unable to detect nft/)
    expect(r.stdout).toMatch(/\t\tverdict maps\s+\t+SKIP/)
    expect(r.stderr).toContain("system doesn't meet one or more minimum systems requirements to run Calico")
  })
})
