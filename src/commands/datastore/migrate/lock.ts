import {CalicoCommand, configFlag} from '../../../cli/base-command.js'

export default class DatastoreMigrateLock extends CalicoCommand {
  static override summary = 'Lock the datastore for migration'
  static override description = `Lock the datastore to prepare it for migration. This prevents any new
Calico resources from affecting the cluster but does not prevent updating or creating new Calico resources.`
  static override examples = ['<%= config.bin %> datastore migrate lock']
  static override flags = {config: configFlag}

  async run(): Promise<void> {
    const {flags} = await this.parse(DatastoreMigrateLock)
    this.applyGlobalFlags(flags)
    const {setDatastoreReady} = await import('../../../cli/migrate/migrate.js')
    const client = await this.datastore(flags.config, flags['allow-version-mismatch']).client()
    try {
      this.out(await setDatastoreReady(client, false))
    } catch (err) {
      this.fail((err as Error).message)
    }
  }
}
