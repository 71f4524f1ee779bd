// `npm run demo` end to end: the demo program (demo/main.ts, run from source in a child process) prints the main
// job's output and, as root, three reachability matrices measured with real connections through the node agent.
// The matrices are read back with the demo's own parser and must change exactly as examples/02-policy.yaml and the
// quarantine label say; afterwards nothing of the demo is left (namespaces, temp dirs). Without root the demo says
// how to run the enforcement part and still succeeds.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {pair, parseMatrices} from '../../demo/matrix.js'
import {agentSkipReason} from './agent.js'
import {ROOT} from './plugin.js'

const why = agentSkipReason()
if (why) console.warn(`skipped: ${why}`)

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
/** The unprivileged run needs a checkout that user nobody can read (not one under /root, say). */
const nobodyCannotRead =
  why === undefined && spawnSync(NOBODY[0]!, [...NOBODY.slice(1), 'test', '-r', join(ROOT, 'node_modules', '@oclif', 'core', 'package.json')]).status !== 0
if (nobodyCannotRead) console.warn('skipped the unprivileged demo run: user nobody (65534) cannot read this checkout')

const DEMO = [process.execPath, '--import', join(ROOT, 'test', 'datastore', 'helpers', 'register.mjs'), join(ROOT, 'demo', 'main.ts')]

function runDemo(prefix: string[] = []): Promise<{code: number | null; stdout: string; stderr: string; pid: number}> {
  return new Promise((resolve, reject) => {
    const argv = [...prefix, ...DEMO]
    const child = spawn(argv[0]!, argv.slice(1), {cwd: ROOT, env: {...process.env, NO_COLOR: '1', CNI_LAB_PLUGIN: 'dist'}, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stdout, stderr, pid: child.pid ?? -1}))
  })
}

const PODS = ['frontend', 'web', 'monitor', 'batch']
const every = (f: (from: string, to: string) => boolean): Map<string, boolean> =>
  new Map(PODS.flatMap((from) => PODS.filter((to) => to !== from).map((to) => [pair(from, to), f(from, to)] as const)))

describe.skipIf(why !== undefined)('npm run demo (as root)', () => {
  it('shows the main job, then enforcement changing the matrix as the policy says, and leaves nothing behind', async () => {
    const r = await runDemo()
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)
    expect(r.stdout).toContain('$ calicoctl apply -f examples/\n    Successfully applied 5 resource(s)')
    expect(r.stdout).toMatch(/default-ipv4-ippool\s+10\.244\.0\.0\/16\s+true\s+Never\s+CrossSubnet/)

    const matrices = parseMatrices(r.stdout)
    expect(matrices.map((m) => m.pods)).toEqual([PODS, PODS, PODS])
    const [before, withPolicy, quarantined] = matrices.map((m) => m.reach)
    expect(before).toEqual(every(() => true))
    // allow-web: web accepts TCP 80 only from app=frontend and role=monitoring; nobody else is selected.
    expect(withPolicy).toEqual(every((from, to) => !(to === 'web' && from === 'batch')))
    // quarantine (tier platform): nothing in or out of batch; the rest as before.
    expect(quarantined).toEqual(every((from, to) => from !== 'batch' && to !== 'batch'))

    const lingering = spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'}).stdout.split('\n').filter((l) => l.startsWith(`clab-${r.pid}-`))
    expect(lingering).toEqual([])
    // The main job's private store and the lab's directory are both gone.
    const dirs = [...r.stdout.matchAll(/store in (\/[^\s,;]+)/g)].map((m) => m[1]!)
    expect(dirs).toHaveLength(2)
    for (const d of dirs) expect(existsSync(d), d).toBe(false)
  }, 120_000)

  it.skipIf(nobodyCannotRead)('as an unprivileged user, runs the main job and says how to see enforcement', async () => {
    const r = await runDemo(NOBODY)
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)
    expect(r.stdout).toContain('Successfully applied 5 resource(s)')
    expect(r.stdout).toContain('Skipped: the node agent lab needs root')
    expect(r.stdout).toContain('sudo npm run demo')
    expect(parseMatrices(r.stdout)).toEqual([])
  }, 60_000)
})
