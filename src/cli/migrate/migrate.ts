// calicoctl datastore migrate: lock/unlock (ClusterInformation spec.datastoreReady), export of an
// etcd datastore (v3 YAML lists, cluster information, IPAM rows) and import into the Kubernetes
// datastore (commands/datastore/migrate/*.go). Messages are calicoctl's; progress goes to an optional
// listener (progress.ts shows it on a terminal).

import {loadAll} from 'js-yaml'
import {ResourceDoesNotExistError} from '../../api/errors.js'
import type {Resource, ResourceList} from '../../api/resource.js'
import type {Backend, KVPair} from '../../datastore/backend.js'
import type {ResourceClient} from '../../datastore/client.js'
import {keyToPath, pathToKey} from '../../datastore/keys.js'
import {formatResources} from '../output/index.js'
import type {ProgressListener} from './progress.js'

export const NOT_LOCKED = 'datastore is not locked. Run the `calicoctl datastore migrate lock` command in order to begin migration'

/** What `export` writes, in this order (export.go allV3Resources). WorkloadEndpoints and Profiles are not exported. */
export const EXPORT_KINDS = [
  'IPPool', 'BGPPeer', 'Tier', 'GlobalNetworkPolicy', 'StagedGlobalNetworkPolicy', 'GlobalNetworkSet', 'HostEndpoint',
  'KubeControllersConfiguration', 'NetworkPolicy', 'StagedNetworkPolicy', 'StagedKubernetesNetworkPolicy', 'NetworkSet',
  'Node', 'BGPConfiguration', 'FelixConfiguration', 'IPReservation', 'BGPFilter',
] as const

/** Sets spec.datastoreReady on ClusterInformation `default` (false = locked). */
export async function setDatastoreReady(client: ResourceClient, ready: boolean): Promise<string> {
  const verb = ready ? 'unlocking' : 'locking'
  let info: Resource
  try {
    await client.ensureInitialized()
    info = await client.get('ClusterInformation', 'default')
  } catch (err) {
    throw new Error(`error retrieving ClusterInformation for ${verb}: ${(err as Error).message}`)
  }
  try {
    await client.update({...info, spec: {...info.spec, datastoreReady: ready}})
  } catch (err) {
    throw new Error(`error updating ClusterInformation for ${verb}: ${(err as Error).message}`)
  }
  return ready ? 'Datastore unlocked.\n' : 'Datastore locked.\n'
}

/** common.CheckLocked: locked means datastoreReady is explicitly false. */
export async function isLocked(client: ResourceClient): Promise<boolean> {
  try {
    const info = await client.get('ClusterInformation', 'default')
    return (info.spec as {datastoreReady?: boolean} | undefined)?.datastoreReady === false
  } catch (err) {
    if (err instanceof ResourceDoesNotExistError) return false
    throw err
  }
}

function cleanMetadata(r: Resource): Resource {
  const metadata = {...r.metadata}
  for (const f of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) delete metadata[f]
  return {...r, metadata}
}

/** The Kubernetes node name of an etcd Node (its k8s orchestrator reference). */
function k8sNodeName(node: Resource): string | undefined {
  const refs = (node.spec as {orchRefs?: {orchestrator?: string; nodeName?: string}[]} | undefined)?.orchRefs ?? []
  return refs.find((r) => r.orchestrator === 'k8s')?.nodeName
}

interface IPAMRow {
  Key: string
  Value: unknown
  TTL: number
}

const ignore: ProgressListener = () => undefined

