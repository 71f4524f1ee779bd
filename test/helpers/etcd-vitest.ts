// One real etcd per describe block, as vitest hooks: started before the block's tests, every backend a test opened
// through it closed after that test (and /calico/ wiped, so each test starts from an empty store), stopped after the
// block. Separate from ./etcd.ts, which the lab, the demo and the benches import outside vitest.
//
//   const etcd = useEtcd()                      // inside describe(); {tls: true}, {wipe: false} as needed
//   const b = await etcd.connect({pageSize: 7}) // an EtcdBackend on it, closed after this test
//   await etcd.etcdctl(['get', '/calico/', '--prefix'])   // and the rest of EtcdInstance: endpoints, halt(), ...
import {afterAll, afterEach, beforeAll} from 'vitest'
import type {Backend} from '../../src/datastore/backend.js'
import type {DatastoreConfig} from '../../src/datastore/config.js'
import {EtcdBackend, type EtcdBackendOptions} from '../../src/datastore/etcd/backend.js'
import {openBackend, type OpenOptions} from '../../src/datastore/factory.js'
import {startEtcd, type EtcdInstance, type EtcdOptions} from './etcd.js'

export interface UseEtcdOptions extends EtcdOptions {
  /**
   * Delete every `/calico/` key after each test (default true). Off where etcdctl without credentials cannot
   * write (authentication enabled) or the tests share state on purpose.
   */
  wipe?: boolean
}

/** The block's etcd (EtcdInstance members are usable inside its tests and the hooks registered after useEtcd()). */
export interface EtcdFixture extends EtcdInstance {
  /** An EtcdBackend on this etcd, closed after the current test. */
  connect(opts?: EtcdBackendOptions): Promise<EtcdBackend>
  /** openBackend() with this etcd's endpoints merged under `config`, closed after the current test. */
  open(config?: Partial<DatastoreConfig>, opts?: OpenOptions): Promise<Backend>
  /** Closes `backend` (opened some other way, e.g. on another endpoint) after the current test. */
  track<B extends Backend>(backend: B): B
}

export function useEtcd(opts: UseEtcdOptions = {}): EtcdFixture {
  let instance: EtcdInstance | undefined
  const open: Backend[] = []
  const closeAll = async (): Promise<void> => {
    for (const b of open.splice(0)) await b.close()
  }

  beforeAll(async () => {
    instance = await startEtcd({tls: opts.tls})
  })
  afterEach(async () => {
    await closeAll()
    if (opts.wipe !== false) await instance?.etcdctl(['del', '--prefix', '/calico/'])
  })
  afterAll(async () => {
    await closeAll()
    await instance?.stop()
  })

  const running = (): EtcdInstance => {
    if (!instance) throw new Error('useEtcd: etcd only runs inside its describe block (after its beforeAll)')
    return instance
  }
  const fixture: EtcdFixture = {
    get endpoints() {
      return running().endpoints
    },
    get dataDir() {
      return running().dataDir
    },
    get tls() {
      return running().tls
    },
    stop: () => running().stop(),
    halt: () => running().halt(),
    restart: () => running().restart(),
    etcdctl: (args, input) => running().etcdctl(args, input),
    async connect(backendOpts) {
      return fixture.track(await EtcdBackend.connect({datastoreType: 'etcdv3', etcdEndpoints: fixture.endpoints}, backendOpts))
    },
    async open(config = {}, openOpts) {
      return fixture.track((await openBackend({datastoreType: 'etcdv3', etcdEndpoints: fixture.endpoints, ...config}, openOpts)).backend)
    },
    track(backend) {
      open.push(backend)
      return backend
    },
  }
  return fixture
}
