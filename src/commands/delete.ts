import {Flags} from '@oclif/core'

import {CalicoCommand, fileFlags, positional} from '../cli/base-command.js'
import {reportDelete} from '../cli/messages.js'

export default class Delete extends CalicoCommand {
  static override summary = 'Delete a resource by file, directory, stdin, or type and name.'
  static override description = `Delete resources named on the command line or described in a file, a directory or stdin.
Deleting a resource that does not exist is an error unless --skip-not-exists is given.`
  static override examples = ['<%= config.bin %> delete networkpolicy foo bar', '<%= config.bin %> delete -f ./policy.yaml']
  static override strict = false
  static override usage = 'delete [KIND [NAME...]] [-f FILE] [-n NS] [--skip-not-exists]'
  static override args = {
    kind: positional('Resource type.'),
    names: positional('Resource names.'),
  }
  static override flags = {
    ...fileFlags,
    'skip-not-exists': Flags.boolean({
      char: 's',
      default: false,
      description: 'Skip over and treat as successful any attempts to delete an entry that does not exist.',
    }),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Delete)
    this.applyGlobalFlags(flags)
    const [kind, ...names] = argv as string[]
    const positional = flags.filename === undefined ? {kind, names} : {}
    const results = await this.execute('delete', flags, {...positional, skipNotExists: flags['skip-not-exists']})
    this.finish(reportDelete(results))
  }
}
