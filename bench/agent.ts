// Node agent start-up at scale: 1,000 policies (5 selector rules each) and 200 local endpoints (plus 800 remote
// ones feeding the IP sets). Measures `calicoctl node run` from spawn to readiness inside a private network
// namespace, against `nft -f` of the same rendered ruleset in a second namespace, in the same run. Root only.
// Run: npm run build && npm run bench:build && node build/bench/agent.js
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {computePolicyState, namespaceProfile, type CalcResource} from '../src/dataplane/calc/index.js'
import {renderFullScript, renderTable} from '../src/dataplane/nftables/index.js'
import {EmbeddedBackend} from '../src/datastore/embedded/backend.js'

const POLICIES = Number(process.env.BENCH_POLICIES ?? 1000)
const LOCAL = Number(process.env.BENCH_LOCAL_ENDPOINTS ?? 200)
const REMOTE = Number(process.env.BENCH_REMOTE_ENDPOINTS ?? 800)
const V3 = 'projectcalico.org/v3'
const calicoctl = resolve(import.meta.dirname, '../../bin/calicoctl')

if (process.getuid?.() !== 0) {
  console.log('bench/agent: needs root (network namespaces, nftables); skipped')
  process.exit(0)
}

const prefix = `jb${process.pid % 100000}`
const nodeNs = `${prefix}-node`
const nftNs = `${prefix}-nft`
const dir = mkdtempSync(join(tmpdir(), 'agent-bench-'))
const cleanup = (): void => {
  for (const ns of [nodeNs, nftNs]) spawnSync('ip', ['netns', 'delete', ns], {stdio: 'ignore'})
  rmSync(dir, {recursive: true, force: true})
}
process.on('SIGINT', () => {
  cleanup()
  process.exit(130)
})

function resources(): CalcResource[] {
  const out: CalcResource[] = [namespaceProfile('bench', {})]
  for (let i = 0; i < LOCAL + REMOTE; i++) {
    out.push({
      apiVersion: V3, kind: 'WorkloadEndpoint',
      metadata: {name: `wep-${i}`, namespace: 'bench', labels: {app: `app${i % 50}`, tier: `t${i % 7}`, 'projectcalico.org/namespace': 'bench'}},
      spec: {
        node: i < LOCAL ? 'kn' : `remote${i % 20}`, orchestrator: 'k8s', pod: `pod-${i}`, endpoint: 'eth0',
        interfaceName: `cali${i.toString(16).padStart(11, '0')}`, ipNetworks: [`10.${60 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`], profiles: ['kns.bench'],
      },
    })
  }
  for (let p = 0; p < POLICIES; p++) {
    const rules = Array.from({length: 5}, (_, r) => ({
      action: 'Allow', protocol: 'TCP',
      source: {selector: `app == 'app${(p + r) % 50}' && tier == 't${r}'`},
      destination: {ports: [8000 + r]},
    }))
    out.push({apiVersion: V3, kind: 'NetworkPolicy', metadata: {name: `pol-${p}`, namespace: 'bench'}, spec: {order: p, selector: `app == 'app${p % 50}'`, types: ['Ingress'], ingress: rules}})
  }
  return out
}

function ip(...args: string[]): void {
  execFileSync('ip', args, {stdio: 'ignore'})
}

async function main(): Promise<void> {
  const all = resources()
  const store = EmbeddedBackend.open({dir: join(dir, 'store')}).backend
  for (const r of all) await store.apply({kind: r.kind, name: r.metadata.name!, namespace: r.metadata.namespace}, r)
  await store.close()
  writeFileSync(join(dir, 'calicoctl.cfg'), `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: embedded\n  datastorePath: ${join(dir, 'store')}\n`)

  // Same ruleset, rendered and loaded directly: the floor the agent's start-up is compared against.
  const tRender = performance.now()
  const script = renderFullScript(renderTable(computePolicyState('kn', all)))
  const renderMs = performance.now() - tRender
  ip('netns', 'add', nftNs)
  const tNft = performance.now()
  execFileSync('ip', ['netns', 'exec', nftNs, 'nft', '-f', '-'], {input: script, stdio: ['pipe', 'ignore', 'inherit']})
  const nftMs = performance.now() - tNft

  ip('netns', 'add', nodeNs)
  ip('-n', nodeNs, 'link', 'set', 'lo', 'up')
  const t0 = Date.now()
  const agent = spawn('ip', ['netns', 'exec', nodeNs, process.execPath, calicoctl, 'node', 'run', '--name', 'kn', '--ip', '192.0.2.1/24', '-c', join(dir, 'calicoctl.cfg')], {stdio: ['ignore', 'ignore', 'pipe']})
  let log = ''
  const ready = await new Promise<number>((resolvePromise, reject) => {
    agent.stderr!.on('data', (b: Buffer) => {
      log += b.toString()
      const m = /time="([^"]+)" level=info msg="Calico node started successfully"/.exec(log)
      if (m) resolvePromise(Date.parse(m[1]!) - t0)
    })
    agent.on('exit', (code) => reject(new Error(`agent exited ${code}: ${log.slice(-2000)}`)))
    setTimeout(() => reject(new Error(`agent not ready after 120 s: ${log.slice(-2000)}`)), 120_000)
  })
  const applyMs = Number(/applied full table \(\d+ bytes\) in ([\d.]+) ms/.exec(log)?.[1] ?? NaN)
  const syncAt = Date.parse(/time="([^"]+)" level=info msg="datastore snapshot received/.exec(log)?.[1] ?? '') - t0
  if (process.env.BENCH_VERBOSE) process.stderr.write(log)
  agent.kill('SIGTERM')
  await new Promise((r) => agent.once('exit', r))

  const kb = (script.length / 1024).toFixed(0)
  console.log(`agent start-up: ${POLICIES} policies x 5 selector rules, ${LOCAL} local + ${REMOTE} remote endpoints (${kb} KiB ruleset)`)
  console.log(`  render (calc + nft text) in-process        ${renderMs.toFixed(1).padStart(9)} ms`)
  console.log(`  nft -f of the same ruleset (baseline)      ${nftMs.toFixed(1).padStart(9)} ms`)
  console.log(`  node run: spawn → datastore snapshot       ${syncAt.toFixed(1).padStart(9)} ms`)
  console.log(`  node run: first apply (calc+render+nft)    ${applyMs.toFixed(1).padStart(9)} ms`)
  console.log(`  node run: spawn → ready                    ${ready.toFixed(1).padStart(9)} ms  (${(ready / nftMs).toFixed(2)}x nft -f)`)
}

try {
  await main()
} finally {
  cleanup()
}
