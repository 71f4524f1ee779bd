// Bulk calicoctl operations through the binary on the embedded store: create, apply (update path), get -o yaml
// and delete of N resources from one file. Prints per-operation wall time and per-resource cost.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

import {run} from './lib.js'

const n = Number(process.env.BENCH_RESOURCES ?? 2000)
const calicoctl = resolve(import.meta.dirname, '../../bin/calicoctl')
const dir = mkdtempSync(join(tmpdir(), 'calico-bench-bulk-'))
const env = {...process.env, DATASTORE_PATH: join(dir, 'store'), NO_COLOR: '1'}

// Half network sets, half policies (policies also exercise the tier lookup and selector validation).
const docs = Array.from({length: n}, (_, i) =>
  i % 2 === 0
    ? {apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: {name: `gns-${i}`, labels: {i: String(i)}}, spec: {nets: [`10.${(i >> 8) & 255}.${i & 255}.0/24`]}}
    : {
        apiVersion: 'projectcalico.org/v3',
        kind: 'NetworkPolicy',
        metadata: {name: `np-${i}`, namespace: `ns-${i % 10}`},
        spec: {selector: `app == 'a${i}'`, ingress: [{action: 'Allow', source: {selector: "role == 'frontend'"}}]},
      },
)
const file = join(dir, 'bulk.json')
writeFileSync(file, JSON.stringify(docs))

try {
  run([calicoctl, 'get', 'tiers'], {env})
  const steps: Array<[string, string[]]> = [
    ['create', ['create', '-f', file]],
    ['apply (all exist: update path)', ['apply', '-f', file]],
    ['get globalnetworksets -o yaml', ['get', 'globalnetworksets', '-o', 'yaml']],
    ['get networkpolicies -A (ps)', ['get', 'networkpolicies', '-A']],
    ['delete', ['delete', '-f', file]],
  ]
  console.log(`calicoctl bulk, ${n} resources, embedded store`)
  for (const [label, args] of steps) {
    const r = run([calicoctl, ...args], {env})
    console.log(`${label.padEnd(34)} ${r.ms.toFixed(0).padStart(7)} ms  ${((r.ms * 1000) / n).toFixed(0).padStart(6)} µs/resource  peak RSS ${(r.maxRssKiB / 1024).toFixed(1)} MiB`)
  }
} finally {
  rmSync(dir, {recursive: true, force: true})
}
