import {Flags} from '@oclif/core'

import {ResourceDoesNotExistError} from '../../api/errors.js'
import {CalicoCommand, configFlag} from '../../cli/base-command.js'

export default class IPAMShow extends CalicoCommand {
  static override summary = 'Show details of a Calico assigned IP address or overall IP usage'
  static override description = `Show details of Calico IP address usage. With no flags it summarizes pool
usage; the flags drill into a specific address, individual blocks, borrowed
addresses, or the current IPAM configuration.`
  static override examples = ['<%= config.bin %> ipam show', '<%= config.bin %> ipam show --ip 10.0.0.1']
  static override flags = {
    config: configFlag,
    ip: Flags.string({default: '', description: 'Report whether this specific IP address is in use.'}),
    'show-blocks': Flags.boolean({default: false, description: 'Show detailed information for IP blocks as well as pools.'}),
    'show-borrowed': Flags.boolean({default: false, description: 'Show detailed information for borrowed IP addresses.'}),
    'show-configuration': Flags.boolean({default: false, description: 'Show current Calico IPAM configuration.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(IPAMShow)
    this.applyGlobalFlags(flags)
    const [{openIPAM, validateIPArg}, show] = await Promise.all([import('../../cli/ipam/common.js'), import('../../cli/ipam/show.js')])
    const {ipam} = await openIPAM(this.datastore(flags.config, flags['allow-version-mismatch']))
    // The first of --ip, --show-blocks, --show-borrowed, --show-configuration wins, as in calicoctl.
    if (flags.ip !== '') {
      const ip = validateIPArg(flags.ip)
      let assignment
      try {
        assignment = await ipam.getAssignmentAttributes(ip)
      } catch (err) {
        // Whether the block or just the address is missing, the address is not assigned.
        if (!(err instanceof ResourceDoesNotExistError)) throw err
      }
      this.out(show.formatIPDetails(ip, assignment))
      return
    }
    if (flags['show-blocks']) {
      this.out(show.formatUtilization(await ipam.getUtilization(), true))
    } else if (flags['show-borrowed']) {
      const {borrowed, unclassified} = await ipam.borrowedIPs()
      this.out(show.formatBorrowed(borrowed, unclassified))
    } else if (flags['show-configuration']) {
      let config
      try {
        config = await ipam.getIPAMConfig()
      } catch (err) {
        throw new Error(`error: ${(err as Error).message}`)
      }
      this.out(show.formatConfiguration(config))
    } else {
      this.out(show.formatUtilization(await ipam.getUtilization(), false))
    }
  }
}
