// Child process for cross-process tests of the embedded store.
//   increment <dir> <key> <times>: CAS-increments an IPAMHandle counter, retrying on conflict
//   create-pool <dir> <name>:      creates an IPPool
//   loaded-modules <dir> <type> [import-etcd3]: opens a backend of <type> via the factory (etcd: no request is
//                                  made), imports etcd3 itself if asked (a positive control), prints whether
//                                  etcd3/grpc got loaded
import {createRequire} from 'node:module'
import {ResourceUpdateConflictError} from '../../../src/api/errors.js'
import {openBackend} from '../../../src/datastore/factory.js'

const [cmd, dir, ...args] = process.argv.slice(2)
const type = cmd === 'loaded-modules' && args[0] === 'etcdv3' ? 'etcdv3' : 'embedded'
const {backend} = await openBackend({datastoreType: type, datastorePath: dir, etcdEndpoints: 'http://127.0.0.1:1'})

switch (cmd) {
  case 'increment': {
    const key = {kind: 'IPAMHandle', name: args[0]}
    let conflicts = 0
    for (let i = 0; i < Number(args[1]); i++) {
      for (;;) {
        const cur = await backend.get<{count: number}>(key)
        try {
          await backend.update(key, {...cur.value, count: cur.value.count + 1}, cur.revision)
          break
        } catch (err) {
          if (!(err instanceof ResourceUpdateConflictError)) throw err
          conflicts++
        }
      }
    }
    process.stdout.write(JSON.stringify({conflicts}))
    break
  }
  case 'create-pool':
    await backend.create({kind: 'IPPool', name: args[0]}, {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: args[0]}, spec: {cidr: '10.0.0.0/16'}})
    break
  case 'loaded-modules': {
    if (args[1] === 'import-etcd3') await import('etcd3')
    const cache = Object.keys(createRequire(import.meta.url).cache)
    process.stdout.write(JSON.stringify({etcd3: cache.some((p) => p.includes('/node_modules/etcd3/')), grpc: cache.some((p) => p.includes('/node_modules/@grpc/'))}))
    break
  }
  default:
    throw new Error(`unknown command ${cmd}`)
}
await backend.close()
