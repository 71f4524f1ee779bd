import {Flags} from '@oclif/core'

import {CalicoCommand, configFlag, positional, UsageError} from '../../cli/base-command.js'

export default class IPAMSplit extends CalicoCommand {
  static override summary = 'Split an IP pool into the specified number of smaller IP pools'
  static override description = `Split an IP pool into the given number of smaller pools of equal size. Useful
for carving a large pool into per-zone or per-node pools. The datastore must be
locked first (calicoctl datastore migrate lock).`
  static override examples = ['<%= config.bin %> ipam split 4 --name my-pool']
  // The count is checked in run() so the refusal has cobra's ExactArgs wording.
  static override strict = false
  static override usage = 'ipam split NUMBER [--cidr CIDR | --name POOL]'
  static override args = {
    number: positional('Number of pools to split into (a power of 2).'),
  }
  static override flags = {
    config: configFlag,
    cidr: Flags.string({default: '', description: 'CIDR of the IP pool to split.'}),
    name: Flags.string({default: '', description: 'Name of the IP pool to split.'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(IPAMSplit)
    this.applyGlobalFlags(flags)
    if (argv.length !== 1) throw new UsageError(`accepts 1 arg(s), received ${argv.length}`)
    const number = String(argv[0])
    const split = await import('../../cli/ipam/split.js')
    const session = this.datastore(flags.config, flags['allow-version-mismatch'])
    // calicoctl's order: version check, the number, the pool selector, then the datastore.
    await session.checkVersion()
    const parts = split.parseSplitNumber(number)
    if (flags.cidr === '' && flags.name === '') {
      throw new split.SplitError('no name or CIDR provided. Provide a name or CIDR to denote the IP pool to split')
    }
    this.out(await split.splitPool(await session.client(), {cidr: flags.cidr, name: flags.name, parts}))
  }
}
