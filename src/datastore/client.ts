// The typed v3 resource client over a Backend, mirroring libcalico-go's clientv3: defaults and validation on
// write, Calico's metadata rules, the built-in objects and the per-kind checks that need datastore state.
import {randomBytes, randomUUID} from 'node:crypto'

import {applyDefaults} from '../api/defaults.js'
import {
  CalicoError,
  OperationNotSupportedError,
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
  ResourceUpdateConflictError,
  ValidationError,
  type ErroredField,
} from '../api/errors.js'
import {metav1Time} from '../api/gotime.js'
import {kindInfo, POLICY_KINDS, type KindInfo} from '../api/kinds.js'
import {API_VERSION, resourceId, type Resource, type ResourceList} from '../api/resource.js'
import type {PoolRef} from '../api/validate.js'
import {DEFAULT_ALLOW_PROFILE, defaultAllowProfile} from '../api/builtin.js'
import type {Backend, Key, KVPair, ListOptions as BackendListOptions, ListResult} from './backend.js'

export {DEFAULT_ALLOW_PROFILE}

type Validators = typeof import('../api/validate.js')
let validators: Promise<Validators> | undefined

/** The validators, evaluated on the first write: read-only commands (a cold `get`) never pay for them. */
function loadValidators(): Promise<Validators> {
  validators ??= import('../api/validate.js')
  return validators
}
export const TIER_LABEL = 'projectcalico.org/tier'
const KNP_PREFIX = 'knp.default.'
const DEFAULT_NAME = 'default'

/** Built-in tiers (api/pkg/apis/projectcalico/v3/tier.go): name, default action, order. */
export const BUILTIN_TIERS: ReadonlyArray<{name: string; defaultAction: 'Deny' | 'Pass'; order: number}> = [
  {name: 'default', defaultAction: 'Deny', order: 1_000_000},
  {name: 'kube-admin', defaultAction: 'Pass', order: 1_000},
  {name: 'kube-baseline', defaultAction: 'Pass', order: 10_000_000},
]

// Kinds whose only valid name is `default`, with libcalico-go's wording of the refusal.
const DEFAULT_ONLY: Readonly<Record<string, string>> = {
  ClusterInformation: 'Cannot create a Cluster Information resource with a name other than "default"',
  KubeControllersConfiguration: 'Cannot create a Kube Controllers Configuration resource with a name other than "default"',
  IPAMConfiguration: 'Cannot create an IPAMConfiguration resource with a name other than "default"',
}

// BGPConfiguration fields only the `default` object may carry (libcalico-go/lib/clientv3/bgpconfig.go).
const BGP_DEFAULT_ONLY: ReadonlyArray<{json: string; go: string; list: boolean}> = [
  {json: 'nodeToNodeMeshEnabled', go: 'NodeToNodeMeshEnabled', list: false},
  {json: 'asNumber', go: 'ASNumber', list: false},
  {json: 'serviceLoadBalancerIPs', go: 'ServiceLoadBalancerIPs', list: true},
  {json: 'serviceExternalIPs', go: 'ServiceExternalIPs', list: true},
  {json: 'serviceClusterIPs', go: 'ServiceClusterIPs', list: true},
  {json: 'nodeMeshPassword', go: 'NodeMeshPassword', list: false},
  {json: 'nodeMeshMaxRestartTime', go: 'NodeMeshMaxRestartTime', list: false},
]

/** A plain error whose text is the whole message (libcalico-go's errors.New cases). */
export class ClientError extends CalicoError {}

export interface ClientOptions {
  /** Clock for creationTimestamp (tests pin it). */
  now?: () => Date
  /**
   * Runs after an IPPool was disabled and before it is deleted. Calico releases the pool's block affinities
   * here (IPAM lives above this layer, so the caller supplies it).
   */
  beforePoolDelete?: (pool: Resource) => Promise<void>
  /** How long a disabled pool is left before deletion so in-flight allocations finish (Calico: 500 ms). */
  poolDeleteGraceMs?: number
}

