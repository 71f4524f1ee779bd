// Runs one calicoctl resource command over its inputs (commands/common/resources.go ExecuteConfigCommand):
// gathers the resources from -f or KIND/NAME, applies the namespace rules, acts on each one independently and
// collects what succeeded and what failed for the reporting in messages.ts.
import {applyDefaults} from '../../api/defaults.js'
import {ResourceAlreadyExistsError, ResourceDoesNotExistError} from '../../api/errors.js'
import {kindFromAlias, kindInfo} from '../../api/kinds.js'
import {API_VERSION, type Resource, type ResourceList} from '../../api/resource.js'
import type {ResourceClient} from '../../datastore/client.js'
import {mapConcurrent} from '../../lib/map-concurrent.js'
import {EmptyInputError, readResources, type SourcedResource} from '../input.js'
import {ResourceManager, type RetryPolicy} from './manager.js'
import {exportMetadata} from './metadata.js'
import {resolveNamespace} from './namespace.js'

export type Action = 'apply' | 'create' | 'replace' | 'delete' | 'get' | 'patch' | 'validate'

export interface ConfigCommandArgs {
  /** KIND as typed (mutually exclusive with filename). */
  kind?: string
  names?: string[]
  filename?: string
  recursive?: boolean
  skipEmpty?: boolean
  namespace?: string
  allNamespaces?: boolean
  export?: boolean
  skipExists?: boolean
  skipNotExists?: boolean
  /** `get` only: lists come back as PagedLists after their first page (the caller reads the rest). */
  pagedLists?: boolean
  /** Patch document for `patch`. */
  patch?: string
  stdin?: () => Promise<string>
}

/** What the command needs from the datastore side; opened lazily so `validate` never touches it. */
export interface Session {
  /** The client/cluster version check; run before the input is read, as calicoctl does. */
  checkVersion(): Promise<void>
  client(): Promise<ResourceClient>
}

export interface CommandResults {
  /** The input could not be read or decoded: nothing was acted on. */
  fileInvalid: boolean
  numResources: number
  /** Resources acted on (for replace/patch: including the failed ones, as calicoctl counts). */
  numHandled: number
  /** Command-level error (and for replace/patch the last per-resource error). */
  err?: Error
  /** The kind when every resource has the same one (or KIND came from the command line); else ''. */
  singleKind: string
  results: Array<Resource | ResourceList>
  /** Per-resource failures of create/apply/delete/get/validate, in input order. */
  resErrs: ResourceFailure[]
}

/** A failed resource: the error plus where the resource came from. */
export interface ResourceFailure {
  error: Error
  resource: Resource
  file?: string
  document?: number
}

