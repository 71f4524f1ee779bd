// The few etcd v3 protobuf messages the read path exchanges, encoded and decoded by hand so that reads need no
// protobuf library: KV.Range, KV.Txn holding only ranges, and Auth.Authenticate. Field numbers and meanings are
// etcd's (api/etcdserverpb/rpc.proto, api/mvccpb/kv.proto). Pure: bytes in, bytes out.
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

/** mvccpb.KeyValue. `key` and `value` are views into the response buffer. */
export interface KeyValue {
  key: Buffer
  createRevision: number
  modRevision: number
  version: number
  value: Buffer
}

export interface RangeResponse {
  /** The store revision the range was read at (ResponseHeader.revision). */
  revision: number
  /** In key order: a range without a sort order comes back sorted by key. */
  kvs: KeyValue[]
  more: boolean
  count: number
}

export interface TxnResponse {
  revision: number
  succeeded: boolean
  /** One per operation of the branch taken; undefined for operations other than ranges. */
  responses: (RangeResponse | undefined)[]
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
  const w = new Writer()
  for (const r of ranges) w.bytes(2, new Writer().bytes(1, encodeRangeRequest(r)).finish()) // RequestOp.request_range
  return w.finish()
}

export function encodeAuthenticateRequest(name: string, password: string): Buffer {
  return new Writer().string(1, name).string(2, password).finish()
}

// --- decoding ---

/** Reads fields of one message in buf[pos, end). */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  get done(): boolean {
    return this.pos >= this.end
  }

  /** The next tag, as [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint()
    return [Math.floor(t / 8), t % 8]
  }

  /** A varint as a number: exact up to 2^53, which every field read as a number stays below. */
  varint(): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint')
      const b = this.buf[this.pos++]
      value += (b & 0x7f) * scale
      if (b < 0x80) return value
      scale *= 0x80
    }
    throw new ProtoError('varint longer than 10 bytes')
  }

  /** The bounds of a length-delimited value, advancing past it. */
  delimited(): [number, number] {
    const length = this.varint()
    const start = this.pos
    if (start + length > this.end) throw new ProtoError('length-delimited field runs past its message')
    this.pos = start + length
    return [start, this.pos]
  }

  bytes(): Buffer {
    const [start, end] = this.delimited()
    return this.buf.subarray(start, end)
  }

  message(): Reader {
    const [start, end] = this.delimited()
    return new Reader(this.buf, start, end)
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint()
        return
      case FIXED64:
        this.pos += 8
        break
      case BYTES:
        this.delimited()
        return
      case FIXED32:
        this.pos += 4
        break
      default:
        throw new ProtoError(`unsupported wire type ${wireType}`)
    }
    if (this.pos > this.end) throw new ProtoError('fixed-size field runs past its message')
  }
}

/** A response that is not valid protobuf for the expected message. */
export class ProtoError extends Error {
  constructor(reason: string) {
    super(`malformed etcd response: ${reason}`)
    this.name = 'ProtoError'
  }
}

/** ResponseHeader → its revision (field 3); cluster, member and raft term are not needed. */
function headerRevision(r: Reader): number {
  let revision = 0
  while (!r.done) {
    const [field, type] = r.tag()
    if (field === 3 && type === VARINT) revision = r.varint()
    else r.skip(type)
  }
  return revision
}

const EMPTY = Buffer.alloc(0)

function keyValue(r: Reader): KeyValue {
  const kv: KeyValue = {key: EMPTY, createRevision: 0, modRevision: 0, version: 0, value: EMPTY}
  while (!r.done) {
    const [field, type] = r.tag()
    if (type === BYTES && field === 1) kv.key = r.bytes()
    else if (type === BYTES && field === 5) kv.value = r.bytes()
    else if (type === VARINT && field === 2) kv.createRevision = r.varint()
    else if (type === VARINT && field === 3) kv.modRevision = r.varint()
    else if (type === VARINT && field === 4) kv.version = r.varint()
    else r.skip(type) // lease (6) and anything newer
  }
  return kv
}

function rangeResponse(r: Reader): RangeResponse {
  const res: RangeResponse = {revision: 0, kvs: [], more: false, count: 0}
  while (!r.done) {
    const [field, type] = r.tag()
    if (type === BYTES && field === 1) res.revision = headerRevision(r.message())
    else if (type === BYTES && field === 2) res.kvs.push(keyValue(r.message()))
    else if (type === VARINT && field === 3) res.more = r.varint() !== 0
    else if (type === VARINT && field === 4) res.count = r.varint()
    else r.skip(type)
  }
  return res
}

export function decodeRangeResponse(buf: Buffer): RangeResponse {
  return rangeResponse(new Reader(buf, 0, buf.length))
}

export function decodeTxnResponse(buf: Buffer): TxnResponse {
  const r = new Reader(buf, 0, buf.length)
  const res: TxnResponse = {revision: 0, succeeded: false, responses: []}
  while (!r.done) {
    const [field, type] = r.tag()
    if (type === BYTES && field === 1) res.revision = headerRevision(r.message())
    else if (type === VARINT && field === 2) res.succeeded = r.varint() !== 0
    else if (type === BYTES && field === 3) {
      // ResponseOp: a oneof whose field 1 is response_range.
      const op = r.message()
      let range: RangeResponse | undefined
      while (!op.done) {
        const [f, t] = op.tag()
        if (f === 1 && t === BYTES) range = rangeResponse(op.message())
        else op.skip(t)
      }
      res.responses.push(range)
    } else r.skip(type)
  }
  return res
}

/** AuthenticateResponse → its token (field 2). */
export function decodeAuthenticateResponse(buf: Buffer): string {
  const r = new Reader(buf, 0, buf.length)
  let token = ''
  while (!r.done) {
    const [field, type] = r.tag()
    if (field === 2 && type === BYTES) token = r.bytes().toString('utf8')
    else r.skip(type)
  }
  return token
}
