// Backends under test, behind one small harness so the contract suite runs unchanged against each.

import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Backend} from '../../src/datastore/backend.js'
import {EmbeddedBackend} from '../../src/datastore/embedded/backend.js'
import {EtcdBackend} from '../../src/datastore/etcd/backend.js'
import {startEtcd, type EtcdInstance} from '../helpers/etcd.js'

export interface Harness {
  readonly name: string
  /** Metadata the datastore assigns itself (Kubernetes: uid always; more with v3 CRDs), so written values do not read back. */
  readonly serverAssigned?: readonly ('uid' | 'creationTimestamp' | 'generation')[]
  /** A new backend instance on the shared store (several may be open at once). */
  open(): Promise<Backend>
  /** Forgets history at or below `revision`, so watches from before it expire. */
  compact(revision: string): Promise<void>
  /** Empties the store between tests. */
  reset(): Promise<void>
  teardown(): Promise<void>
}

export async function embeddedHarness(): Promise<Harness> {
  let dir = mkdtempSync(join(tmpdir(), 'calico-ts-embedded-'))
  const open: Backend[] = []
  const closeAll = async () => {
    for (const b of open.splice(0)) await b.close()
  }
  return {
    name: 'embedded',
    async open() {
      const {backend} = EmbeddedBackend.open({dir, pollIntervalMs: 50})
      open.push(backend)
      return backend
    },
    async compact(revision) {
      const {backend} = EmbeddedBackend.open({dir})
      await backend.compact(revision)
      await backend.close()
    },
    async reset() {
      // A fresh directory is cheaper and stricter than deleting rows: revisions restart too.
      await closeAll()
      rmSync(dir, {recursive: true, force: true})
      dir = mkdtempSync(join(tmpdir(), 'calico-ts-embedded-'))
    },
    async teardown() {
      await closeAll()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

export async function etcdHarness(): Promise<Harness & {etcd: EtcdInstance}> {
  const etcd = await startEtcd()
  const open: Backend[] = []
  return {
    name: 'etcd',
    etcd,
    async open() {
      const backend = await EtcdBackend.connect({datastoreType: 'etcdv3', etcdEndpoints: etcd.endpoints}, {pageSize: 500})
      open.push(backend)
      return backend
    },
    async compact(revision) {
      await etcd.etcdctl(['compact', revision])
    },
    async reset() {
      for (const b of open.splice(0)) await b.close()
      await etcd.etcdctl(['del', '--prefix', '/calico/'])
    },
    async teardown() {
      for (const b of open.splice(0)) await b.close()
      await etcd.stop()
    },
  }
}
