import {Help} from '@oclif/core'

import {CalicoCommand} from '../../cli/base-command.js'

/** `calicoctl ipam` on its own: the subcommands and what they do. */
export default class IPAM extends CalicoCommand {
  static override summary = 'IP address management'
  static override description = `Inspect and manage how Calico allocates IP addresses. These commands check
datastore integrity, release addresses, show usage, and tune IPAM
configuration.`

  async run(): Promise<void> {
    const {flags} = await this.parse(IPAM)
    this.applyGlobalFlags(flags)
    await new Help(this.config).showHelp(['ipam'])
  }
}
