import {Flags} from '@oclif/core'

import {CalicoCommand, fileFlags, UsageError} from '../cli/base-command.js'
import {reportCreateApplyValidate} from '../cli/messages.js'

export default class Create extends CalicoCommand {
  static override summary = 'Create a resource by file, directory or stdin.'
  static override description = `Create one or more resources described in YAML or JSON, from a file, a directory or stdin.
Use create when the command should fail if a resource already exists; use apply to create-or-update.`
  static override examples = ['<%= config.bin %> create -f ./policy.yaml', 'cat policy.json | <%= config.bin %> create -f -']
  static override flags = {
    ...fileFlags,
    'skip-exists': Flags.boolean({default: false, description: 'Skip over and treat as successful any attempts to create an entry that already exists.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Create)
    this.applyGlobalFlags(flags)
    if (flags.filename === undefined) throw new UsageError('required flag(s) "filename" not set')
    const results = await this.execute('create', flags, {skipExists: flags['skip-exists']})
    this.finish(reportCreateApplyValidate('create', results))
  }
}