export interface ListOptions {
  /** Undefined or '' lists every namespace of a namespaced kind. */
  namespace?: string
  namePrefix?: string
}

export interface DeleteOptions {
  /** Delete only if the stored object still has this resourceVersion. */
  resourceVersion?: string
}

type Spec = Record<string, unknown>

function info(kind: string): KindInfo {
  const i = kindInfo(kind)
  if (!i) throw new ClientError(`resource type '${kind}' is not supported`)
  return i
}

function keyOf(res: Resource): Key {
  const key: Key = {kind: res.kind, name: res.metadata.name ?? ''}
  if (res.metadata.namespace) key.namespace = res.metadata.namespace
  return key
}

function idOf(key: Key): string {
  return resourceId(key.kind, key.name, key.namespace)
}

function validation(name: string, reason: string, value?: unknown): ValidationError {
  return new ValidationError([{name, reason, value}])
}

/** Re-issues backend errors with Calico's identifier for the key, so messages never depend on the backend. */
function translate(err: unknown, key: Key): never {
  if (err instanceof ResourceDoesNotExistError) throw new ResourceDoesNotExistError(idOf(key), err.detail)
  if (err instanceof ResourceAlreadyExistsError) throw new ResourceAlreadyExistsError(idOf(key), err.detail)
  if (err instanceof ResourceUpdateConflictError) throw new ResourceUpdateConflictError(idOf(key))
  throw err
}

/** The built-in profile as the datastores serve it: never stored, always at revision 1. */
function servedDefaultAllowProfile(): Resource {
  // Typed resources (interfaces) lack Resource's index signature; the value is a plain resource all the same.
  const profile = defaultAllowProfile() as Resource
  profile.metadata.resourceVersion = '1'
  return profile
}

function specOf(res: Resource): Spec {
  return (res.spec ?? {}) as Spec
}

function tierOf(res: Resource): string {
  const tier = specOf(res).tier
  return typeof tier === 'string' && tier !== '' ? tier : 'default'
}

function poolRef(pool: Resource): PoolRef {
  const spec = specOf(pool)
  return {
    name: pool.metadata.name ?? '',
    cidr: typeof spec.cidr === 'string' ? spec.cidr : '',
    blockSize: typeof spec.blockSize === 'number' ? spec.blockSize : undefined,
    allowedUses: Array.isArray(spec.allowedUses) ? spec.allowedUses.map(String) : undefined,
  }
}

/** Computes a WorkloadEndpoint's name from its identifiers (libcalico-go/lib/names/workloadendpoint.go). */
export function workloadEndpointName(spec: Spec): string {
  const str = (f: string): string => (typeof spec[f] === 'string' ? (spec[f] as string) : '')
  if (!str('node')) throw validation('node', 'field should be assigned')
  const orch = str('orchestrator')
  const third = orch === 'k8s' ? 'pod' : orch === 'cni' ? 'containerID' : orch === 'libnetwork' ? 'orchestrator' : 'workload'
  const parts: string[] = []
  for (const field of ['node', 'orchestrator', third, 'endpoint']) {
    const v = str(field)
    if (!v) throw validation(field, 'field should be assigned', v)
    if (v.startsWith('-')) throw validation(field, "field must not begin with a '-'", v)
    if (v.endsWith('-')) throw validation(field, "field must not end with a '-'", v)
    parts.push(v.replaceAll('-', '--'))
  }
  return parts.join('-')
}

export class ResourceClient {
  private readonly now: () => Date
  private readonly beforePoolDelete?: (pool: Resource) => Promise<void>
  private readonly poolDeleteGraceMs: number
  /**
   * Tiers this client has seen exist, so a bulk create of policies checks each tier once rather than once per
   * policy. Calico's check is not transactional either; deleting a tier through this client forgets it.
   */
  private readonly knownTiers = new Set<string>()