/** Export of an etcd datastore: the text calicoctl prints on stdout. */
export async function exportDatastore(client: ResourceClient, progress: ProgressListener = ignore): Promise<string> {
  const backend = client.backend
  if (backend.type !== 'etcdv3') {
    throw new Error(`invalid datastore type: ${backend.type} to export from for datastore migration. Datastore type must be etcdv3`)
  }
  if (!(await isLocked(client))) throw new Error(NOT_LOCKED)
  let out = ''
  // etcd node name → Kubernetes node name, applied to per-node configuration and IPAM rows.
  const nodeMap = new Map<string, string>()
  progress({type: 'stage', stage: 'export', total: EXPORT_KINDS.length})
  for (const kind of EXPORT_KINDS) {
    progress({type: 'working', kind})
    const list = await client.list(kind)
    let items = list.items.map(cleanMetadata)
    if (kind === 'NetworkPolicy') items = items.filter((p) => !(p.metadata.name ?? '').startsWith('knp.default.'))
    if (kind === 'Node') {
      items = items.map((n) => {
        const name = k8sNodeName(n)
        if (!name) throw new Error(`node ${n.metadata.name} missing a 'k8s' orchestrator reference. Unable to export data unless every node has a 'k8s' orchestrator reference`)
        nodeMap.set(n.metadata.name ?? '', name)
        return {...n, metadata: {...n.metadata, name}}
      })
    }
    if (kind === 'FelixConfiguration' || kind === 'BGPConfiguration') {
      items = items.map((c) => {
        const name = c.metadata.name ?? ''
        const mapped = name.startsWith('node.') ? nodeMap.get(name.slice(5)) : undefined
        return mapped ? {...c, metadata: {...c.metadata, name: `node.${mapped}`}} : c
      })
    }
    const shaped: ResourceList = {...list, items}
    out += await formatResources([shaped], 'yaml')
    out += '---\n'
    progress({type: 'step', kind, count: items.length})
  }
  out += '===\n'
  const info = cleanMetadata(await client.get('ClusterInformation', 'default'))
  out += `${JSON.stringify(info, null, 2)}\n`
  out += '===\n'
  out += `${JSON.stringify(await exportIPAM(backend, nodeMap, progress), null, 2)}\n`
  return out
}

const TUNNEL_HANDLE_PREFIXES = ['ipip-tunnel-addr-', 'vxlan-tunnel-addr-', 'wireguard-tunnel-addr-']

async function exportIPAM(backend: Backend, nodeMap: Map<string, string>, progress: ProgressListener): Promise<Record<string, unknown>> {
  const row = (kv: KVPair): IPAMRow => ({Key: keyToPath(kv.key), Value: kv.value, TTL: 0})
  const renameHost = (host: string) => nodeMap.get(host) ?? host
  const list = async <V>(kind: string): Promise<KVPair<V>[]> => {
    progress({type: 'working', kind})
    const {items} = await backend.list<V>({kind})
    progress({type: 'step', kind, count: items.length})
    return items
  }
  progress({type: 'stage', stage: 'export-ipam', total: 4})
  const blocks = (await list<Record<string, unknown>>('IPAMBlock')).map((kv) => {
    const block = structuredClone(kv.value)
    const affinity = typeof block.affinity === 'string' && block.affinity.startsWith('host:') ? block.affinity.slice(5) : undefined
    if (affinity) block.affinity = `host:${renameHost(affinity)}`
    for (const attr of (block.attributes as {handle_id?: string; secondary?: Record<string, string>; alternateOwnerAttrs?: Record<string, string>}[] | undefined) ?? []) {
      if (attr.secondary?.node) attr.secondary.node = renameHost(attr.secondary.node)
      if (attr.alternateOwnerAttrs?.node) attr.alternateOwnerAttrs.node = renameHost(attr.alternateOwnerAttrs.node)
      for (const prefix of TUNNEL_HANDLE_PREFIXES) {
        if (attr.handle_id?.startsWith(prefix)) attr.handle_id = prefix + renameHost(attr.handle_id.slice(prefix.length))
      }
    }
    return row({...kv, value: block})
  })
  const affinities = (await list('BlockAffinity')).map((kv) => {
    const [type, host, ...cidr] = kv.key.name.split(':')
    return row({...kv, key: {...kv.key, name: [type, type === 'host' ? renameHost(host) : host, ...cidr].join(':')}})
  })
  const handles = (await list('IPAMHandle')).map(row)
  const out: Record<string, unknown> = {}
  if (affinities.length) out.block_affinities = affinities
  if (blocks.length) out.blocks = blocks
  if (handles.length) out.handles = handles
  progress({type: 'working', kind: 'IPAMConfig'})
  try {
    out.config = row(await backend.get({kind: 'IPAMConfig', name: 'default'}))
  } catch (err) {
    if (!(err instanceof ResourceDoesNotExistError)) throw err
  }
  progress({type: 'step', kind: 'IPAMConfig', count: out.config ? 1 : 0})
  return out
}

