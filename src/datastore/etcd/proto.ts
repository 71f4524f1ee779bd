// The few etcd v3 protobuf messages the backend exchanges, encoded and decoded by hand so that neither reads nor
// writes need a protobuf library: KV.Range, KV.Put, KV.DeleteRange, KV.Txn (compares of version and mod revision;
// ranges, puts and deletes), and Auth.Authenticate. Field numbers and meanings are etcd's
// (api/etcdserverpb/rpc.proto, api/mvccpb/kv.proto). Pure: bytes in, bytes out.
//
// proto3 wire format: each field is a varint tag (field number << 3 | wire type) and a value; wire type 0 is a
// varint, 2 a length-delimited byte string (also embedded messages), 1 and 5 fixed 64 and 32 bits. Unknown fields
// are skipped, so newer servers' additions are harmless. int64 fields this code reads (revisions, versions,
// counts) stay far below 2^53 and are JS numbers; 64-bit identifiers (cluster, member, lease) are skipped.

const VARINT = 0
const FIXED64 = 1
const BYTES = 2
const FIXED32 = 5

/** A RangeRequest: keys from `key` up to (not including) `rangeEnd`; just `key` when rangeEnd is absent. */
export interface RangeRequest {
  key: Buffer
  rangeEnd?: Buffer
  /** Most keys to return (0 or absent: all); `more` in the response says whether some were left. */
  limit?: number
  /** Read at this revision (absent: the current one). */
  revision?: number
  keysOnly?: boolean
}

/** mvccpb.KeyValue, with key and value decoded as UTF-8 (Calico's keys and JSON values are text). */
export interface KeyValue {
  key: string
  createRevision: number
  modRevision: number
  version: number
  value: string
}

export interface RangeResponse {
  /** The store revision the range was read at (ResponseHeader.revision). */
  revision: number
  /** In key order: a range without a sort order comes back sorted by key. */
  kvs: KeyValue[]
  more: boolean
  count: number
  /** The last key's bytes as stored (paging continues after them; its text form may not round-trip). */
  lastKey: Buffer | undefined
}

/** A PutRequest: sets `key` to `value`. */
export interface PutRequest {
  key: Buffer
  value: Buffer
}

/** A DeleteRangeRequest of one key (Calico deletes one object at a time) or of a range. */
export interface DeleteRangeRequest {
  key: Buffer
  rangeEnd?: Buffer
  /** Return the deleted key-values (DeleteRangeResponse.prev_kvs). */
  prevKv?: boolean
}

/**
 * A Compare of one key's version or mod revision with a number (what Calico's transactions guard on): `version == 0`
 * is "the key does not exist", `mod == r` "unchanged since revision r".
 */
export interface Compare {
  key: Buffer
  target: 'version' | 'mod'
  result: '==' | '!=' | '>' | '<'
  value: number
}

/** One operation of a transaction's branch. */
export type RequestOp = {range: RangeRequest} | {put: PutRequest} | {deleteRange: DeleteRangeRequest}

export interface TxnRequest {
  compare: readonly Compare[]
  success: readonly RequestOp[]
  failure: readonly RequestOp[]
}

export interface TxnResponse {
  revision: number
  succeeded: boolean
  /** One per operation of the branch taken; undefined for operations other than ranges. */
  responses: (RangeResponse | undefined)[]
  /** One per operation of the branch taken: a delete's previous key-values (asked with prevKv); undefined for others. */
  deleted: (KeyValue[] | undefined)[]
}

/** A PutResponse or DeleteRangeResponse: the revision of the write, and for a delete what it removed. */
export interface WriteResponse {
  revision: number
  /** DeleteRangeResponse.deleted: how many keys a delete removed (0 for a put). */
  deletedCount: number
  /** With prevKv: the deleted key-values, in key order. */
  prevKvs: KeyValue[]
}

// --- encoding ---

/** Builds one message; nested messages are encoded first and added as bytes. */
class Writer {
  private readonly parts: Buffer[] = []
  private scratch: number[] = []

  /** A varint field; zero is proto3's default and is left out. */
  uint(field: number, value: number): this {
    if (value === 0) return this
    this.varint(field * 8 + VARINT)
    this.varint(value)
    return this
  }

