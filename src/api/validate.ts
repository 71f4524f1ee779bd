import {ValidationError} from './errors.js'
import type {Resource} from './resource.js'
import type {ValidateOptions} from './validation/index.js'
import {validateResourceFields} from './validation/index.js'

export type {ValidateOptions} from './validation/index.js'
export {validateFragment, validateResourceFields, ValidationMemo} from './validation/index.js'
export type {FragmentType} from './validation/index.js'
export {canonicalPoolCIDR, checkBlockSizeConflict, checkIPPoolUpdate, checkPoolOverlap} from './validation/pools.js'
export type {PoolRef} from './validation/pools.js'

/**
 * Throws ValidationError when Calico's validator (Go struct/field rules plus, by default, the CRD OpenAPI/CEL
 * rules as in etcd mode) would reject the resource. Does not apply defaults or modify the resource; callers apply
 * defaults first. Each ErroredField carries the JSON path of the offending field.
 */
export function validateResource(res: Resource, opts: ValidateOptions = {}): void {
  const fields = validateResourceFields(res, opts)
  if (fields.length > 0) throw new ValidationError(fields)
}
