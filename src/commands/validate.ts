import {CalicoCommand, fileFlags, UsageError} from '../cli/base-command.js'
import {reportCreateApplyValidate} from '../cli/messages.js'

export default class Validate extends CalicoCommand {
  static override summary = 'Validate a resource by file, directory or stdin without applying it.'
  static override description = `Check resources described in YAML or JSON without applying them. Validation runs offline
(syntax, structure and Calico's validation rules); no datastore is contacted and --config is ignored.`
  static override examples = ['<%= config.bin %> validate -f ./policy.yaml']
  static override flags = {...fileFlags}

  async run(): Promise<void> {
    const {flags} = await this.parse(Validate)
    this.applyGlobalFlags(flags)
    if (flags.filename === undefined) throw new UsageError('required flag(s) "filename" not set')
    this.finish(reportCreateApplyValidate('validate', await this.execute('validate', flags)))
  }
}
