import {nodeStatus, processCommandLines, queryBird} from '../../agent/status.js'
import {CalicoCommand} from '../../cli/base-command.js'

export default class NodeStatus extends CalicoCommand {
  static override summary = 'Check the status of the Calico node instance.'
  static override description = `Reports whether a node agent (calicoctl node run, calico-felix or calico-node -felix) is running on this
host and, when BIRD runs, the state of its BGP peers.`

  async run(): Promise<void> {
    const {flags} = await this.parse(NodeStatus)
    this.applyGlobalFlags(flags)
    this.requireRoot()
    const {text, running} = await nodeStatus({commandLines: processCommandLines, query: (f) => queryBird(f)})
    if (!running) this.fail('Calico process is not running.')
    this.out(text)
  }
}