  constructor(readonly backend: Backend, options: ClientOptions = {}) {
    this.now = options.now ?? (() => new Date())
    this.beforePoolDelete = options.beforePoolDelete
    this.poolDeleteGraceMs = options.poolDeleteGraceMs ?? 0
  }

  async close(): Promise<void> {
    await this.backend.close()
  }

  async get(kind: string, name: string, namespace?: string): Promise<Resource> {
    const i = info(kind)
    const key: Key = {kind: i.kind, name}
    if (i.namespaced) {
      if (!namespace) throw validation('Metadata.Namespace', 'namespace is not specified on namespaced resource')
      key.namespace = namespace
    }
    if (i.kind === 'Profile' && name === DEFAULT_ALLOW_PROFILE) return servedDefaultAllowProfile()
    let kv: KVPair<Resource>
    try {
      kv = await this.backend.get<Resource>(key)
    } catch (err) {
      translate(err, key)
    }
    return this.fromStorage(kv)
  }

  async list(kind: string, options: ListOptions = {}): Promise<ResourceList> {
    const i = info(kind)
    return this.listPage(i, options, await this.backend.list<Resource>(this.backendListOptions(i, options)), true)
  }

  /**
   * list() page by page as the backend reads it (one page from backends that read a list whole): every page a
   * ResourceList with the list's resourceVersion.
   */
  async *listPages(kind: string, options: ListOptions = {}): AsyncGenerator<ResourceList> {
    const i = info(kind)
    const opts = this.backendListOptions(i, options)
    const pages = this.backend.listPages ? this.backend.listPages<Resource>(opts) : [await this.backend.list<Resource>(opts)]
    let first = true
    for await (const page of pages) {
      yield this.listPage(i, options, page, first)
      first = false
    }
  }

  private backendListOptions(i: KindInfo, options: ListOptions): BackendListOptions {
    return {
      kind: i.kind,
      namespace: i.namespaced && options.namespace ? options.namespace : undefined,
      namePrefix: options.namePrefix || undefined,
    }
  }

  private listPage(i: KindInfo, options: ListOptions, result: ListResult<Resource>, first: boolean): ResourceList {
    const items = result.items.map((kv) => this.fromStorage(kv))
    if (first && i.kind === 'Profile' && DEFAULT_ALLOW_PROFILE.startsWith(options.namePrefix ?? '')) {
      items.unshift(servedDefaultAllowProfile())
    }
    return {apiVersion: API_VERSION, kind: `${i.kind}List`, metadata: {resourceVersion: result.revision}, items}
  }

  async create(input: Resource): Promise<Resource> {
    return this.createResource(input, true)
  }

  /**
   * libcalico-go's IPPools().UnsafeCreate, for `calicoctl ipam split` only: creates an IPPool with create()'s
   * defaults, validation and metadata rules but without the checks that need other objects, namely that its CIDR
   * overlaps no other pool and that no existing block inside it has a different size. The pools a split creates lie
   * inside the pool they replace (disabled, still stored until unsafeDeletePool) and take over its blocks.
   */
  async unsafeCreatePool(input: Resource): Promise<Resource> {
    if (info(input.kind).kind !== 'IPPool') throw new ClientError(`unsafe create is only for IPPools, not ${input.kind}`)
    return this.createResource(input, false)
  }

