// Errors mirroring libcalico-go/lib/errors: their messages are part of calicoctl's output contract.

export abstract class CalicoError extends Error {
  override get name(): string {
    return this.constructor.name
  }
}

/** `error with field <Name> = '<value>' (<reason>)`, or the multi-field list form. */
export interface ErroredField {
  name: string
  value?: unknown
  reason: string
}

export class ValidationError extends CalicoError {
  constructor(readonly fields: ErroredField[]) {
    super(formatValidation(fields))
  }
}

function formatValue(v: unknown): string {
  if (v === undefined || v === null) return ''
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

function formatValidation(fields: ErroredField[]): string {
  if (fields.length === 1) {
    const f = fields[0]
    return `error with field ${f.name} = '${formatValue(f.value)}' (${f.reason})`
  }
  const lines = fields.map((f) => `-  ${f.name} = '${formatValue(f.value)}' (${f.reason})`)
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
