import {Flags} from '@oclif/core'

import {CalicoCommand, configFlag} from '../../cli/base-command.js'

export default class IPAMConfigure extends CalicoCommand {
  static override summary = 'Configure IPAM'
  static override description = `Configure cluster-wide Calico IPAM settings, such as strict affinity and the
maximum number of blocks per host.`
  static override examples = ['<%= config.bin %> ipam configure --strictaffinity=true']
  static override flags = {
    config: configFlag,
    strictaffinity: Flags.string({default: '', description: 'Set StrictAffinity to true/false.'}),
    'max-blocks-per-host': Flags.string({default: '', description: 'Set the maximum number of blocks that can be affine to a host.'}),
    'kubevirt-ip-persistence': Flags.string({
      default: '',
      description: 'Control whether KubeVirt VMs retain persistent IP addresses (Enabled|Disabled).',
    }),
    'ip-cooldown-seconds': Flags.integer({
      default: -1,
      description: 'Set the minimum time between release and re-allocation of an IP address.',
    }),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(IPAMConfigure)
    this.applyGlobalFlags(flags)
    const [{openIPAM}, configure] = await Promise.all([import('../../cli/ipam/common.js'), import('../../cli/ipam/configure.js')])
    // calicoctl connects before it looks at the values.
    const {ipam} = await openIPAM(this.datastore(flags.config, flags['allow-version-mismatch']))
    const update = configure.parseConfigureFlags(flags)
    try {
      await ipam.setIPAMConfig(configure.applyConfigUpdate(await ipam.getIPAMConfig(), update))
    } catch (err) {
      throw new Error(`error: ${(err as Error).message}`)
    }
    this.out(configure.configureReport(update))
  }
}
