// What `calicoctl ipam show` prints (commands/ipam/show.go): pool/block utilization, one address, borrowed
// addresses and the IPAM configuration. Pure: callers fetch the data through src/ipam.
import type {AssignmentAttributes, BorrowedIP, IPAMConfig, PoolUtilization} from '../../ipam/index.js'
import {formatCountG, formatShare} from './numbers.js'
import {renderTable} from './table.js'

const UTILIZATION_HEADER = ['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS RESERVED', 'IPS FREE'] as const

function usageRow(grouping: string, cidr: string, capacity: number | bigint, inUse: number | bigint, reserved: number | bigint, free: number | bigint): string[] {
  return [grouping, cidr, formatCountG(capacity), formatShare(inUse, capacity), formatShare(reserved, capacity), formatShare(free, capacity)]
}

/** Whether a utilization entry is a real pool (the orphaned-blocks entry has a /0 CIDR and no pool row). */
function isRealPool(p: PoolUtilization): boolean {
  const slash = p.cidr.lastIndexOf('/')
  return slash >= 0 && Number(p.cidr.slice(slash + 1)) > 0
}

/** `ipam show` / `ipam show --show-blocks`: a pool row, then (with blocks) one row per block of the pool. */
export function formatUtilization(pools: readonly PoolUtilization[], showBlocks: boolean): string {
  const rows: string[][] = []
  for (const p of pools) {
    if (isRealPool(p)) rows.push(usageRow('IP Pool', p.cidr, p.capacity, p.inUse, p.reserved, p.available))
    if (showBlocks) {
      for (const b of p.blocks) rows.push(usageRow('Block', b.cidr, b.capacity, b.inUse, b.reserved, b.available))
    }
  }
  return renderTable({header: UTILIZATION_HEADER, rows, align: ['left', 'left', 'right', 'right', 'right', 'right']})
}

function ownerAttrs(title: string, attrs: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(attrs ?? {}).sort()
  if (keys.length === 0) return ''
  return `${title}:\n${keys.map((k) => `  ${k}: ${(attrs ?? {})[k]}\n`).join('')}`
}

/** `ipam show --ip`: undefined attributes mean the address is not assigned. */
export function formatIPDetails(ip: string, assignment: AssignmentAttributes | undefined): string {
  if (!assignment) return `${ip} is not assigned\n`
  let out = `IP ${ip} is in use\n`
  out += assignment.handleID !== undefined ? `Handle ID: ${assignment.handleID}\n` : 'Handle ID: <none>\n'
  out += ownerAttrs('Active Owner Attributes', assignment.attrs) || 'No Active Owner attributes defined\n'
  out += ownerAttrs('Alternate Owner Attributes', assignment.alternateOwnerAttrs)
  return out
}

/** `ipam show --show-borrowed`, with the note about allocations that name no node. */
export function formatBorrowed(borrowed: readonly BorrowedIP[], unclassified: number): string {
  const rows = borrowed.map((b) => [b.ip, b.borrowingNode, b.block, b.blockOwner, b.allocationType, b.allocatedTo])
  let out = renderTable({header: ['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'], rows})
  if (unclassified !== 0) {
    out += `\nNote: found ${unclassified} IP allocations without an explicit node association. Unable to determine if they are borrowed.\n`
  }
  return out
}

/**
 * `ipam show --show-configuration`: the fields of Go's ipam.IPAMConfig in declaration order with `%#v` values.
 * Go prints the KubeVirt setting's pointer address (a quirk); the value it points at is printed instead.
 */
export function formatConfiguration(config: IPAMConfig): string {
  const persistence = config.kubeVirtVMAddressPersistence
  const rows = [
    ['StrictAffinity', String(config.strictAffinity)],
    ['AutoAllocateBlocks', String(config.autoAllocateBlocks)],
    ['MaxBlocksPerHost', String(config.maxBlocksPerHost)],
    ['KubeVirtVMAddressPersistence', persistence === undefined ? '(*ipam.VMAddressPersistence)(nil)' : JSON.stringify(persistence)],
    ['IPCooldownSeconds', String(config.ipCooldownSeconds)],
  ]
  return renderTable({header: ['PROPERTY', 'VALUE'], rows})
}
