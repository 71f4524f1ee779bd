// Cold start of calicoctl against bare Node.js, measured in the same run (issue: target at most 3x `node -e 0`).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {measure, rowWithCpu} from './lib.js'

const times = Number(process.env.BENCH_RUNS ?? 20)
const calicoctl = resolve(import.meta.dirname, '../../bin/calicoctl')
const store = mkdtempSync(join(tmpdir(), 'calico-bench-'))
const env = {...process.env, DATASTORE_PATH: store, NO_COLOR: '1'}
try {
  // Create the store once so that get measures a warm, existing datastore.
  measure([calicoctl, 'get', 'ippools'], 1, {env})
  const node = measure([process.execPath, '-e', '0'], times, {env})
  const version = measure([calicoctl, 'version', '--client'], times, {env})
  const get = measure([calicoctl, 'get', 'ippools'], times, {env})
  console.log(`cold start, median of ${times} runs`)
  console.log(rowWithCpu('node -e 0', node, node))
  console.log(rowWithCpu('calicoctl version --client', version, node))
  console.log(rowWithCpu('calicoctl get ippools (embedded)', get, node))
} finally {
  rmSync(store, {recursive: true, force: true})
}
