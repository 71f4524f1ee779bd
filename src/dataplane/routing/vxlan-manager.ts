// Keeps the kernel's VXLAN overlay (vxlan.calico, its neighbour and FDB entries, the routes to other nodes' blocks,
// the blackhole routes of this node's own blocks) in line with the datastore: Felix's vxlan manager and VXLAN route manager. Holds the Nodes, VXLAN pools and IPAM
// blocks it is told about, and after each burst of changes (or when refreshed: the route refresh interval, a link
// change) reads the kernel's state and writes only the difference (vxlan.ts computes both). Nothing is written
// before the first complete snapshot; a failed reconcile is retried with backoff.
import {
  createVxlanLink, deleteVxlanLink, interfaceWithAddress, listFdb, listGatewayRoutes, listPermanentNeighbours, readVxlanLink,
  updateVxlanLink, writeVxlan,
} from '../linux/vxlan.js'
import {
  VXLAN_DEVICE, VXLAN_ROUTE_PROTOCOL, desiredVxlan, deviceAction, fdbDelta, neighbourDelta, vxlanBlockOf, vxlanConfigFrom,
  vxlanNodeOf, vxlanPoolOf, vxlanRouteDelta, type NodeView, type PoolView, type VxlanBlock, type VxlanFelixConfig,
  type VxlanNode, type VxlanPool,
} from './vxlan.js'

/** The stored kinds the overlay is computed from. */
export const VXLAN_KINDS = ['Node', 'IPPool', 'IPAMBlock'] as const
export type VxlanKind = (typeof VXLAN_KINDS)[number]

export function isVxlanKind(kind: string): kind is VxlanKind {
  return (VXLAN_KINDS as readonly string[]).includes(kind)
}

/** One stored object (validated by the caller); `value` undefined: deleted. */
export interface VxlanItem {
  kind: VxlanKind
  name: string
  value?: unknown
}

export interface VxlanManagerOptions {
  nodeName: string
  /** Told about each failed reconcile (it is retried). */
  onError: (err: Error) => void
  /** Told what a reconcile changed, when it changed anything. */
  onChanged?: (what: string) => void
  /** Quiet time that ends a burst of changes before a reconcile (ms, default 10). */
  batchMs?: number
  /** First retry delay after a failed reconcile; doubles up to 30 s (ms, default 1000). */
  retryMs?: number
  /** Nothing is read or written in the kernel before this settles (the agent: its first policy apply). */
  startAfter?: Promise<void>
}

/** JSON.stringify replacer for the CIDRs' bigint fields. */
const bigints = (_key: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v)

export class VxlanManager {
  private nodes = new Map<string, VxlanNode>()
  private pools = new Map<string, VxlanPool>()
  private blocks = new Map<string, VxlanBlock>()
  private config = vxlanConfigFrom([])
  private inSync = false
  private dirty = false
  private timer?: NodeJS.Timeout
  private running?: Promise<void>
  private failures = 0
  private stopped = false

  /** Until opts.startAfter settles: changes are only recorded. */
  private waiting: boolean

  constructor(private readonly opts: VxlanManagerOptions) {
    this.waiting = opts.startAfter !== undefined
    void opts.startAfter?.finally(() => {
      this.waiting = false
      if (this.dirty) this.schedule(0)
    })
  }

  /** A complete snapshot of the VXLAN kinds: replaces everything held so far. */
  replaceAll(items: Iterable<VxlanItem>): void {
    this.nodes.clear()
    this.pools.clear()
    this.blocks.clear()
    for (const item of items) this.set(item)
    this.inSync = true
    this.schedule()
  }

  /** One change; only one that alters what the overlay reads schedules a reconcile (Node heartbeats, block allocations do not). */
  update(item: VxlanItem): void {
    if (this.set(item) && this.inSync) this.schedule()
  }

  /** FelixConfiguration specs that apply to this node, lowest precedence first. */
  setConfig(specs: readonly VxlanFelixConfig[]): void {
    const next = vxlanConfigFrom(specs)
    if (JSON.stringify(next) === JSON.stringify(this.config)) return
    this.config = next
    if (this.inSync) this.schedule()
  }

