// The defaults Calico applies when a resource is written through libcalico-go's client against etcd: first the
// per-kind client defaulting (clientv3 setDefaults / validateAndSetDefaults, api/pkg/defaults), then the CRD schema
// defaults (kubebuilder `default` markers) that the etcd-mode validator writes back into the object. The result is
// laid out again with Go's omitempty rules, so a default of a zero value (maxBlocksPerHost: 0) is not stored.
import {decodeResource} from './decode.js'
import {normalizeGoDuration} from './duration.js'
import type {Resource} from './resource.js'
import {kindSchema, type FieldType, type StructSchema} from './schema/index.js'

type JsonObject = Record<string, unknown>

export const TIER_LABEL = 'projectcalico.org/tier'
export const DEFAULT_TIER = 'default'
/** Order given to tiers without one (api/.../v3 tier.go DefaultTierOrder). */
export const DEFAULT_TIER_ORDER = 1_000_000

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function child(parent: JsonObject, key: string): JsonObject | undefined {
  const v = parent[key]
  return isObject(v) ? v : undefined
}

/** The spec object, created when absent (Go's Spec is a value, never nil). */
function specOf(res: Resource): JsonObject {
  if (!isObject(res.spec)) res.spec = {}
  return res.spec
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)
}

// --- IP formatting (Go's net.IP.String) for IPPool CIDR canonicalisation -------------------------------------

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.')
  if (parts.length !== 4) return undefined
  const out: number[] = []
  for (const p of parts) {
    // Go rejects leading zeros ("010") and anything that is not plain decimal.
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined
    out.push(Number(p))
  }
  return out
}

function parseIPv6(s: string): number[] | undefined {
  // An embedded IPv4 tail ("::ffff:1.2.3.4") stands for the last two groups.
  const lastColon = s.lastIndexOf(':')
  const v4Tail = s.slice(lastColon + 1).includes('.') ? parseIPv4(s.slice(lastColon + 1)) : undefined
  if (s.slice(lastColon + 1).includes('.') && !v4Tail) return undefined
  const text = v4Tail ? `${s.slice(0, lastColon + 1)}0:0` : s
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const groups = (h: string): number[] | undefined => {
    if (h === '') return []
    const out: number[] = []
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
      out.push(parseInt(g, 16))
    }
    return out
  }
  const head = groups(halves[0])
  const rest = halves.length === 2 ? groups(halves[1]) : []
  if (!head || !rest) return undefined
  const explicit = head.length + rest.length
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined
  const all = [...head, ...Array<number>(8 - explicit).fill(0), ...rest]
  if (v4Tail) all.splice(6, 2, (v4Tail[0] << 8) | v4Tail[1], (v4Tail[2] << 8) | v4Tail[3])
  return all
}

