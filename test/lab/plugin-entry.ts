// Runs the CNI plugins from the TypeScript sources (`node --import test/datastore/helpers/register.mjs
// test/lab/plugin-entry.ts calico|calico-ipam`): the lab's fallback when dist/ is older than src/cni.
import {main, type PluginKind} from '../../src/cni/main.js'

const kind = process.argv[2]
if (kind !== 'calico' && kind !== 'calico-ipam') {
  process.stderr.write('usage: plugin-entry.ts calico|calico-ipam\n')
  process.exit(2)
}
await main(kind as PluginKind)
