import {CalicoCommand, configFlag} from '../../../cli/base-command.js'

export default class DatastoreMigrateUnlock extends CalicoCommand {
  static override summary = 'Unlock the datastore after migration'
  static override description = `Unlock the datastore to complete migration. This once again allows Calico
resources to take effect in the cluster.`
  static override examples = ['<%= config.bin %> datastore migrate unlock']
  static override flags = {config: configFlag}

  async run(): Promise<void> {
    const {flags} = await this.parse(DatastoreMigrateUnlock)
    this.applyGlobalFlags(flags)
    const {setDatastoreReady} = await import('../../../cli/migrate/migrate.js')
    const client = await this.datastore(flags.config, flags['allow-version-mismatch']).client()
    try {
      this.out(await setDatastoreReady(client, true))
    } catch (err) {
      this.fail((err as Error).message)
    }
  }
}
