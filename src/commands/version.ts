import {Flags} from '@oclif/core'

import {parseGoDuration} from '../api/duration.js'
import {CalicoCommand, UsageError} from '../cli/base-command.js'
import {StdoutExitError} from '../cli/resourcemgr/session.js'
import {CLIENT_VERSION, GIT_COMMIT} from '../cli/version.js'
import {sleep} from '../lib/sleep.js'

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
    let poll = 0
    try {
      if (flags.poll !== '') poll = Number(parseGoDuration(flags.poll) / 1_000_000n)
    } catch {
      throw new UsageError(`invalid poll duration specified: ${flags.poll}`)
    }
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