  /** Reconciles even without a change (the route refresh interval, a link change): repairs what others changed. */
  refresh(): void {
    if (this.inSync) this.schedule()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
  }

  /** Records the item; returns whether what the overlay reads of it changed. */
  private set(item: VxlanItem): boolean {
    const {kind, name, value} = item
    const map: Map<string, unknown> = kind === 'Node' ? this.nodes : kind === 'IPPool' ? this.pools : this.blocks
    const next = value === undefined ? undefined : kind === 'Node' ? vxlanNodeOf(value as NodeView) : kind === 'IPPool' ? vxlanPoolOf(value as PoolView) : vxlanBlockOf(value)
    const before = JSON.stringify(map.get(name), bigints)
    if (next === undefined) map.delete(name)
    else map.set(name, next)
    return JSON.stringify(next, bigints) !== before
  }

  private schedule(delayMs = this.opts.batchMs ?? 10): void {
    this.dirty = true
    if (this.stopped || this.waiting || this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.kick()
    }, delayMs)
    this.timer.unref()
  }

  /** One reconcile at a time; changes that arrive meanwhile are picked up by the next. */
  private async kick(): Promise<void> {
    if (this.running) {
      await this.running
      if (this.dirty) this.schedule(0)
      return
    }
    this.dirty = false
    this.running = this.reconcile().then(
      () => {
        this.failures = 0
      },
      (err: Error) => {
        this.failures++
        this.opts.onError(err)
        if (!this.dirty) this.schedule(Math.min((this.opts.retryMs ?? 1000) * 2 ** (this.failures - 1), 30_000))
      },
    )
    try {
      await this.running
    } finally {
      this.running = undefined
    }
    if (this.dirty && !this.timer) this.schedule(0)
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return
    const me = this.nodes.get(this.opts.nodeName)
    // Without a VXLAN pool only leftovers are removed: no need to look for the uplink.
    const uplink = me?.address && this.pools.size > 0 ? await interfaceWithAddress(me.address) : undefined
    const want = desiredVxlan({nodeName: this.opts.nodeName, nodes: this.nodes, pools: [...this.pools.values()], blocks: [...this.blocks.values()], config: this.config, uplink})
    const changes: string[] = []
    const have = await readVxlanLink(VXLAN_DEVICE)
    if (!want.device) {
      if (have && (await deleteVxlanLink(VXLAN_DEVICE))) changes.push(`${VXLAN_DEVICE} removed`)
    } else {
      const action = deviceAction(want.device, have)
      if (action.type === 'create') {
        if (action.recreate) await deleteVxlanLink(VXLAN_DEVICE)
        await createVxlanLink(want.device)
        changes.push(`${VXLAN_DEVICE} ${action.recreate ? 're' : ''}created (VNI ${want.device.vni}, port ${want.device.port}, local ${want.device.local}, MTU ${want.device.mtu})`)
      } else if (action.type === 'update') {
        await updateVxlanLink(VXLAN_DEVICE, action)
        changes.push(`${VXLAN_DEVICE} updated`)
      }
    }
    const routes = vxlanRouteDelta(want.routes, await listGatewayRoutes())
    const neighbours = want.device ? neighbourDelta(want.neighbours, await listPermanentNeighbours(VXLAN_DEVICE)) : {replace: [], remove: []}
    const fdb = want.device ? fdbDelta(want.fdb, await listFdb(VXLAN_DEVICE)) : {replace: [], remove: []}
    const writes = routes.replace.length + routes.remove.length + neighbours.replace.length + neighbours.remove.length + fdb.replace.length + fdb.remove.length
    if (writes > 0) {
      await writeVxlan({
        removeRoutes: routes.remove,
        removeNeighbours: neighbours.remove,
        removeFdb: fdb.remove,
        fdb: fdb.replace,
        neighbours: neighbours.replace,
        routes: routes.replace,
        dev: VXLAN_DEVICE,
        protocol: VXLAN_ROUTE_PROTOCOL,
      })
      changes.push(`routes: ${routes.replace.length} programmed, ${routes.remove.length} removed; VTEPs: ${neighbours.replace.length} programmed, ${neighbours.remove.length} removed`)
    }
    if (changes.length > 0) this.opts.onChanged?.(`VXLAN: ${changes.join('; ')}`)
  }
}
