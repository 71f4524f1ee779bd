// `calicoctl get -o yaml|json` of a list on etcd writes each page as it is read (the built binary against a real
// etcd): the bytes are those of the whole list formatted at once, and a reader that goes away stops it quietly.
import {spawn} from 'node:child_process'
import {beforeAll, describe, expect, it} from 'vitest'
import {formatResources} from '../../src/cli/output/index.js'
import {ResourceClient} from '../../src/datastore/client.js'
import {BIN, builtOrExplain, runCalicoctl} from '../e2e/harness.js'
import {etcdSkipReason} from '../helpers/etcd.js'
import {useEtcd} from '../helpers/etcd-vitest.js'

const skip = etcdSkipReason() !== undefined || builtOrExplain() !== undefined

/** More than two of the backend's 500-key pages. */
const COUNT = 1100

describe.skipIf(skip)('calicoctl get of a list on etcd, written page by page', () => {
  const etcd = useEtcd({wipe: false})
  const env = () => ({...process.env, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoints, NO_COLOR: '1'})

  beforeAll(async () => {
    const client = new ResourceClient(await etcd.connect())
    await client.ensureInitialized()
    await Promise.all(
      Array.from({length: COUNT}, (_, i) =>
        client.create({
          apiVersion: 'projectcalico.org/v3',
          kind: 'GlobalNetworkPolicy',
          metadata: {name: `p-${i}`},
          spec: {order: i, selector: `app == 'a-${i % 9}'`, ingress: [{action: 'Allow', source: {nets: [`10.${i >> 8}.${i % 256}.0/24`]}}]},
        }),
      ),
    )
    await client.close()
  })

  it.each(['yaml', 'json'])('-o %s: the same bytes as the whole list formatted at once', async (format) => {
    const client = new ResourceClient(await etcd.connect())
    const whole = await client.list('GlobalNetworkPolicy')
    expect(whole.items).toHaveLength(COUNT)
    const r = runCalicoctl(['get', 'globalnetworkpolicies', '-o', format], env())
    expect(r.stderr).toBe('')
    expect(r.exit).toBe(0)
    expect(r.stdout).toBe(await formatResources([whole], format))
  })

  it('a reader that closes early ends the command quietly with exit status 1', async () => {
    const child = spawn(process.execPath, [BIN, 'get', 'globalnetworkpolicies', '-o', 'yaml'], {env: env(), stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    // Like `| head -c 1`: read the first chunk, then go away.
    child.stdout.once('data', () => child.stdout.destroy())
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect({code, stderr}).toEqual({code: 1, stderr: ''})
  })
})
