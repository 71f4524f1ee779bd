import {Args} from '@oclif/core'

import {CalicoCommand, UsageError} from '../cli/base-command.js'
import {completionScript, SHELLS, type Shell} from '../cli/completion.js'

export default class Completion extends CalicoCommand {
  static override summary = 'Print a shell completion script (bash or zsh).'
  static override description = `Completes commands, flags, resource kinds and, from the configured datastore, resource names.`
  static override examples = ['source <(<%= config.bin %> completion bash)', 'source <(<%= config.bin %> completion zsh)']
  // Never from stdin (see positional in base-command.ts).
  static override args = {shell: Args.string({description: 'bash or zsh', default: 'bash', ignoreStdin: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Completion)
    this.applyGlobalFlags(flags)
    if (!SHELLS.includes(args.shell as Shell)) throw new UsageError(`unsupported shell type "${args.shell}"`)
    this.out(completionScript(args.shell as Shell, this.config.bin))
  }
}
