import {CalicoCommand, fileFlags, UsageError} from '../cli/base-command.js'
import {reportCreateApplyValidate} from '../cli/messages.js'

export default class Apply extends CalicoCommand {
  static override summary = 'Apply a resource by file, directory or stdin.'
  static override description = `Create or update one or more resources described in YAML or JSON, from a file, a directory or stdin.
A resourceVersion in the input makes the update conditional on the stored object being unchanged.`
  static override examples = ['<%= config.bin %> apply -f ./policy.yaml', 'cat policy.json | <%= config.bin %> apply -f -']
  static override flags = {...fileFlags}

  async run(): Promise<void> {
    const {flags} = await this.parse(Apply)
    this.applyGlobalFlags(flags)
    if (flags.filename === undefined) throw new UsageError('required flag(s) "filename" not set')
    this.finish(reportCreateApplyValidate('apply', await this.execute('apply', flags)))
  }
}
