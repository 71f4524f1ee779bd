// Opens the configured datastore. Each backend module is imported only when chosen, so commands that
// need no datastore (or only the embedded one) never load etcd3/grpc.

import {DatastoreError} from '../api/errors.js'
import type {Backend} from './backend.js'
import type {DatastoreConfig} from './config.js'

export interface OpenOptions {
  /** Overrides the default embedded store directory when the config names none (tests). */
  defaultDatastorePath?: string
  /** etcd: connection establishment timeout (ms). */
  etcdDialTimeoutMs?: number
}

export interface OpenedBackend {
  backend: Backend
  /** Embedded only: the database file, when this call created it (the CLI mentions it once, on stderr). */
  created?: string
}

export async function openBackend(config: DatastoreConfig, opts: OpenOptions = {}): Promise<OpenedBackend> {
  switch (config.datastoreType) {
    case 'embedded': {
      const [{EmbeddedBackend}, {defaultDatastoreDir}] = await Promise.all([
        import('./embedded/backend.js'),
        import('./embedded/location.js'),
      ])
      const dir = config.datastorePath || opts.defaultDatastorePath || defaultDatastoreDir()
      const {backend, created} = EmbeddedBackend.open({dir})
      return created ? {backend, created: backend.file} : {backend}
    }
    case 'etcdv3': {
      const {EtcdBackend} = await import('./etcd/backend.js')
      return {backend: await EtcdBackend.connect(config, {dialTimeoutMs: opts.etcdDialTimeoutMs})}
    }
    case 'kubernetes': {
      const {KubernetesBackend} = await import('./kubernetes/backend.js')
      return {backend: await KubernetesBackend.connect(config)}
    }
    default: {
      const unknown: never = config.datastoreType
      throw new DatastoreError(`unknown datastore type "${String(unknown)}"`)
    }
  }
}
