// Bulk apply and get of 5,000 GlobalNetworkPolicies through calicoctl on etcd, against etcdctl writing
// and reading the same 5,000 keys (same values) in the same run. Target: within 2x.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import yaml from 'js-yaml'
import {startEtcd} from '../test/helpers/etcd.js'
import {median, rowWithCpu, run, type Measured, type Run} from './lib.js'

const COUNT = Number(process.env.BENCH_COUNT ?? 5000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
/** The input file's form: `json` documents (the default, as generated manifests often are) or block-style `yaml`. */
const INPUT = process.env.BENCH_INPUT ?? 'json'
const PREFIX = '/calico/resources/v3/projectcalico.org/globalnetworkpolicies/'
const calicoctl = resolve(import.meta.dirname, '../../bin/calicoctl')
/**
 * Optionally other builds' bin/calicoctl (e.g. checkouts of earlier commits), measured in the same runs:
 * comma-separated paths, each optionally labelled (`label=path`; unlabelled: `before`).
 */
const others = (process.env.BENCH_CALICOCTL_BEFORE ?? '')
  .split(',')
  .filter((entry) => entry !== '')
  .map((entry) => {
    const at = entry.indexOf('=')
    return at < 0 ? {label: 'before: ', path: entry} : {label: `${entry.slice(0, at)}: `, path: entry.slice(at + 1)}
  })
/**
 * `apply,get` (the default) or `get`: reads only, of the keys etcdctl wrote for its baseline, which skips the
 * slow apply steps when only the read path is being measured.
 */
const STEPS = new Set((process.env.BENCH_STEPS ?? 'apply,get').split(','))

function policy(i: number) {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: {name: `gnp-${i}`},
    spec: {
      order: i,
      selector: `app == 'app-${i % 50}'`,
      types: ['Ingress', 'Egress'],
      ingress: [
        {action: 'Allow', protocol: 'TCP', source: {selector: `role == 'client-${i % 7}'`}, destination: {ports: [80, 443]}},
        {action: 'Deny', source: {nets: [`10.${i >> 8}.${i % 256}.0/24`]}},
      ],
      egress: [{action: 'Allow', protocol: 'UDP', destination: {ports: [53]}}],
    },
  }
}

/** The value calicoctl stores for a policy: what etcdctl writes in the baseline, so both move the same bytes. */
function storedValue(i: number): string {
  const p = policy(i)
  return JSON.stringify({
    kind: p.kind,
    apiVersion: p.apiVersion,
    metadata: {
      name: p.metadata.name,
      uid: '5b2d4c1e-0000-4000-8000-000000000000',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: {'projectcalico.org/tier': 'default'},
      annotations: {'projectcalico.org/metadata': JSON.stringify({name: p.metadata.name})},
    },
    spec: {...p.spec, tier: 'default'},
  })
}

const dir = mkdtempSync(join(tmpdir(), 'calico-bench-bulk-'))
const etcd = await startEtcd()
try {
  const file = join(dir, 'gnps.yaml')
  const doc = INPUT === 'yaml' ? (i: number) => yaml.dump(policy(i)) : (i: number) => JSON.stringify(policy(i))
  writeFileSync(file, Array.from({length: COUNT}, (_, i) => doc(i)).join('\n---\n'))
  // etcdctl txn takes at most 128 operations per transaction (etcd's default --max-txn-ops).
  const batches: string[] = []
  for (let i = 0; i < COUNT; i += 128) {
    const puts = Array.from({length: Math.min(128, COUNT - i)}, (_, j) => `put ${PREFIX}gnp-${i + j} ${JSON.stringify(storedValue(i + j))}`)
    batches.push(`\n${puts.join('\n')}\n\n\n`)
  }
  const env = {...process.env, ETCD_ENDPOINTS: etcd.endpoints, DATASTORE_TYPE: 'etcdv3', ETCDCTL_API: '3', NO_COLOR: '1'}
  const etcdctl = ['/usr/bin/etcdctl', '--endpoints', etcd.endpoints]
  const wipe = () => run([...etcdctl, 'del', '--prefix', '/calico/'], {env})

  const binaries = [...others, {label: '', path: calicoctl}]
  const rawWrite: Run[] = []
  const rawRead: Run[] = []
  const ctl = binaries.map(() => ({write: [] as Run[], update: [] as Run[], read: [] as Run[], empty: [] as Run[]}))
  for (let r = 0; r < RUNS; r++) {
    wipe()
    const txns = batches.map((input) => run([...etcdctl, 'txn'], {env, input}))
    rawWrite.push({
      ms: txns.reduce((n, t) => n + t.ms, 0),
      cpuMs: txns.reduce((n, t) => n + t.cpuMs, 0),
      maxRssKiB: Math.max(...txns.map((t) => t.maxRssKiB)),
      status: 0,
    })
    rawRead.push(run([...etcdctl, 'get', '--prefix', PREFIX], {env}))
    binaries.forEach((bin, i) => {
      if (STEPS.has('apply')) {
        wipe()
        ctl[i].write.push(run([bin.path, 'apply', '-f', file], {env}))
        // Every policy exists now: apply takes calicoctl's update path (a failed create, a read, an update).
        ctl[i].update.push(run([bin.path, 'apply', '-f', file], {env}))
      }
      ctl[i].read.push(run([bin.path, 'get', 'globalnetworkpolicies', '-o', 'yaml'], {env}))
      // The floor of any get on etcd: start-up, connection and one empty range.
      ctl[i].empty.push(run([bin.path, 'get', 'hostendpoints', '-o', 'yaml'], {env}))
    })
  }
  const med = (runs: Run[]): Measured => ({
    medianMs: median(runs.map((x) => x.ms)),
    medianCpuMs: median(runs.map((x) => x.cpuMs)),
    maxRssKiB: Math.max(...runs.map((x) => x.maxRssKiB)),
  })
  const rw = med(rawWrite)
  const rr = med(rawRead)
  // CPU is the client's own (user + system); etcd's work is in the wall time of both sides.
  console.log(`bulk: ${COUNT} GlobalNetworkPolicies (${INPUT} input) on etcd, median of ${RUNS} runs (wall, then client CPU)`)
  console.log(rowWithCpu(`etcdctl txn writes (${batches.length} x <=128 puts)`, rw, rw))
  if (STEPS.has('apply')) {
    binaries.forEach((bin, i) => {
      console.log(rowWithCpu(`${bin.label}calicoctl apply -f (creates)`, med(ctl[i].write), rw))
      console.log(rowWithCpu(`${bin.label}calicoctl apply -f (all exist)`, med(ctl[i].update), rw))
    })
  }
  console.log(rowWithCpu('etcdctl get --prefix', rr, rr))
  binaries.forEach((bin, i) => console.log(rowWithCpu(`${bin.label}calicoctl get gnp -o yaml`, med(ctl[i].read), rr)))
  binaries.forEach((bin, i) => console.log(rowWithCpu(`${bin.label}calicoctl get hep -o yaml (empty kind)`, med(ctl[i].empty), rr)))
} finally {
  await etcd.stop()
  rmSync(dir, {recursive: true, force: true})
}
