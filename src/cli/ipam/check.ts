// `calicoctl ipam check` (commands/ipam/check.go): gathers blocks, pools, nodes, LoadBalancer services,
// workload endpoints and handles, runs the consistency check of src/ipam, and renders calicoctl's progress
// text and its JSON report. Gathering does I/O; rendering (renderCheck) is pure.
import {compareAddressText} from '../../api/net.js'
import type {Resource} from '../../api/resource.js'
import type {AssignIPs, KubeControllersConfigurationSpec} from '../../api/types/cluster.js'
import type {ResourceClient} from '../../datastore/client.js'
import {checkIPAM, nodeTunnelIPs, workloadIPs} from '../../ipam/index.js'
import type {AllocationBlock, CheckAllocation, CheckResult, InUseIP, IPAMClient} from '../../ipam/index.js'
import {clusterFacts, type ClusterFacts} from './common.js'

/** The parts of a Kubernetes Service the LoadBalancer check reads. */
export interface KubeService {
  namespace: string
  name: string
  type: string
  loadBalancerClass?: string
  loadBalancerIP?: string
  annotations: Readonly<Record<string, string>>
  /** status.loadBalancer.ingress[].ip */
  ingressIPs: readonly string[]
}

/** Lists every Service of the cluster. */
export type ServiceLister = () => Promise<KubeService[]>

/** The owner check.go records for addresses of the Windows-reserved handle. */
const WINDOWS_OWNER = 'Reserved for Windows'

const CALICO_LB_CLASS = 'calico'
const LB_REQUEST_ANNOTATIONS = ['projectcalico.org/ipv4pools', 'projectcalico.org/ipv6pools', 'projectcalico.org/loadBalancerIPs']

/** Whether Calico's LoadBalancer controller assigns this service's addresses (kube-controllers IsCalicoManagedLoadBalancer). */
export function isCalicoManagedLoadBalancer(svc: KubeService, assignIPs: AssignIPs | undefined): boolean {
  if (svc.type !== 'LoadBalancer') return false
  const otherClass = svc.loadBalancerClass !== undefined && svc.loadBalancerClass !== CALICO_LB_CLASS
  if (assignIPs === 'AllServices') return !otherClass
  if (assignIPs === 'RequestedServicesOnly') {
    if (svc.loadBalancerClass === CALICO_LB_CLASS) return true
    const requested = LB_REQUEST_ANNOTATIONS.some((a) => (svc.annotations[a] ?? '') !== '') || (svc.loadBalancerIP ?? '') !== ''
    return requested && !otherClass
  }
  return false
}

export interface HandleRef {
  id: string
  /** Kubernetes only; null elsewhere (the report's `UID`). */
  uid: string | null
  revision: string
}

/** Everything the check compares, as read from the datastore. */
export interface CheckData {
  cluster: ClusterFacts
  blocks: AllocationBlock[]
  /** CIDRs of enabled pools, as written in the pools. */
  activePools: string[]
  nodeIPs: InUseIP[]
  /** Undefined when no LoadBalancer controller is configured (the service check is skipped). */
  services?: {count: number; ips: InUseIP[]}
  workloadIPs: InUseIP[]
  handles: HandleRef[]
  now: Date
}

/**
 * Reads the data in calicoctl's order. `listServices` is only called when the LoadBalancer controller is
 * configured (KubeControllersConfiguration `default` must exist, as calicoctl requires).
 */
export async function gatherCheckData(client: ResourceClient, ipam: IPAMClient, listServices: ServiceLister): Promise<CheckData> {
  const cluster = await clusterFacts(client)
  const blocks = (await ipam.store.listBlocks()).map((kv) => kv.value)
  const activePools = (await client.list('IPPool')).items
    .map((p) => (p.spec ?? {}) as {cidr?: unknown; disabled?: unknown})
    .filter((s) => s.disabled !== true && typeof s.cidr === 'string')
    .map((s) => s.cidr as string)
  const nodeIPs: InUseIP[] = []
  for (const n of (await client.list('Node')).items) {
    for (const ip of nodeTunnelIPs(n)) nodeIPs.push({ip, owner: `Node(${n.metadata.name ?? ''})`})
  }
  let services: CheckData['services']
  const kcc: Resource = await client.get('KubeControllersConfiguration', 'default')
  const lb = ((kcc.spec ?? {}) as KubeControllersConfigurationSpec).controllers?.loadBalancer
  if (lb) {
    const managed = (await listServices()).filter((s) => isCalicoManagedLoadBalancer(s, lb.assignIPs))
    services = {count: managed.length, ips: managed.flatMap((s) => s.ingressIPs.filter((ip) => ip !== '').map((ip) => ({ip, owner: s.name})))}
  }
  const wepIPs: InUseIP[] = []
  for (const w of (await client.list('WorkloadEndpoint')).items) {
    for (const ip of workloadIPs(w)) wepIPs.push({ip, owner: `Workload(${w.metadata.namespace ?? ''}/${w.metadata.name ?? ''})`})
  }
  const handles = (await ipam.store.listHandles()).map((kv) => ({id: kv.key.name, uid: null, revision: kv.revision}))
  return {cluster, blocks, activePools, nodeIPs, services, workloadIPs: wepIPs, handles, now: new Date()}
}

