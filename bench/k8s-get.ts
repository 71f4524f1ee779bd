// `calicoctl get networkpolicies -A -o yaml` of N NetworkPolicies on the Kubernetes datastore (the test API server,
// in a child process), and `calicoctl get ippools` of none (the fixed cost of a command on that datastore): the
// builds of other checkouts ("before") against this checkout's, in the same runs.
//
//   node --import ./test/datastore/helpers/register.mjs bench/k8s-get.ts <count> <rounds> <before-checkout>...
//
// A before checkout is a built copy of an older commit, e.g.
//   git archive 674ab80 | tar -x -C /tmp/k-base && ln -s "$PWD/node_modules" /tmp/k-base/ && (cd /tmp/k-base && npm run build)
// All must print the same bytes (checked on the warm-up runs). Then, per command, `rounds` rounds, each running every build with
// the order reversed every other round, each run under GNU time: the child's CPU (user + system) and peak RSS, plus
// the wall time to its first byte of output and to its exit. Medians; each ratio to the first build is the median of
// the per-round ratios (the runs of a round share the machine's load far more than runs minutes apart do).

import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {loadavg} from 'node:os'
import {join, resolve} from 'node:path'
import {KubernetesBackend} from '../src/datastore/kubernetes/backend.js'
import {batched, startServer} from './k8s-server.js'
import {median, policyKey, policyValue} from './lib.js'

const [countArg, roundsArg, ...beforeDirs] = process.argv.slice(2)
const count = Number(countArg)
const rounds = Number(roundsArg)
if (!(count > 0 && rounds > 0 && beforeDirs.length > 0)) throw new Error('usage: bench/k8s-get.ts <count> <rounds> <before-checkout>...')
const builds = [...beforeDirs.map((dir) => ({name: dir, bin: join(resolve(dir), 'bin', 'calicoctl')})), {name: 'this checkout', bin: join(process.cwd(), 'bin', 'calicoctl')}]
for (const {bin} of builds) if (!existsSync(bin)) throw new Error(`${bin} is missing`)

interface Sample {
  firstByteMs: number
  wallMs: number
  cpuMs: number
  rssKiB: number
  sha1: string
}

function runGet(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((done, fail) => {
    const start = performance.now()
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', process.execPath, bin, ...args], {env, stdio: ['ignore', 'pipe', 'pipe']})
    const hash = createHash('sha1')
    let firstByteMs: number | undefined
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      firstByteMs ??= performance.now() - start
      hash.update(chunk)
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('close', (code) => {
      const wallMs = performance.now() - start
      if (code !== 0) return fail(new Error(`${bin} exited ${code}: ${stderr.slice(-2000)}`))
      const [user, sys, rssKiB] = stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? []
      done({firstByteMs: firstByteMs ?? wallMs, wallMs, cpuMs: (user + sys) * 1000, rssKiB, sha1: hash.digest('hex')})
    })
  })
}

const loadBefore = loadavg()[0]
const server = await startServer()
const commands = [
  {label: `get networkpolicies -A -o yaml (${count})`, args: ['get', 'networkpolicies', '-A', '-o', 'yaml']},
  {label: 'get ippools (none)', args: ['get', 'ippools']},
]
/** samples[command][build][round] */
const samples: Sample[][][] = commands.map(() => builds.map(() => []))
try {
  const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url})
  await batched(count, 64, (i) => b.create(policyKey(i), policyValue(i)))
  await b.close()
  const env = {...process.env, DATASTORE_TYPE: 'kubernetes', K8S_API_ENDPOINT: server.url, NO_COLOR: '1'}
  for (const [c, {args}] of commands.entries()) {
    const warm: Sample[] = []
    for (const {bin} of builds) warm.push(await runGet(bin, args, env))
    if (new Set(warm.map((s) => s.sha1)).size !== 1) throw new Error(`the builds print different output for ${args.join(' ')} (sha1 ${warm.map((s) => s.sha1).join(', ')})`)
    const indexes = builds.map((_, i) => i)
    for (let r = 0; r < rounds; r++) {
      for (const i of r % 2 === 0 ? indexes : [...indexes].reverse()) samples[c][i].push(await runGet(builds[i].bin, args, env))
    }
  }
} finally {
  server.stop()
}

const fields: [string, keyof Sample][] = [['wall', 'wallMs'], ['first byte', 'firstByteMs'], ['CPU (user + system)', 'cpuMs'], ['peak RSS', 'rssKiB']]
const show = (field: keyof Sample, v: number) => (field === 'rssKiB' ? `${(v / 1024).toFixed(1)} MiB` : `${v.toFixed(0)} ms`)
process.stdout.write(`calicoctl on the Kubernetes datastore (test API server), ${count} NetworkPolicies stored: median of ${rounds} rounds; load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)}\n`)
for (const [c, {label}] of commands.entries()) {
  process.stdout.write(`\n| ${label} | ${fields.map(([name]) => name).join(' | ')} |\n|---|${fields.map(() => '---:').join('|')}|\n`)
  for (const [i, {name}] of builds.entries()) {
    const cells = fields.map(([, field]) => {
      const value = show(field, median(samples[c][i].map((s) => s[field] as number)))
      if (i === 0) return value
      return `${value} (${median(samples[c][i].map((s, r) => (s[field] as number) / (samples[c][0][r][field] as number))).toFixed(2)}x)`
    })
    process.stdout.write(`| ${name} | ${cells.join(' | ')} |\n`)
  }
}
