// CNI and IPAM speed on etcd, run as root (it builds a netns lab):
// 1. CNI ADD latency: 200 pods attached one after another by the real plugin binary (bin/calico over dist/) in a
//    lab node; median and p99 wall time of each plugin process, and the same for DEL.
// 2. IPAM allocations per second: IPAMClient.autoAssign in-process against raw etcd transactions of the same
//    shape in the same run: the datastore operations of one warm allocation are recorded and replayed with the
//    etcd3 client directly (same keys, same bytes, same compare-and-swap guards), so the ratio is the cost of
//    the IPAM and datastore layers above etcd.
import type {Backend, Key, KVPair, ListOptions, ListResult, WatchOptions, Watcher} from '../src/datastore/backend.js'
import {encodeValue} from '../src/datastore/codec.js'
import {openBackend} from '../src/datastore/factory.js'
import {keyToPath, listRanges} from '../src/datastore/keys.js'
import {IPAMClient} from '../src/ipam/index.js'
import {Lab, labSkipReason} from '../test/lab/lab.js'
import {median, percentile} from './lib.js'

const PODS = Number(process.env.BENCH_PODS ?? 200)
const ALLOCS = Number(process.env.BENCH_ALLOCS ?? 500)
// The bench measures the shipped binary (bin/calico over dist/, or an installed copy in CNI_LAB_BIN_DIR).
process.env.CNI_LAB_PLUGIN ??= 'dist'
const pluginFrom = process.env.CNI_LAB_BIN_DIR ?? process.env.CNI_LAB_PLUGIN

type Op =
  | {op: 'get'; key: Key}
  | {op: 'list'; opts: ListOptions}
  | {op: 'create'; key: Key; value: unknown}
  | {op: 'update'; key: Key; value: unknown}
  | {op: 'apply'; key: Key; value: unknown}
  | {op: 'delete'; key: Key}

/** Passes everything to `inner` and records each operation while `recording` is set. */
class RecordingBackend implements Backend {
  recording: Op[] | undefined
  constructor(private readonly inner: Backend) {}
  get type() {
    return this.inner.type
  }
  create<V>(key: Key, value: V): Promise<KVPair<V>> {
    this.recording?.push({op: 'create', key, value})
    return this.inner.create(key, value)
  }
  update<V>(key: Key, value: V, revision: string): Promise<KVPair<V>> {
    this.recording?.push({op: 'update', key, value})
    return this.inner.update(key, value, revision)
  }
  apply<V>(key: Key, value: V): Promise<KVPair<V>> {
    this.recording?.push({op: 'apply', key, value})
    return this.inner.apply(key, value)
  }
  delete<V>(key: Key, revision?: string): Promise<KVPair<V>> {
    this.recording?.push({op: 'delete', key})
    return this.inner.delete(key, revision)
  }
  get<V>(key: Key): Promise<KVPair<V>> {
    this.recording?.push({op: 'get', key})
    return this.inner.get(key)
  }
  list<V>(opts: ListOptions): Promise<ListResult<V>> {
    this.recording?.push({op: 'list', opts})
    return this.inner.list(opts)
  }
  watch(opts: WatchOptions): Watcher {
    return this.inner.watch(opts)
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}

function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint()
  const value = await fn()
  return [Number(process.hrtime.bigint() - start) / 1e6, value]
}

async function cniLatency(lab: Lab): Promise<void> {
  await lab.addPool('bench-pool', '10.96.0.0/16', {blockSize: 26})
  const node = await lab.addNode('bench-node')
  const add: number[] = []
  const del: number[] = []
  const pods = []
  for (let i = 0; i < PODS; i++) {
    const [ms, pod] = await timed(() => lab.addPod(node, {namespace: 'bench', name: `pod-${i}`}))
    add.push(ms)
    pods.push(pod)
  }
  for (const pod of pods) {
    const [ms, run] = await timed(() => lab.deletePod(pod))
    if (run.exit !== 0) throw new Error(`DEL failed: ${run.stdout}`)
    del.push(ms)
  }
  console.log(`CNI on etcd (${lab.datastore}), ${PODS} pods one after another, plugin from ${pluginFrom}:`)
  console.log(`  ADD  median ${fmt(median(add))}  p99 ${fmt(percentile(add, 99))}`)
  console.log(`  DEL  median ${fmt(median(del))}  p99 ${fmt(percentile(del, 99))}`)
}

