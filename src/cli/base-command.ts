// The base of every calicoctl command: the global flags, one-line errors on stderr with exit status 1 (never a
// stack trace), cobra's wording for flag errors, and the datastore session a command may open.
import {Args, Command, Errors, Flags, type Interfaces} from '@oclif/core'
import {once} from 'node:events'

import {createLogger, isLogLevel, LOG_LEVELS, SILENT, type Logger} from './logger.js'
import {massage, type Report} from './messages.js'
import type {Action, CommandResults, ConfigCommandArgs} from './resourcemgr/execute.js'
import {DatastoreSession, StdoutExitError} from './resourcemgr/session.js'


export const DEFAULT_CONFIG_PATH = '/etc/calico/calicoctl.cfg'

/** `-c/--config`, declared by the commands that talk to a datastore. */
export const configFlag = Flags.string({
  char: 'c',
  default: DEFAULT_CONFIG_PATH,
  description: 'Path to the file containing connection configuration in YAML or JSON format.',
})

/** `-n/--namespace`. */
export const namespaceFlag = Flags.string({
  char: 'n',
  default: '',
  description: 'Namespace of the resource. Only applicable to NetworkPolicy, NetworkSet, and WorkloadEndpoint.',
})

/**
 * A positional argument, taken from the command line only, as cobra does. oclif would otherwise fill a missing
 * argument from stdin whenever stdin is not a terminal: `calicoctl get -f -` lost its input that way, `echo x |
 * calicoctl get ippools` read `x` as a name, and every run without the argument waited up to 10 ms for stdin.
 */
export function positional(description: string) {
  return Args.string({description, ignoreStdin: true})
}

/** The input flags shared by create, apply, replace, delete, get and validate. */
export const fileFlags = {
  filename: Flags.string({char: 'f', description: 'Filename to use to create the resource. If set to "-" loads from stdin.'}),
  recursive: Flags.boolean({
    char: 'R',
    default: false,
    description: 'Process the filename specified in -f or --filename recursively.',
  }),
  'skip-empty': Flags.boolean({default: false, description: 'Do not error if any files or directory specified using -f or --filename contain no data.'}),
  config: configFlag,
  namespace: namespaceFlag,
}

/** An error that has already been reported; only the exit status remains. */
export class ReportedError extends Error {}

/** Usage errors in cobra's words. */
export class UsageError extends Error {}

type GlobalFlags = {'log-level': string; context?: string; 'allow-version-mismatch': boolean}

type FileFlags = GlobalFlags & {filename?: string; recursive: boolean; 'skip-empty': boolean; config: string; namespace: string}

export abstract class CalicoCommand extends Command {
  static override baseFlags = {
    'log-level': Flags.string({
      char: 'l',
      default: 'panic',
      description: 'Set the log level (one of panic, fatal, error, warn, info, debug).',
      helpGroup: 'GLOBAL',
    }),
    context: Flags.string({
      description: 'The name of the kubeconfig context to use.',
      helpGroup: 'GLOBAL',
    }),
    'allow-version-mismatch': Flags.boolean({
      default: false,
      description: 'Allow client and cluster versions mismatch.',
      helpGroup: 'GLOBAL',
    }),
  }

  protected logger: Logger = SILENT
  private context?: string
  private session?: DatastoreSession

  /** Applies the global flags; every command calls this right after parsing. */
  protected applyGlobalFlags(flags: GlobalFlags): void {
    const level = flags['log-level'].toLowerCase()
    if (!isLogLevel(level)) {
      throw new UsageError(`unknown log level: ${flags['log-level']}, expected one of: ${LOG_LEVELS.join(', ')}`)
    }
    this.logger = createLogger(level)
    this.context = flags.context
  }

  /** The datastore session for this invocation, closed when the command finishes. */
  protected datastore(configPath: string, allowVersionMismatch: boolean): DatastoreSession {
    this.session ??= new DatastoreSession({
      configPath,
      allowVersionMismatch,
      context: this.context,
      logger: this.logger,
      onStoreCreated: (path) => process.stderr.write(`Created a new embedded datastore at ${path}\n`),
    })
    return this.session
  }

  protected out(text: string): void {
    if (text) process.stdout.write(text)
  }

  /**
   * Writes to stdout, waiting while its buffer is full, so output written in parts cannot pile up in memory. Once
   * the reader has gone (`| head`: oclif swallows the EPIPE) the command stops quietly, with exit status 1.
   */
  protected async write(text: string): Promise<void> {
    const stdout = process.stdout
    if (stdout.destroyed) throw new ReportedError('stdout is closed')
    if (!text || stdout.write(text)) return
    try {
      await once(stdout, 'drain')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') throw new ReportedError('stdout is closed')
      throw err
    }
  }

  /** The `node` commands need root: calicoctl says so on stdout and exits 1. */
  protected requireRoot(): void {
    if (process.getuid?.() === 0) return
    this.out('Need super user privileges: Operation not permitted\n')
    throw new ReportedError('not root')
  }

  /** Ends the command with an error: the message on stderr (with calicoctl's newline), exit status 1. */
  protected fail(message: string): never {
    process.stderr.write(`${massage(message)}\n`)
    throw new ReportedError(message)
  }

  /** Runs a resource command (the resource manager loads lazily, with the decoder and validators). */
  protected async execute(action: Action, flags: FileFlags, extra: ConfigCommandArgs = {}): Promise<CommandResults> {
    const {executeConfigCommand} = await import('./resourcemgr/execute.js')
    const args: ConfigCommandArgs = {
      filename: flags.filename,
      recursive: flags.recursive,
      skipEmpty: flags['skip-empty'],
      namespace: flags.namespace,
      ...extra,
    }
    const results = await executeConfigCommand(action, args, this.datastore(flags.config, flags['allow-version-mismatch']))
    this.logger.info(
      `results: action=${action} resources=${results.numResources} handled=${results.numHandled} failed=${results.resErrs.length + (results.err ? 1 : 0)}`,
    )
    return results
  }

  /** Prints a report: its stdout text, then its error (if any) which fails the command. */
  protected finish(report: Report): void {
    this.out(report.stdout)
    if (report.error !== undefined) this.fail(report.error)
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    await this.session?.close().catch(() => undefined)
    return super.finally(err)
  }

  override async catch(err: Interfaces.CommandError): Promise<unknown> {
    process.exitCode = 1
    if (err instanceof ReportedError) return
    if (err instanceof StdoutExitError) {
      process.stdout.write(`${err.message}\n`)
      return
    }
    if (err.stack) this.logger.debug(err.stack)
    process.stderr.write(`${massage(errorLine(err))}\n`)
  }
}

/** One line for any error, with oclif's parse errors put in cobra's words. */
export function errorLine(err: Error): string {
  // oclif does not export its parser's error classes; the unknown-flag error is recognised by shape.
  const flags = (err as {flags?: unknown}).flags
  if (err.constructor.name === 'NonExistentFlagsError' && Array.isArray(flags)) {
    const flag = String(flags[0] ?? '')
    return flag.startsWith('--') ? `unknown flag: ${flag.split('=')[0]}` : `unknown shorthand flag: '${flag.charAt(1)}' in ${flag}`
  }
  // A flag's own parse error comes wrapped as `Parsing --<flag> \n\t<error>\nSee more help with --help`.
  const wrapped = /^Parsing --\S+ \n\t(.+)/.exec(err.message)
  if (wrapped) return wrapped[1]!
  if (err instanceof Errors.CLIError) return err.message.split('\n')[0].replace(/^Error: /, '')
  return err.message
}