/** calicoctl refuses an import into anything but the Kubernetes datastore, before it reads the migration file. */
export function checkImportTarget(client: ResourceClient): void {
  const type = client.backend.type
  if (type !== 'kubernetes') {
    throw new Error(`invalid datastore type: ${type} to import to for datastore migration. Datastore type must be kubernetes`)
  }
}

/** Import into the Kubernetes datastore. `print` receives stdout text as it is produced. */
export async function importDatastore(client: ResourceClient, text: string, filename: string, print: (s: string) => void, progress: ProgressListener = ignore): Promise<void> {
  checkImportTarget(client)
  const backend = client.backend
  const {KubernetesBackend} = await import('../../datastore/kubernetes/backend.js')
  if (!(backend instanceof KubernetesBackend)) throw new Error('the Kubernetes datastore client cannot install CRDs')
  const prepare = async (what: string, work: () => Promise<void>): Promise<void> => {
    progress({type: 'working', kind: what})
    await work()
    progress({type: 'step', kind: what, count: 0})
  }
  progress({type: 'stage', stage: 'prepare', total: 4})
  await prepare('installing CRDs', async () => {
    try {
      await backend.installCrds()
    } catch (err) {
      throw new Error(`error applying the CRDs necessary to begin datastore import: ${(err as Error).message}`)
    }
  })
  await prepare('looking for Calico resources', async () => {
    const existing = await findCalicoResources(client)
    if (existing) throw new Error(`datastore already has Calico resources: ${existing}. Clear out all Calico resources by deleting all Calico CRDs`)
  })
  await prepare('initializing', async () => {
    try {
      await client.ensureInitialized()
    } catch (err) {
      throw new Error(`unable to initialize cluster information for the datastore migration: ${(err as Error).message}`)
    }
  })
  await prepare('locking', async () => {
    if (await isLocked(client)) return
    try {
      await setDatastoreReady(client, false)
    } catch (err) {
      throw new Error(`error while attempting to lock the datastore for import: ${(err as Error).message}`)
    }
  })
  const parts = text.split('===\n')
  if (parts.length !== 3) throw new Error(`imported file: ${filename} is improperly formatted. Try recreating with 'calicoctl export'`)
  const [v3, clusterInfo, ipam] = parts

  await importV3(client, v3, print, progress)
  try {
    const exported = JSON.parse(clusterInfo) as Resource
    const current = await client.get('ClusterInformation', 'default')
    const spec = exported.spec as {clusterGUID?: string; calicoVersion?: string} | undefined
    await client.update({...current, spec: {...current.spec, clusterGUID: spec?.clusterGUID, calicoVersion: spec?.calicoVersion}})
  } catch (err) {
    throw new Error(`failed to update cluster information: ${(err as Error).message}`)
  }

  print('Importing IPAM resources\n')
  let rows: IPAMRow[]
  try {
    const parsed = JSON.parse(ipam) as {block_affinities?: IPAMRow[]; blocks?: IPAMRow[]; handles?: IPAMRow[]; config?: IPAMRow}
    rows = [...(parsed.block_affinities ?? []), ...(parsed.blocks ?? []), ...(parsed.handles ?? []), ...(parsed.config ? [parsed.config] : [])]
  } catch (err) {
    throw new Error(`failed to read IPAM resources: ${(err as Error).message}`)
  }
  if (rows.length === 0) throw new Error('no IPAM resources specified in file')
  const errors: string[] = []
  let handled = 0
  progress({type: 'stage', stage: 'import-ipam', total: rows.length})
  for (const r of rows) {
    const key = pathToKey(r.Key)
    const kind = key?.kind ?? 'IPAM'
    try {
      if (!key) throw new Error(`unrecognised IPAM key ${r.Key}`)
      await backend.apply(key, r.Value)
      handled++
      progress({type: 'step', kind, count: 1})
    } catch (err) {
      errors.push((err as Error).message)
      progress({type: 'step', kind, count: 1, outcome: 'failed'})
      break
    }
  }
  if (handled === 0) throw new Error(`failed to import any IPAM resources: [${errors.join(' ')}]`)
  if (errors.length === 0) print(`Successfully applied ${handled} IPAM resource(s)\n`)
  else {
    print(`Partial success: applied the first ${handled} out of ${rows.length} resources:\n`)
    throw new Error(`hit error(s): [${errors.join(' ')}]`)
  }
  print('Datastore information successfully imported. Please refer to the datastore migration documentation for next steps.\n')
}

