import {kindFromAlias} from '../api/kinds.js'
import {CalicoCommand} from '../cli/base-command.js'
import {classify, commandCandidates} from '../cli/completion.js'

/** Answers the completion scripts: one candidate per line. Never fails loudly (a shell is waiting). */
export default class Complete extends CalicoCommand {
  static override hidden = true
  static override strict = false
  static override summary = 'Shell completion candidates (used by the completion scripts).'

  async run(): Promise<void> {
    const {argv} = await this.parse(Complete)
    const ids = this.config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '))
    const request = classify(argv as string[], ids)
    let candidates: string[] = []
    switch (request.type) {
      case 'commands':
        candidates = commandCandidates(request.prefix, ids)
        break
      case 'flags': {
        const cmd = this.config.findCommand(request.command.replaceAll(' ', ':'))
        candidates = Object.entries(cmd?.flags ?? {})
          .filter(([, f]) => !f.hidden)
          .map(([name]) => `--${name}`)
        break
      }
      case 'values':
        candidates = request.values
        break
      case 'names':
        candidates = await this.resourceNames(request.kind)
        break
    }
    this.out(candidates.filter((c) => c.startsWith(request.prefix.split(' ').pop() ?? '')).map((c) => `${c}\n`).join(''))
  }

  private async resourceNames(kind: string): Promise<string[]> {
    const info = kindFromAlias(kind)
    if (!info) return []
    try {
      const client = await this.datastore('/etc/calico/calicoctl.cfg', true).client()
      const list = await client.list(info.kind)
      return list.items.map((r) => r.metadata.name ?? '').filter((n) => n !== '')
    } catch {
      return []
    }
  }
}
