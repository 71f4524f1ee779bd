// calicoctl's result messages (commands/crud_commands.go, get_command.go): which line goes to stdout, which
// error ends the command. Pure: callers print `stdout` and, when `error` is set, print it to stderr and exit 1.
import type {InputError} from './input.js'
import type {CommandResults, ResourceFailure} from './resourcemgr/execute.js'

export interface Report {
  /** Text for stdout, each line newline-terminated ('' when nothing). */
  stdout: string
  /** The error that fails the command (stderr, exit 1). */
  error?: string
}

type Verb = 'create' | 'apply' | 'validate'

const PAST: Record<Verb, string> = {create: 'created', apply: 'applied', validate: 'validated'}

/** Go's `%v` of a `[]error`: `[e1 e2]`. */
export function goErrorList(errors: readonly Error[]): string {
  return `[${errors.map((e) => e.message).join(' ')}]`
}

function errorsOf(failures: readonly ResourceFailure[]): Error[] {
  return failures.map((f) => f.error)
}

/**
 * Where each failed resource came from, when the input held several resources: calicoctl's list does not say
 * which document failed, so this is appended after its message.
 */
export function failureLocations(results: CommandResults): string {
  if (results.numResources < 2) return ''
  const lines = results.resErrs
    .filter((f) => f.file !== undefined)
    .map((f) => {
      const name = f.resource.metadata.namespace ? `${f.resource.metadata.namespace}/${f.resource.metadata.name ?? ''}` : (f.resource.metadata.name ?? '')
      return `  ${f.file} document ${f.document}: ${f.resource.kind}(${name}): ${f.error.message}`
    })
  return lines.length > 0 ? `\n${lines.join('\n')}` : ''
}

/** The message of a command-level error, with calicoctl's prefix for unreadable input. */
function commandError(results: CommandResults): string {
  const err = results.err as Error
  if (!results.fileInvalid) return err.message
  // Type-only import keeps this module light (base-command loads it for every command, even `version`).
  const location = (err as Partial<InputError>).location
  const where = typeof location === 'string' && location ? ` (${location})` : ''
  return `failed to execute command: ${err.message}${where}`
}

/**
 * calicoctl's MassageError, applied to every error a command ends with: Go's JSON decoding prefix is dropped,
 * and a message about an unknown field is replaced wholesale by the friendlier text.
 */
export function massage(message: string): string {
  const unknown = /unknown field "([^"]*)"/.exec(message) ?? /field in document is not recognized or is in the wrong location: (\S*)/.exec(message)
  if (unknown) return `field in document is not recognized or is in the wrong location: ${unknown[1]}`
  const prefix = 'error unmarshaling JSON: while decoding JSON: json: '
  return message.startsWith(prefix) ? message.slice(prefix.length) : message
}

export function reportCreateApplyValidate(verb: Verb, results: CommandResults): Report {
  const past = PAST[verb]
  const kind = results.singleKind
  if (results.fileInvalid) return {stdout: '', error: commandError(results)}
  if (results.numResources === 0) {
    if (results.err) return {stdout: '', error: commandError(results)}
    return {stdout: 'No resources specified\n'}
  }
  const errs = errorsOf(results.resErrs)
  if (results.numHandled === 0) {
    const where = failureLocations(results)
    if (results.numResources === 1) return {stdout: '', error: `failed to ${verb} '${kind}' resource: ${goErrorList(errs)}`}
    if (kind) return {stdout: '', error: `failed to ${verb} any '${kind}' resources: ${goErrorList(errs)}${where}`}
    return {stdout: '', error: `failed to ${verb} any resources: ${goErrorList(errs)}${where}`}
  }
  if (errs.length === 0) {
    return {stdout: kind ? `Successfully ${past} ${results.numHandled} '${kind}' resource(s)\n` : `Successfully ${past} ${results.numHandled} resource(s)\n`}
  }
  // calicoctl subtracts the failures from a count that already excludes them: kept for output compatibility.
  let stdout = ''
  if (results.numHandled - errs.length > 0) {
    stdout = kind
      ? `Partial success: ${past} the first ${results.numHandled} out of ${results.numResources} '${kind}' resources:\n`
      : `Partial success: ${past} the first ${results.numHandled} out of ${results.numResources} resources:\n`
  }
  return {stdout, error: `hit error: ${goErrorList(errs)}${failureLocations(results)}`}
}

export function reportReplace(results: CommandResults): Report {
  const kind = results.singleKind
  if (results.fileInvalid) return {stdout: '', error: commandError(results)}
  if (results.numResources === 0) {
    if (results.err) return {stdout: '', error: commandError(results)}
    return {stdout: 'No resources specified\n'}
  }
  if (results.numHandled === 0) {
    const msg = results.err?.message ?? '<nil>'
    if (results.numResources === 1) return {stdout: '', error: `failed to replace '${kind}' resource: ${msg}`}
    if (kind) return {stdout: '', error: `failed to replace any '${kind}' resources: ${msg}`}
    return {stdout: '', error: `failed to replace any resources: ${msg}`}
  }
  if (!results.err) {
    return {stdout: kind ? `Successfully replaced ${results.numHandled} '${kind}' resource(s)\n` : `Successfully replaced ${results.numHandled} resource(s)\n`}
  }
  // Replace counts the failed resource as handled, so a failure always reads as a partial success.
  const stdout = kind
    ? `Partial success: replaced the first ${results.numHandled} out of ${results.numResources} '${kind}' resources:\n`
    : `Partial success: replaced the first ${results.numHandled} out of ${results.numResources} resources:\n`
  return {stdout, error: `hit error: ${results.err.message}`}
}

export function reportDelete(results: CommandResults): Report {
  const kind = results.singleKind
  if (results.fileInvalid) return {stdout: '', error: commandError(results)}
  if (results.numResources === 0) {
    if (results.err) return {stdout: '', error: commandError(results)}
    return {stdout: 'No resources specified\n'}
  }
  if (results.err) return {stdout: '', error: `hit error: ${results.err.message}`}
  let stdout = ''
  if (results.numHandled > 0) {
    stdout = kind ? `Successfully deleted ${results.numHandled} '${kind}' resource(s)\n` : `Successfully deleted ${results.numHandled} resource(s)\n`
  }
  if (results.resErrs.length === 0) return {stdout}
  // One line per failure; calicoctl's text ends in a newline before the printer adds its own.
  const lines = results.resErrs.map((f) =>
    kind ? `Failed to delete '${kind}' resource: ${f.error.message}\n` : `Failed to delete resource: ${f.error.message}\n`,
  )
  return {stdout, error: lines.join('')}
}

export function reportPatch(results: CommandResults): Report {
  if (results.numResources === 0) return {stdout: '', error: results.err?.message ?? 'no resources specified'}
  if (results.err) return {stdout: '', error: `hit error: ${results.err.message}`}
  return {stdout: `Successfully patched ${results.numHandled} '${results.singleKind}' resource\n`}
}

/** The command-level error of `get`, or '' when the results can be printed. */
export function getCommandError(results: CommandResults): string {
  if (results.fileInvalid) return commandError(results)
  if (results.err) return `failed to get resources: ${results.err.message}`
  return ''
}

/** Per-resource `get` failures, printed after the successful results. */
export function getResourceErrors(results: CommandResults): string {
  return results.resErrs.map((f) => f.error.message).join('\n')
}
