// Runs the CNI plugins from the TypeScript sources (`node --import test/datastore/helpers/register.mjs
// test/lab/plugin-entry.ts calico|calico-ipam`): the lab's stand-in for bin/calico when dist/ may be stale.
// `warm` loads every module an ADD can need and exits, so the transpile cache is filled once, not by each
// of many plugins started together.
import {main, type PluginKind} from '../../src/cni/main.js'

const kind = process.argv[2]
if (kind === 'warm') {
  await import('../../src/datastore/etcd/backend.js')
  await import('../../src/datastore/embedded/backend.js')
  await import('../../src/datastore/kubernetes/backend.js')
  process.exit(0)
}
if (kind !== 'calico' && kind !== 'calico-ipam') {
  process.stderr.write('usage: plugin-entry.ts calico|calico-ipam|warm\n')
  process.exit(2)
}
await main(kind as PluginKind)
