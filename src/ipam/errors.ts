// IPAM errors with the messages of libcalico-go's ipam package (ipam.go, ipam_errors.go, lib/errors).
import {CalicoError, ResourceUpdateConflictError} from '../api/errors.js'

/** ErrUseRequired. */
export class UseRequiredError extends CalicoError {
  constructor() {
    super('must specify the intended use when assigning an IP')
  }
}

/** ErrNoQualifiedPool; `detail` is appended the way ipam.go wraps it (`%w, no pools match ...`). */
export class NoQualifiedPoolError extends CalicoError {
  constructor(readonly detail?: string) {
    super(`cannot find a qualified ippool${detail ? `, ${detail}` : ''}`)
  }
}

/** ErrBlockLimit: returned with the partial assignments made before the limit was hit. */
export class BlockLimitError extends CalicoError {
  constructor() {
    super('cannot allocate new block due to per host block limit')
  }
}

/** ErrStrictAffinity. */
export class StrictAffinityRequiredError extends CalicoError {
  constructor() {
    super('global strict affinity should not be false for Windows node')
  }
}

/** ErrMaxAllocReached. */
export class MaxAllocReachedError extends CalicoError {
  constructor(readonly handleID: string, readonly currentCount: number, readonly maxAlloc: number) {
    super(`handle ${handleID} already has ${currentCount} allocation(s), cannot allocate more (maxAlloc=${maxAlloc})`)
  }
}

/** ErrInsufficientIPsByHandle: a concurrent request on the same handle is in progress. */
export class InsufficientIPsByHandleError extends CalicoError {
  constructor(readonly handleID: string, readonly existingCount: number, readonly requiredCount: number) {
    super(`handle ${handleID} has ${existingCount} IPs allocated but requires ${requiredCount} (concurrent operation in progress)`)
  }
}

/** invalidSizeError: a CIDR smaller than the pool's block size. */
export class InvalidSizeError extends CalicoError {}

/** ErrorIPInCooldown. */
export class IPInCooldownError extends CalicoError {
  constructor(readonly ip: string) {
    super(`address ${ip} is in cooldown`)
  }
}

/** ErrorResourceUpdateConflict wrapping ErrorBadSequenceNumber (a stale release). */
export class BadSequenceNumberError extends ResourceUpdateConflictError {
  constructor(address: string, readonly requested: number, readonly expected: number) {
    super(address)
    this.cause = `the given sequence number (${requested}) does not match (${expected}) when attempting to release IP`
  }
}

/** ErrorResourceUpdateConflict wrapping ErrorBadHandle. */
export class BadHandleError extends ResourceUpdateConflictError {
  constructor(address: string, readonly requested: string, readonly expected: string) {
    super(address)
    this.cause = `the given handle (${requested}) does not match (${expected}) when attempting to release IP`
  }
}

/** Too many compare-and-swap conflicts in a row. */
export class MaxRetriesError extends CalicoError {
  constructor(message = 'Max retries hit - excessive concurrent IPAM requests') {
    super(message)
  }
}

// Internal control-flow errors of the block claim state machine (never surface to callers).

export class NoFreeBlocksError extends CalicoError {
  constructor() {
    super('No Free Blocks')
  }
}

export class BlockClaimConflictError extends CalicoError {
  constructor(readonly cidr: string, readonly affinity: string | null) {
    super(affinity ? `${cidr} already claimed by ${affinity}` : `${cidr} already claimed`)
  }
}

export class BlockNotEmptyError extends CalicoError {
  constructor(readonly cidr: string) {
    super(`block '${cidr}' is not empty`)
  }
}

export class StaleAffinityError extends CalicoError {}

/** A generic IPAM failure carrying Go's message verbatim. */
export class IPAMError extends CalicoError {}
