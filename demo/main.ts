// `npm run demo`: the README's main job, then (as root) Calico enforcing policy on this host.
//
// 1. calicoctl on the embedded datastore: `apply -f examples/` and `get ippools -o wide`, in a private temporary
//    store (never /var/lib/calico).
// 2. With root, nft and ip: a one-node lab (test/lab: network namespaces named clab-<pid>-…, nothing in the host
//    namespace), four pods attached by the real CNI plugin (bin/calico), the node agent (`calicoctl node run`) in
//    the node's namespace, and the TCP reachability matrix between the pods measured with real connections: before
//    any policy, after `calicoctl apply -f examples/02-policy.yaml`, and after quarantining a pod with a label.
//    Everything is removed at the end, also on failure or Ctrl-C (test/lab/cleanup.ts hooks).
// Colour only on a terminal and never with NO_COLOR. Exit status 0 when every step ran.
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'

import type {Resource} from '../src/api/resource.js'
import {namespaceProfile} from '../src/dataplane/calc/index.js'
import {execArgv} from '../test/helpers/exec.js'
import {agentLabMissing, CALICOCTL, startAgent, type LabAgent} from '../test/lab/agent.js'
import {trackDir, untrackDir} from '../test/lab/cleanup.js'
import {inParallel, Lab, type LabPod} from '../test/lab/lab.js'
import {ROOT} from '../test/lab/plugin.js'
import {measure, type Probe} from '../test/lab/reach.js'
import {ANSI, countOpen, pair, PLAIN, renderMatrix, type Reachability} from './matrix.js'

const paint = process.stdout.isTTY === true && process.env.NO_COLOR === undefined ? ANSI : PLAIN
const bold = (s: string): string => (paint === ANSI ? `\u001b[1m${s}\u001b[22m` : s)
const out = (s = ''): void => void process.stdout.write(`${s}\n`)

const NAMESPACE = 'shop'
const PORT = 80
/** The pods and their labels: what examples/02-policy.yaml's selectors look at. */
const PODS: {name: string; labels: Record<string, string>}[] = [
  {name: 'frontend', labels: {app: 'frontend'}},
  {name: 'web', labels: {app: 'web'}},
  {name: 'monitor', labels: {role: 'monitoring'}},
  {name: 'batch', labels: {app: 'batch'}},
]

