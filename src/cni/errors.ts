// CNI errors as the runtime (kubelet, containerd) reads them: the spec's well-known codes and the JSON shape
// `{cniVersion, code, msg, details}` printed on stdout with a non-zero exit (CNI SPEC.md "Error").
import {DatastoreError} from '../api/errors.js'

/** Well-known error codes of the CNI specification 1.0.0; 999 is libcni's ErrInternal for any other failure. */
export const CNI_CODES = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodingFailure: 6,
  invalidNetworkConfig: 7,
  tryAgainLater: 11,
  internal: 999,
} as const

export interface CniErrorJSON {
  cniVersion: string
  code: number
  msg: string
  details?: string
}

export class CniError extends Error {
  /** `code`: one of CNI_CODES, or 100+ for plugin-specific errors (passed through from delegated plugins). */
  constructor(readonly code: number, msg: string, readonly details = '') {
    super(msg)
  }

  override get name(): string {
    return 'CniError'
  }

  toJSON(cniVersion: string): CniErrorJSON {
    const out: CniErrorJSON = {cniVersion, code: this.code, msg: this.message}
    if (this.details !== '') out.details = this.details
    return out
  }
}

/**
 * Any failure as a CniError: CniErrors pass through, everything else is ErrInternal with its message, as the
 * Go skeleton reports plain errors returned by Calico's cmdAdd/cmdDel.
 */
export function asCniError(err: unknown): CniError {
  if (err instanceof CniError) return err
  // An unreachable or busy datastore is transient: the runtime should retry rather than give up on the pod.
  if (err instanceof DatastoreError) return new CniError(CNI_CODES.tryAgainLater, err.message)
  return new CniError(CNI_CODES.internal, err instanceof Error ? err.message : String(err))
}
