// Per-kind table columns of `calicoctl get -o ps|wide|custom-columns`. calicoctl renders each
// cell with a Go template over the typed Go struct; each cell function below reproduces that
// template's result on the JSON shape, including Go's zero values (`false`, `0`) and nil
// pointers (`<nil>`), which is why every field's Go type is noted where it matters.

import type {Resource} from '../../api/resource.js'
import {formatFloatG, formatNumber, goSprint} from './gofmt.js'

/** Values a cell may need that are not in the resource itself. */
export interface CellContext {
  /** The result of calicoctl's `config "asnumber"`: the global AS number, `64512`, or `unknown`. */
  globalASNumber: () => string
}

type CellFn = (res: Resource, ctx: CellContext) => string

export interface KindColumns {
  ps: string[]
  wide: string[]
  /** Every heading valid in custom-columns, in calicoctl's declaration order. */
  cells: Record<string, CellFn>
}

type Obj = Record<string, unknown>

function spec(res: Resource): Obj {
  return (res.spec ?? {}) as Obj
}

/** A Go string field: absent is "". */
function str(v: unknown): string {
  if (v === undefined || v === null) return ''
  return typeof v === 'string' ? v : goSprint(v)
}

/** A Go bool field: absent is false. */
function bool(v: unknown): string {
  return v === true ? 'true' : 'false'
}

/** A Go integer field: absent is 0. */
function int(v: unknown): string {
  return typeof v === 'number' ? formatNumber(v) : v === undefined || v === null ? '0' : str(v)
}

/** numorstring.ASNumber prints as a plain uint32; JSON may carry the dotted `hi.lo` form. */
function asNumber(v: unknown): string {
  if (typeof v === 'string') {
    const m = /^(\d+)\.(\d+)$/.exec(v)
    if (m) return String(Number(m[1]) * 65536 + Number(m[2]))
    return v
  }
  return int(v)
}

/** A Go pointer field printed with `{{.X}}`: nil prints `<nil>`, otherwise the pointee. */
function ptr(v: unknown, render: (x: unknown) => string): string {
  return v === undefined || v === null ? '<nil>' : render(v)
}

/** An `*float64` printed by `%v`. */
function floatPtr(v: unknown): string {
  return ptr(v, (x) => (typeof x === 'number' ? formatFloatG(x) : str(x)))
}

/** Go's truthiness for `{{if}}` on a pointer or string field. */
function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== ''
}

/**
 * calicoctl's joinAndTruncate: items joined by `sep` (maps as sorted `k=v`); when maxLen > 0 and
 * the text grows beyond it, the first maxLen-3 bytes plus `...`.
 */
export function joinAndTruncate(items: unknown, sep: string, maxLen = 0): string {
  if (items === undefined || items === null) return ''
  let list: unknown[]
  if (Array.isArray(items)) list = items
  else if (typeof items === 'object') {
    list = Object.entries(items as Obj).map(([k, v]) => `${k}=${goSprint(v)}`).sort()
  } else list = [items]
  let buf = ''
  for (let i = 0; i < list.length; i++) {
    if (i > 0) buf += sep
    buf += goSprint(list[i])
    if (maxLen > 0 && Buffer.byteLength(buf) > maxLen) {
      // Go truncates the byte buffer; the values are ASCII in practice (CIDRs).
      buf = Buffer.from(buf).subarray(0, maxLen - 3).toString() + '...'
      break
    }
  }
  return buf
}

function join(items: unknown, sep: string): string {
  return joinAndTruncate(items, sep, 0)
}

/** IPNAT has no String method, so fmt prints the struct as `{internalIP externalIP}`. */
function ipNATs(v: unknown): string {
  if (!Array.isArray(v)) return ''
  return v.map((n) => {
    const o = (n ?? {}) as Obj
    return `{${str(o.internalIP)} ${str(o.externalIP)}}`
  }).join(',')
}

