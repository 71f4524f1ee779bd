// Handle bookkeeping: per handle, how many addresses it holds in each block (model.IPAMHandle).
// Incremented before a block write and decremented after a release, each with compare-and-swap.
import type {KVPair} from '../datastore/backend.js'
import {IPAMError, MaxAllocReachedError, MaxRetriesError} from './errors.js'
import type {IPAMHandleValue} from './model.js'
import {textVersion} from './net.js'
import type {IPAMStore} from './store.js'
import {isAlreadyExists, isConflict, isNotFound} from './store.js'

export class HandleCounts {
  constructor(
    private readonly store: IPAMStore,
    private readonly retries: number,
  ) {}

  /** Adds `num` addresses in a block to a handle, creating it; MaxAllocReachedError beyond `maxAlloc` (> 0) per IP version. */
  async incrementHandle(handleID: string, blockCIDR: string, num: number, maxAlloc: number): Promise<void> {
    for (let i = 0; i < this.retries; i++) {
      let kv: KVPair<IPAMHandleValue> | undefined
      try {
        kv = await this.store.getHandle(handleID)
      } catch (e) {
        if (!isNotFound(e)) throw e
      }
      const value: IPAMHandleValue = {block: {...(kv?.value.block ?? {})}, deleted: false}
      if (maxAlloc > 0) {
        const version = textVersion(blockCIDR)
        const current = Object.entries(value.block).reduce((n, [c, count]) => (textVersion(c) === version ? n + count : n), 0)
        if (current + num > maxAlloc) throw new MaxAllocReachedError(handleID, current, maxAlloc)
      }
      value.block[blockCIDR] = (value.block[blockCIDR] ?? 0) + num
      try {
        if (kv) await this.store.updateHandle(kv, value)
        else await this.store.createHandle(handleID, value)
        return
      } catch (e) {
        if (isConflict(e) || isAlreadyExists(e) || isNotFound(e)) continue
        throw e
      }
    }
    throw new MaxRetriesError()
  }

  /** Removes `num` addresses in a block from a handle, deleting the handle when it holds nothing. */
  async decrementHandle(handleID: string, blockCIDR: string, num: number): Promise<void> {
    for (let i = 0; i < this.retries; i++) {
      const kv = await this.store.getHandle(handleID)
      const value: IPAMHandleValue = {block: {...(kv.value.block ?? {})}, deleted: false}
      const current = value.block[blockCIDR]
      if (current === undefined) {
        throw new IPAMError(`Tried to decrement block ${blockCIDR} by ${num} but it isn't linked to handle ${handleID}`)
      }
      if (current - num < 0) {
        throw new IPAMError(`Tried to decrement block ${blockCIDR} by ${num} but it only has ${current} addresses on handle ${handleID}`)
      }
      if (current - num === 0) delete value.block[blockCIDR]
      else value.block[blockCIDR] = current - num
      try {
        if (Object.keys(value.block).length === 0) await this.store.deleteHandle(kv)
        else await this.store.updateHandle(kv, value)
        return
      } catch (e) {
        if (isConflict(e)) continue
        if (isNotFound(e)) return
        throw e
      }
    }
    throw new MaxRetriesError()
  }
}
