import {Flags} from '@oclif/core'

import {CalicoCommand, configFlag, ReportedError} from '../../cli/base-command.js'

/** An int flag read as cobra's pflag reads it, with its error text. */
function intFlag(name: string, value: number, description: string) {
  return Flags.custom<number>({
    default: value,
    description,
    parse: async (input) => {
      if (!/^[+-]?\d+$/.test(input)) throw new Error(`invalid argument "${input}" for "--${name}" flag: strconv.ParseInt: parsing "${input}": invalid syntax`)
      return Number(input)
    },
  })()
}

export default class ClusterDiags extends CalicoCommand {
  static override summary = 'Collect snapshot of diagnostic info and logs related to Calico at the cluster-level'
  static override description = `Collects a snapshot of cluster-wide Calico diagnostics with kubectl: Calico
resources of every kind, the Calico namespaces' pods with their logs and
descriptions, each calico-node's dataplane, censored TLS secrets and the core
Kubernetes resources, into calico-diagnostics-<date>_<time>.tar.gz in the
current directory. Unlike node diags, which runs on a single host, this
gathers information across the cluster.`
  static override examples = ['<%= config.bin %> cluster diags', '<%= config.bin %> cluster diags --since 2h --focus-nodes node-1,node-2']
  static override flags = {
    config: configFlag,
    since: Flags.string({default: '', description: 'Only collect logs newer than provided relative duration (e.g. 30m, 2h).'}),
    'max-logs': intFlag('max-logs', 5, 'Only collect up to this number of logs, for each kind of Calico component.'),
    'max-parallelism': intFlag('max-parallelism', 10, 'Maximum number of parallel threads to use for collecting logs.'),
    'focus-nodes': Flags.string({default: '', description: 'Comma-separated list of nodes from which to try first to collect logs.'}),
    'skip-temp-dir-cleanup': Flags.boolean({default: false, description: "Don't clean up the temporary directory."}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ClusterDiags)
    this.applyGlobalFlags(flags)
    const [diags, {lookPath}, {loadConfig, ConfigFileMissingError}] = await Promise.all([
      import('../../cli/diags/cluster.js'),
      import('../../cli/diags/exec.js'),
      import('../../cli/config.js'),
    ])
    let options
    try {
      options = diags.validateClusterDiagsFlags({
        since: flags.since,
        maxLogs: flags['max-logs'],
        maxParallelism: flags['max-parallelism'],
        focusNodes: flags['focus-nodes'],
        skipTempDirCleanup: flags['skip-temp-dir-cleanup'],
      })
    } catch (err) {
      if (!(err instanceof diags.DiagsFlagError)) throw err
      // calicoctl prints these on stdout and exits 1.
      this.out(`${err.message}\n`)
      throw new ReportedError(err.message)
    }
    if (lookPath('kubectl') === undefined) this.fail('missing dependency: unable to locate kubectl in PATH')
    let config
    try {
      config = await loadConfig({configPath: flags.config, context: flags.context})
    } catch (err) {
      if (err instanceof ConfigFileMissingError) {
        // calicoctl's config loader prints this on stdout and exits 1 on the spot.
        this.out(`${err.message}\n`)
        throw new ReportedError(err.message)
      }
      this.out(`ERROR creating clients: ${(err as Error).message}\n`)
      this.fail((err as Error).message)
    }
    try {
      await diags.runClusterDiags({...options, config, cwd: process.cwd(), now: new Date(), print: (line) => this.out(`${line}\n`)})
    } catch (err) {
      this.fail((err as Error).message)
    }
  }
}
