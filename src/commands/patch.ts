import {Flags} from '@oclif/core'

import {CalicoCommand, configFlag, namespaceFlag, positional, UsageError} from '../cli/base-command.js'
import {reportPatch} from '../cli/messages.js'

export default class Patch extends CalicoCommand {
  static override summary = 'Patch a pre-existing resource in place.'
  static override description = `Change fields of a stored resource with a strategic merge patch (JSON): objects merge key by key,
lists are replaced, null deletes a field. --type is accepted for compatibility; the patch is always strategic.`
  static override examples = [
    `<%= config.bin %> patch node node-0 --patch '{"spec":{"bgp":{"routeReflectorClusterID":"224.0.0.1"}}}'`,
  ]
  static override strict = false
  static override usage = 'patch KIND NAME -p PATCH [-n NS]'
  static override args = {
    kind: positional('Resource type.'),
    name: positional('Resource name.'),
  }
  static override flags = {
    config: configFlag,
    namespace: namespaceFlag,
    patch: Flags.string({char: 'p', default: '', description: 'Spec to use to patch the resource.'}),
    type: Flags.string({char: 't', default: 'strategic', description: 'Format of patch type: strategic (json and merge are not implemented).'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Patch)
    this.applyGlobalFlags(flags)
    if (argv.length !== 2) throw new UsageError(`accepts 2 arg(s), received ${argv.length}`)
    const [kind, name] = argv as string[]
    const results = await this.execute(
      'patch',
      {...flags, recursive: false, 'skip-empty': false},
      {kind, names: [name], patch: flags.patch, filename: undefined},
    )
    this.finish(reportPatch(results))
  }
}