export interface CheckOptions {
  showAllIPs: boolean
  /** Implied by showAllIPs. */
  showProblemIPs: boolean
  /** The calicoctl version written into the report. */
  version: string
}

/** check.go's CheckReport; field order and names are the JSON report's. */
export interface CheckReport {
  version: string
  clusterGUID: string
  datastoreLocked: boolean
  clusterInformationRevision: string
  clusterType: string
  allocations: Record<string, ReportAllocation[]>
  leakedHandles?: {ID: string; UID: string | null; Revision: string}[]
}

/** An allocation as the JSON report stores it: the library's view without its internal fields. */
export type ReportAllocation = Omit<CheckAllocation, 'block' | 'attrs' | 'owners'> & {
  /** null when nothing uses the address (a nil Go slice). */
  owners: string[] | null
}

export interface CheckOutcome {
  text: string
  report: CheckReport
  result: CheckResult
}

function reportAllocation(a: CheckAllocation): ReportAllocation {
  // Spread in the report's field order; Go's omitempty leaves out empty strings and false flags.
  return {
    ip: a.ip,
    ...(a.handle ? {handle: a.handle} : {}),
    ...(a.sequenceNumber !== undefined ? {sequenceNumber: a.sequenceNumber} : {}),
    ...(a.pod ? {pod: a.pod} : {}),
    ...(a.namespace ? {namespace: a.namespace} : {}),
    ...(a.node ? {node: a.node} : {}),
    ...(a.type ? {type: a.type} : {}),
    ...(a.creationTimestamp ? {creationTimestamp: a.creationTimestamp} : {}),
    inUse: a.inUse,
    ...(a.borrowed ? {borrowed: true} : {}),
    ...(a.coolingDown ? {coolingDown: true} : {}),
    owners: a.owners.length > 0 ? [...a.owners] : null,
  }
}

