import {Flags} from '@oclif/core'

import {ResourceDoesNotExistError} from '../api/errors.js'
import type {Resource} from '../api/resource.js'
import {CalicoCommand, fileFlags, positional} from '../cli/base-command.js'
import type {DatastoreSession} from '../cli/resourcemgr/session.js'
import {getCommandError, getResourceErrors} from '../cli/messages.js'

/** The default BGPConfiguration for the Node ASN column; undefined when there is none. */
async function defaultBGPConfiguration(session: DatastoreSession): Promise<Resource | undefined> {
  const client = await session.client()
  try {
    return await client.get('BGPConfiguration', 'default')
  } catch (err) {
    if (err instanceof ResourceDoesNotExistError) return undefined
    throw err
  }
}

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
  static override usage = 'get [KIND [NAME...]] [-f FILE] [-o FORMAT] [-n NS | -A] [--export]'
  static override args = {
    kind: positional('Resource type.'),
    names: positional('Resource names.'),
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
    const [{parseOutputFormat, writeResources, colorEnabled}, {orderResourceFields, toGoView}] = await Promise.all([
      import('../cli/output/index.js'),
      import('../api/decode.js'),
    ])
    // The format is checked before the datastore is contacted, as calicoctl does.
    const format = parseOutputFormat(flags.output)
    const [kind, ...names] = argv as string[]
    const positional = flags.filename === undefined ? {kind, names} : {}
    const results = await this.execute('get', flags, {
      ...positional,
      allNamespaces: flags['all-namespaces'],
      export: flags.export,
      // A list printed as yaml or json is written while it is read (see writeResources).
      pagedLists: format.type === 'yaml' || format.type === 'json',
    })
    const error = getCommandError(results)
    if (error) this.fail(error)
    const session = this.datastore(flags.config, flags['allow-version-mismatch'])
    const context = {
      printNamespace: flags['all-namespaces'] || flags.namespace !== '',
      getDefaultBGPConfiguration: () => defaultBGPConfiguration(session),
      color: colorEnabled(process.stdout, process.env),
      orderFields: orderResourceFields,
      toGoView,
    }
    // A page that cannot be read fails the command as a failed list does: its message, exit status 1.
    await writeResources(results.results, format, context, (text) => this.write(text))
    const errors = getResourceErrors(results)
    if (errors) this.fail(errors)
  }
}
