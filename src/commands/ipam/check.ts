import {Flags} from '@oclif/core'
import {writeFile} from 'node:fs/promises'

import {CalicoCommand, configFlag} from '../../cli/base-command.js'
import {CLIENT_VERSION} from '../../cli/version.js'

export default class IPAMCheck extends CalicoCommand {
  static override summary = 'Check the integrity of the IPAM datastructures'
  static override description = `Check the integrity of Calico's IPAM data structures and report leaked or
improperly allocated IP addresses. The report it produces can later be passed
to ipam release.`
  static override examples = ['<%= config.bin %> ipam check --show-problem-ips -o report.json']
  static override flags = {
    config: configFlag,
    'show-all-ips': Flags.boolean({default: false, description: 'Print all IPs that are checked.'}),
    'show-problem-ips': Flags.boolean({default: false, description: 'Print all IPs that are leaked or not allocated properly.'}),
    output: Flags.string({char: 'o', default: '', description: 'Path to output report file.'}),
    kubeconfig: Flags.string({default: '', description: 'Path to Kubeconfig file.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(IPAMCheck)
    this.applyGlobalFlags(flags)
    const [{openIPAM}, check, {serviceLister}] = await Promise.all([
      import('../../cli/ipam/common.js'),
      import('../../cli/ipam/check.js'),
      import('../../cli/ipam/services.js'),
    ])
    const {client, ipam} = await openIPAM(this.datastore(flags.config, flags['allow-version-mismatch']))
    const listServices = serviceLister(client.backend, flags.kubeconfig, process.env)
    const data = await check.gatherCheckData(client, ipam, listServices)
    const {text, report} = check.renderCheck(data, {
      showAllIPs: flags['show-all-ips'],
      showProblemIPs: flags['show-problem-ips'],
      version: CLIENT_VERSION,
    })
    this.out(text)
    // calicoctl writes the report with mode 0777 and ignores write errors; a failed write is reported here.
    if (flags.output !== '') await writeFile(flags.output, check.serializeReport(report), {mode: 0o777})
  }
}