  private async createResource(input: Resource, poolChecks: boolean): Promise<Resource> {
    const i = info(input.kind)
    const res = this.prepare(input, i, await loadValidators())
    const meta = res.metadata
    if (!meta.name) {
      const suffix = meta.generateName ? ' (GenerateName is not supported)' : ''
      throw validation('Metadata.Name', `field must be set for a Create request${suffix}`, meta.name ?? '')
    }
    if (meta.resourceVersion) {
      throw validation('Metadata.ResourceVersion', 'field must not be set for a Create request', meta.resourceVersion)
    }
    await this.checkWrite('create', res, i)
    if (res.kind === 'Profile' && meta.name === DEFAULT_ALLOW_PROFILE) {
      throw new ResourceAlreadyExistsError(
        DEFAULT_ALLOW_PROFILE,
        `${DEFAULT_ALLOW_PROFILE} already exists. The profile "${DEFAULT_ALLOW_PROFILE}" is default provided by Calico`,
      )
    }
    if (POLICY_KINDS.has(res.kind)) await this.requireTier(tierOf(res))
    if (res.kind === 'IPPool' && poolChecks) await this.checkNewPool(res)
    if (res.kind === 'Node') await this.ensureInitialized()
    meta.uid ||= randomUUID()
    meta.creationTimestamp ||= metav1Time(this.now())
    const key = keyOf(res)
    try {
      return this.fromStorage(await this.backend.create(key, this.toStorage(res)))
    } catch (err) {
      translate(err, key)
    }
  }

  async update(input: Resource): Promise<Resource> {
    const i = info(input.kind)
    const v = await loadValidators()
    const res = this.prepare(input, i, v)
    const meta = res.metadata
    const fields: ErroredField[] = []
    if (!meta.resourceVersion) fields.push({name: 'Metadata.ResourceVersion', reason: 'field must be set for an Update request'})
    else if (!meta.creationTimestamp) fields.push({name: 'Metadata.CreationTimestamp', reason: 'field must be set for an Update request'})
    else if (!meta.uid) fields.push({name: 'Metadata.UID', reason: 'field must be set for an Update request'})
    if (fields.length > 0) throw new ValidationError(fields)
    await this.checkWrite('update', res, i)
    if (res.kind === 'Profile' && meta.name === DEFAULT_ALLOW_PROFILE) {
      throw new OperationNotSupportedError(
        'Update',
        DEFAULT_ALLOW_PROFILE,
        `The profile "${DEFAULT_ALLOW_PROFILE}" is a default provided by Calico and cannot be updated`,
      )
    }
    const key = keyOf(res)
    if (res.kind === 'IPPool') {
      const old = await this.get('IPPool', key.name)
      const fields = v.checkIPPoolUpdate(poolRef(old), poolRef(res))
      if (fields.length > 0) throw new ValidationError(fields)
    }
    try {
      return this.fromStorage(await this.backend.update(key, this.toStorage(res), meta.resourceVersion as string))
    } catch (err) {
      translate(err, key)
    }
  }

  /**
   * Create, or update the stored object (keeping its uid and creation time) when it exists or when the
   * datastore cannot create that kind (as calicoctl's apply: a Kubernetes-datastore Node is an update of
   * the Kubernetes Node's annotations).
   */
  async apply(input: Resource): Promise<Resource> {
    try {
      return await this.create({...input, metadata: {...input.metadata, resourceVersion: undefined}})
    } catch (err) {
      if (!(err instanceof ResourceAlreadyExistsError || err instanceof OperationNotSupportedError)) throw err
    }
    const current = await this.get(input.kind, input.metadata.name ?? '', input.metadata.namespace)
    const {uid, creationTimestamp, resourceVersion} = current.metadata
    return this.update({...input, metadata: {...input.metadata, uid, creationTimestamp, resourceVersion}})
  }

