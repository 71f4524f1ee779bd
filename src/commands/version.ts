import {Command} from '@oclif/core'

export default class Version extends Command {
  static override summary = 'Display the version of this binary.'
  async run(): Promise<void> {
    this.log('Client Version:    v3.32.0')
  }
}
