// Writes dist/calicoctl.cjs.cache (run by `npm run build` after the bundle and the oclif manifest): loads the
// bundle the way bin/calicoctl does, runs `calicoctl get ippools` on a throw-away embedded store, and saves the
// code V8 compiled for that run. Commands share most of that path (oclif, flag parsing, config, the resource
// manager, a datastore, output); what a command needs beyond it compiles lazily as usual.
//
// Then the same for the CNI plugins (dist/cni.cjs): calico-ipam ADD and DEL of one pod on that store, in process,
// after calicoctl created a pool and the node there: the network configuration, IPAM and datastore code a pod's ADD and DEL share.
// The etcd and dataplane code particular to a node compiles lazily as usual.
//
// Then the same for the etcd client bundle (dist/etcd-client.cjs): loading it (which parses etcd's .proto files)
// and creating a client, with no connection made (etcd3 connects on the first request).
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {loadBundle, writeCodeCache} from '../dist/cli/launch.js'

const bundle = fileURLToPath(new URL('../dist/calicoctl.cjs', import.meta.url))
const cniBundle = fileURLToPath(new URL('../dist/cni.cjs', import.meta.url))
const etcdBundle = fileURLToPath(new URL('../dist/etcd-client.cjs', import.meta.url))
// The package's root as bin/calicoctl hands it to oclif.
const packageJson = fileURLToPath(new URL('../package.json', import.meta.url))
const store = mkdtempSync(join(tmpdir(), 'calicoctl-code-cache-'))
try {
  // An explicit config, so neither /etc/calico/calicoctl.cfg nor the environment can point this run elsewhere.
  const config = join(store, 'calicoctl.cfg')
  writeFileSync(
    config,
    `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: embedded\n  datastorePath: ${JSON.stringify(store)}\n`,
  )
  const loaded = loadBundle(bundle)
  await quietly(() => loaded.exports.runCalicoctl(['get', 'ippools', '--config', config], packageJson), 'calicoctl get ippools')
  const bytes = writeCodeCache(loaded, bundle)
  process.stdout.write(`wrote the code cache for dist/calicoctl.cjs (${bytes} bytes)\n`)

  const pool = join(store, 'pool.yaml')
  writeFileSync(pool, 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: warm}\nspec: {cidr: 10.255.0.0/24, blockSize: 26}\n---\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: warm}\nspec: {}\n')
  await quietly(() => loaded.exports.runCalicoctl(['create', '-f', pool, '--config', config], packageJson), 'calicoctl create')
  const cni = loadBundle(cniBundle)
  const netConf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'warm',
    type: 'calico',
    nodename: 'warm',
    datastore_type: 'embedded',
    datastore_path: store,
    ipam: {type: 'calico-ipam'},
  })
  for (const command of ['ADD', 'DEL']) {
    let reply = ''
    const env = {CNI_COMMAND: command, CNI_CONTAINERID: 'warm', CNI_NETNS: '/var/run/netns/warm', CNI_IFNAME: 'eth0', CNI_PATH: store}
    const status = await cni.exports.runPlugin('calico-ipam', {env, stdin: netConf, write: (text) => (reply += text)})
    if (status !== 0) throw new Error(`calico-ipam ${command} failed while warming the code cache: ${reply}`)
  }
  const cniBytes = writeCodeCache(cni, cniBundle)
  process.stdout.write(`wrote the code cache for dist/cni.cjs (${cniBytes} bytes)\n`)

  const etcd = loadBundle(etcdBundle)
  // A closed port on loopback: nothing is sent, only the client objects are built.
  new etcd.exports.Etcd3({hosts: 'http://127.0.0.1:9'}).close()
  const etcdBytes = writeCodeCache(etcd, etcdBundle)
  process.stdout.write(`wrote the code cache for dist/etcd-client.cjs (${etcdBytes} bytes)\n`)
} finally {
  rmSync(store, {recursive: true, force: true})
}

/** Runs a calicoctl command for its compiled code only: its output is dropped, except stderr when it fails. */
async function quietly(run, what) {
  const [stdout, stderr] = [process.stdout.write, process.stderr.write]
  let errors = ''
  process.stdout.write = () => true
  process.stderr.write = (chunk) => ((errors += String(chunk)), true)
  try {
    await run()
  } finally {
    ;[process.stdout.write, process.stderr.write] = [stdout, stderr]
  }
  if (process.exitCode) throw new Error(`${what} failed while warming the code cache: ${errors}`)
}