  async delete(kind: string, name: string, namespace?: string, options: DeleteOptions = {}): Promise<Resource> {
    const i = info(kind)
    const key: Key = {kind: i.kind, name}
    if (i.namespaced) {
      if (!namespace) throw validation('Metadata.Namespace', 'namespace is not specified on namespaced resource')
      key.namespace = namespace
    }
    if (i.kind === 'NetworkPolicy' && name.startsWith(KNP_PREFIX)) {
      throw new OperationNotSupportedError('delete', idOf(key), 'kubernetes network policies must be managed through the kubernetes API')
    }
    if (i.kind === 'Profile' && name === DEFAULT_ALLOW_PROFILE) {
      throw new OperationNotSupportedError(
        'Delete',
        DEFAULT_ALLOW_PROFILE,
        `The profile "${DEFAULT_ALLOW_PROFILE}" is a default provided by Calico and cannot be deleted`,
      )
    }
    if (i.kind === 'Tier') {
      await this.checkTierDeletable(name)
      this.knownTiers.delete(name)
    }
    let revision = options.resourceVersion || undefined
    if (i.kind === 'IPPool') revision = await this.disablePool(key, revision, true)
    try {
      return this.fromStorage(await this.backend.delete<Resource>(key, revision))
    } catch (err) {
      translate(err, key)
    }
  }

  /**
   * libcalico-go's IPPools().UnsafeDelete, for `calicoctl ipam split` only: deletes an IPPool, disabling it first
   * when it is enabled, but neither waits for in-flight allocations nor releases the pool's block affinities
   * (ClientOptions.beforePoolDelete): after a split those blocks belong to the pools that replaced it.
   */
  async unsafeDeletePool(name: string, options: DeleteOptions = {}): Promise<Resource> {
    const key: Key = {kind: 'IPPool', name}
    const revision = await this.disablePool(key, options.resourceVersion || undefined, false)
    try {
      return this.fromStorage(await this.backend.delete<Resource>(key, revision))
    } catch (err) {
      translate(err, key)
    }
  }

  /**
   * Creates ClusterInformation `default` and the built-in tiers when missing (libcalico-go's EnsureInitialized).
   * Fail-slow: every step is attempted and the first error is reported.
   */
  async ensureInitialized(calicoVersion = '', clusterType = ''): Promise<void> {
    const errors: unknown[] = []
    try {
      await this.ensureClusterInformation(calicoVersion, clusterType)
    } catch (err) {
      errors.push(err)
    }
    // Reading first keeps the common case (already initialised) to one list instead of three failed creates.
    let existing = new Set<string>()
    try {
      existing = new Set((await this.list('Tier')).items.map((t) => t.metadata.name ?? ''))
    } catch (err) {
      errors.push(err)
    }
    for (const tier of BUILTIN_TIERS) {
      if (existing.has(tier.name)) continue
      try {
        await this.create({
          apiVersion: API_VERSION,
          kind: 'Tier',
          metadata: {name: tier.name},
          spec: {order: tier.order, defaultAction: tier.defaultAction},
        })
      } catch (err) {
        if (!(err instanceof ResourceAlreadyExistsError)) errors.push(err)
      }
    }
    if (errors.length > 0) throw errors[0]
  }

  private async ensureClusterInformation(calicoVersion: string, clusterType: string): Promise<void> {
    if (this.backend.type === 'kubernetes') clusterType = clusterType ? `${clusterType.replace(/,$/, '')},kdd` : 'kdd'
    for (let attempt = 0; ; attempt++) {
      let current: Resource
      try {
        current = await this.get('ClusterInformation', DEFAULT_NAME)
      } catch (err) {
        if (!(err instanceof ResourceDoesNotExistError)) throw err
        const spec: Spec = {clusterGUID: randomBytes(16).toString('hex'), datastoreReady: true}
        if (calicoVersion) spec.calicoVersion = calicoVersion
        if (clusterType) spec.clusterType = clusterType
        try {
          await this.create({apiVersion: API_VERSION, kind: 'ClusterInformation', metadata: {name: DEFAULT_NAME}, spec})
          return
        } catch (createErr) {
          // Another writer initialised it first: re-read and reconcile.
          if (createErr instanceof ResourceAlreadyExistsError && attempt < 5) continue
          throw createErr
        }
      }
      const spec = {...specOf(current)}
      let changed = false
      if (calicoVersion && spec.calicoVersion !== calicoVersion) {
        spec.calicoVersion = calicoVersion
        changed = true
      }
      if (!spec.clusterGUID) {
        spec.clusterGUID = randomBytes(16).toString('hex')
        changed = true
      }
      if (spec.datastoreReady === undefined || spec.datastoreReady === null) {
        spec.datastoreReady = true
        changed = true
      }
      if (clusterType) {
        const existing = typeof spec.clusterType === 'string' && spec.clusterType ? spec.clusterType.split(',') : []
        const merged = [...existing, ...clusterType.split(',').filter((t) => !existing.includes(t))]
        if (merged.length !== existing.length) {
          spec.clusterType = merged.join(',')
          changed = true
        }
      }
      if (!changed) return
      try {
        await this.update({...current, spec})
        return
      } catch (err) {
        if (err instanceof ResourceUpdateConflictError && attempt < 5) continue
        throw err
      }
    }
  }

