import {Flags} from '@oclif/core'

import {CalicoCommand, UsageError} from '../cli/base-command.js'
import {StdoutExitError} from '../cli/resourcemgr/session.js'
import {CLIENT_VERSION, GIT_COMMIT} from '../cli/version.js'

/** Go's time.ParseDuration for the units a poll interval uses; undefined when malformed. */
export function parsePollDuration(text: string): number | undefined {
  const units: Record<string, number> = {ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000}
  if (text === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let matched = 0
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]]
    matched = re.lastIndex
  }
  return matched === text.length && text.length > 0 ? total : undefined
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export default class Version extends CalicoCommand {
  static override summary = 'Display the version of this binary.'
  static override description = `Print the client version and, unless --client is given, the Calico version and cluster type
recorded in the datastore. With --poll the cluster version is re-read at that interval and printed when it changes.`
  static override flags = {
    config: Flags.string({char: 'c', default: '', description: 'Path to the file containing connection configuration in YAML or JSON format.'}),
    poll: Flags.string({default: '', description: 'Poll for changes to the cluster version at the specified interval (e.g. 10s).'}),
    client: Flags.boolean({default: false, description: 'Display only the client version.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Version)
    this.applyGlobalFlags(flags)
    const poll = flags.poll === '' ? 0 : parsePollDuration(flags.poll)
    if (poll === undefined) throw new UsageError(`invalid poll duration specified: ${flags.poll}`)
    this.out(`Client Version:    ${CLIENT_VERSION}\nGit commit:        ${GIT_COMMIT}\n`)
    if (flags.client) return

    // The version is only reported here, never enforced.
    const session = this.datastore(flags.config || '/etc/calico/calicoctl.cfg', true)
    let client
    try {
      client = await session.client()
    } catch (err) {
      if (!(err instanceof StdoutExitError)) throw err
      this.out('Unable to detect installed Calico version\n')
      return
    }
    let shownVersion = ''
    let shownType = ''
    for (;;) {
      let error: Error | undefined
      try {
        const spec = ((await client.get('ClusterInformation', 'default')).spec ?? {}) as {calicoVersion?: string; clusterType?: string}
        const version = spec.calicoVersion || 'unknown'
        const type = spec.clusterType || 'unknown'
        if (version !== shownVersion) this.out(`Cluster Version:   ${version}\n`)
        if (type !== shownType) this.out(`Cluster Type:      ${type}\n`)
        shownVersion = version
        shownType = type
      } catch (err) {
        error = new Error(`unable to retrieve Cluster Version or Type: ${(err as Error).message}`)
        shownVersion = ''
        shownType = ''
      }
      if (poll === 0) {
        if (error) throw error
        return
      }
      if (error) process.stderr.write(`${error.message}\n`)
      await sleep(poll)
    }
  }
}
