// The datastore side of a command: configuration, backend and client, opened on first use (so commands that
// never need them stay fast), plus calicoctl's client/cluster version check.
import {ResourceDoesNotExistError} from '../../api/errors.js'
import type {ResourceClient} from '../../datastore/client.js'
import {CLIENT_VERSION, normaliseVersion} from '../version.js'
import {SILENT, type Logger} from '../logger.js'
import type {Session} from './execute.js'

/** An error calicoctl prints on stdout (its direct `fmt.Printf` + `os.Exit(1)` paths). */
export class StdoutExitError extends Error {}

export interface SessionOptions {
  /** `-c/--config`; the default path falls back to the environment when missing. */
  configPath: string
  allowVersionMismatch: boolean
  env?: NodeJS.ProcessEnv
  /** `--context`: the kubeconfig context (applies when the configuration comes from the environment). */
  context?: string
  logger?: Logger
  /** Told where a new embedded store was created (the CLI mentions it once, on stderr). */
  onStoreCreated?: (path: string) => void
}

/** libcalico-go waits this long between disabling a pool and deleting it, so in-flight assignments finish. */
const POOL_DELETE_GRACE_MS = 500

const MISMATCH_HINT = 'Use --allow-version-mismatch to override'

export class DatastoreSession implements Session {
  private opened?: Promise<ResourceClient>

  private readonly log: Logger

  constructor(private readonly options: SessionOptions) {
    this.log = options.logger ?? SILENT
  }

  client(): Promise<ResourceClient> {
    this.opened ??= this.open()
    return this.opened
  }

  private async open(): Promise<ResourceClient> {
    const [{loadConfig, ConfigFileMissingError}, {openBackend}, {ResourceClient}] = await Promise.all([
      import('../config.js'),
      import('../../datastore/factory.js'),
      import('../../datastore/client.js'),
    ])
    let config
    try {
      config = await loadConfig({configPath: this.options.configPath, env: this.options.env ?? process.env, context: this.options.context})
    } catch (err) {
      if (err instanceof ConfigFileMissingError) throw new StdoutExitError(err.message)
      throw new StdoutExitError(`Failed to create Calico API client: ${(err as Error).message}`)
    }
    this.log.info(`Loaded client config: datastoreType=${config.datastoreType}`)
    try {
      const {backend, created} = await openBackend(config)
      if (created) this.options.onStoreCreated?.(created)
      return new ResourceClient(backend, {
        poolDeleteGraceMs: POOL_DELETE_GRACE_MS,
        // As Calico does on IPPool deletion: blocks of the pool stop being affine to any node.
        beforePoolDelete: async (pool) => {
          const cidr = (pool.spec as {cidr?: unknown} | undefined)?.cidr
          if (typeof cidr !== 'string') return
          const {IPAMClient} = await import('../../ipam/ipam.js')
          await new IPAMClient(backend).releasePoolAffinities(cidr)
        },
      })
    } catch (err) {
      throw new StdoutExitError(`Failed to create Calico API client: ${(err as Error).message}`)
    }
  }

  /**
   * Refuses to act when the cluster runs another Calico version. Skipped when allowed, when no client can be
   * built (the command then reports that itself), or when the cluster has not recorded a version.
   */
  async checkVersion(): Promise<void> {
    if (this.options.allowVersionMismatch) {
      this.log.debug('Version mismatch check skipped (--allow-version-mismatch)')
      return
    }
    let client: ResourceClient
    try {
      client = await this.client()
    } catch {
      return
    }
    let clusterVersion: unknown
    try {
      const info = await client.get('ClusterInformation', 'default')
      clusterVersion = (info.spec as {calicoVersion?: unknown} | undefined)?.calicoVersion
    } catch (err) {
      if (err instanceof ResourceDoesNotExistError) return
      throw new Error(`unable to get Cluster Information to verify version mismatch: ${(err as Error).message}\n${MISMATCH_HINT}`)
    }
    if (typeof clusterVersion !== 'string' || clusterVersion === '') return
    const cluster = normaliseVersion(clusterVersion)
    if (normaliseVersion(CLIENT_VERSION) !== cluster) {
      throw new Error(`version mismatch.\nClient Version:   ${CLIENT_VERSION}\nCluster Version:  ${cluster}\n${MISMATCH_HINT}`)
    }
  }

  async close(): Promise<void> {
    if (!this.opened) return
    const client = await this.opened.catch(() => undefined)
    await client?.close()
  }
}
