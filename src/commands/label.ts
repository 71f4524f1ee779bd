import {Flags} from '@oclif/core'

import {CalicoCommand, configFlag, namespaceFlag, positional, UsageError} from '../cli/base-command.js'

export default class Label extends CalicoCommand {
  static override summary = 'Add or update labels of resources.'
  static override description = `Set (key=value) or, with --remove, delete (key) one label of a resource.
An existing label keeps its value unless --overwrite is given.`
  static override examples = [
    '<%= config.bin %> label nodes node1 cluster=backend',
    '<%= config.bin %> label nodes node1 cluster=frontend --overwrite',
    '<%= config.bin %> label nodes node1 cluster --remove',
  ]
  static override strict = false
  static override usage = 'label KIND NAME (KEY=VALUE [--overwrite] | KEY --remove) [-n NS]'
  static override args = {
    kind: positional('Resource type.'),
    name: positional('Resource name.'),
    label: positional('key=value to set, or key to remove.'),
  }
  static override flags = {
    config: configFlag,
    namespace: namespaceFlag,
    overwrite: Flags.boolean({default: false, description: 'Overwrite the value when the key is already present in labels.'}),
    remove: Flags.boolean({default: false, description: 'Remove the specified key from labels.'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Label)
    this.applyGlobalFlags(flags)
    // cobra's MinimumNArgs(3); extra arguments are ignored, as calicoctl does.
    if (argv.length < 3) throw new UsageError(`requires at least 3 arg(s), only received ${argv.length}`)
    const [kind, name, label] = argv as string[]
    const {labelResource} = await import('../cli/resourcemgr/label.js')
    const session = this.datastore(flags.config, flags['allow-version-mismatch'])
    this.finish(
      await labelResource({kind, name, label, namespace: flags.namespace, overwrite: flags.overwrite, remove: flags.remove}, session),
    )
  }
}
