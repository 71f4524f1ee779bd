import {Flags} from '@oclif/core'

import {CalicoCommand} from '../../cli/base-command.js'

export default class NodeDiags extends CalicoCommand {
  static override summary = 'Gather a diagnostics bundle for a Calico node'
  static override description = `Collects this host's routes, addresses, rules and links, the nftables
ruleset, sockets, the node agent's readiness and metrics, node status,
checksystem, sysctls and Calico's logs into diags-<date>_<time>.tar.gz in the
current directory. A command that is missing or fails is recorded in the
bundle. Needs no datastore.`
  static override examples = ['<%= config.bin %> node diags']
  static override flags = {
    'log-dir': Flags.string({default: '/var/log/calico', description: 'The directory containing Calico logs.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(NodeDiags)
    this.applyGlobalFlags(flags)
    this.requireRoot()
    const {runNodeDiags} = await import('../../cli/diags/node.js')
    try {
      await runNodeDiags({logDir: flags['log-dir'], cwd: process.cwd(), now: new Date(), print: (line) => this.out(`${line}\n`)})
    } catch (err) {
      this.fail((err as Error).message)
    }
  }
}
