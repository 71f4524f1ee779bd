import {CalicoCommand, fileFlags, UsageError} from '../cli/base-command.js'
import {reportReplace} from '../cli/messages.js'

export default class Replace extends CalicoCommand {
  static override summary = 'Replace a resource by file, directory or stdin.'
  static override description = `Replace existing resources with the ones described in YAML or JSON, from a file, a directory or stdin.
Replace fails for a resource that does not exist; use apply to create it in that case.`
  static override examples = ['<%= config.bin %> replace -f ./policy.yaml']
  static override flags = {...fileFlags}

  async run(): Promise<void> {
    const {flags} = await this.parse(Replace)
    this.applyGlobalFlags(flags)
    if (flags.filename === undefined) throw new UsageError('required flag(s) "filename" not set')
    this.finish(reportReplace(await this.execute('replace', flags)))
  }
}
