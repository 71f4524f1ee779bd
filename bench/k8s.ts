// Kubernetes datastore overhead (issue 5, target within 1.5x): list and get of N Calico NetworkPolicies
// through the backend, against raw HTTP requests to the same test API server that fetch the same pages
// (limit/continue, same page size) or the same objects (same number in flight) and only JSON.parse them
// (the listed items are kept in an array, as the backend keeps its converted ones).
//
//   node --import ./test/datastore/helpers/register.mjs bench/k8s.ts [count] [rounds]
//
// The server runs in a child process (test/k8s-apiserver/main.ts) so it does not share this event
// loop. After one warm-up round, each step runs `rounds` times with the baseline and the backend
// alternating which goes first (so neither always meets a freshly idle server); the table gives the
// median wall time and the median CPU time of this process (user + system, from process.cpuUsage: the
// client's own cost, which the server's work and the machine's other load disturb far less). Each ratio
// is the median of the per-round ratios: the two runs of a round are adjacent, so they share the
// machine's load far more than runs minutes apart do.

import {Agent, request} from 'node:http'
import {loadavg} from 'node:os'
import {KubernetesBackend} from '../src/datastore/kubernetes/backend.js'
import {batched, startServer} from './k8s-server.js'
import {median, policyKey, policyValue} from './lib.js'

const count = Number(process.argv[2] ?? 5000)
const rounds = Number(process.argv[3] ?? 15)
const inFlight = 64
const pageSize = 500

// The baseline's connection pool matches the backend's (keep-alive, 64 sockets).
const agent = new Agent({keepAlive: true, maxSockets: 64})
function rawGet(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    request(url, {agent, headers: {Accept: 'application/json'}}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString())) : reject(new Error(`GET ${url}: ${res.statusCode}`))))
      res.on('error', reject)
    }).on('error', reject).end()
  })
}

interface Sample {
  wallMs: number
  cpuMs: number
}

async function sample(fn: () => Promise<void>): Promise<Sample> {
  const cpu = process.cpuUsage()
  const start = performance.now()
  await fn()
  const wallMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  return {wallMs, cpuMs: (used.user + used.system) / 1000}
}

interface Comparison {
  step: string
  baseline: Sample[]
  backend: Sample[]
}

/** One warm-up of each, then `rounds` alternating pairs. */
async function compare(step: string, baseline: () => Promise<void>, backend: () => Promise<void>): Promise<Comparison> {
  await baseline()
  await backend()
  const out: Comparison = {step, baseline: [], backend: []}
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      out.baseline.push(await sample(baseline))
      out.backend.push(await sample(backend))
    } else {
      out.backend.push(await sample(backend))
      out.baseline.push(await sample(baseline))
    }
  }
  return out
}

const results: Comparison[] = []
const loadBefore = loadavg()[0]
let createMs = 0
const server = await startServer()
try {
  const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url}, {pageSize})
  createMs = (await sample(() => batched(count, inFlight, (i) => b.create(policyKey(i), policyValue(i))))).wallMs
  const base = `${server.url}/apis/crd.projectcalico.org/v1`
  results.push(await compare(`list ${count} (pages of ${pageSize})`, async () => {
    // The items are kept, as the backend keeps its converted ones: a list is read to be used.
    const items: unknown[] = []
    let token = ''
    do {
      const page = (await rawGet(`${base}/networkpolicies?limit=${pageSize}${token ? `&continue=${encodeURIComponent(token)}` : ''}`)) as {items: unknown[]; metadata: {continue?: string}}
      for (const item of page.items) items.push(item)
      token = page.metadata.continue ?? ''
    } while (token)
    if (items.length !== count) throw new Error(`raw list saw ${items.length}`)
  }, async () => {
    const res = await b.list({kind: 'NetworkPolicy'})
    if (res.items.length !== count) throw new Error(`backend list saw ${res.items.length}`)
  }))
  results.push(await compare(`get ${count} (${inFlight} in flight)`,
    () => batched(count, inFlight, (i) => rawGet(`${base}/namespaces/ns-${i % 10}/networkpolicies/${policyKey(i).name}`)),
    () => batched(count, inFlight, (i) => b.get(policyKey(i)))))
  await b.close()
} finally {
  agent.destroy()
  server.stop()
}

const ms = (v: number): string => v.toFixed(0)
process.stdout.write(`${count} NetworkPolicies, backend create (${inFlight} in flight): ${ms(createMs)} ms; median of ${rounds} warm rounds; load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)}\n\n`)
process.stdout.write('| step | raw HTTP wall | backend wall | ratio | raw HTTP CPU | backend CPU | ratio |\n|---|---:|---:|---:|---:|---:|---:|\n')
for (const r of results) {
  const of = (field: keyof Sample) => ({
    baseline: median(r.baseline.map((s) => s[field])),
    backend: median(r.backend.map((s) => s[field])),
    ratio: median(r.backend.map((s, i) => s[field] / r.baseline[i][field])),
  })
  const [wall, cpu] = [of('wallMs'), of('cpuMs')]
  process.stdout.write(`| ${r.step} | ${ms(wall.baseline)} ms | ${ms(wall.backend)} ms | ${wall.ratio.toFixed(2)}x | ${ms(cpu.baseline)} ms | ${ms(cpu.backend)} ms | ${cpu.ratio.toFixed(2)}x |\n`)
}
