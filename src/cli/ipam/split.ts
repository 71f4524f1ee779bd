// `calicoctl ipam split NUMBER` (commands/ipam/split.go): replaces a pool by NUMBER equal pools covering its
// CIDR. The datastore must be locked (no allocations meanwhile). The new pools overlap the old, disabled one
// until it is removed, so they are written with the client's unsafe pool operations, as Calico's UnsafeCreate and
// UnsafeDelete: no overlap check on create, no affinity release on delete.
import type {Resource} from '../../api/resource.js'
import type {ResourceClient} from '../../datastore/client.js'
import {splitCIDR} from '../../ipam/index.js'
import {atoi, atoiError} from '../strconv.js'
import {clusterFacts} from './common.js'

/** A refusal or failure of split, with calicoctl's message. */
export class SplitError extends Error {}

/** strconv.Atoi on the NUMBER argument. */
export function parseSplitNumber(arg: string): number {
  const n = atoi(arg)
  if (!n.ok) throw new SplitError(`error reading number to split IP pools into. ${arg} is not a valid number: ${atoiError(arg, n.reason)}`)
  return n.value
}

/** Names of the new pools: `split-<old>-<i>`, the old name cut so the result stays a valid name. */
export function splitPoolName(oldName: string, i: number): string {
  const name = `split-${oldName}-${i}`
  return name.length > 253 ? `split-${oldName.slice(0, 245)}-${i}` : name
}

/** The copy of `old` for one part: same labels, annotations and spec, the part's CIDR, enabled. */
export function splitPoolResource(old: Resource, name: string, cidr: string): Resource {
  const {labels, annotations} = old.metadata
  return {
    apiVersion: old.apiVersion,
    kind: 'IPPool',
    metadata: {name, ...(labels ? {labels: {...labels}} : {}), ...(annotations ? {annotations: {...annotations}} : {})},
    spec: {...structuredClone(old.spec), cidr, disabled: false},
  }
}

export interface SplitArgs {
  cidr: string
  name: string
  parts: number
}

/** Performs the split and returns calicoctl's output (whose first line has no newline, as calicoctl's). */
export async function splitPool(client: ResourceClient, args: SplitArgs): Promise<string> {
  let locked: boolean
  try {
    locked = (await clusterFacts(client)).locked
  } catch (err) {
    throw new SplitError(`error while checking if datastore was locked: error retrieving ClusterInformation: ${(err as Error).message}`)
  }
  if (!locked) {
    throw new SplitError('datastore is not locked. Run the `calicoctl datastore migrate lock` command in order split the IP pools')
  }

  let old: Resource | undefined
  if (args.name !== '') {
    try {
      old = await client.get('IPPool', args.name)
    } catch (err) {
      throw new SplitError(`unable to find IP pool with name ${args.name}: ${(err as Error).message}`)
    }
  } else {
    let pools: Resource[]
    try {
      pools = (await client.list('IPPool')).items
    } catch {
      throw new SplitError(`unable to list IP pools to find the pool specified by ${args.cidr}`)
    }
    old = pools.filter((p) => p.spec?.cidr === args.cidr).at(-1)
  }
  if (!old) throw new SplitError(`unable to find IP pool ${args.name} covering the specified CIDR ${args.cidr}`)
  const oldName = old.metadata.name ?? ''
  const oldCIDR = String(old.spec?.cidr ?? '')

  // calicoctl disables the pool before validating the split and leaves it disabled when the split is
  // refused; validating first keeps a refused split from changing anything.
  let cidrs: string[]
  try {
    cidrs = splitCIDR(oldCIDR, args.parts)
  } catch (err) {
    throw new SplitError(`error splitting the CIDR ${oldCIDR} into ${args.parts} CIDRs: ${(err as Error).message}`)
  }
  let disabled: Resource
  try {
    disabled = await client.update({...old, spec: {...old.spec, disabled: true}})
  } catch {
    throw new SplitError(`error disabling IP pool ${args.cidr}`)
  }

  const created: {name: string; cidr: string}[] = []
  for (const [i, cidr] of cidrs.entries()) {
    const name = splitPoolName(oldName, i)
    try {
      await client.unsafeCreatePool(splitPoolResource(disabled, name, cidr))
    } catch (err) {
      throw new SplitError(`error using unsafe create to make split pool with cidr ${cidr}: ${(err as Error).message}`)
    }
    created.push({name, cidr})
  }
  try {
    // The old pool's blocks now belong to the new pools, so its affinities stay.
    await client.unsafeDeletePool(oldName)
  } catch (err) {
    throw new SplitError(`error removing the IP pool that was split ${oldName}: ${(err as Error).message}`)
  }

  let out = `IP Pool ${oldName} was successfully split into ${args.parts} smaller pools.`
  for (const c of created) out += `Created ${c.name} with CIDR ${c.cidr}.\n`
  return `${out}Please refer to the documentation for final steps.`
}