/** metav1.LabelSelector's generated String(), which text/template calls for the struct field. */
function labelSelector(v: unknown): string {
  const sel = (v ?? {}) as Obj
  const labels = (sel.matchLabels ?? {}) as Record<string, unknown>
  const exprs = Array.isArray(sel.matchExpressions) ? (sel.matchExpressions as Obj[]) : []
  const ml = Object.keys(labels).sort().map((k) => `${k}: ${goSprint(labels[k])},`).join('')
  const me = exprs
    .map((e) => `LabelSelectorRequirement{Key:${str(e.key)},Operator:${str(e.operator)},Values:${goSprint(e.values ?? [])},},`)
    .join('')
  return `&LabelSelector{MatchLabels:map[string]string{${ml}},MatchExpressions:[]LabelSelectorRequirement{${me}},}`
}

const name: CellFn = (r) => str(r.metadata?.name)
const namespace: CellFn = (r) => str(r.metadata?.namespace)
const field = (key: string): CellFn => (r) => str(spec(r)[key])
const boolField = (key: string): CellFn => (r) => bool(spec(r)[key])
const count = (key: string): CellFn => (r) => {
  const v = spec(r)[key]
  return String(Array.isArray(v) ? v.length : 0)
}
const policyCells: Record<string, CellFn> = {
  NAME: name,
  ORDER: (r) => floatPtr(spec(r).order),
  SELECTOR: field('selector'),
  TIER: field('tier'),
}
const policyPs = ['NAME', 'TIER']
const policyWide = ['NAME', 'TIER', 'ORDER', 'SELECTOR']