/** Renders calicoctl's progress text and builds the report. Map iterations that Go randomises are sorted here. */
export function renderCheck(data: CheckData, opts: CheckOptions): CheckOutcome {
  const showProblems = opts.showProblemIPs || opts.showAllIPs
  const inUse = [...data.nodeIPs, ...(data.services?.ips ?? []), ...data.workloadIPs]
  const result = checkIPAM({
    blocks: data.blocks,
    activePools: data.activePools,
    handles: data.handles.map((h) => h.id),
    inUse,
    now: data.now,
  })
  const lines: string[] = ['Checking IPAM for inconsistencies...', '']
  const say = (s: string) => lines.push(s)

  say('Loading all IPAM blocks...')
  say(`Found ${data.blocks.length} IPAM blocks.`)
  let numAllocs = 0
  const byBlock = new Map<string, CheckAllocation[]>()
  for (const allocs of result.allocations.values()) {
    for (const a of allocs) byBlock.set(a.block, [...(byBlock.get(a.block) ?? []), a])
  }
  for (const b of data.blocks) {
    say(` IPAM block ${b.cidr} affinity=${b.affinity ?? '<none>'}:`)
    for (const a of byBlock.get(b.cidr) ?? []) {
      numAllocs++
      if (!opts.showAllIPs) continue
      // check.go records a Windows-reserved address as in use while it reads the block.
      if (result.inUseIPs.get(a.ip)?.includes(WINDOWS_OWNER)) say(`  ${a.ip} belongs to ${WINDOWS_OWNER}`)
      say(`  ${a.ip} allocated; attrs ${a.attrs}`)
    }
  }
  say(`IPAM blocks record ${numAllocs} allocations.`)
  say('')

  say('Loading all IPAM pools...')
  for (const p of data.activePools) say(`  ${p}`)
  say(`Found ${data.activePools.length} active IP pools.`)
  say('')

  const belongs = (ips: readonly InUseIP[]) => {
    if (opts.showAllIPs) for (const u of ips) say(`  ${u.ip} belongs to ${u.owner}`)
  }
  say('Loading all nodes.')
  belongs(data.nodeIPs)
  say(`Found ${data.nodeIPs.length} node tunnel IPs.`)
  say('')

  say('Loading all service load balancer IPs.')
  if (data.services) {
    belongs(data.services.ips)
    say(`Found ${data.services.count} service load balancer(s).`)
  } else {
    say('No configuration for LoadBalancer kubecontroller found, skipping service check')
  }
  say('')

  say('Loading all workload endpoints.')
  belongs(data.workloadIPs)
  say(`Found ${data.workloadIPs.length} workload IPs.`)
  say(`Workloads and nodes are using ${result.inUseIPs.size} IPs.`)
  say('')

  say('Loading all handles')
  const TOP_NODES = 20
  say(`Looking for top (up to ${TOP_NODES}) nodes by allocations...`)
  const nodes = [...result.allocationsByNode.keys()].sort((a, b) => {
    const d = (result.allocationsByNode.get(b)?.length ?? 0) - (result.allocationsByNode.get(a)?.length ?? 0)
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0
  })
  const count = (n: string) => result.allocationsByNode.get(n)?.length ?? 0
  for (const n of nodes.slice(0, TOP_NODES)) say(`  ${n} has ${count(n)} allocations`)
  if (nodes.length > 0) say(`Node with most allocations has ${count(nodes[0])}; median is ${count(nodes[Math.floor(nodes.length / 2)])}`)
  say('')

  say('Scanning for IPs that are allocated but not actually in use...')
  for (const ip of result.leakedIPs) {
    if (showProblems) for (const a of result.allocations.get(ip) ?? []) say(`  ${ip} leaked; attrs ${a.attrs}`)
  }
  say(`Found ${result.leakedIPs.length} IPs that are allocated in IPAM but not actually in use.`)

  say('Scanning for IPs that are in use by a workload or node but not allocated in IPAM...')
  const notInPools = new Set(result.notInActivePools)
  const notAllocated = new Set(result.inUseNotAllocated)
  for (const ip of [...result.inUseIPs.keys()].sort(compareAddressText)) {
    if (!showProblems) break
    const owners = result.inUseIPs.get(ip) ?? []
    if (owners.length > 1) say(`  ${ip} has multiple owners.`)
    for (const o of owners) {
      if (notInPools.has(ip)) say(`  ${ip} in use by ${o} is not in any active IP pool.`)
      else if (notAllocated.has(ip)) say(`  ${ip} in use by ${o} and in active IPAM pool but has no IPAM allocation.`)
    }
  }
  say(`Found ${result.notInActivePools.length} in-use IPs that are not in active IP pools.`)
  say(`Found ${result.inUseNotAllocated.length} in-use IPs that are in active IP pools but have no corresponding IPAM allocation.`)
  say('')

  say('Scanning for IPAM handles with no matching IPs...')
  if (opts.showAllIPs) for (const h of result.handlesWithoutIPs) say(`  ${h} doesn't have any active IPs.`)
  say(`Found ${result.handlesWithoutIPs.length} handles with no matching IPs (and ${result.handlesWithIPs} handles with matches).`)

  say('Scanning for IPs with missing handle...')
  if (showProblems) for (const h of result.missingHandles) say(`  ${h} is in use in a block but doesn't exist.`)
  say(`Found ${result.missingHandles.length} handles mentioned in blocks with no matching handle resource.`)

  say('Validating IPAMBlock structures...')
  for (const b of result.invalidBlocks) say(`  IPAMBlock BlockKey(cidr=${b.cidr}) is invalid: ${b.reason}`)
  say(`Found ${result.invalidBlocks.length} invalid IPAMBlocks.`)
  say(`Check complete; found ${result.problems} problems.`)

  const leaked = new Set(result.handlesWithoutIPs)
  const leakedHandles = data.handles
    .filter((h) => leaked.has(h.id))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((h) => ({ID: h.id, UID: h.uid, Revision: h.revision}))
  const allocations: Record<string, ReportAllocation[]> = {}
  // encoding/json writes map keys in byte order.
  for (const ip of [...result.allocations.keys()].sort()) allocations[ip] = (result.allocations.get(ip) ?? []).map(reportAllocation)
  const report: CheckReport = {
    version: opts.version,
    clusterGUID: data.cluster.guid,
    datastoreLocked: data.cluster.locked,
    clusterInformationRevision: data.cluster.revision,
    clusterType: data.cluster.clusterType,
    allocations,
  }
  if (leakedHandles.length > 0) report.leakedHandles = leakedHandles
  return {text: lines.map((l) => `${l}\n`).join(''), report, result}
}

/** json.MarshalIndent(report, "", "  "), including Go's escaping of <, > and &. */
export function serializeReport(report: CheckReport): string {
  return JSON.stringify(report, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
