import {checkSystem, formatCheckResults} from '../../agent/checksystem.js'
import {CalicoCommand} from '../../cli/base-command.js'

export default class NodeChecksystem extends CalicoCommand {
  static override summary = 'Verify the compatibility of this compute host to run the Calico node agent.'
  static override description = `Checks the kernel version, the tools the agent runs (nft, ip) and, by dry-run transactions the kernel
validates without committing, every nftables feature the agent's ruleset uses. Reports what is missing.`

  async run(): Promise<void> {
    const {flags} = await this.parse(NodeChecksystem)
    this.applyGlobalFlags(flags)
    this.requireRoot()
    const {text, ok} = formatCheckResults(await checkSystem())
    this.out(text)
    if (!ok) this.fail("system doesn't meet one or more minimum systems requirements to run Calico")
  }
}
