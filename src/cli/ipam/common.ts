// What every `calicoctl ipam` subcommand shares: the version check and clients, address arguments, and the
// ClusterInformation facts (GUID, revision, lock) that check, release and split consult.
import type {Resource} from '../../api/resource.js'
import type {ResourceClient} from '../../datastore/client.js'
import {IPAMClient} from '../../ipam/index.js'
import {formatIP, parseIP} from '../../ipam/net.js'
import {StdoutExitError, type DatastoreSession} from '../resourcemgr/session.js'

export interface IPAMSession {
  client: ResourceClient
  ipam: IPAMClient
}

/** As calicoctl: the client/cluster version check first, then the clients. */
export async function openIPAM(session: DatastoreSession): Promise<IPAMSession> {
  await session.checkVersion()
  const client = await session.client()
  return {client, ipam: new IPAMClient(client.backend)}
}

/**
 * argutils.ValidateIP: the canonical form of an address argument. calicoctl prints the refusal on stdout and
 * exits 1.
 */
export function validateIPArg(text: string): string {
  const ip = parseIP(text)
  if (!ip) throw new StdoutExitError(`Error executing command: invalid IP address specified: ${text}`)
  return formatIP(ip)
}

export interface ClusterFacts {
  guid: string
  clusterType: string
  /** ClusterInformation's resourceVersion: a report made at this revision is current. */
  revision: string
  /** `calicoctl datastore migrate lock` sets datastoreReady to false. */
  locked: boolean
}

export async function clusterFacts(client: ResourceClient): Promise<ClusterFacts> {
  const info: Resource = await client.get('ClusterInformation', 'default')
  const spec = (info.spec ?? {}) as {clusterGUID?: unknown; clusterType?: unknown; datastoreReady?: unknown}
  return {
    guid: typeof spec.clusterGUID === 'string' ? spec.clusterGUID : '',
    clusterType: typeof spec.clusterType === 'string' ? spec.clusterType : '',
    revision: info.metadata.resourceVersion ?? '',
    locked: spec.datastoreReady === false,
  }
}
