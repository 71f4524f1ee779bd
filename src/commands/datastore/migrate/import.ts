import {readFile} from 'node:fs/promises'
import {Flags} from '@oclif/core'

import {CalicoCommand, configFlag} from '../../../cli/base-command.js'
import {readStdin} from '../../../lib/stdin.js'

export default class DatastoreMigrateImport extends CalicoCommand {
  static override summary = 'Import the contents of the etcdv3 datastore from the file created by the export command'
  static override description = `Import the contents of the etcdv3 datastore from the file created by the
export command into the Kubernetes datastore. Calico's CRDs are installed first, and the datastore is
locked; unlock it once the migration is verified. When stderr is a terminal, progress is shown there.`
  static override examples = ['<%= config.bin %> datastore migrate import -f etcd-data']
  static override flags = {
    config: configFlag,
    filename: Flags.string({char: 'f', required: true, description: 'Filename to use to import resources. If set to "-" loads from stdin.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DatastoreMigrateImport)
    this.applyGlobalFlags(flags)
    const [{checkImportTarget, importDatastore}, {terminalProgress}] = await Promise.all([import('../../../cli/migrate/migrate.js'), import('../../../cli/migrate/progress.js')])
    const client = await this.datastore(flags.config, flags['allow-version-mismatch']).client()
    try {
      checkImportTarget(client)
    } catch (err) {
      this.fail((err as Error).message)
    }
    let text: string
    try {
      text = flags.filename === '-' ? await readStdin() : await readFile(flags.filename, 'utf8')
    } catch (err) {
      this.fail(`error while reading migration file: ${(err as Error).message}`)
    }
    const progress = terminalProgress(process.stderr, process.stdout, process.env)
    const print = (s: string): void => (progress ? progress.interrupt(s, (t) => this.out(t)) : this.out(s))
    try {
      await importDatastore(client, text, flags.filename, print, progress?.listener)
    } catch (err) {
      progress?.finish(false)
      this.fail((err as Error).message)
    }
    progress?.finish(true)
  }
}