function emptyResults(extra: Partial<CommandResults> = {}): CommandResults {
  return {fileInvalid: false, numResources: 0, numHandled: 0, singleKind: '', results: [], resErrs: [], ...extra}
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/** Resources named on the command line: one per NAME, or a single unnamed one meaning "list". */
export function resourcesFromArgs(kindArg: string, names: string[], namespace: string | undefined): Resource[] {
  const info = kindFromAlias(kindArg)
  if (!info || !info.cli) throw new Error(`resource type '${kindArg}' is not supported`)
  return (names.length > 0 ? names : ['']).map((name) => {
    const res: Resource = {apiVersion: API_VERSION, kind: info.kind, metadata: {name}}
    if (info.namespaced && namespace) res.metadata.namespace = namespace
    return res
  })
}

async function gatherInput(args: ConfigCommandArgs): Promise<SourcedResource[] | CommandResults> {
  if (args.filename !== undefined) {
    try {
      return await readResources(args.filename, {recursive: args.recursive, skipEmpty: args.skipEmpty, stdin: args.stdin})
    } catch (err) {
      if (err instanceof EmptyInputError) {
        return emptyResults({err})
      }
      return emptyResults({err: toError(err), fileInvalid: true})
    }
  }
  if (args.kind === undefined) {
    return emptyResults({err: new Error('a resource type or --filename is required')})
  }
  try {
    return resourcesFromArgs(args.kind, args.names ?? [], args.namespace).map((resource) => ({resource, file: '', document: 0}))
  } catch (err) {
    return emptyResults({err: toError(err)})
  }
}

async function act(action: Action, mgr: ResourceManager | undefined, res: Resource, args: ConfigCommandArgs): Promise<Resource | ResourceList> {
  if (action === 'validate') {
    // Loaded here, not with this module: the validators are a few ms of every cold get otherwise.
    const {validateResource} = await import('../../api/validate.js')
    const defaulted = applyDefaults(res)
    validateResource(defaulted)
    return res
  }
  if (!mgr) throw new Error(`internal error: ${action} needs a datastore client`)
  const m = mgr
  switch (action) {
    case 'apply':
      return m.apply(res)
    case 'create':
      return m.create(res)
    case 'replace':
      return m.update(res)
    case 'delete':
      return m.delete(res)
    case 'get':
      return args.pagedLists ? m.getOrListPaged(res) : m.getOrList(res)
    case 'patch':
      return m.patch(res, args.patch ?? '')
  }
}

function skipped(err: unknown, args: ConfigCommandArgs): boolean {
  return (
    (err instanceof ResourceAlreadyExistsError && (args.skipExists ?? false)) ||
    (err instanceof ResourceDoesNotExistError && (args.skipNotExists ?? false))
  )
}

type Outcome = {out: Resource | ResourceList} | {failure: ResourceFailure}

/** Requests in flight at once within a run of independent resources: round trips to etcd or an API server overlap. */
const CONCURRENCY = 32
/**
 * On etcd, writes issued together are committed as transactions of up to 128 (etcd/batch.ts): enough in flight
 * for two full transactions, so one is committed while the next is being prepared.
 */
const ETCD_CONCURRENCY = 256

/**
 * Kinds whose writes check other objects of the same kind (IPPool overlap, Tier deletion rules, the read-only
 * ClusterInformation): always one at a time, in input order.
 */
const SEQUENTIAL_KINDS = new Set(['IPPool', 'Tier', 'ClusterInformation'])

/**
 * Splits the input into runs that can be acted on concurrently without changing what calicoctl's one-by-one loop
 * would do: consecutive resources of one kind, with distinct names, of a kind whose writes do not depend on each
 * other. A Tier followed by its policies stays ordered because the Tier ends the run. replace and patch keep
 * calicoctl's "last error" semantics, so they stay sequential.
 */
export function independentRuns(action: Action, input: SourcedResource[]): SourcedResource[][] {
  const runs: SourcedResource[][] = []
  const parallel = action !== 'replace' && action !== 'patch'
  let current: SourcedResource[] = []
  let names = new Set<string>()
  for (const item of input) {
    const {kind, metadata} = item.resource
    const id = `${metadata.namespace ?? ''}/${metadata.name ?? ''}`
    const joins =
      parallel && current.length > 0 && current[0].resource.kind === kind && !SEQUENTIAL_KINDS.has(kind) && !names.has(id)
    if (!joins) {
      if (current.length > 0) runs.push(current)
      current = []
      names = new Set()
    }
    current.push(item)
    names.add(id)
  }
  if (current.length > 0) runs.push(current)
  return runs
}

export interface ExecuteOptions {
  retry?: RetryPolicy
}

export async function executeConfigCommand(
  action: Action,
  args: ConfigCommandArgs,
  session: Session,
  options: ExecuteOptions = {},
): Promise<CommandResults> {
  if (action !== 'validate') {
    try {
      await session.checkVersion()
    } catch (err) {
      return emptyResults({err: toError(err)})
    }
  }
  const input = await gatherInput(args)
  if (!Array.isArray(input)) return input
  if (input.length === 0) {
    return args.filename !== undefined && !args.skipEmpty
      ? emptyResults({err: new Error(`no resources specified in directory ${args.filename}`)})
      : emptyResults()
  }
  if ((args.names ?? []).some((n) => n === '')) return emptyResults({err: new Error('resource name may not be empty')})

  const kinds = new Set(input.map((r) => r.resource.kind))
  const results = emptyResults({
    numResources: input.length,
    singleKind: kinds.size === 1 || args.kind !== undefined ? input[input.length - 1].resource.kind : '',
  })

  let mgr: ResourceManager | undefined
  let concurrency = CONCURRENCY
  if (action !== 'validate') {
    const client = await session.client()
    if (client.backend.type === 'etcdv3') concurrency = ETCD_CONCURRENCY
    mgr = new ResourceManager(client, options.retry)
    // Writes first make sure ClusterInformation and the built-in tiers exist; failure is not fatal here.
    if (action === 'apply' || action === 'create' || action === 'replace') await client.ensureInitialized().catch(() => undefined)
  }
  const exporting = (args.export ?? false) && (args.names ?? []).length > 0

  const runOne = async (item: SourcedResource): Promise<Outcome> => {
    // Only the namespace is set here; everything below that changes a resource works on its own copy.
    const res: Resource = {...item.resource, metadata: {...item.resource.metadata}}
    try {
      const info = kindInfo(res.kind)
      if (!info) throw new Error(`resource type '${res.kind}' is not supported`)
      resolveNamespace(res, info, args)
      try {
        return {out: await act(action, mgr, res, args)}
      } catch (err) {
        if (!skipped(err, args)) throw err
        return {out: item.resource}
      }
    } catch (err) {
      const failure: ResourceFailure = {error: toError(err), resource: item.resource}
      if (item.file) {
        failure.file = item.file
        failure.document = item.document
      }
      return {failure}
    }
  }

  for (const batch of independentRuns(action, input)) {
    const outcomes = await mapConcurrent(batch, concurrency, runOne)
    for (const outcome of outcomes) {
      if ('failure' in outcome) {
        if (action === 'replace' || action === 'patch') {
          results.err = outcome.failure.error
          results.numHandled++
        } else {
          results.resErrs.push(outcome.failure)
        }
        continue
      }
      const out = outcome.out
      results.results.push(exporting && !('items' in out) ? exportMetadata(out) : out)
      results.numHandled++
    }
  }
  return results
}