  /** ResourceDoesNotExistError for the tier when it is missing, as Calico's policy create reports it. */
  private async requireTier(name: string): Promise<void> {
    if (this.knownTiers.has(name)) return
    await this.get('Tier', name)
    this.knownTiers.add(name)
  }

  /** Defaults, kind-specific naming and validation, on a copy stamped with apiVersion/kind. */
  private prepare(input: Resource, i: KindInfo, {validateResource}: Validators): Resource {
    // Only metadata changes before applyDefaults, whose result shares nothing with its input: no deep copy needed.
    let res: Resource = {...input, apiVersion: API_VERSION, kind: i.kind, metadata: {...input.metadata}}
    res.metadata ??= {}
    delete res.metadata.selfLink
    if (i.namespaced && !res.metadata.namespace) {
      throw validation('Metadata.Namespace', 'namespace is not specified on namespaced resource')
    }
    if (res.kind === 'WorkloadEndpoint') {
      const expected = workloadEndpointName(specOf(res))
      if (!res.metadata.name) res.metadata.name = expected
      else if (res.metadata.name !== expected) {
        throw validation(
          'Name',
          `the WorkloadEndpoint name does not match the primary identifiers assigned in the Spec: expected name ${expected}`,
          res.metadata.name,
        )
      }
    }
    res = applyDefaults(res)
    validateResource(res)
    if (res.kind === 'WorkloadEndpoint') {
      const orchestrator = specOf(res).orchestrator
      res.metadata.labels = {
        ...res.metadata.labels,
        'projectcalico.org/namespace': res.metadata.namespace ?? '',
        'projectcalico.org/orchestrator': typeof orchestrator === 'string' ? orchestrator : '',
      }
    }
    return res
  }

  /** Rules libcalico-go applies on create and update before storing. */
  private async checkWrite(op: 'create' | 'update', res: Resource, i: KindInfo): Promise<void> {
    const name = res.metadata.name ?? ''
    if (res.kind === 'NetworkPolicy' && name.startsWith(KNP_PREFIX)) {
      throw new OperationNotSupportedError(
        op === 'create' ? 'create or apply' : 'apply or replace',
        idOf(keyOf(res)),
        'kubernetes network policies must be managed through the kubernetes API',
      )
    }
    const onlyDefault = DEFAULT_ONLY[i.kind]
    if (onlyDefault && name !== DEFAULT_NAME) throw new ClientError(onlyDefault)
    if (res.kind === 'BGPConfiguration' && name !== DEFAULT_NAME) {
      const spec = specOf(res)
      const fields = BGP_DEFAULT_ONLY.filter((f) => {
        const v = spec[f.json]
        return f.list ? Array.isArray(v) && v.length > 0 : v !== undefined && v !== null
      }).map((f) => {
        const subject = f.json.startsWith('nodeMesh') || f.json === 'nodeToNodeMeshEnabled' ? f.json : f.go
        return {name: `BGPConfiguration.Spec.${f.go}`, reason: `Cannot set ${subject} on a non default BGP Configuration.`}
      })
      if (fields.length > 0) throw new ValidationError(fields)
    }
    if (res.kind === 'BGPPeer') await this.checkPeerFilters(res)
  }

