// Kubernetes datastore overhead: list and get of N Calico NetworkPolicies through the backend,
// against raw HTTP requests (keep-alive, JSON.parse only) to the same test API server.
//
//   node --import ./test/datastore/helpers/register.mjs bench/k8s.ts [count]
//
// The server runs in a child process (test/k8s-apiserver/main.ts) so it does not share this event
// loop. Results go to stdout as a Markdown table.

import {spawn} from 'node:child_process'
import {Agent, request} from 'node:http'
import {createInterface} from 'node:readline'
import type {Key} from '../src/datastore/backend.js'
import {KubernetesBackend} from '../src/datastore/kubernetes/backend.js'

const count = Number(process.argv[2] ?? 5000)
const inFlight = 64

function policy(i: number): Record<string, unknown> {
  const name = `np-${String(i).padStart(6, '0')}`
  return {
    apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy',
    metadata: {name, namespace: `ns-${i % 10}`, labels: {'projectcalico.org/tier': 'default'}},
    spec: {tier: 'default', order: 100, selector: `app == "a${i}"`, types: ['Ingress'], ingress: [{action: 'Allow', protocol: 'TCP', destination: {ports: [80, 443]}}]},
  }
}
const key = (i: number): Key => ({kind: 'NetworkPolicy', namespace: `ns-${i % 10}`, name: `np-${String(i).padStart(6, '0')}`})

async function startServer(): Promise<{url: string; stop: () => void}> {
  const child = spawn(process.execPath, ['--import', './test/datastore/helpers/register.mjs', 'test/k8s-apiserver/main.ts', '0', 'v1'], {stdio: ['ignore', 'pipe', 'inherit']})
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({input: child.stdout}).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`test API server exited ${code}`)))
  })
  return {url: line.trim(), stop: () => child.kill('SIGTERM')}
}

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

async function batched(n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += inFlight) await Promise.all(Array.from({length: Math.min(inFlight, n - i)}, (_, j) => fn(i + j)))
}

async function time(label: string, fn: () => Promise<void>): Promise<number> {
  const start = performance.now()
  await fn()
  const ms = performance.now() - start
  rows.push([label, ms])
  return ms
}

const rows: [string, number][] = []
const server = await startServer()
try {
  const b = await KubernetesBackend.connect({datastoreType: 'kubernetes', k8sAPIEndpoint: server.url})
  await time(`backend create ${count} (${inFlight} in flight)`, () => batched(count, (i) => b.create(key(i), policy(i))))
  const base = `${server.url}/apis/crd.projectcalico.org/v1`
  for (let round = 0; round < 2; round++) {
    const suffix = round === 0 ? ' (cold)' : ''
    await time(`raw HTTP list ${count} (pages of 500)${suffix}`, async () => {
      let n = 0
      let token = ''
      do {
        const page = (await rawGet(`${base}/networkpolicies?limit=500${token ? `&continue=${token}` : ''}`)) as {items: unknown[]; metadata: {continue?: string}}
        n += page.items.length
        token = page.metadata.continue ?? ''
      } while (token)
      if (n !== count) throw new Error(`raw list saw ${n}`)
    })
    await time(`backend list ${count} (pages of 500)${suffix}`, async () => {
      const res = await b.list({kind: 'NetworkPolicy'})
      if (res.items.length !== count) throw new Error(`backend list saw ${res.items.length}`)
    })
  }
  for (let round = 0; round < 2; round++) {
    const suffix = round === 0 ? ' (cold)' : ''
    await time(`raw HTTP get ${count} (${inFlight} in flight)${suffix}`, () => batched(count, (i) => rawGet(`${base}/namespaces/ns-${i % 10}/networkpolicies/${key(i).name}`)))
    await time(`backend get ${count} (${inFlight} in flight)${suffix}`, () => batched(count, (i) => b.get(key(i))))
  }
  await b.close()
} finally {
  agent.destroy()
  server.stop()
}

process.stdout.write(`| step | ms | per second |\n|---|---:|---:|\n`)
for (const [label, ms] of rows) process.stdout.write(`| ${label} | ${ms.toFixed(0)} | ${Math.round((count / ms) * 1000)} |\n`)
