// The defaults Calico applies when a resource is written through libcalico-go's client against etcd: first the
// per-kind client defaulting (clientv3 setDefaults / validateAndSetDefaults, api/pkg/defaults), then the CRD schema
// defaults (kubebuilder `default` markers) that the etcd-mode validator writes back into the object. The result is
// laid out again with Go's omitempty rules, so a default of a zero value (maxBlocksPerHost: 0) is not stored.
import {decodeResource, hasSchemaDefaults, type DecodeMemo} from './decode.js'
import {normalizeGoDuration} from './duration.js'
import {formatIP, parseIPNet} from './net.js'
import type {Resource} from './resource.js'
import {kindSchema, type FieldType, type StructSchema} from './schema/index.js'
import {isObject, type JsonObject} from './json.js'

export const TIER_LABEL = 'projectcalico.org/tier'
export const DEFAULT_TIER = 'default'
/** Order given to tiers without one (api/.../v3 tier.go DefaultTierOrder). */
export const DEFAULT_TIER_ORDER = 1_000_000

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

// --- IPPool CIDR canonicalisation ----------------------------------------------------------------------------------

/**
 * `IP/len` in Go's canonical text, keeping the host bits (so a non-strictly-masked CIDR is still reported by
 * validation), or undefined when Go's ParseCIDR would reject it.
 */
export function canonicalCIDR(cidr: string): {text: string; version: 4 | 6} | undefined {
  const n = parseIPNet(cidr)
  return n ? {text: `${formatIP(n.ip)}/${n.cidr.prefix}`, version: n.ip.version} : undefined
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
  const input = child(spec, 'controllers')
  if (!input) return
  // The nested objects are copied before they are changed: only the spec itself is the caller's copy.
  const controllers = {...input}
  spec.controllers = controllers
  const node = child(controllers, 'node')
  if (node && (node.leakGracePeriod === undefined || node.leakGracePeriod === null)) {
    controllers.node = {...node, leakGracePeriod: normalizeGoDuration('15m')}
  }
  const lb = child(controllers, 'loadBalancer')
  if (lb && isEmpty(lb.assignIPs)) controllers.loadBalancer = {...lb, assignIPs: 'AllServices'}
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
 * schema defaults, then Go's marshal layout. Kinds without defaults come back as an equal copy. The input is not
 * changed.
 */
export function applyDefaults(res: Resource): Resource {
  return defaulted(res)
}

/**
 * Kinds whose client defaults come out the same before or after the schema defaults: they read only fields the
 * schema does not default (a policy's types, stagedAction Delete) or default them alike (a policy's tier).
 */
const CLIENT_DEFAULTS_COMMUTE: ReadonlySet<string> = new Set(['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy'])

/**
 * decodeResource then applyDefaults, as a reader of stored objects does for each one (the node agent's validation
 * filter), in fewer passes: the schema defaults are applied while decoding (for kinds without client defaults that
 * is all), and for policies the client defaults are applied to that result, whose parts they leave alone (every rule)
 * are not decoded again. With a memo, list elements equal to ones decoded before are shared (see DecodeMemo).
 * Throws DecodeError as decodeResource does.
 */
export function decodeAndDefault(doc: unknown, memo?: DecodeMemo): Resource {
  const kind = isObject(doc) ? doc.kind : undefined
  if (typeof kind === 'string' && !Object.hasOwn(CLIENT_DEFAULTS, kind)) return decodeResource(doc, {schemaDefaults: true, defaultsAfterDecode: true, memo})
  const decoded = new Set<object>()
  if (typeof kind === 'string' && CLIENT_DEFAULTS_COMMUTE.has(kind)) {
    return defaulted(decodeResource(doc, {schemaDefaults: true, defaultsAfterDecode: true, decoded, memo}), decoded, true)
  }
  return defaulted(decodeResource(doc, {decoded, memo}), decoded, false)
}

/**
 * `decoded`: `res` is what decodeResource just built (with this set, and with schema defaults if `withDefaults`), and
 * only this function will see it.
 */
function defaulted(res: Resource, decoded?: Set<object>, withDefaults = false): Resource {
  const ks = kindSchema(res.kind)
  // Nothing to default: decoding the decoder's own output again would only rebuild it.
  if (ks && decoded && !CLIENT_DEFAULTS[res.kind] && !hasSchemaDefaults(ks.resource)) return res
  if (ks) {
    // Client defaults change only top-level spec fields and metadata.labels (and copy anything deeper they
    // touch), so a copy of those two levels protects the input; decoding then builds the whole result afresh,
    // adding the schema defaults and re-laying it out as Go stores it (dropping defaulted zero values of
    // omitempty fields, ordering keys) in one pass.
    const out: Resource = {...res, metadata: {...res.metadata}}
    if (isObject(res.spec)) out.spec = {...res.spec}
    CLIENT_DEFAULTS[out.kind]?.(out)
    try {
      return decodeResource(out, {schemaDefaults: true, decoded, decodedWithDefaults: withDefaults})
    } catch {
      // Not decodable (e.g. a hand-built object with extra fields): defaulted below but otherwise untouched.
    }
  }
  const out = structuredClone(res)
  out.metadata ??= {}
  CLIENT_DEFAULTS[out.kind]?.(out)
  if (ks) applySchemaDefaults(out as unknown as JsonObject, ks.resource)
  return out
}