function configFile(dir: string, storeDir: string): string {
  const path = join(dir, 'calicoctl.cfg')
  writeFileSync(path, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: embedded\n  datastorePath: ${storeDir}\n`)
  return path
}

/** Runs bin/calicoctl with `config`, showing the command as a user would type it and its output indented. */
async function calicoctl(config: string, args: string[]): Promise<string> {
  const shown = args.map((a) => (a.startsWith(ROOT) ? relative(ROOT, a) + (a.endsWith('/') ? '/' : '') : a))
  out(`  ${paint.dim('$')} ${bold(`calicoctl ${shown.join(' ')}`)}`)
  const r = await execArgv([process.execPath, CALICOCTL, ...args, '-c', config])
  const text = `${r.stdout}${r.stderr}`.trimEnd()
  if (text !== '') out(text.split('\n').map((l) => `    ${l}`).join('\n'))
  if (r.code !== 0) throw new Error(`calicoctl ${shown.join(' ')} failed (exit ${r.code})`)
  return r.stdout
}

async function mainJob(): Promise<void> {
  out(bold('1. The main job: calicoctl on the embedded datastore'))
  const dir = mkdtempSync(join(tmpdir(), 'calico-demo-'))
  trackDir(dir)
  try {
    out(paint.dim(`  (a private store in ${dir}, removed afterwards; /var/lib/calico is not touched)`))
    const config = configFile(dir, join(dir, 'store'))
    await calicoctl(config, ['apply', '-f', join(ROOT, 'examples') + '/'])
    await calicoctl(config, ['get', 'ippools', '-o', 'wide'])
  } finally {
    rmSync(dir, {recursive: true, force: true})
    untrackDir(dir)
  }
}

/** The TCP matrix between the pods, measured from inside each pod. */
async function matrix(lab: Lab, pods: Map<string, LabPod>): Promise<Reachability> {
  const probes: Probe[] = []
  const keys: string[] = []
  for (const [from, src] of pods) {
    for (const [to, dst] of pods) {
      if (from === to) continue
      probes.push([src, dst.ips[0]!, PORT, 'tcp'])
      keys.push(pair(from, to))
    }
  }
  const got = await measure(lab, probes, 1500)
  // A refused connection is only reported after a second try: on a busy machine one attempt can miss its timeout.
  const retry = got.flatMap((ok, i) => (ok ? [] : [i]))
  if (retry.length > 0) {
    const again = await measure(lab, retry.map((i) => probes[i]!), 1500)
    retry.forEach((i, j) => (got[i] = again[j]!))
  }
  return new Map(keys.map((k, i) => [k, got[i]!]))
}

function showMatrix(title: string, names: string[], reach: Reachability, before?: Reachability): void {
  const {open, total} = countOpen(names, reach)
  out()
  out(`  ${bold(title)} ${paint.dim(`(TCP ${PORT}; ${open} of ${total} connections open)`)}`)
  out(renderMatrix(names, reach, paint, before))
  out()
}

/** Waits until the agent has put a policy into the kernel (its name appears in the nft table it programs). */
async function programmed(agent: LabAgent, policy: string, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now()
  while (!(await agent.table()).includes(policy)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`the agent did not program ${policy} within ${timeoutMs} ms:\n${agent.log()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  out(paint.dim(`  the agent programmed ${policy} into nftables (table inet calico in the node's namespace) after ${Date.now() - t0} ms`))
}

async function enforcement(): Promise<void> {
  out()
  out(bold('2. Enforcement on this host: one node, four pods, the node agent'))
  const missing = agentLabMissing()
  if (missing) {
    out(`  Skipped: ${missing}.`)
    out('  As root (with nft and ip) this part builds a one-node lab in network namespaces, attaches four pods')
    out('  (frontend, web, monitor, batch) with the CNI plugin, runs `calicoctl node run` in the node, and prints')
    out('  which pods can reach which before and after `calicoctl apply -f examples/02-policy.yaml`:')
    out('  only frontend and monitor keep reaching web; then a quarantined pod is cut off entirely.')
    out(`  Run it with: ${bold('sudo npm run demo')}`)
    return
  }
  // The demo runs after `npm run build`: the plugins and the agent are the built binaries.
  process.env.CNI_LAB_PLUGIN ??= 'dist'
  const t0 = Date.now()
  const lab = await Lab.start()
  let agent: LabAgent | undefined
  try {
    const node = await lab.addNode('demo-node')
    out(paint.dim(`  node demo-node: network namespace ${node.netns}, uplink eth0 ${node.address}/24; store in ${lab.dir}`))
    const config = lab.clientConfig(node)
    await calicoctl(config, ['apply', '-f', join(ROOT, 'examples', '01-ippool.yaml')])
    // What Calico derives from a Kubernetes namespace: profile kns.shop, allowing all (a pod without policy is open).
    const profile = namespaceProfile(NAMESPACE, {})
    await lab.backend.apply({kind: 'Profile', name: profile.metadata.name!}, profile)

    const settled = await inParallel(PODS, 2, (p) =>
      lab.addPod(node, {namespace: NAMESPACE, name: p.name, conf: {args: {cni: {labels: Object.entries(p.labels).map(([key, value]) => ({key, value}))}}}}),
    )
    const pods = new Map<string, LabPod>()
    settled.forEach((s, i) => {
      if (s.status === 'rejected') throw s.reason
      pods.set(PODS[i]!.name, s.value)
    })
    for (const pod of pods.values()) await lab.serve(pod, PORT)
    out(`  pods in namespace ${NAMESPACE}, attached by the CNI plugin (bin/calico, Calico IPAM), each serving TCP ${PORT}:`)
    const nameWidth = Math.max(...PODS.map((p) => p.name.length))
    for (const p of PODS) {
      const labels = Object.entries(p.labels).map(([k, v]) => `${k}=${v}`).join(',')
      out(`    ${p.name.padEnd(nameWidth)}  ${pods.get(p.name)!.ips[0]!.padEnd(15)}  ${paint.dim(labels)}`)
    }

    agent = startAgent(lab, node)
    await agent.ready()
    out(paint.dim('  `calicoctl node run` is running in the node and has programmed the kernel'))

    const names = PODS.map((p) => p.name)
    const before = await matrix(lab, pods)
    showMatrix('Before any policy', names, before)

    await calicoctl(config, ['apply', '-f', join(ROOT, 'examples', '02-policy.yaml')])
    await programmed(agent, 'allow-web')
    const withPolicy = await matrix(lab, pods)
    showMatrix("With shop/allow-web: only app=frontend or role=monitoring may reach app=web", names, withPolicy, before)

    const weps = await lab.client.list('WorkloadEndpoint', {namespace: NAMESPACE})
    const batch = weps.items.find((w: Resource) => (w.spec as {pod?: string} | undefined)?.pod === 'batch')
    if (!batch?.metadata.name) throw new Error('the CNI plugin made no WorkloadEndpoint for pod batch')
    await calicoctl(config, ['label', 'workloadendpoints', batch.metadata.name, '-n', NAMESPACE, 'quarantine=true'])
    await programmed(agent, 'quarantine')
    const quarantined = await matrix(lab, pods)
    showMatrix('With batch quarantined (tier platform, GlobalNetworkPolicy quarantine)', names, quarantined, withPolicy)

    const code = await agent.stop()
    agent = undefined
    if (code !== 0) throw new Error(`the agent exited with ${code}`)
  } finally {
    await agent?.stop()
    await lab.destroy()
    out(paint.dim(`  cleaned up: the lab's namespaces, processes and store are gone (${((Date.now() - t0) / 1000).toFixed(1)} s)`))
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'commands'))) throw new Error('calicoctl is not built: run `npm run build` first')
  await mainJob()
  await enforcement()
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
