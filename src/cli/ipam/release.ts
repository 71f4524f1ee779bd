// `calicoctl ipam release` (commands/ipam/release.go): releasing one address, and releasing what `ipam check`
// reports found leaked, with calicoctl's safety checks (same cluster, current report, locked datastore).
import {ResourceDoesNotExistError, ResourceUpdateConflictError} from '../../api/errors.js'
import {isObject} from '../../api/json.js'
import {compareAddressText} from '../../api/net.js'
import type {ResourceClient} from '../../datastore/client.js'
import {nodeTunnelIPs, workloadIPs} from '../../ipam/index.js'
import type {IPAMClient, ReleaseOptions} from '../../ipam/index.js'
import type {CheckReport, ReportAllocation} from './check.js'
import {clusterFacts} from './common.js'

/** A refusal of release; the command ends with it as its error. */
export class ReleaseError extends Error {}

/** Reads a report written by `ipam check -o`; only the fields release relies on are checked. */
export function parseReport(text: string): CheckReport {
  const raw: unknown = JSON.parse(text)
  if (!isObject(raw)) throw new ReleaseError('the report is not a JSON object')
  const r = raw
  const str = (v: unknown): string => (typeof v === 'string' ? v : '')
  const allocations: Record<string, ReportAllocation[]> = {}
  for (const [ip, list] of Object.entries(isObject(r.allocations) ? r.allocations : {})) {
    if (!Array.isArray(list) || !list.every((a) => isObject(a) && typeof a.ip === 'string')) {
      throw new ReleaseError(`the report's allocations of ${ip} are malformed`)
    }
    allocations[ip] = list as ReportAllocation[]
  }
  const report: CheckReport = {
    version: str(r.version),
    clusterGUID: str(r.clusterGUID),
    datastoreLocked: r.datastoreLocked === true,
    clusterInformationRevision: str(r.clusterInformationRevision),
    clusterType: str(r.clusterType),
    allocations,
  }
  if (Array.isArray(r.leakedHandles)) {
    report.leakedHandles = r.leakedHandles.filter(isObject).map((h) => ({
      ID: str(h.ID),
      UID: typeof h.UID === 'string' ? h.UID : null,
      Revision: str(h.Revision),
    }))
  }
  return report
}

export interface LeakedHandle {
  id: string
  uid: string | null
  revision: string
}

/**
 * What every report agrees is leaked: addresses not in use nor cooling down in all reports (with the last
 * report's handle and sequence number), and handles leaked at the same revision in all reports.
 */
