import {Args, Flags} from '@oclif/core'

import {CalicoCommand, fileFlags} from '../cli/base-command.js'
import {getCommandError, getResourceErrors} from '../cli/messages.js'

export default class Get extends CalicoCommand {
  static override summary = 'Get a resource by file, directory, stdin, or type and name.'
  static override description = `Print resources named on the command line (all of a kind when no name is given) or described
in a file, a directory or stdin. Output formats: ps (default), wide, custom-columns=A,B, yaml, json,
go-template=<template>, go-template-file=<path>.`
  static override examples = [
    '<%= config.bin %> get ippools',
    '<%= config.bin %> get networkpolicy -A -o wide',
    '<%= config.bin %> get ippool default-ipv4-ippool -o yaml',
  ]
  static override strict = false
  static override args = {
    kind: Args.string({description: 'Resource type.'}),
    names: Args.string({description: 'Resource names.'}),
  }
  static override flags = {
    ...fileFlags,
    output: Flags.string({
      char: 'o',
      default: 'ps',
      description: 'Output format: ps, wide, custom-columns=..., yaml, json, go-template=..., go-template-file=...',
    }),
    'all-namespaces': Flags.boolean({
      char: 'A',
      charAliases: ['a'],
      default: false,
      description: 'List the requested object(s) across all namespaces.',
    }),
    export: Flags.boolean({default: false, description: 'Strip cluster-specific information from the output of a named get.'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Get)
    this.applyGlobalFlags(flags)
    const {createPrinter} = await import('../cli/output/index.js')
    // The format is checked before the datastore is contacted, as calicoctl does.
    const printer = createPrinter(flags.output, {printNamespace: flags['all-namespaces'] || flags.namespace !== ''})
    const [kind, ...names] = argv as string[]
    const positional = flags.filename === undefined ? {kind, names} : {}
    const results = await this.execute('get', flags, {
      ...positional,
      allNamespaces: flags['all-namespaces'],
      export: flags.export,
    })
    const error = getCommandError(results)
    if (error) this.fail(error)
    const session = this.datastore(flags.config, flags['allow-version-mismatch'])
    this.out(await printer.print(results.results, {client: await session.client()}))
    const errors = getResourceErrors(results)
    if (errors) this.fail(errors)
  }
}