  /** A varint member of a oneof: written even when zero, as being set is what selects the member. */
  oneofUint(field: number, value: number): this {
    this.varint(field * 8 + VARINT)
    this.varint(value)
    return this
  }

  bool(field: number, value: boolean | undefined): this {
    return value ? this.uint(field, 1) : this
  }

  /** A length-delimited field; empty is proto3's default and is left out. */
  bytes(field: number, value: Buffer | undefined): this {
    if (!value || value.length === 0) return this
    this.varint(field * 8 + BYTES)
    this.varint(value.length)
    this.flush()
    this.parts.push(value)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'))
  }

  finish(): Buffer {
    this.flush()
    return Buffer.concat(this.parts)
  }

  /** Non-negative integers up to 2^53 (arithmetic, as bit operations stop at 32 bits). */
  private varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a varint`)
    while (value >= 0x80) {
      this.scratch.push((value % 0x80) | 0x80)
      value = Math.floor(value / 0x80)
    }
    this.scratch.push(value)
  }

  private flush(): void {
    if (this.scratch.length === 0) return
    this.parts.push(Buffer.from(this.scratch))
    this.scratch = []
  }
}

export function encodeRangeRequest(req: RangeRequest): Buffer {
  return new Writer()
    .bytes(1, req.key)
    .bytes(2, req.rangeEnd)
    .uint(3, req.limit ?? 0)
    .uint(4, req.revision ?? 0)
    .bool(8, req.keysOnly)
    .finish()
}

/** A TxnRequest without compares whose success branch is these ranges (so it always takes that branch). */
export function encodeRangeTxn(ranges: readonly RangeRequest[]): Buffer {
  return encodeTxnRequest({compare: [], success: ranges.map((range) => ({range})), failure: []})
}

export function encodePutRequest(req: PutRequest): Buffer {
  return new Writer().bytes(1, req.key).bytes(2, req.value).finish()
}

export function encodeDeleteRangeRequest(req: DeleteRangeRequest): Buffer {
  return new Writer().bytes(1, req.key).bytes(2, req.rangeEnd).bool(3, req.prevKv).finish()
}

/** Compare.CompareResult and Compare.CompareTarget numbers. */
const COMPARE_RESULT = {'==': 0, '>': 1, '<': 2, '!=': 3} as const
const COMPARE_TARGET = {version: 0, mod: 2} as const
/** The oneof target_union member holding the number compared against: version = 4, mod_revision = 6. */
const COMPARE_VALUE_FIELD = {version: 4, mod: 6} as const

function encodeCompare(c: Compare): Buffer {
  return new Writer()
    .uint(1, COMPARE_RESULT[c.result])
    .uint(2, COMPARE_TARGET[c.target])
    .bytes(3, c.key)
    .oneofUint(COMPARE_VALUE_FIELD[c.target], c.value)
    .finish()
}

/** RequestOp: request_range = 1, request_put = 2, request_delete_range = 3. */
function encodeRequestOp(op: RequestOp): Buffer {
  const w = new Writer()
  if ('range' in op) return w.bytes(1, encodeRangeRequest(op.range)).finish()
  if ('put' in op) return w.bytes(2, encodePutRequest(op.put)).finish()
  return w.bytes(3, encodeDeleteRangeRequest(op.deleteRange)).finish()
}

export function encodeTxnRequest(txn: TxnRequest): Buffer {
  const w = new Writer()
  for (const c of txn.compare) w.bytes(1, encodeCompare(c))
  for (const op of txn.success) w.bytes(2, encodeRequestOp(op))
  for (const op of txn.failure) w.bytes(3, encodeRequestOp(op))
  return w.finish()
}

export function encodeAuthenticateRequest(name: string, password: string): Buffer {
  return new Writer().string(1, name).string(2, password).finish()
}

// --- decoding ---
//
// Written for a cold process (calicoctl decodes one response of thousands of keys, mostly before the JIT has
// compiled anything): one cursor per response instead of one object per nested message, tags compared whole
// (field << 3 | wire type) rather than split, and keys and values decoded straight to strings, without a Buffer
// view for each.

const TAG_HEADER = (1 << 3) | BYTES // ResponseHeader header = 1 (RangeResponse, TxnResponse, AuthenticateResponse)
const TAG_HEADER_REVISION = (3 << 3) | VARINT // ResponseHeader.revision
const TAG_RANGE_KVS = (2 << 3) | BYTES
const TAG_RANGE_MORE = (3 << 3) | VARINT
const TAG_RANGE_COUNT = (4 << 3) | VARINT
const TAG_KV_KEY = (1 << 3) | BYTES
const TAG_KV_CREATE = (2 << 3) | VARINT
const TAG_KV_MOD = (3 << 3) | VARINT
const TAG_KV_VERSION = (4 << 3) | VARINT
const TAG_KV_VALUE = (5 << 3) | BYTES
const TAG_TXN_SUCCEEDED = (2 << 3) | VARINT
const TAG_TXN_RESPONSES = (3 << 3) | BYTES
const TAG_OP_RANGE = (1 << 3) | BYTES // ResponseOp.response_range
const TAG_OP_DELETE_RANGE = (3 << 3) | BYTES // ResponseOp.response_delete_range
const TAG_DELETE_DELETED = (2 << 3) | VARINT // DeleteRangeResponse.deleted
const TAG_DELETE_PREV_KVS = (3 << 3) | BYTES // DeleteRangeResponse.prev_kvs
const TAG_AUTH_TOKEN = (2 << 3) | BYTES

/** A response that is not valid protobuf for the expected message. */
export class ProtoError extends Error {
  constructor(reason: string) {
    super(`malformed etcd response: ${reason}`)
    this.name = 'ProtoError'
  }
}

/** A cursor over one response; each method reads up to `end`, the end of the message being read. */
class Reader {
  pos = 0
  /** Where the last key read starts and ends. */
  private keyStart = 0
  private keyEnd = -1

  constructor(readonly buf: Buffer) {}

  /** A varint as a number: exact up to 2^53, which every field read as a number stays below. */
  varint(end: number): number {
    const buf = this.buf
    let pos = this.pos
    if (pos >= end) throw new ProtoError('truncated varint')
    let b = buf[pos++]
    if (b < 0x80) {
      this.pos = pos
      return b
    }
    let value = b & 0x7f
    let scale = 0x80
    for (let i = 1; i < 10; i++) {
      if (pos >= end) throw new ProtoError('truncated varint')
      b = buf[pos++]
      value += (b & 0x7f) * scale
      if (b < 0x80) {
        this.pos = pos
        return value
      }
      scale *= 0x80
    }
    throw new ProtoError('varint longer than 10 bytes')
  }

  /** Reads a length prefix: the value starts at `pos`; returns where it ends. */
  delimited(end: number): number {
    const length = this.varint(end)
    const valueEnd = this.pos + length
    if (valueEnd > end) throw new ProtoError('length-delimited field runs past its message')
    return valueEnd
  }

  /** A length-delimited value as UTF-8 text. */
  string(end: number): string {
    const valueEnd = this.delimited(end)
    const text = this.buf.toString('utf8', this.pos, valueEnd)
    this.pos = valueEnd
    return text
  }

  skip(tag: number, end: number): void {
    switch (tag & 7) {
      case VARINT:
        this.varint(end)
        return
      case BYTES:
        this.pos = this.delimited(end)
        return
      case FIXED64:
        this.pos += 8
        break
      case FIXED32:
        this.pos += 4
        break
      default:
        throw new ProtoError(`unsupported wire type ${tag & 7}`)
    }
    if (this.pos > end) throw new ProtoError('fixed-size field runs past its message')
  }

  /** ResponseHeader → its revision; cluster, member and raft term are not needed. */
  headerRevision(end: number): number {
    let revision = 0
    while (this.pos < end) {
      const tag = this.varint(end)
      if (tag === TAG_HEADER_REVISION) revision = this.varint(end)
      else this.skip(tag, end)
    }
    return revision
  }

  keyValue(end: number): KeyValue {
    const kv: KeyValue = {key: '', createRevision: 0, modRevision: 0, version: 0, value: ''}
    while (this.pos < end) {
      const tag = this.varint(end)
      if (tag === TAG_KV_VALUE) kv.value = this.string(end)
      else if (tag === TAG_KV_KEY) {
        this.keyEnd = this.delimited(end)
        this.keyStart = this.pos
        kv.key = this.buf.toString('utf8', this.pos, this.keyEnd)
        this.pos = this.keyEnd
      } else if (tag === TAG_KV_MOD) kv.modRevision = this.varint(end)
      else if (tag === TAG_KV_CREATE) kv.createRevision = this.varint(end)
      else if (tag === TAG_KV_VERSION) kv.version = this.varint(end)
      else this.skip(tag, end) // lease (6) and anything newer
    }
    return kv
  }

  rangeResponse(end: number): RangeResponse {
    const res: RangeResponse = {revision: 0, kvs: [], more: false, count: 0, lastKey: undefined}
    this.keyEnd = -1
    while (this.pos < end) {
      const tag = this.varint(end)
      if (tag === TAG_RANGE_KVS) {
        const kvEnd = this.delimited(end)
        res.kvs.push(this.keyValue(kvEnd))
      } else if (tag === TAG_HEADER) res.revision = this.headerRevision(this.delimited(end))
      else if (tag === TAG_RANGE_MORE) res.more = this.varint(end) !== 0
      else if (tag === TAG_RANGE_COUNT) res.count = this.varint(end)
      else this.skip(tag, end)
    }
    if (this.keyEnd >= 0) res.lastKey = this.buf.subarray(this.keyStart, this.keyEnd)
    return res
  }

  /** A PutResponse (header; its prev_kv is never asked for) or a DeleteRangeResponse. */
  writeResponse(end: number): WriteResponse {
    const res: WriteResponse = {revision: 0, deletedCount: 0, prevKvs: []}
    while (this.pos < end) {
      const tag = this.varint(end)
      if (tag === TAG_HEADER) res.revision = this.headerRevision(this.delimited(end))
      else if (tag === TAG_DELETE_PREV_KVS) res.prevKvs.push(this.keyValue(this.delimited(end)))
      else if (tag === TAG_DELETE_DELETED) res.deletedCount = this.varint(end)
      else this.skip(tag, end)
    }
    return res
  }
}

export function decodeRangeResponse(buf: Buffer): RangeResponse {
  return new Reader(buf).rangeResponse(buf.length)
}

export function decodeTxnResponse(buf: Buffer): TxnResponse {
  const r = new Reader(buf)
  const end = buf.length
  const res: TxnResponse = {revision: 0, succeeded: false, responses: [], deleted: []}
  while (r.pos < end) {
    const tag = r.varint(end)
    if (tag === TAG_HEADER) res.revision = r.headerRevision(r.delimited(end))
    else if (tag === TAG_TXN_SUCCEEDED) res.succeeded = r.varint(end) !== 0
    else if (tag === TAG_TXN_RESPONSES) {
      // ResponseOp: a oneof of response_range (1), response_put (2), response_delete_range (3), response_txn (4).
      const opEnd = r.delimited(end)
      let range: RangeResponse | undefined
      let deleted: KeyValue[] | undefined
      while (r.pos < opEnd) {
        const opTag = r.varint(opEnd)
        if (opTag === TAG_OP_RANGE) range = r.rangeResponse(r.delimited(opEnd))
        else if (opTag === TAG_OP_DELETE_RANGE) deleted = r.writeResponse(r.delimited(opEnd)).prevKvs
        else r.skip(opTag, opEnd)
      }
      res.responses.push(range)
      res.deleted.push(deleted)
    } else r.skip(tag, end)
  }
  return res
}

/** A PutResponse or a DeleteRangeResponse. */
export function decodeWriteResponse(buf: Buffer): WriteResponse {
  return new Reader(buf).writeResponse(buf.length)
}

/** AuthenticateResponse → its token. */
export function decodeAuthenticateResponse(buf: Buffer): string {
  const r = new Reader(buf)
  let token = ''
  while (r.pos < buf.length) {
    const tag = r.varint(buf.length)
    if (tag === TAG_AUTH_TOKEN) token = r.string(buf.length)
    else r.skip(tag, buf.length)
  }
  return token
}
