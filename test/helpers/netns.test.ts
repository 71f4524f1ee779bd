// The shared namespace helper itself (root only): names, removal on destroy and on exit, the stale sweep, and the
// listen/probe scripts over a node with two pods.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {NetnsRun, inNs, ip, netnsUnavailable, sweepStaleNetns} from './netns.js'

const why = netnsUnavailable()
if (why && process.env.CI) throw new Error(`netns helper tests cannot run in CI: ${why}`)

const listed = (): string[] => ip('netns', 'list').split('\n').map((l) => l.split(' ')[0] ?? '')

/** A pid no process has (the sweep treats its namespaces as left over). */
function deadPid(): number {
  for (let pid = 4_000_000; ; pid--) {
    try {
      process.kill(pid, 0)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return pid
    }
  }
}

describe.skipIf(why !== undefined)('test/helpers/netns.ts', () => {
  const runs: NetnsRun[] = []
  const stray: string[] = []
  afterAll(() => {
    for (const r of runs) r.destroy()
    for (const ns of stray) spawnSync('ip', ['netns', 'delete', ns], {stdio: 'ignore'})
  })

  it('names namespaces <tag>-<pid>-<hex6>-<suffix> and removes them on destroy', () => {
    const run = new NetnsRun('vt')
    runs.push(run)
    expect(run.prefix).toMatch(new RegExp(`^vt-${process.pid}-[0-9a-f]{6}$`))
    const ns = run.addNetns('x')
    expect(listed()).toContain(ns)
    expect(inNs(ns, 'ip', ['-br', 'link', 'show', 'lo'])).toMatch(/UNKNOWN|UP/)
    run.destroy()
    expect(listed()).not.toContain(ns)
    expect(() => new NetnsRun('Bad-Tag')).toThrow('netns run tag must be 2-4 lowercase letters')
  })

  it('adopts namespaces and processes the caller made itself, and forgets released ones', () => {
    const run = new NetnsRun('vt')
    runs.push(run)
    expect(() => run.adoptNetns('vt-1-abcdef-other')).toThrow('is not under this run')
    const adopted = `${run.prefix}-own`
    const released = `${run.prefix}-gone`
    stray.push(released)
    for (const ns of [adopted, released]) {
      run.adoptNetns(ns)
      ip('netns', 'add', ns)
    }
    run.releaseNetns(released)
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'ignore'})
    run.adopt(child)
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)))
    run.destroy()
    expect(listed()).not.toContain(adopted)
    expect(listed()).toContain(released)
    return expect(exited).resolves.toBe('SIGKILL')
  })

  it('sweeps namespaces of dead runs only', () => {
    const dead = `vt-${deadPid()}-abcdef-left`
    const live = `vt-1-abcdef-live`
    stray.push(dead, live)
    ip('netns', 'add', dead)
    ip('netns', 'add', live)
    const removed = sweepStaleNetns()
    expect(removed).toContain(dead)
    expect(removed).not.toContain(live)
    expect(listed()).toContain(live)
  })

  it('removes what a run left when its process exits without destroy()', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netns-exit-'))
    try {
      const child = join(dir, 'child.ts')
      writeFileSync(child, `import {NetnsRun} from ${JSON.stringify(join(import.meta.dirname, 'netns.ts'))}\nconst run = new NetnsRun('vt')\nprocess.stdout.write(run.addNetns('orphan'))\n`)
      const r = spawnSync(process.execPath, ['--import', join(import.meta.dirname, '../datastore/helpers/register.mjs'), child], {encoding: 'utf8'})
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/^vt-\d+-[0-9a-f]{6}-orphan$/)
      expect(listed()).not.toContain(r.stdout)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('listens and probes over TCP and UDP between pods of a node', async () => {
    const run = new NetnsRun('vt')
    runs.push(run)
    const node = run.addNode('node', {forwarding: true})
    const a = run.addPod(node, {suffix: 'a', iface: 'calia', address: '10.99.0.1', hostSide: true})
    const b = run.addPod(node, {suffix: 'b', iface: 'calib', address: '10.99.0.2', hostSide: true})
    await run.listen(b, [80], {udp: true})
    expect(run.probe(a, [['10.99.0.2', 80], ['10.99.0.2', 81], ['10.99.0.2', 80, 'udp'], ['10.99.0.2', 81, 'udp']], 1000)).toEqual([true, false, true, false])
    inNs(node, 'nft', ['-f', '-'], 'table inet t {\n chain f {\n  type filter hook forward priority 0; policy accept;\n  udp dport 80 drop\n }\n}\n')
    expect(await run.probeAsync(a, [['10.99.0.2', 80, 'tcp'], ['10.99.0.2', 80, 'udp']], 1000)).toEqual([true, false])
  })
})
