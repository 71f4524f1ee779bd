import {CalicoCommand, configFlag} from '../../../cli/base-command.js'

export default class DatastoreMigrateExport extends CalicoCommand {
  static override summary = 'Export the contents of the etcdv3 datastore to yaml'
  static override description = `Export the contents of the etcdv3 datastore. Resources will be exported
in yaml and json format. Save the results of this command to a file for later use with the import command.
The datastore must be locked first (calicoctl datastore migrate lock). When stderr is a terminal, progress
is shown there (never on stdout).`
  static override examples = ['<%= config.bin %> datastore migrate export > etcd-data']
  static override flags = {config: configFlag}

  async run(): Promise<void> {
    const {flags} = await this.parse(DatastoreMigrateExport)
    this.applyGlobalFlags(flags)
    const [{exportDatastore}, {terminalProgress}] = await Promise.all([import('../../../cli/migrate/migrate.js'), import('../../../cli/migrate/progress.js')])
    const client = await this.datastore(flags.config, flags['allow-version-mismatch']).client()
    const progress = terminalProgress(process.stderr, process.stdout, process.env)
    let text: string
    try {
      text = await exportDatastore(client, progress?.listener)
    } catch (err) {
      progress?.finish(false)
      this.fail((err as Error).message)
    }
    if (progress) progress.interrupt(text, (t) => this.out(t))
    else this.out(text)
    progress?.finish(true)
  }
}