function formatIPv6(g: readonly number[]): string {
  // Longest run of two or more zero groups becomes "::" (first run wins ties), as Go prints it.
  let best = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  const hex = g.map((x) => x.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}

/**
 * `IP/len` in Go's canonical text, keeping the host bits (so a non-strictly-masked CIDR is still reported by
 * validation), or undefined when Go's ParseCIDR would reject it.
 */
export function canonicalCIDR(cidr: string): {text: string; version: 4 | 6} | undefined {
  const slash = cidr.indexOf('/')
  if (slash < 0) return undefined
  const addr = cidr.slice(0, slash)
  const lenText = cidr.slice(slash + 1)
  if (!/^\d{1,3}$/.test(lenText)) return undefined
  const len = Number(lenText)
  const v4 = parseIPv4(addr)
  if (v4) return len <= 32 ? {text: `${v4.join('.')}/${len}`, version: 4} : undefined
  const v6 = addr.includes(':') ? parseIPv6(addr) : undefined
  if (v6 && len <= 128) return {text: `${formatIPv6(v6)}/${len}`, version: 6}
  return undefined
}

// --- Per-kind client defaulting -----------------------------------------------------------------------------------

/** api/pkg/defaults: policy types inferred from the rules present, and the tier label. */
function defaultPolicy(res: Resource): void {
  const spec = specOf(res)
  if (isEmpty(spec.types)) {
    const hasEgress = !isEmpty(spec.egress)
    const hasIngress = !isEmpty(spec.ingress)
    spec.types = !hasEgress ? ['Ingress'] : !hasIngress ? ['Egress'] : ['Ingress', 'Egress']
  }
  const tier = typeof spec.tier === 'string' && spec.tier !== '' ? spec.tier : DEFAULT_TIER
  res.metadata.labels = {...(res.metadata.labels ?? {}), [TIER_LABEL]: tier}
  // A staged deletion carries no spec besides its tier, so the client clears the types it just inferred.
  if (spec.stagedAction === 'Delete') delete spec.types
}

/** libcalico-go/lib/resources/tier.go DefaultTierFields. */
function defaultTier(res: Resource): void {
  const spec = specOf(res)
  if (spec.order === undefined || spec.order === null) spec.order = DEFAULT_TIER_ORDER
  if (spec.defaultAction === undefined || spec.defaultAction === null) spec.defaultAction = 'Deny'
}

/** clientv3/ippool.go validateAndSetDefaults (the parts that set values; checks belong to validation). */
function defaultIPPool(res: Resource): void {
  const spec = specOf(res)
  const parsed = typeof spec.cidr === 'string' ? canonicalCIDR(spec.cidr) : undefined
  if (parsed) spec.cidr = parsed.text
  if (isEmpty(spec.nodeSelector)) spec.nodeSelector = 'all()'
  if (parsed && isEmpty(spec.blockSize)) spec.blockSize = parsed.version === 4 ? 26 : 122
  if (spec.blockSize === 0 && parsed) spec.blockSize = parsed.version === 4 ? 26 : 122
  if (isEmpty(spec.allowedUses)) spec.allowedUses = ['Workload', 'Tunnel']
  if (spec.assignmentMode === undefined || spec.assignmentMode === null) spec.assignmentMode = 'Automatic'
  if (isEmpty(spec.ipipMode)) spec.ipipMode = 'Never'
  if (isEmpty(spec.vxlanMode)) spec.vxlanMode = 'Never'
}

/** clientv3/felixconfig.go setDefaults, including the deprecated bpfConnectTimeLoadBalancingEnabled override. */
function defaultFelixConfiguration(res: Resource): void {
  const spec = specOf(res)
  spec.floatingIPs ??= 'Disabled'
  spec.bpfConnectTimeLoadBalancing ??= 'TCP'
  spec.bpfHostNetworkedNATWithoutCTLB ??= 'Enabled'
  const legacy = spec.bpfConnectTimeLoadBalancingEnabled
  if (typeof legacy === 'boolean') {
    spec.bpfHostNetworkedNATWithoutCTLB = 'Disabled'
    spec.bpfConnectTimeLoadBalancing = legacy ? 'Enabled' : 'Disabled'
  }
}

/**
 * clientv3/kubecontrollersconfig.go validateAndFillDefaults. (Its template nodeSelector default assigns to a loop
 * copy in Go and so never reaches the stored object; it is deliberately not reproduced.)
 */
function defaultKubeControllersConfiguration(res: Resource): void {
  const spec = specOf(res)
  spec.prometheusMetricsPort ??= 9094
  const controllers = child(spec, 'controllers')
  const node = controllers && child(controllers, 'node')
  if (node) node.leakGracePeriod ??= normalizeGoDuration('15m')
  const lb = controllers && child(controllers, 'loadBalancer')
  if (lb && isEmpty(lb.assignIPs)) lb.assignIPs = 'AllServices'
}

const CLIENT_DEFAULTS: Readonly<Record<string, (res: Resource) => void>> = {
  NetworkPolicy: defaultPolicy,
  GlobalNetworkPolicy: defaultPolicy,
  StagedNetworkPolicy: defaultPolicy,
  StagedGlobalNetworkPolicy: defaultPolicy,
  Tier: defaultTier,
  IPPool: defaultIPPool,
  FelixConfiguration: defaultFelixConfiguration,
  KubeControllersConfiguration: defaultKubeControllersConfiguration,
}

// --- CRD schema defaults ---------------------------------------------------------------------------------------

/** OpenAPI defaulting: absent fields of every *present* object get their schema default, recursively. */
function applySchemaDefaults(obj: JsonObject, schema: StructSchema): void {
  for (const field of schema.fields) {
    if (obj[field.json] === undefined && field.default !== undefined) obj[field.json] = structuredClone(field.default)
    const v = obj[field.json]
    applyTypeDefaults(v, field.type)
  }
}

function applyTypeDefaults(v: unknown, t: FieldType): void {
  if (t.kind === 'object' && isObject(v)) applySchemaDefaults(v, t.schema())
  else if (t.kind === 'list' && Array.isArray(v)) for (const item of v) applyTypeDefaults(item, t.items)
  else if (t.kind === 'map' && isObject(v)) for (const item of Object.values(v)) applyTypeDefaults(item, t.values)
}

/**
 * Returns a new resource with the defaults Calico applies on write (etcd datastore): client defaulting, then CRD
 * schema defaults, then Go's marshal layout. Kinds without defaults come back as an equal copy.
 */
export function applyDefaults(res: Resource): Resource {
  const out = structuredClone(res)
  out.metadata ??= {}
  CLIENT_DEFAULTS[out.kind]?.(out)
  const ks = kindSchema(out.kind)
  if (!ks) return out
  applySchemaDefaults(out as unknown as JsonObject, ks.resource)
  try {
    // Re-lay the object out as Go stores it (drops defaulted zero values of omitempty fields, orders keys).
    return decodeResource(out)
  } catch {
    // Not decodable (e.g. a hand-built object with extra fields): return it defaulted but otherwise untouched.
    return out
  }
}