async function importV3(client: ResourceClient, text: string, print: (s: string) => void, progress: ProgressListener): Promise<void> {
  const resources: Resource[] = []
  for (const doc of loadAll(text)) {
    if (!doc || typeof doc !== 'object') continue
    const d = doc as Resource & {items?: Resource[]}
    if (Array.isArray(d.items)) resources.push(...d.items)
    else if (d.kind) resources.push(d)
  }
  let handled = 0
  const errors: string[] = []
  progress({type: 'stage', stage: 'import', total: resources.length})
  for (const r of resources) {
    try {
      await client.apply(r)
      handled++
      progress({type: 'step', kind: r.kind, count: 1})
    } catch (err) {
      if (r.kind === 'Node' && err instanceof ResourceDoesNotExistError) {
        print(`[WARNING] Attempted to import node ${err.identifier} from etcd that references a nonexistent Kubernetes node. Skipping that node. Non-Kubernetes nodes are not supported in the Kubernetes datastore and will be skipped.`)
        progress({type: 'step', kind: r.kind, count: 1, outcome: 'skipped'})
        continue
      }
      errors.push((err as Error).message)
      progress({type: 'step', kind: r.kind, count: 1, outcome: 'failed'})
    }
  }
  if (resources.length > 0 && handled === 0 && errors.length > 0) throw new Error(`failed to import v3 resources: failed to apply any resources: [${errors.join(' ')}]`)
  print(`Successfully applied ${handled} resource(s)\n`)
  if (errors.length > 0) throw new Error(`failed to import v3 resources: hit error(s): [${errors.join(' ')}]`)
}

/** checkCalicoResourcesNotExist: Kubernetes policies and the built-in tiers do not count. */
async function findCalicoResources(client: ResourceClient): Promise<string | undefined> {
  const builtInTiers = new Set(['default', 'kube-admin', 'kube-baseline'])
  for (const kind of EXPORT_KINDS) {
    if (kind === 'Node') continue
    const items = (await client.list(kind)).items.filter((r) => {
      if (kind === 'Tier') return !builtInTiers.has(r.metadata.name ?? '')
      if (kind === 'NetworkPolicy') return !(r.metadata.name ?? '').startsWith('knp.default.')
      return true
    })
    if (items.length > 0) return `found existing Calico ${kind} resource`
  }
  for (const kind of ['IPAMBlock', 'BlockAffinity', 'IPAMHandle']) {
    if ((await client.backend.list({kind})).items.length > 0) return 'found existing IPAM resources'
  }
  return undefined
}