export function mergeReports(reports: readonly CheckReport[]): {ips: ReleaseOptions[]; handles: LeakedHandle[]} {
  let ips: Map<string, ReleaseOptions> | undefined
  let handles: Map<string, LeakedHandle> | undefined
  for (const report of reports) {
    const nextIPs = new Map<string, ReleaseOptions>()
    for (const allocs of Object.values(report.allocations)) {
      for (const a of allocs) {
        if (a.inUse || a.coolingDown) continue
        if (ips && !ips.has(a.ip)) continue
        const opt: ReleaseOptions = {address: a.ip}
        if (a.handle) opt.handle = a.handle
        if (typeof a.sequenceNumber === 'number') opt.sequenceNumber = a.sequenceNumber
        nextIPs.set(a.ip, opt)
      }
    }
    ips = nextIPs
    const nextHandles = new Map<string, LeakedHandle>()
    for (const h of report.leakedHandles ?? []) {
      const prev = handles?.get(h.ID)
      if (handles === undefined || (prev !== undefined && prev.revision === h.Revision)) {
        nextHandles.set(h.ID, {id: h.ID, uid: h.UID ?? null, revision: h.Revision})
      }
    }
    handles = nextHandles
  }
  return {
    ips: [...(ips?.values() ?? [])].sort((a, b) => compareAddressText(a.address, b.address)),
    handles: [...(handles?.values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  }
}

export interface ReleaseFromReportsArgs {
  client: ResourceClient
  ipam: IPAMClient
  force: boolean
  /** File name and contents of each report, in command-line order. */
  reports: readonly {file: string; text: string}[]
  version: string
  /** Receives stdout text as it is produced (the handle progress is a line of dots). */
  write: (text: string) => void
}

/** Deletes a leaked handle unless it changed since the report; ResourceUpdateConflictError when it did. */
async function deleteHandle(ipam: IPAMClient, h: LeakedHandle): Promise<void> {
  const kv = await ipam.store.getHandle(h.id)
  // Backends other than Kubernetes have no UIDs; a report UID can only match a Kubernetes object.
  if (kv.revision !== h.revision || h.uid !== null) throw new ResourceUpdateConflictError(h.id)
  await ipam.store.deleteHandle(kv)
}

export async function releaseFromReports(args: ReleaseFromReportsArgs): Promise<void> {
  const {ipam, write} = args
  const cluster = await clusterFacts(args.client)
  const reports: CheckReport[] = []
  let foundCurrent = false
  for (const {file, text} of args.reports) {
    const r = parseReport(text)
    // Not overridable: releasing another cluster's leaks would free addresses in use here.
    if (r.clusterGUID !== cluster.guid) {
      throw new ReleaseError(`cluster does not match the provided report (${file}): mismatched cluster GUID. Refusing to release`)
    }
    if (r.version !== args.version) {
      if (!args.force) {
        throw new ReleaseError(`the provided report (${file}) was produced using a different version (${r.version}) of calicoctl. Refusing to release`)
      }
      write('WARNING: Report was produced using a different version of calicoctl. Ignoring due to --force option\n')
    }
    if (r.clusterInformationRevision === cluster.revision) foundCurrent = true
    reports.push(r)
  }
  if (!foundCurrent) {
    throw new ReleaseError(
      'the provided reports are all stale - at least one should be up-to-date. Please generate a new report while the data store is locked and try again',
    )
  }
  if (!cluster.locked) {
    if (!args.force) throw new ReleaseError('data store is not locked. Either lock the data store, or re-run with --force')
    write('WARNING: Data store is not locked. Ignoring due to --force option\n')
  }

  const {ips, handles} = mergeReports(reports)
  if (ips.length > 0) {
    write(`Releasing ${ips.length} old IPs...\n`)
    try {
      const {unallocated} = await ipam.releaseIPs(ips)
      write(`Released ${ips.length - unallocated.length} IPs successfully\n`)
      if (unallocated.length > 0) write(`${unallocated.length} addresses marked as leaked in the report had already been cleaned up.\n`)
    } catch (err) {
      write(
        `An error occurred while releasing some IPs: ${(err as Error).message}.  Problems are often caused by an out-of-date IPAM report.  Try regenerating the IPAM report and retry.\n`,
      )
    }
  } else {
    write("Report didn't contain any leaked IPs to clean up.\n")
  }

  if (handles.length > 0) {
    write(`Deleting ${handles.length} handles...\n`)
    write("Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.\n")
    let released = 0
    let skipped = 0
    let errors = 0
    for (const h of handles) {
      try {
        await deleteHandle(ipam, h)
        released++
        write('.')
      } catch (err) {
        if (err instanceof ResourceDoesNotExistError || err instanceof ResourceUpdateConflictError) {
          skipped++
          write('x')
        } else {
          errors++
          write(`\nDeleting handle ${h.id} failed: ${(err as Error).message}.\n`)
        }
      }
    }
    write(`\nReleased ${released} handles; ${skipped} skipped; ${errors} errors.\n`)
  } else {
    write("Report didn't contain any handles to clean up.\n")
  }
}

/** Who uses an address: Nodes (tunnel addresses) and WorkloadEndpoints, by calicoctl's friendly names. */
export async function addressUsers(client: ResourceClient, ip: string): Promise<string[]> {
  const users: string[] = []
  for (const n of (await client.list('Node')).items) {
    if (nodeTunnelIPs(n).includes(ip)) users.push(`Node(${n.metadata.name ?? ''})`)
  }
  for (const w of (await client.list('WorkloadEndpoint')).items) {
    if (workloadIPs(w).includes(ip)) users.push(`Workload(${w.metadata.namespace ?? ''}/${w.metadata.name ?? ''})`)
  }
  return users
}

/** Releases one address: calicoctl's messages for success, an unassigned address and a library error. */
export async function releaseIP(ipam: IPAMClient, ip: string): Promise<string> {
  let unallocated: string[]
  try {
    ;({unallocated} = await ipam.releaseIPs([{address: ip}]))
  } catch (err) {
    throw new ReleaseError(`error: ${(err as Error).message}`)
  }
  if (unallocated.length > 0) throw new ReleaseError(`IP address ${ip} is not assigned`)
  return `Successfully released IP address ${ip}\n`
}
