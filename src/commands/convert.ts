import {Flags} from '@oclif/core'

import {CalicoCommand, UsageError} from '../cli/base-command.js'

export default class Convert extends CalicoCommand {
  static override summary = 'Convert Kubernetes NetworkPolicy manifests to Calico v3 NetworkPolicy.'
  static override description = `Convert networking.k8s.io/v1 NetworkPolicy manifests (YAML or JSON, from a file or stdin) to
projectcalico.org/v3 NetworkPolicy and print them. The result is validated unless --ignore-validation is given.`
  static override examples = ['<%= config.bin %> convert -f ./policy.yaml -o yaml', 'cat policy.json | <%= config.bin %> convert -f -']
  static override flags = {
    filename: Flags.string({char: 'f', description: 'Filename to use to create the resource. If set to "-" loads from stdin.'}),
    output: Flags.string({char: 'o', default: 'yaml', description: 'Output format. One of: yaml or json.'}),
    'ignore-validation': Flags.boolean({default: false, description: 'Skip validation on the converted manifest.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Convert)
    this.applyGlobalFlags(flags)
    if (flags.filename === undefined) throw new UsageError('required flag(s) "filename" not set')
    if (!['yaml', 'yml', 'json'].includes(flags.output)) throw new UsageError(`unrecognized output format '${flags.output}'`)
    const [{convertManifests}, {formatResources}, {orderResourceFields}] = await Promise.all([
      import('../cli/convert.js'),
      import('../cli/output/index.js'),
      import('../api/decode.js'),
    ])
    const result = await convertManifests(flags.filename, {ignoreValidation: flags['ignore-validation']})
    this.out(await formatResources([result], flags.output, {orderFields: orderResourceFields}))
  }
}
