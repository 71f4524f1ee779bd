// Datastore throughput: bulk writes, a full list and watch delivery, per backend.
//
//   node --import ./test/datastore/helpers/register.mjs bench/datastore-bulk.ts [count]
//
// The embedded store runs in a temp directory; etcd runs as a throw-away local instance when
// /usr/bin/etcd exists (test/helpers/etcd.ts). Results go to stdout as a Markdown table.

import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Backend} from '../src/datastore/backend.js'
import {EmbeddedBackend} from '../src/datastore/embedded/backend.js'
import {EtcdBackend} from '../src/datastore/etcd/backend.js'
import {etcdSkipReason, startEtcd} from '../test/helpers/etcd.js'
import {policyKey, policyValue} from './lib.js'

const count = Number(process.argv[2] ?? 5000)

interface Row {
  backend: string
  step: string
  ms: number
  perSecond: number
}

async function time(rows: Row[], backend: string, step: string, n: number, fn: () => Promise<void>): Promise<void> {
  const start = performance.now()
  await fn()
  const ms = performance.now() - start
  rows.push({backend, step, ms: Math.round(ms), perSecond: Math.round((n / ms) * 1000)})
}

async function run(name: string, b: Backend, rows: Row[]): Promise<void> {
  const seq = Math.min(count, 1000)
  await time(rows, name, `create ${seq} sequentially`, seq, async () => {
    for (let i = 0; i < seq; i++) await b.create(policyKey(i), policyValue(i))
  })
  await time(rows, name, `apply ${count} (64 in flight)`, count, async () => {
    for (let i = 0; i < count; i += 64) {
      await Promise.all(Array.from({length: Math.min(64, count - i)}, (_, j) => b.apply(policyKey(i + j), policyValue(i + j))))
    }
  })
  await time(rows, name, `list ${count}`, count, async () => {
    const res = await b.list({kind: 'NetworkPolicy'})
    if (res.items.length !== count) throw new Error(`listed ${res.items.length} of ${count}`)
  })
  const {revision} = await b.list({kind: 'Tier'})
  const w = b.watch({kinds: ['NetworkPolicy'], fromRevision: revision})
  await time(rows, name, `watch ${count} updates (write + deliver)`, count, async () => {
    const writes = (async () => {
      for (let i = 0; i < count; i += 64) {
        await Promise.all(Array.from({length: Math.min(64, count - i)}, (_, j) => b.apply(policyKey(i + j), policyValue(i + j))))
      }
    })()
    let seen = 0
    for await (const ev of w) {
      void ev
      if (++seen === count) break
    }
    await writes
  })
}

const rows: Row[] = []
const dir = mkdtempSync(join(tmpdir(), 'calico-ts-bench-'))
try {
  const {backend} = EmbeddedBackend.open({dir})
  await run('embedded', backend, rows)
  await backend.close()
} finally {
  rmSync(dir, {recursive: true, force: true})
}

if (etcdSkipReason() === undefined) {
  const etcd = await startEtcd()
  try {
    const backend = await EtcdBackend.connect({datastoreType: 'etcdv3', etcdEndpoints: etcd.endpoints})
    await run('etcd', backend, rows)
    await backend.close()
  } finally {
    await etcd.stop()
  }
}

console.log('| backend | step | ms | items/s |\n|---|---|---:|---:|')
for (const r of rows) console.log(`| ${r.backend} | ${r.step} | ${r.ms} | ${r.perSecond} |`)
