import {Flags} from '@oclif/core'
import {readFile} from 'node:fs/promises'

import {CalicoCommand, configFlag} from '../../cli/base-command.js'
import {CLIENT_VERSION} from '../../cli/version.js'

// Go's os.ReadFile wording for the usual failures.
const GO_ERRNO: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
}

async function readReport(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? ''
    const op = code === 'EISDIR' ? 'read' : 'open'
    throw new Error(GO_ERRNO[code] ? `${op} ${file}: ${GO_ERRNO[code]}` : (err as Error).message)
  }
}

export default class IPAMRelease extends CalicoCommand {
  static override summary = 'Release a Calico assigned IP address'
  static override description = `Release one or more Calico-assigned IP addresses. Release a single address
with --ip, or release the leaked addresses identified in a report from ipam
check. Releasing an address that a workload or node still uses asks for
confirmation when run on a terminal (--yes skips the question).`
  static override examples = [
    '<%= config.bin %> ipam release --ip 10.0.0.1',
    '<%= config.bin %> ipam release --from-report report.json',
  ]
  static override flags = {
    config: configFlag,
    ip: Flags.string({default: '', description: 'IP address to release.'}),
    'from-report': Flags.string({multiple: true, description: 'Release all leaked addresses from the report.'}),
    force: Flags.boolean({default: false, description: 'Force release of leaked addresses.'}),
    yes: Flags.boolean({char: 'y', default: false, description: 'Release an address in use without asking.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(IPAMRelease)
    this.applyGlobalFlags(flags)
    const [{openIPAM, validateIPArg}, release] = await Promise.all([import('../../cli/ipam/common.js'), import('../../cli/ipam/release.js')])
    const {client, ipam} = await openIPAM(this.datastore(flags.config, flags['allow-version-mismatch']))

    const files = flags['from-report'] ?? []
    if (files.length > 0) {
      const reports = await Promise.all(files.map(async (file) => ({file, text: await readReport(file)})))
      await release.releaseFromReports({client, ipam, force: flags.force, reports, version: CLIENT_VERSION, write: (t) => this.out(t)})
      this.out('You may now unlock the data store.\n')
      return
    }
    // Neither --ip nor --from-report: nothing to do, as in calicoctl.
    if (flags.ip === '') return
    const ip = validateIPArg(flags.ip)
    if (!flags.yes && process.stdin.isTTY && process.stdout.isTTY) {
      const users = await release.addressUsers(client, ip)
      if (users.length > 0) {
        const {confirm} = await import('@inquirer/prompts')
        const go = await confirm({message: `IP address ${ip} is in use by ${users.join(', ')}. Release it anyway?`, default: false})
        if (!go) this.fail(`IP address ${ip} was not released`)
      }
    }
    this.out(await release.releaseIP(ipam, ip))
  }
}
