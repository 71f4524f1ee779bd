// Errors mirroring libcalico-go/lib/errors: their messages are part of calicoctl's output contract.

export abstract class CalicoError extends Error {
  override get name(): string {
    return this.constructor.name
  }
}

/** `error with field <Name> = '<value>' (<reason>)`, or the multi-field list form. */
export interface ErroredField {
  name: string
  /** Printed as `= '<value>'`; undefined prints as `= ''`, null (Go's nil) leaves the value part out. */
  value?: unknown
  reason: string
  /** JSON path of the offending field (`spec.ingress[0].destination.ports[1]`), so the CLI can point at it. */
  path?: string
  /** What a valid value looks like, for people; not part of Calico's message. */
  hint?: string
}

export class ValidationError extends CalicoError {
  constructor(readonly fields: ErroredField[]) {
    super(formatValidation(fields))
  }
}

function formatValue(v: unknown): string {
  if (v === undefined) return ''
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

// libcalico-go ErroredField.String(): the value part is left out when there is no value, the reason when empty.
function formatField(f: ErroredField): string {
  let s = f.value === null ? f.name : `${f.name} = '${formatValue(f.value)}'`
  if (f.reason !== '') s += ` (${f.reason})`
  return s
}

function formatValidation(fields: ErroredField[]): string {
  if (fields.length === 0) return 'unknown validation error'
  if (fields.length === 1) return `error with field ${formatField(fields[0])}`
  const lines = fields.map((f) => `-  ${formatField(f)}`)
  return `error with the following fields:\n${lines.join('\n')}`
}

export class ResourceDoesNotExistError extends CalicoError {
  constructor(readonly identifier: string, readonly detail?: string) {
    super(`resource does not exist: ${identifier} with error: ${detail ?? '<nil>'}`)
  }
}

export class ResourceAlreadyExistsError extends CalicoError {
  constructor(readonly identifier: string, readonly detail?: string) {
    super(`resource already exists: ${identifier} with error: ${detail ?? '<nil>'}`)
  }
}

export class ResourceUpdateConflictError extends CalicoError {
  constructor(readonly identifier: string) {
    super(`update conflict: ${identifier}`)
  }
}

export class OperationNotSupportedError extends CalicoError {
  constructor(readonly operation: string, readonly identifier: string, readonly reason?: string) {
    super(`operation ${operation} is not supported on ${identifier}${reason ? `: ${reason}` : ''}`)
  }
}

/** The datastore could not be reached or answered with an error that is not about a resource. */
export class DatastoreError extends CalicoError {}

/** A stored value that cannot be decoded (a bad row written by another tool). */
export class ParsingDatastoreEntryError extends CalicoError {
  constructor(readonly key: string, readonly reason: string) {
    super(`failed to parse datastore entry ${key}: ${reason}`)
  }
}