  private async checkPeerFilters(res: Resource): Promise<void> {
    const filters = specOf(res).filters
    if (!Array.isArray(filters) || filters.length === 0) return
    const existing = new Set((await this.list('BGPFilter')).items.map((f) => f.metadata.name))
    const missing = filters.filter((f) => !existing.has(String(f)))
    if (missing.length > 0) throw validation('BGPPeer.Spec.Filters', 'BGPFilter(s) not found', missing)
  }

  /** A new pool may not overlap another, nor cover existing IPAM blocks of a different size. */
  private async checkNewPool(pool: Resource): Promise<void> {
    const {checkBlockSizeConflict, checkPoolOverlap} = await loadValidators()
    const others = (await this.list('IPPool')).items.map(poolRef)
    const overlap = checkPoolOverlap(poolRef(pool), others)
    if (overlap.length > 0) throw new ValidationError(overlap)
    const blocks = await this.backend.list({kind: 'IPAMBlock'})
    const conflict = checkBlockSizeConflict(poolRef(pool), blocks.items.map((kv) => kv.key.name))
    if (conflict.length > 0) throw new ValidationError(conflict)
  }

  private async checkTierDeletable(name: string): Promise<void> {
    if (BUILTIN_TIERS.some((t) => t.name === name)) {
      throw new OperationNotSupportedError('Delete', name, `Cannot delete ${name} tier`)
    }
    for (const kind of ['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy']) {
      const {items} = await this.list(kind)
      if (items.some((p) => tierOf(p) === name)) {
        throw new OperationNotSupportedError('delete', name, 'Cannot delete a non-empty tier')
      }
    }
  }

  /**
   * Calico disables a pool before deleting it so that no new addresses are handed out from it meanwhile; a normal
   * delete (`release`) then waits out in-flight allocations and releases the pool's affinities. Returns the
   * revision the delete must match.
   */
  private async disablePool(key: Key, revision: string | undefined, release: boolean): Promise<string | undefined> {
    let kv: KVPair<Resource>
    try {
      kv = await this.backend.get<Resource>(key)
    } catch (err) {
      translate(err, key)
    }
    if (revision && kv.revision !== revision) throw new ResourceUpdateConflictError(idOf(key))
    let current = kv
    if ((kv.value.spec as Spec | undefined)?.disabled !== true) {
      const disabled = {...kv.value, spec: {...specOf(kv.value), disabled: true}}
      try {
        current = await this.backend.update(key, disabled, kv.revision)
      } catch (err) {
        translate(err, key)
      }
      if (release && this.poolDeleteGraceMs > 0) await new Promise((resolve) => setTimeout(resolve, this.poolDeleteGraceMs))
    }
    if (release) await this.beforePoolDelete?.(this.fromStorage(current))
    return current.revision
  }

  /** The stored form: the same object without resourceVersion (backends serialise it; spec is not mutated). */
  private toStorage(res: Resource): Resource {
    const metadata = {...res.metadata}
    delete metadata.resourceVersion
    return {...res, metadata}
  }

  /** Backends decode a fresh value for every read, so only the top level and metadata are copied before stamping. */
  private fromStorage(kv: KVPair<Resource>): Resource {
    let res: Resource = {...kv.value, apiVersion: API_VERSION}
    res.metadata = {...res.metadata, resourceVersion: kv.revision}
    delete res.metadata.selfLink
    // Calico applies pool defaults on read too, so rows written by older versions print complete.
    if (res.kind === 'IPPool') res = applyDefaults(res)
    if (POLICY_KINDS.has(res.kind) && !res.metadata.labels?.[TIER_LABEL]) {
      res.metadata.labels = {...res.metadata.labels, [TIER_LABEL]: tierOf(res)}
    }
    return res
  }
}
