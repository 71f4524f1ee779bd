// `calicoctl get networkpolicies -A -o yaml` of N NetworkPolicies on the Kubernetes datastore (the test API server,
// in a child process): this checkout's build against the build of another checkout ("before"), in the same runs.
//
//   node --import ./test/datastore/helpers/register.mjs bench/k8s-get.ts <before-checkout> [count] [rounds]
//
// The before checkout is a built copy of an older commit, e.g.
//   git archive 674ab80 | tar -x -C /tmp/k-base && ln -s "$PWD/node_modules" /tmp/k-base/ && (cd /tmp/k-base && npm run build)
// Both must print the same bytes (checked on the warm-up runs). Then `rounds` rounds, each running both with the
// order alternating, each run under GNU time: the child's CPU (user + system) and peak RSS, plus the wall time to
// its first byte of output and to its exit. Medians; each ratio is the median of the per-round ratios (the two runs
// of a round share the machine's load far more than runs minutes apart do).

import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {loadavg} from 'node:os'
import {join, resolve} from 'node:path'
import {KubernetesBackend} from '../src/datastore/kubernetes/backend.js'
import {batched, startServer} from './k8s-server.js'
import {median, policyKey, policyValue} from './lib.js'

const beforeDir = process.argv[2]
const count = Number(process.argv[3] ?? 5000)
const rounds = Number(process.argv[4] ?? 7)
if (!beforeDir) throw new Error('usage: bench/k8s-get.ts <before-checkout> [count] [rounds]')
const builds = {before: join(resolve(beforeDir), 'bin', 'calicoctl'), after: join(process.cwd(), 'bin', 'calicoctl')}
for (const bin of Object.values(builds)) if (!existsSync(bin)) throw new Error(`${bin} is missing`)

interface Sample {
  firstByteMs: number
  wallMs: number
  cpuMs: number
  rssKiB: number
  sha1: string
}

function runGet(bin: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((done, fail) => {
    const start = performance.now()
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', process.execPath, bin, 'get', 'networkpolicies', '-A', '-o', 'yaml'], {env, stdio: ['ignore', 'pipe', 'pipe']})
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
const samples: Record<keyof typeof builds, Sample[]> = {before: [], after: []}
try {
  const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url})
  await batched(count, 64, (i) => b.create(policyKey(i), policyValue(i)))
  await b.close()
  const env = {...process.env, DATASTORE_TYPE: 'kubernetes', K8S_API_ENDPOINT: server.url, NO_COLOR: '1'}
  const warm = {before: await runGet(builds.before, env), after: await runGet(builds.after, env)}
  if (warm.before.sha1 !== warm.after.sha1) throw new Error(`the two builds print different output (sha1 ${warm.before.sha1} and ${warm.after.sha1})`)
  for (let r = 0; r < rounds; r++) {
    const order: (keyof typeof builds)[] = r % 2 === 0 ? ['before', 'after'] : ['after', 'before']
    for (const which of order) samples[which].push(await runGet(builds[which], env))
  }
} finally {
  server.stop()
}

const fields: [string, keyof Sample][] = [['wall', 'wallMs'], ['first byte', 'firstByteMs'], ['CPU (user + system)', 'cpuMs'], ['peak RSS', 'rssKiB']]
const show = (field: keyof Sample, v: number) => (field === 'rssKiB' ? `${(v / 1024).toFixed(1)} MiB` : `${v.toFixed(0)} ms`)
process.stdout.write(`calicoctl get networkpolicies -A -o yaml of ${count} (Kubernetes datastore, test API server): median of ${rounds} rounds; load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)}\n\n`)
process.stdout.write(`| | before (${beforeDir}) | after | after / before |\n|---|---:|---:|---:|\n`)
for (const [label, field] of fields) {
  const of = (which: keyof typeof builds) => median(samples[which].map((s) => s[field] as number))
  const ratio = median(samples.after.map((s, i) => (s[field] as number) / (samples.before[i][field] as number)))
  process.stdout.write(`| ${label} | ${show(field, of('before'))} | ${show(field, of('after'))} | ${ratio.toFixed(2)}x |\n`)
}