const COLUMNS: Record<string, KindColumns> = {
  BGPConfiguration: {
    ps: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    wide: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    cells: {
      NAME: name,
      LOGSEVERITY: field('logSeverityScreen'),
      MESHENABLED: (r) => (present(spec(r).nodeToNodeMeshEnabled) ? bool(spec(r).nodeToNodeMeshEnabled) : '-'),
      ASNUMBER: (r) => (present(spec(r).asNumber) ? asNumber(spec(r).asNumber) : '-'),
    },
  },
  BGPFilter: {
    ps: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    wide: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    cells: {
      NAME: name,
      NUMEXPORTV4: count('exportV4'),
      NUMIMPORTV4: count('importV4'),
      NUMEXPORTV6: count('exportV6'),
      NUMIMPORTV6: count('importV6'),
    },
  },
  BGPPeer: {
    ps: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    wide: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    cells: {
      NAME: name,
      PEERIP: field('peerIP'),
      NODE: (r) => str(spec(r).node) || str(spec(r).nodeSelector) || '(global)',
      ASN: (r) => asNumber(spec(r).asNumber),
    },
  },
  CalicoNodeStatus: {
    ps: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'CLASSES'],
    cells: {NAME: name, NODE: field('node'), CLASSES: (r) => join(spec(r).classes, ',')},
  },
  ClusterInformation: {
    ps: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    wide: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    cells: {
      NAME: name,
      CLUSTERGUID: field('clusterGUID'),
      CLUSTERTYPE: field('clusterType'),
      CALICOVERSION: field('calicoVersion'),
      DATASTOREREADY: (r) => ptr(spec(r).datastoreReady, bool),
    },
  },
  FelixConfiguration: {ps: ['NAME'], wide: ['NAME'], cells: {NAME: name}},
  GlobalNetworkPolicy: {ps: policyPs, wide: policyWide, cells: policyCells},
  GlobalNetworkSet: {
    ps: ['NAME'],
    wide: ['NAME', 'NETS'],
    cells: {NAME: name, NETS: (r) => joinAndTruncate(spec(r).nets, ',', 80)},
  },
  HostEndpoint: {
    ps: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'INTERFACE', 'IPS', 'PROFILES'],
    cells: {
      NAME: name,
      NODE: field('node'),
      INTERFACE: field('interfaceName'),
      IPS: (r) => join(spec(r).expectedIPs, ','),
      PROFILES: (r) => join(spec(r).profiles, ','),
    },
  },
  IPAMConfiguration: {
    ps: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS'],
    wide: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS', 'MAXBLOCKSPERHOST'],
    cells: {
      NAME: name,
      STRICTAFFINITY: boolField('strictAffinity'),
      AUTOALLOCATEBLOCKS: boolField('autoAllocateBlocks'),
      MAXBLOCKSPERHOST: (r) => int(spec(r).maxBlocksPerHost),
    },
  },
  IPPool: {
    ps: ['NAME', 'CIDR', 'SELECTOR'],
    wide: ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR', 'ASSIGNMENTMODE'],
    cells: {
      NAME: name,
      CIDR: field('cidr'),
      NAT: boolField('natOutgoing'),
      IPIPMODE: (r) => str(spec(r).ipipMode) || 'Never',
      VXLANMODE: (r) => str(spec(r).vxlanMode) || 'Never',
      DISABLED: boolField('disabled'),
      DISABLEBGPEXPORT: boolField('disableBGPExport'),
      SELECTOR: field('nodeSelector'),
      // *AssignmentMode
      ASSIGNMENTMODE: (r) => ptr(spec(r).assignmentMode, str),
    },
  },
  IPReservation: {
    ps: ['NAME'],
    wide: ['NAME', 'CIDRS'],
    cells: {NAME: name, CIDRS: (r) => joinAndTruncate(spec(r).reservedCIDRs, ',', 80)},
  },
  KubeControllersConfiguration: {ps: ['NAME'], wide: ['NAME'], cells: {NAME: name}},
  NetworkPolicy: {ps: policyPs, wide: policyWide, cells: {NAME: name, NAMESPACE: namespace, ...policyCells}},
  NetworkSet: {
    ps: ['NAME'],
    wide: ['NAME', 'NETS'],
    cells: {NAME: name, NAMESPACE: namespace, NETS: (r) => joinAndTruncate(spec(r).nets, ',', 80)},
  },
  Node: {
    ps: ['NAME'],
    wide: ['NAME', 'ASN', 'IPV4', 'IPV6'],
    cells: {
      NAME: name,
      // {{if .Spec.BGP}}: a non-nil *NodeBGPSpec is true even when empty.
      ASN: (r, ctx) => {
        const bgp = spec(r).bgp as Obj | undefined | null
        if (bgp === undefined || bgp === null) return ''
        return present(bgp.asNumber) ? asNumber(bgp.asNumber) : `(${ctx.globalASNumber()})`
      },
      IPV4: (r) => str((spec(r).bgp as Obj | undefined)?.ipv4Address),
      IPV6: (r) => str((spec(r).bgp as Obj | undefined)?.ipv6Address),
    },
  },
  Profile: {ps: ['NAME'], wide: ['NAME', 'LABELS'], cells: {NAME: name, LABELS: (r) => join(spec(r).labelsToApply, ',')}},
  StagedGlobalNetworkPolicy: {ps: policyPs, wide: policyWide, cells: policyCells},
  StagedKubernetesNetworkPolicy: {
    ps: ['NAME'],
    wide: ['NAME', 'PODSELECTOR'],
    cells: {NAME: name, NAMESPACE: namespace, PODSELECTOR: (r) => labelSelector(spec(r).podSelector)},
  },
  StagedNetworkPolicy: {ps: policyPs, wide: policyWide, cells: {NAME: name, NAMESPACE: namespace, ...policyCells}},
  Tier: {ps: ['NAME', 'ORDER'], wide: ['NAME', 'ORDER'], cells: {NAME: name, ORDER: (r) => floatPtr(spec(r).order)}},
  WorkloadEndpoint: {
    ps: ['WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE'],
    wide: ['NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS'],
    cells: {
      NAME: name,
      NAMESPACE: namespace,
      NODE: field('node'),
      ORCHESTRATOR: field('orchestrator'),
      WORKLOAD: (r) => str(spec(r).workload) || str(spec(r).pod),
      NETWORKS: (r) => join(spec(r).ipNetworks, ','),
      NATS: (r) => ipNATs(spec(r).ipNATs),
      PROFILES: (r) => join(spec(r).profiles, ','),
      INTERFACE: field('interfaceName'),
    },
  },
}

export function kindColumns(kind: string): KindColumns | undefined {
  return COLUMNS[kind]
}