async function ipamThroughput(endpoints: string): Promise<void> {
  const inner = (await openBackend({datastoreType: 'etcdv3', etcdEndpoints: endpoints})).backend
  const backend = new RecordingBackend(inner)
  const ipam = new IPAMClient(backend)
  const args = (h: string) => ({num4: 1, num6: 0, handleID: h, hostname: 'ipam-bench', intendedUse: 'Workload' as const, ipv4Pools: ['10.97.0.0/16']})
  const {ResourceClient} = await import('../src/datastore/client.js')
  await new ResourceClient(inner).create({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: {name: 'ipam-bench'},
    spec: {cidr: '10.97.0.0/16', blockSize: 20, ipipMode: 'Never', vxlanMode: 'Never'},
  })
  await new ResourceClient(inner).create({apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: {name: 'ipam-bench'}, spec: {}})
  // Claims the block; then one warm allocation is recorded as the shape to replay.
  await ipam.autoAssign(args('warmup-0'))
  backend.recording = []
  await ipam.autoAssign(args('shape-1'))
  const shape = backend.recording
  backend.recording = undefined

  const [calicoMs] = await timed(async () => {
    for (let i = 0; i < ALLOCS; i++) await ipam.autoAssign(args(`bench-${i}`))
  })

  const {Etcd3} = await import('etcd3')
  const etcd = new Etcd3({hosts: endpoints})
  const counts = new Map<string, number>()
  for (const o of shape) counts.set(o.op, (counts.get(o.op) ?? 0) + 1)
  const [rawMs] = await timed(async () => {
    for (let i = 0; i < ALLOCS; i++) {
      const rename = (s: string) => s.replaceAll('shape-1', `raw-${i}`)
      const modRevision = new Map<string, string>()
      for (const o of shape) {
        if (o.op === 'get') {
          const path = rename(keyToPath(o.key))
          const res = await etcd.get(path).exec()
          const kv = res.kvs[0]
          if (kv) modRevision.set(path, kv.mod_revision)
        } else if (o.op === 'list') {
          for (const r of listRanges(o.opts)) await etcd.getAll().prefix(r.prefix).strings()
        } else if (o.op === 'delete') {
          await etcd.delete().key(rename(keyToPath(o.key))).exec()
        } else {
          const path = rename(keyToPath(o.key))
          const value = rename(encodeValue(o.key, o.value))
          if (o.op === 'apply') await etcd.put(path).value(value).exec()
          else if (o.op === 'create') await etcd.if(path, 'Version', '==', 0).then(etcd.put(path).value(value)).commit()
          else await etcd.if(path, 'Mod', '==', modRevision.get(path) ?? '0').then(etcd.put(path).value(value)).commit()
        }
      }
    }
  })
  etcd.close()
  await inner.close()
  const shapeText = [...counts].map(([op, n]) => `${n} ${op}`).join(', ')
  console.log(`IPAM on etcd, ${ALLOCS} sequential allocations from a warm affine block (one allocation = ${shapeText}):`)
  console.log(`  IPAMClient.autoAssign      ${((ALLOCS * 1000) / calicoMs).toFixed(0).padStart(6)} allocations/s  ${fmt(calicoMs / ALLOCS)} each`)
  console.log(`  raw etcd3, same operations ${((ALLOCS * 1000) / rawMs).toFixed(0).padStart(6)} allocations/s  ${fmt(rawMs / ALLOCS)} each`)
  console.log(`  ratio ${(calicoMs / rawMs).toFixed(2)}x`)
}

const reason = labSkipReason()
if (reason !== undefined) {
  console.log(`bench/cni: ${reason}`)
} else {
  const lab = await Lab.start({datastore: 'etcd'})
  try {
    await cniLatency(lab)
    const endpoints = lab.hostEtcdEndpoints
    if (endpoints === undefined) throw new Error('the lab has no etcd')
    await ipamThroughput(endpoints)
  } finally {
    await lab.destroy()
  }
}
